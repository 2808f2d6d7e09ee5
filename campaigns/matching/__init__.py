"""Matching, moderation, offers and shares (issue 6).

- ``engine``: set-based targeting and scoring of influencers for one campaign.
- ``services``: writes (engine runs, moderation decisions, offers, shares, captions).
- ``selectors``: reads (admin queue helpers, offer estimate, conflicts).
- ``tasks``: Celery tasks (found by Celery's autodiscovery, ``linkilike.celery``).
"""
