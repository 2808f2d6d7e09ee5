"""Results rollups, second level (ADR 12): ``CampaignResultGroup`` per campaign and network / influencer.

A row trigger on ``campaigns_shareresult`` adds each change of a share's numbers (new minus old) to
its network's and its influencer's group; a row trigger on ``campaigns_share`` counts the shares.
A share never changes campaign, influencer or account, so those are read once per change. The
rebuild function now also recomputes the groups. PostgreSQL only, like 0007.
"""

from importlib import import_module

from django.db import migrations

_0007 = import_module("campaigns.migrations.0007_results_rollup_triggers")

GROUP_ADD = """
CREATE OR REPLACE FUNCTION campaigns_result_group_add(
    p_campaign bigint, p_key text, p_influencer bigint, p_shares integer,
    p_reach bigint, p_reach_shares integer, p_impressions bigint, p_impressions_shares integer,
    p_engagements bigint, p_engagements_shares integer, p_clicks bigint, p_earned bigint
) RETURNS void AS $$
    INSERT INTO campaigns_campaignresultgroup
        (campaign_id, key, influencer_id, shares, reach, reach_shares, impressions, impressions_shares,
         engagements, engagements_shares, unique_clicks, earned_minor)
    VALUES (p_campaign, p_key, p_influencer, p_shares, p_reach, p_reach_shares, p_impressions,
            p_impressions_shares, p_engagements, p_engagements_shares, p_clicks, p_earned)
    ON CONFLICT (campaign_id, key) DO UPDATE SET
        shares = campaigns_campaignresultgroup.shares + EXCLUDED.shares,
        reach = campaigns_campaignresultgroup.reach + EXCLUDED.reach,
        reach_shares = campaigns_campaignresultgroup.reach_shares + EXCLUDED.reach_shares,
        impressions = campaigns_campaignresultgroup.impressions + EXCLUDED.impressions,
        impressions_shares = campaigns_campaignresultgroup.impressions_shares + EXCLUDED.impressions_shares,
        engagements = campaigns_campaignresultgroup.engagements + EXCLUDED.engagements,
        engagements_shares = campaigns_campaignresultgroup.engagements_shares + EXCLUDED.engagements_shares,
        unique_clicks = campaigns_campaignresultgroup.unique_clicks + EXCLUDED.unique_clicks,
        earned_minor = campaigns_campaignresultgroup.earned_minor + EXCLUDED.earned_minor;
$$ LANGUAGE sql;
"""

# Statement-level, so each writer takes its locks in one order: share rows, then group rows (sorted
# here), then hour rows (see LOCK_ORDER below); rows of one share never wait on a group held by a
# writer that waits on that share.
GROUP_BODY = """
    INSERT INTO campaigns_campaignresultgroup
        (campaign_id, key, influencer_id, shares, reach, reach_shares, impressions, impressions_shares,
         engagements, engagements_shares, unique_clicks, earned_minor)
    SELECT s.campaign_id, g.key, g.influencer_id, 0,
           SUM(c.sign * COALESCE(c.reach, 0)), SUM(c.sign * (c.reach IS NOT NULL)::integer),
           SUM(c.sign * COALESCE(c.impressions, 0)), SUM(c.sign * (c.impressions IS NOT NULL)::integer),
           SUM(c.sign * COALESCE(c.engagements, 0)), SUM(c.sign * (c.engagements IS NOT NULL)::integer),
           SUM(c.sign * c.unique_clicks), SUM(c.sign * c.earned_minor)
    FROM ({changed}) c
    JOIN campaigns_share s ON s.id = c.share_id
    JOIN networks_connectedaccount a ON a.id = s.connected_account_id
    CROSS JOIN LATERAL (VALUES ('n:' || a.network, NULL::bigint), ('i:' || s.influencer_id, s.influencer_id))
        AS g(key, influencer_id)
    GROUP BY s.campaign_id, g.key, g.influencer_id
    ORDER BY s.campaign_id, g.key
    ON CONFLICT (campaign_id, key) DO UPDATE SET
        reach = campaigns_campaignresultgroup.reach + EXCLUDED.reach,
        reach_shares = campaigns_campaignresultgroup.reach_shares + EXCLUDED.reach_shares,
        impressions = campaigns_campaignresultgroup.impressions + EXCLUDED.impressions,
        impressions_shares = campaigns_campaignresultgroup.impressions_shares + EXCLUDED.impressions_shares,
        engagements = campaigns_campaignresultgroup.engagements + EXCLUDED.engagements,
        engagements_shares = campaigns_campaignresultgroup.engagements_shares + EXCLUDED.engagements_shares,
        unique_clicks = campaigns_campaignresultgroup.unique_clicks + EXCLUDED.unique_clicks,
        earned_minor = campaigns_campaignresultgroup.earned_minor + EXCLUDED.earned_minor;
"""
COLUMNS = "share_id, reach, impressions, engagements, unique_clicks, earned_minor"
SHARE_RESULT_TRIGGERS = [
    statement
    for op in ("insert", "update", "delete")
    for statement in (
        f"""
        CREATE OR REPLACE FUNCTION campaigns_shareresult_group_{op}() RETURNS trigger AS $$
        BEGIN
        {GROUP_BODY.format(changed=_0007.CHANGED[op].format(cols=COLUMNS))}
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        """,
        (
            f"CREATE TRIGGER campaigns_shareresult_group_{op} AFTER {op.upper()} ON campaigns_shareresult "
            f"{_0007.REFERENCING[op]} FOR EACH STATEMENT EXECUTE FUNCTION campaigns_shareresult_group_{op}();"
        ),
    )
]

