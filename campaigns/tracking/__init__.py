"""First-party tracking links (``/r/<code>``), click capture and rules, click earnings and results.

The redirect never writes to the database: it pushes a compact event onto a Redis list
(``capture``) and a Celery task drains it in batches (``services.clicks_drain``). Click rules
(F1 dedupe, bots, HEAD/prefetch; F2 velocity) are applied in the drain, in one place.
"""
