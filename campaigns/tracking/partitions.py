"""Clicks partitioned by month (ADR 19): the table the click volume grows (about 25 GB a month at 100
million clicks). Retention ``CLICKS_RETENTION_MONTHS`` (0: keep every month); a month still holding a
billable click not yet turned into earnings (a held share's clicks wait for staff) is never expired.

Expiring a month drops raw rows only: the results rollups (ADR 12) keep their counts, earnings are in
the ledger. ``campaigns_results_rebuild()`` recounts from the raw rows, so after a month has expired it
would count only the months kept.
"""

from linkilike.partitions import PartitionedTable

CLICKS = PartitionedTable(
    "campaigns_click",
    "occurred_at",
    "CLICKS_RETENTION_MONTHS",
    keep_while="billable AND accrued_at IS NULL",
    label="clicks",
)
