"""The money layer's writes, one module per concern (import the module, not this package):

* ``ledger``: accounts, ``ledger_post`` (the one way to write ledger transactions), top-ups, refunds, reversals;
* ``destinations``: an influencer's payout destinations;
* ``payouts``: a payout's life (request, approve, reject, sent, failed);
* ``checkout``: card top-ups, the provider webhook, the test-mode checkout;
* ``batches``: payout batches handed to the providers.

Nothing here knows campaigns: the campaigns' earnings and budget bookings (``campaigns.earnings``) call the
ledger API. This package re-exports nothing, so every caller names the module it depends on.
"""