# One lock order for every writer: share rows -> group rows -> hour rows. The snapshot trigger of
# 0007 touched the hours first; the click trigger upserted in hash order. Both redefined here.
LOCK_ORDER = [
    """
    CREATE OR REPLACE FUNCTION campaigns_snapshot_rollup() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM campaigns_snapshot_latest(NEW.share_id, NEW.id, NEW);
            IF TG_OP = 'UPDATE' AND OLD.share_id <> NEW.share_id THEN
                PERFORM campaigns_snapshot_latest(OLD.share_id, OLD.id, NULL);
            END IF;
        ELSE
            PERFORM campaigns_snapshot_latest(OLD.share_id, OLD.id, NULL);
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM campaigns_snapshot_apply(OLD.id, OLD.share_id, OLD.collected_at,
                COALESCE(OLD.reach, OLD.impressions, 0), COALESCE(OLD.engagements, 0), -1);
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        PERFORM campaigns_snapshot_apply(NEW.id, NEW.share_id, NEW.collected_at,
            COALESCE(NEW.reach, NEW.impressions, 0), COALESCE(NEW.engagements, 0), 1);
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
]
# 0007's statement triggers, now upserting in key order (the functions only; the triggers stay).
CLICK_ORDERED = [statement for statement in _0007._statement_triggers() if "CREATE OR REPLACE FUNCTION" in statement]

# A share's own row is deleted before the share (Django's collector, and ON DELETE order), so by the
# time the share goes its numbers have left the groups; only the share count is left to take back.
SHARE_TRIGGER = """
CREATE OR REPLACE FUNCTION campaigns_share_group() RETURNS trigger AS $$
DECLARE
    s campaigns_share;
    v_network text;
    v_sign integer;
    k text;
BEGIN
    IF TG_OP = 'INSERT' THEN s := NEW; v_sign := 1; ELSE s := OLD; v_sign := -1; END IF;
    SELECT network INTO v_network FROM networks_connectedaccount WHERE id = s.connected_account_id;
    FOREACH k IN ARRAY ARRAY['n:' || v_network, 'i:' || s.influencer_id] LOOP
        PERFORM campaigns_result_group_add(
            s.campaign_id, k, CASE WHEN left(k, 2) = 'i:' THEN s.influencer_id END, v_sign, 0, 0, 0, 0, 0, 0, 0, 0
        );
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER campaigns_share_group AFTER INSERT OR DELETE ON campaigns_share
FOR EACH ROW EXECUTE FUNCTION campaigns_share_group();
"""

REBUILD_GROUPS = """
CREATE OR REPLACE FUNCTION campaigns_result_groups_rebuild() RETURNS void AS $$
BEGIN
    DELETE FROM campaigns_campaignresultgroup;
    INSERT INTO campaigns_campaignresultgroup
        (campaign_id, key, influencer_id, shares, reach, reach_shares, impressions, impressions_shares,
         engagements, engagements_shares, unique_clicks, earned_minor)
    SELECT campaign_id, key, MIN(influencer_id), COUNT(*), COALESCE(SUM(reach), 0), COUNT(reach),
           COALESCE(SUM(impressions), 0), COUNT(impressions), COALESCE(SUM(engagements), 0), COUNT(engagements),
           COALESCE(SUM(unique_clicks), 0), COALESCE(SUM(earned_minor), 0)
    FROM (
        SELECT s.campaign_id, g.key, g.influencer_id, r.reach, r.impressions, r.engagements, r.unique_clicks,
               r.earned_minor
        FROM campaigns_share s
        JOIN networks_connectedaccount a ON a.id = s.connected_account_id
        LEFT JOIN campaigns_shareresult r ON r.share_id = s.id
        CROSS JOIN LATERAL (VALUES ('n:' || a.network, NULL::bigint), ('i:' || s.influencer_id, s.influencer_id))
            AS g(key, influencer_id)
    ) x
    GROUP BY campaign_id, key;
END;
$$ LANGUAGE plpgsql;
"""

STORAGE = (
    "ALTER TABLE campaigns_campaignresultgroup SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02, "
    "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.05)"
)

FORWARD = [
    STORAGE,
    GROUP_ADD,
    *SHARE_RESULT_TRIGGERS,
    SHARE_TRIGGER,
    *LOCK_ORDER,
    *CLICK_ORDERED,
    REBUILD_GROUPS,
    "SELECT campaigns_result_groups_rebuild();",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS campaigns_share_group ON campaigns_share;",
    *[
        f"DROP TRIGGER IF EXISTS campaigns_shareresult_group_{op} ON campaigns_shareresult; "
        f"DROP FUNCTION IF EXISTS campaigns_shareresult_group_{op}();"
        for op in ("insert", "update", "delete")
    ],
    "DROP FUNCTION IF EXISTS campaigns_result_groups_rebuild();",
    "DROP FUNCTION IF EXISTS campaigns_share_group();",
    (
        "DROP FUNCTION IF EXISTS campaigns_result_group_add(bigint, text, bigint, integer, bigint, integer, "
        "bigint, integer, bigint, integer, bigint, bigint);"
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
    dependencies = [("campaigns", "0008_result_groups")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
