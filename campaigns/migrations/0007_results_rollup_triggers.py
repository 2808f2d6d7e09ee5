"""Results rollups (ADR 12): PostgreSQL triggers keep ``ShareResult`` and ``CampaignResultHour`` exact.

Triggers, not service code, because clicks, snapshots and accruals are written by several paths
(the drain's ``bulk_create(ignore_conflicts=True)`` that cannot tell which rows were new, metric
pulls, staff pulls that overwrite, bulk loads, deletes): an AFTER trigger sees exactly the rows a
statement changed, in the statement's transaction, so a replayed or rolled-back batch changes
nothing. Clicks, accruals and share earnings use statement-level triggers with transition tables
(one grouped upsert per statement, cheap for bulk inserts); snapshots use a row-level BEFORE
trigger because each snapshot's gain depends on its neighbours (the previous and next snapshot of
its share), and a BEFORE row trigger sees the rows the same statement inserted before it.

``campaigns_results_rebuild()`` recomputes both tables from the raw rows (backfill here, and the
consistency check in the tests). SQLite (the embedded demo database) gets no triggers: the results
selectors compute from the raw rows there.
"""

from django.db import migrations

HOUR_ADD = """
CREATE OR REPLACE FUNCTION campaigns_result_hour_add(
    p_campaign bigint, p_at timestamptz, p_snapshots integer, p_reach bigint, p_engagements bigint,
    p_clicks bigint, p_earned bigint, p_fee bigint
) RETURNS void AS $$
    INSERT INTO campaigns_campaignresulthour
        (campaign_id, hour, snapshots, reach_gain, engagements_gain, unique_clicks, earned_minor, fee_minor)
    VALUES (p_campaign, date_trunc('hour', p_at, 'UTC'), p_snapshots, p_reach, p_engagements, p_clicks,
            p_earned, p_fee)
    ON CONFLICT (campaign_id, hour) DO UPDATE SET
        snapshots = campaigns_campaignresulthour.snapshots + EXCLUDED.snapshots,
        reach_gain = campaigns_campaignresulthour.reach_gain + EXCLUDED.reach_gain,
        engagements_gain = campaigns_campaignresulthour.engagements_gain + EXCLUDED.engagements_gain,
        unique_clicks = campaigns_campaignresulthour.unique_clicks + EXCLUDED.unique_clicks,
        earned_minor = campaigns_campaignresulthour.earned_minor + EXCLUDED.earned_minor,
        fee_minor = campaigns_campaignresulthour.fee_minor + EXCLUDED.fee_minor;
$$ LANGUAGE sql;
"""

# A snapshot's gain is its value (reach, else impressions; engagements) minus the previous snapshot's
# of the same share in (collected_at, id) order. Adding (sign 1) or removing (sign -1) one snapshot
# changes its own hour by its gain and the next snapshot's hour by the opposite.
SNAPSHOT_APPLY = """
CREATE OR REPLACE FUNCTION campaigns_snapshot_apply(
    p_id bigint, p_share bigint, p_at timestamptz, p_reach bigint, p_engagements bigint, p_sign integer
) RETURNS void AS $$
DECLARE
    v_campaign bigint;
    v_prev_reach bigint := 0;
    v_prev_engagements bigint := 0;
    v_next_at timestamptz;
    v_reach bigint;
    v_engagements bigint;
BEGIN
    SELECT campaign_id INTO v_campaign FROM campaigns_share WHERE id = p_share;
    IF v_campaign IS NULL THEN
        RETURN;  -- the share is being deleted; its rollup rows go with it
    END IF;
    SELECT COALESCE(reach, impressions, 0), COALESCE(engagements, 0) INTO v_prev_reach, v_prev_engagements
    FROM campaigns_metricsnapshot
    WHERE share_id = p_share AND id <> p_id AND (collected_at, id) < (p_at, p_id)
    ORDER BY collected_at DESC, id DESC LIMIT 1;
    SELECT collected_at INTO v_next_at
    FROM campaigns_metricsnapshot
    WHERE share_id = p_share AND id <> p_id AND (collected_at, id) > (p_at, p_id)
    ORDER BY collected_at, id LIMIT 1;
    v_reach := p_sign * (p_reach - COALESCE(v_prev_reach, 0));
    v_engagements := p_sign * (p_engagements - COALESCE(v_prev_engagements, 0));
    PERFORM campaigns_result_hour_add(v_campaign, p_at, p_sign, v_reach, v_engagements, 0, 0, 0);
    IF v_next_at IS NOT NULL THEN
        PERFORM campaigns_result_hour_add(v_campaign, v_next_at, 0, -v_reach, -v_engagements, 0, 0, 0);
    END IF;
END;
$$ LANGUAGE plpgsql;
"""

