"""Results rollups (ADR 12) of new snapshots kept per statement, not per row (ADR 20).

0007 kept ``ShareResult`` and ``CampaignResultHour`` with a row-level BEFORE trigger on snapshots: a
bulk ``INSERT`` of 10,000 snapshots ran 10,000 trigger calls of five to six statements each (and
every ``ShareResult`` upsert fired the group triggers of 0009 once more), which is most of what
storing a snapshot cost. New snapshots now go through one AFTER INSERT statement trigger with a
transition table:

- ``ShareResult``: each touched share's latest snapshot (by ``collected_at, id``, new rows included),
  upserted in share order: one statement, so the group triggers of 0009 fire once.
- ``CampaignResultHour``: the gains of a share's snapshots are their differences to the previous one.
  For the touched shares the hours get (gains of every snapshot, new ones included) minus (gains of the
  snapshots without the new ones) and one snapshot per new row: exactly what the row trigger added
  row by row (its own hour by its gain, the next snapshot's hour by the opposite), also for several
  new snapshots of one share and for snapshots older than the latest.

Updates and deletes (``manual`` pulls overwrite, staff deletes) keep the row trigger, renamed in
meaning only: it now fires ``BEFORE UPDATE OR DELETE``. Lock order stays share rows -> group rows ->
hour rows. PostgreSQL only, like 0007.
"""

from django.db import migrations

INSERT_FUNCTION = """
CREATE OR REPLACE FUNCTION campaigns_snapshot_rollup_insert() RETURNS trigger AS $$
BEGIN
    INSERT INTO campaigns_shareresult
        (share_id, reach, impressions, engagements, latest_at, unique_clicks, earned_minor)
    SELECT l.share_id, l.reach, l.impressions, l.engagements, l.collected_at, 0, 0
    FROM (SELECT DISTINCT n.share_id FROM new_rows n JOIN campaigns_share s ON s.id = n.share_id) t
    CROSS JOIN LATERAL (
        SELECT m.share_id, m.reach, m.impressions, m.engagements, m.collected_at
        FROM campaigns_metricsnapshot m WHERE m.share_id = t.share_id
        ORDER BY m.collected_at DESC, m.id DESC LIMIT 1
    ) l
    ORDER BY l.share_id
    ON CONFLICT (share_id) DO UPDATE SET
        reach = EXCLUDED.reach, impressions = EXCLUDED.impressions,
        engagements = EXCLUDED.engagements, latest_at = EXCLUDED.latest_at;

    INSERT INTO campaigns_campaignresulthour
        (campaign_id, hour, snapshots, reach_gain, engagements_gain, unique_clicks, earned_minor, fee_minor)
    SELECT campaign_id, hour, SUM(snapshots), SUM(reach), SUM(engagements), 0, 0, 0
    FROM (
        SELECT s.campaign_id, date_trunc('hour', m.collected_at, 'UTC') AS hour,
               (m.id IN (SELECT id FROM new_rows))::integer AS snapshots,
               COALESCE(m.reach, m.impressions, 0)
                 - COALESCE(LAG(COALESCE(m.reach, m.impressions, 0)) OVER w, 0) AS reach,
               COALESCE(m.engagements, 0) - COALESCE(LAG(COALESCE(m.engagements, 0)) OVER w, 0) AS engagements
        FROM campaigns_metricsnapshot m JOIN campaigns_share s ON s.id = m.share_id
        WHERE m.share_id IN (SELECT share_id FROM new_rows)
        WINDOW w AS (PARTITION BY m.share_id ORDER BY m.collected_at, m.id)
        UNION ALL
        SELECT s.campaign_id, date_trunc('hour', m.collected_at, 'UTC'), 0,
               -(COALESCE(m.reach, m.impressions, 0) - COALESCE(LAG(COALESCE(m.reach, m.impressions, 0)) OVER w, 0)),
               -(COALESCE(m.engagements, 0) - COALESCE(LAG(COALESCE(m.engagements, 0)) OVER w, 0))
        FROM campaigns_metricsnapshot m JOIN campaigns_share s ON s.id = m.share_id
        WHERE m.share_id IN (SELECT share_id FROM new_rows) AND m.id NOT IN (SELECT id FROM new_rows)
        WINDOW w AS (PARTITION BY m.share_id ORDER BY m.collected_at, m.id)
    ) x
    GROUP BY campaign_id, hour
    HAVING SUM(snapshots) <> 0 OR SUM(reach) <> 0 OR SUM(engagements) <> 0
    ORDER BY campaign_id, hour
    ON CONFLICT (campaign_id, hour) DO UPDATE SET
        snapshots = campaigns_campaignresulthour.snapshots + EXCLUDED.snapshots,
        reach_gain = campaigns_campaignresulthour.reach_gain + EXCLUDED.reach_gain,
        engagements_gain = campaigns_campaignresulthour.engagements_gain + EXCLUDED.engagements_gain;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

FORWARD = [
    INSERT_FUNCTION,
    "DROP TRIGGER IF EXISTS campaigns_metricsnapshot_rollup ON campaigns_metricsnapshot;",
    (
        "CREATE TRIGGER campaigns_metricsnapshot_rollup BEFORE UPDATE OR DELETE ON campaigns_metricsnapshot "
        "FOR EACH ROW EXECUTE FUNCTION campaigns_snapshot_rollup();"
    ),
    (
        "CREATE TRIGGER campaigns_metricsnapshot_rollup_insert AFTER INSERT ON campaigns_metricsnapshot "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_snapshot_rollup_insert();"
    ),
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS campaigns_metricsnapshot_rollup_insert ON campaigns_metricsnapshot;",
    "DROP FUNCTION IF EXISTS campaigns_snapshot_rollup_insert();",
    "DROP TRIGGER IF EXISTS campaigns_metricsnapshot_rollup ON campaigns_metricsnapshot;",
    (
        "CREATE TRIGGER campaigns_metricsnapshot_rollup BEFORE INSERT OR UPDATE OR DELETE ON campaigns_metricsnapshot "
        "FOR EACH ROW EXECUTE FUNCTION campaigns_snapshot_rollup();"
    ),
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return  # SQLite: the selectors read the raw rows (ADR 12)
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0016_sharepublication_media_ids")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
