"""Results rollups (ADR 12) for the clicks not booked yet and the clicks not paid, kept by the click triggers.

The results' timing line (pending clicks per hour) and the "not paid" breakdown (unbillable clicks per reason)
read every pending or unbillable click of the campaign: 0.6-1.0 s and 0.1-0.2 s on P2's 200,000 clicks. Two
rollups now carry them, kept by the statement-level click triggers of 0007 (redefined here; the triggers
themselves, re-created on the partitioned table by 0018, stay):

- ``CampaignPendingHour``: per campaign and UTC hour, the billable clicks with ``accrued_at`` empty. The drain's
  insert adds, the booking's ``UPDATE ... SET accrued_at`` (and LATE / OVER_BUDGET / POST_REMOVED marks, deletes)
  take away; a row that falls to 0 is deleted, so only the hours still waiting have rows.
- ``CampaignResultReason``: per campaign and ``reason``, the clicks that are not billable.

Lock order stays share rows -> group rows -> hour rows, then pending-hour rows, then reason rows (each set in
key order): a booking run that marks clicks touches pending-hour rows only, after the hour rows its accruals
took, so it adds no new wait cycle with the drain. ``campaigns_results_rebuild()`` also recounts both from
the raw clicks (``campaigns_click_rollups_rebuild()``), which backfills them here while the click table is
locked against writers. PostgreSQL only, like 0007; SQLite computes from the raw clicks.
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

_0007 = import_module("campaigns.migrations.0007_results_rollup_triggers")

COLUMNS = "link_id, occurred_at, billable, accrued_at, reason"

# 0007's two upserts (share rows, hour rows), then the pending hours and the reasons.
CLICK_BODY = (
    _0007.CLICK_BODY
    + """
    INSERT INTO campaigns_campaignpendinghour (campaign_id, hour, clicks)
    SELECT s.campaign_id, date_trunc('hour', c.occurred_at, 'UTC'), SUM(c.sign)
    FROM ({changed}) c
    JOIN campaigns_trackinglink l ON l.id = c.link_id JOIN campaigns_share s ON s.id = l.share_id
    WHERE c.billable AND c.accrued_at IS NULL GROUP BY 1, 2 HAVING SUM(c.sign) <> 0 ORDER BY 1, 2
    ON CONFLICT (campaign_id, hour) DO UPDATE SET clicks = campaigns_campaignpendinghour.clicks + EXCLUDED.clicks;
    {empty_hours}
    INSERT INTO campaigns_campaignresultreason (campaign_id, reason, clicks)
    SELECT s.campaign_id, c.reason, SUM(c.sign)
    FROM ({changed}) c
    JOIN campaigns_trackinglink l ON l.id = c.link_id JOIN campaigns_share s ON s.id = l.share_id
    WHERE NOT c.billable GROUP BY 1, 2 HAVING SUM(c.sign) <> 0 ORDER BY 1, 2
    ON CONFLICT (campaign_id, reason) DO UPDATE SET clicks = campaigns_campaignresultreason.clicks + EXCLUDED.clicks;
"""
)

# Updates and deletes only (an insert never lowers a count): the hours whose last pending click went.
EMPTY_HOURS = """
    DELETE FROM campaigns_campaignpendinghour p
    USING (
        SELECT DISTINCT s.campaign_id, date_trunc('hour', c.occurred_at, 'UTC') AS hour
        FROM old_rows c
        JOIN campaigns_trackinglink l ON l.id = c.link_id JOIN campaigns_share s ON s.id = l.share_id
        WHERE c.billable AND c.accrued_at IS NULL
    ) t
    WHERE p.campaign_id = t.campaign_id AND p.hour = t.hour AND p.clicks = 0;
"""


def _click_functions() -> list[str]:
    statements = []
    for op in ("insert", "update", "delete"):
        body = CLICK_BODY.format(
            changed=_0007.CHANGED[op].format(cols=COLUMNS), empty_hours="" if op == "insert" else EMPTY_HOURS
        )
        statements.append(
            f"""
            CREATE OR REPLACE FUNCTION campaigns_click_rollup_{op}() RETURNS trigger AS $$
            BEGIN
            {body}
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql;
            """
        )
    return statements


CLICK_REBUILD = """
CREATE OR REPLACE FUNCTION campaigns_click_rollups_rebuild() RETURNS void AS $$
BEGIN
    DELETE FROM campaigns_campaignpendinghour;
    INSERT INTO campaigns_campaignpendinghour (campaign_id, hour, clicks)
    SELECT s.campaign_id, date_trunc('hour', k.occurred_at, 'UTC'), count(*)
    FROM campaigns_click k JOIN campaigns_trackinglink l ON l.id = k.link_id JOIN campaigns_share s ON s.id = l.share_id
    WHERE k.billable AND k.accrued_at IS NULL
    GROUP BY 1, 2;
    DELETE FROM campaigns_campaignresultreason;
    INSERT INTO campaigns_campaignresultreason (campaign_id, reason, clicks)
    SELECT s.campaign_id, k.reason, count(*)
    FROM campaigns_click k JOIN campaigns_trackinglink l ON l.id = k.link_id JOIN campaigns_share s ON s.id = l.share_id
    WHERE NOT k.billable
    GROUP BY 1, 2;
END;
$$ LANGUAGE plpgsql;
"""

# 0007's rebuild, recounting the click rollups at its end.
_head, _tail = _0007.REBUILD.rsplit("END;", 1)
REBUILD = f"{_head}    PERFORM campaigns_click_rollups_rebuild();\nEND;{_tail}"

STORAGE = [
    f"ALTER TABLE {table} SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02, "
    "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.05)"
    for table in ("campaigns_campaignpendinghour", "campaigns_campaignresultreason")
]

FORWARD = [
    # No click is written between the backfill and the new trigger functions (writers wait for the commit).
    "LOCK TABLE campaigns_click IN SHARE ROW EXCLUSIVE MODE",
    *STORAGE,
    *_click_functions(),
    CLICK_REBUILD,
    REBUILD,
    "SELECT campaigns_click_rollups_rebuild();",
]
BACKWARD = [
    *[
        statement
        for statement in _0007._statement_triggers()
        if "CREATE OR REPLACE FUNCTION campaigns_click_rollup_" in statement
    ],
    _0007.REBUILD,
    "DROP FUNCTION IF EXISTS campaigns_click_rollups_rebuild();",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return  # SQLite: the selectors read the raw rows (ADR 12)
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0019_participation_fee")]

    operations = [
        migrations.CreateModel(
            name="CampaignPendingHour",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("hour", models.DateTimeField(verbose_name="hour (UTC)")),
                ("clicks", models.BigIntegerField(default=0, verbose_name="clicks not booked yet")),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="campaigns.campaign",
                        verbose_name="campaign",
                    ),
                ),
            ],
            options={
                "verbose_name": "campaign clicks pending per hour",
                "verbose_name_plural": "campaign clicks pending per hour",
                "constraints": [
                    models.UniqueConstraint(fields=("campaign", "hour"), name="campaigns_pendinghour_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="CampaignResultReason",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("reason", models.CharField(blank=True, max_length=16, verbose_name="not billable because")),
                ("clicks", models.BigIntegerField(default=0, verbose_name="clicks")),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="campaigns.campaign",
                        verbose_name="campaign",
                    ),
                ),
            ],
            options={
                "verbose_name": "campaign clicks not paid per reason",
                "verbose_name_plural": "campaign clicks not paid per reason",
                "constraints": [
                    models.UniqueConstraint(fields=("campaign", "reason"), name="campaigns_resultreason_once")
                ],
            },
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