# The share's latest snapshot, ignoring row p_skip, plus the row being written (if any).
SNAPSHOT_LATEST = """
CREATE OR REPLACE FUNCTION campaigns_snapshot_latest(
    p_share bigint, p_skip bigint, p_new campaigns_metricsnapshot
) RETURNS void AS $$
DECLARE
    v_latest campaigns_metricsnapshot;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM campaigns_share WHERE id = p_share) THEN
        RETURN;
    END IF;
    SELECT * INTO v_latest FROM campaigns_metricsnapshot
    WHERE share_id = p_share AND id <> p_skip ORDER BY collected_at DESC, id DESC LIMIT 1;
    IF p_new.id IS NOT NULL AND p_new.share_id = p_share
       AND (v_latest.id IS NULL OR (p_new.collected_at, p_new.id) > (v_latest.collected_at, v_latest.id)) THEN
        v_latest := p_new;
    END IF;
    INSERT INTO campaigns_shareresult
        (share_id, reach, impressions, engagements, latest_at, unique_clicks, earned_minor)
    VALUES (p_share, v_latest.reach, v_latest.impressions, v_latest.engagements, v_latest.collected_at, 0, 0)
    ON CONFLICT (share_id) DO UPDATE SET
        reach = EXCLUDED.reach, impressions = EXCLUDED.impressions,
        engagements = EXCLUDED.engagements, latest_at = EXCLUDED.latest_at;
END;
$$ LANGUAGE plpgsql;
"""

SNAPSHOT_TRIGGER = """
CREATE OR REPLACE FUNCTION campaigns_snapshot_rollup() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM campaigns_snapshot_apply(OLD.id, OLD.share_id, OLD.collected_at,
            COALESCE(OLD.reach, OLD.impressions, 0), COALESCE(OLD.engagements, 0), -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM campaigns_snapshot_apply(NEW.id, NEW.share_id, NEW.collected_at,
            COALESCE(NEW.reach, NEW.impressions, 0), COALESCE(NEW.engagements, 0), 1);
        PERFORM campaigns_snapshot_latest(NEW.share_id, NEW.id, NEW);
        IF TG_OP = 'UPDATE' AND OLD.share_id <> NEW.share_id THEN
            PERFORM campaigns_snapshot_latest(OLD.share_id, OLD.id, NULL);
        END IF;
        RETURN NEW;
    END IF;
    PERFORM campaigns_snapshot_latest(OLD.share_id, OLD.id, NULL);
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER campaigns_metricsnapshot_rollup BEFORE INSERT OR UPDATE OR DELETE ON campaigns_metricsnapshot
FOR EACH ROW EXECUTE FUNCTION campaigns_snapshot_rollup();
"""

# Each statement-level trigger reads "what changed" as signed rows from its transition tables: +1 per
# new row, -1 per old row (an UPDATE is both, so an update that changes nothing counted nets to 0).
CHANGED = {
    "insert": "SELECT {cols}, 1 AS sign FROM new_rows",
    "delete": "SELECT {cols}, -1 AS sign FROM old_rows",
    "update": "SELECT {cols}, 1 AS sign FROM new_rows UNION ALL SELECT {cols}, -1 AS sign FROM old_rows",
}
REFERENCING = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}

