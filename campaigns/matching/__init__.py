"""Matching, moderation, offers and shares (issue 6).

- ``engine``: set-based targeting and scoring of influencers for one campaign.
- ``services``: writes (engine runs, moderation decisions, offers, shares, captions).
- ``selectors``: reads (admin queue helpers, offer estimate, conflicts).
- ``tasks``: Celery tasks (imported by ``campaigns.tasks`` so autodiscovery finds them).
"""