CLICK_BODY = """
    INSERT INTO campaigns_shareresult (share_id, unique_clicks, earned_minor)
    SELECT l.share_id, SUM(c.sign), 0
    FROM ({changed}) c JOIN campaigns_trackinglink l ON l.id = c.link_id
    WHERE c.billable GROUP BY l.share_id HAVING SUM(c.sign) <> 0 ORDER BY l.share_id
    ON CONFLICT (share_id) DO UPDATE SET unique_clicks = campaigns_shareresult.unique_clicks + EXCLUDED.unique_clicks;
    INSERT INTO campaigns_campaignresulthour
        (campaign_id, hour, snapshots, reach_gain, engagements_gain, unique_clicks, earned_minor, fee_minor)
    SELECT s.campaign_id, date_trunc('hour', c.occurred_at, 'UTC'), 0, 0, 0, SUM(c.sign), 0, 0
    FROM ({changed}) c
    JOIN campaigns_trackinglink l ON l.id = c.link_id JOIN campaigns_share s ON s.id = l.share_id
    WHERE c.billable GROUP BY 1, 2 HAVING SUM(c.sign) <> 0 ORDER BY 1, 2
    ON CONFLICT (campaign_id, hour) DO UPDATE SET
        unique_clicks = campaigns_campaignresulthour.unique_clicks + EXCLUDED.unique_clicks;
"""

ACCRUAL_BODY = """
    INSERT INTO campaigns_campaignresulthour
        (campaign_id, hour, snapshots, reach_gain, engagements_gain, unique_clicks, earned_minor, fee_minor)
    SELECT a.campaign_id, date_trunc('hour', a.created_at, 'UTC'), 0, 0, 0, 0,
           SUM(a.sign * a.earned_minor), SUM(a.sign * a.fee_minor)
    FROM ({changed}) a
    GROUP BY 1, 2 HAVING SUM(a.sign * a.earned_minor) <> 0 OR SUM(a.sign * a.fee_minor) <> 0 ORDER BY 1, 2
    ON CONFLICT (campaign_id, hour) DO UPDATE SET
        earned_minor = campaigns_campaignresulthour.earned_minor + EXCLUDED.earned_minor,
        fee_minor = campaigns_campaignresulthour.fee_minor + EXCLUDED.fee_minor;
"""

# ShareEarning holds the share's cumulative earnings; its key is the share id as text.
EARNING_BODY = """
    INSERT INTO campaigns_shareresult (share_id, unique_clicks, earned_minor)
    SELECT s.id, 0, SUM(e.sign * e.earned_minor)
    FROM ({changed}) e
    JOIN campaigns_share s ON s.id = CASE WHEN e.share_key ~ '^[0-9]{{1,18}}$' THEN e.share_key::bigint END
    GROUP BY s.id HAVING SUM(e.sign * e.earned_minor) <> 0 ORDER BY s.id
    ON CONFLICT (share_id) DO UPDATE SET earned_minor = campaigns_shareresult.earned_minor + EXCLUDED.earned_minor;
"""

STATEMENT_ROLLUPS = (
    ("campaigns_click", "campaigns_click_rollup", "link_id, occurred_at, billable", CLICK_BODY),
    (
        "payouts_earningaccrual",
        "campaigns_accrual_rollup",
        "campaign_id, created_at, earned_minor, fee_minor",
        ACCRUAL_BODY,
    ),
    ("payouts_shareearning", "campaigns_shareearning_rollup", "share_key, earned_minor", EARNING_BODY),
)


def _statement_triggers() -> list[str]:
    statements = []
    for table, name, cols, body in STATEMENT_ROLLUPS:
        for op in ("insert", "update", "delete"):
            changed = CHANGED[op].format(cols=cols)
            statements.append(
                f"""
                CREATE OR REPLACE FUNCTION {name}_{op}() RETURNS trigger AS $$
                BEGIN
                {body.format(changed=changed)}
                    RETURN NULL;
                END;
                $$ LANGUAGE plpgsql;
                """
            )
            statements.append(
                f"CREATE TRIGGER {name}_{op} AFTER {op.upper()} ON {table} {REFERENCING[op]} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}_{op}();"
            )
    return statements


REBUILD = """
CREATE OR REPLACE FUNCTION campaigns_results_rebuild() RETURNS void AS $$
BEGIN
    DELETE FROM campaigns_shareresult;
    DELETE FROM campaigns_campaignresulthour;
    INSERT INTO campaigns_shareresult
        (share_id, reach, impressions, engagements, latest_at, unique_clicks, earned_minor)
    SELECT s.id, m.reach, m.impressions, m.engagements, m.collected_at, COALESCE(c.n, 0), COALESCE(e.earned_minor, 0)
    FROM campaigns_share s
    LEFT JOIN LATERAL (
        SELECT reach, impressions, engagements, collected_at FROM campaigns_metricsnapshot
        WHERE share_id = s.id ORDER BY collected_at DESC, id DESC LIMIT 1
    ) m ON true
    LEFT JOIN LATERAL (
        SELECT count(*) AS n FROM campaigns_click k JOIN campaigns_trackinglink l ON l.id = k.link_id
        WHERE l.share_id = s.id AND k.billable
    ) c ON true
    LEFT JOIN payouts_shareearning e ON e.share_key = s.id::text
    WHERE m.collected_at IS NOT NULL OR c.n > 0 OR e.id IS NOT NULL;
    INSERT INTO campaigns_campaignresulthour
        (campaign_id, hour, snapshots, reach_gain, engagements_gain, unique_clicks, earned_minor, fee_minor)
    SELECT campaign_id, hour, SUM(snapshots), SUM(reach), SUM(engagements), SUM(clicks), SUM(earned), SUM(fee)
    FROM (
        SELECT s.campaign_id, date_trunc('hour', m.collected_at, 'UTC') AS hour, 1 AS snapshots,
               COALESCE(m.reach, m.impressions, 0)
                 - COALESCE(LAG(COALESCE(m.reach, m.impressions, 0)) OVER w, 0) AS reach,
               COALESCE(m.engagements, 0) - COALESCE(LAG(COALESCE(m.engagements, 0)) OVER w, 0) AS engagements,
               0 AS clicks, 0 AS earned, 0 AS fee
        FROM campaigns_metricsnapshot m JOIN campaigns_share s ON s.id = m.share_id
        WINDOW w AS (PARTITION BY m.share_id ORDER BY m.collected_at, m.id)
        UNION ALL
        SELECT s.campaign_id, date_trunc('hour', k.occurred_at, 'UTC'), 0, 0, 0, 1, 0, 0
        FROM campaigns_click k
        JOIN campaigns_trackinglink l ON l.id = k.link_id JOIN campaigns_share s ON s.id = l.share_id
        WHERE k.billable
        UNION ALL
        SELECT a.campaign_id, date_trunc('hour', a.created_at, 'UTC'), 0, 0, 0, 0, a.earned_minor, a.fee_minor
        FROM payouts_earningaccrual a
    ) x
    GROUP BY campaign_id, hour;
END;
$$ LANGUAGE plpgsql;
"""

# Every snapshot and click batch updates a few rollup rows in place: room on each page for HOT updates
# (no index changes), and vacuum after 1,000 dead rows or 2 % rather than the default 20 %.
STORAGE = [
    f"ALTER TABLE {table} SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02, "
    "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.05)"
    for table in ("campaigns_shareresult", "campaigns_campaignresulthour")
]

FORWARD = [
    *STORAGE,
    HOUR_ADD,
    SNAPSHOT_APPLY,
    SNAPSHOT_LATEST,
    SNAPSHOT_TRIGGER,
    *_statement_triggers(),
    REBUILD,
    "SELECT campaigns_results_rebuild();",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS campaigns_metricsnapshot_rollup ON campaigns_metricsnapshot;",
    *[
        f"DROP TRIGGER IF EXISTS {name}_{op} ON {table}; DROP FUNCTION IF EXISTS {name}_{op}();"
        for table, name, _cols, _body in STATEMENT_ROLLUPS
        for op in ("insert", "update", "delete")
    ],
    "DROP FUNCTION IF EXISTS campaigns_results_rebuild();",
    "DROP FUNCTION IF EXISTS campaigns_snapshot_rollup();",
    "DROP FUNCTION IF EXISTS campaigns_snapshot_latest(bigint, bigint, campaigns_metricsnapshot);",
    "DROP FUNCTION IF EXISTS campaigns_snapshot_apply(bigint, bigint, timestamptz, bigint, bigint, integer);",
    (
        "DROP FUNCTION IF EXISTS campaigns_result_hour_add("
        "bigint, timestamptz, integer, bigint, bigint, bigint, bigint, bigint);"
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
    dependencies = [
        ("campaigns", "0006_results_rollups"),
        ("payouts", "0002_ledger_immutable_and_balanced"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
