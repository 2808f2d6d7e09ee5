"""The reference checks of migration 0006, planned for the size of the statement they check.

0006's insert checks are static SQL, and PL/pgSQL plans them for the few rows a per-row service writes:
the planner takes a statement's transition table for 200 distinct keys and probes the parent's primary
key once per key. A set-based earnings batch writes a million accruals at once; probing a million keys
one by one took 3 to 4.5 s per reference (bench P4's EXPLAIN ANALYZE: 17 s of the batch in these
triggers). A statement of more than ``LARGE`` rows now counts each reference's distinct keys by hash; when
they lie in a range at most twice their number (a batch refers to rows it just wrote, numbered by one
sequence) and the parent has every id of that range, the range's index is all that is read (and locked,
``FOR KEY SHARE`` where the reference locks); otherwise the keys are hash-joined with the parent's rows of
their range (nested loops switched off for that query only). Small statements keep static plans. Distinct keys are
counted with a hash instead of ``count(DISTINCT)``'s sort. What is checked and locked is unchanged.
"""

# The SQL is built from the constant table and column names of REFERENCES only.
# ruff: noqa: S608, E501

from django.db import migrations

#: child table -> its references: (column, parent table, lock the parent rows?), as in migration 0006.
REFERENCES = {
    "payouts_ledgerentry": (
        ("transaction_id", "payouts_ledgertransaction", False),
        ("account_id", "payouts_ledgeraccount", True),
    ),
    "payouts_ledgertransaction": (
        ("reverses_id", "payouts_ledgertransaction", False),
        ("brand_id", "brands_brand", True),
        ("campaign_id", "campaigns_campaign", True),
        ("influencer_id", "influencers_influencerprofile", True),
        ("recorded_by_id", "accounts_user", True),
    ),
    "payouts_earningaccrual": (
        ("share_id", "payouts_shareearning", True),
        ("campaign_id", "campaigns_campaign", True),
        ("influencer_id", "influencers_influencerprofile", True),
        ("ledger_transaction_id", "payouts_ledgertransaction", False),
    ),
    "payouts_earningline": (("accrual_id", "payouts_earningaccrual", True),),
}

#: Rows of a statement above which its references are checked by queries planned for its size.
LARGE = 10_000


def _insert_function(child: str, references: tuple[tuple[str, str, bool], ...], *, large: bool) -> str:
    checks = []
    for column, parent, lock in references:
        lock_clause = " FOR KEY SHARE OF p" if lock else ""
        small = f"""SELECT count(*) INTO wanted
                FROM (SELECT DISTINCT n.{column} FROM payouts_refs_new n WHERE n.{column} IS NOT NULL) d;
            found := 0;
            IF wanted > 0 THEN
                SELECT count(*) INTO found FROM (SELECT 1 FROM {parent} p
                    WHERE p.id IN (SELECT n.{column} FROM payouts_refs_new n){lock_clause}) locked;
            END IF;"""
        if large:
            # The keys counted once by hash. When they lie in a narrow range (a batch refers to rows it just
            # wrote, numbered by one sequence) and the parent has every id of that range, every key is present:
            # the range is read (and locked) by its index alone. Otherwise the keys are hash-joined with the
            # parent's rows of their range.
            found = f"""IF total > {LARGE} THEN
                SELECT count(*), min(d.ref), max(d.ref) INTO wanted, lo, hi
                    FROM (SELECT DISTINCT n.{column} AS ref FROM payouts_refs_new n WHERE n.{column} IS NOT NULL) d;
                found := 0;
                IF wanted > 0 AND hi - lo + 1 <= 2 * wanted THEN
                    SELECT count(*) INTO found FROM (SELECT 1 FROM {parent} p
                        WHERE p.id BETWEEN lo AND hi{lock_clause}) locked;
                    found := CASE WHEN found = hi - lo + 1 THEN wanted ELSE 0 END;
                END IF;
                IF wanted > 0 AND found < wanted THEN
                    nestloop := current_setting('enable_nestloop');
                    PERFORM set_config('enable_nestloop', 'off', true);
                    SELECT count(*) INTO found FROM (SELECT 1 FROM {parent} p
                        JOIN (SELECT DISTINCT n.{column} AS ref FROM payouts_refs_new n) r ON r.ref = p.id
                        WHERE p.id BETWEEN lo AND hi{lock_clause}) locked;
                    PERFORM set_config('enable_nestloop', nestloop, true);
                END IF;
            ELSE
                {small}
            END IF;"""
        else:
            found = small
        checks.append(
            f"""
            {found}
            IF found < wanted THEN
                SELECT n.{column}::text INTO missing FROM payouts_refs_new n WHERE n.{column} IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = n.{column}) LIMIT 1;
                RAISE EXCEPTION 'insert on table "{child}" violates foreign key: {column}=% is not present in "{parent}"',
                    missing USING ERRCODE = 'foreign_key_violation';
            END IF;"""
        )
    note = f"planned for its size above {LARGE:,} rows (migration 0007)" if large else "static plans"
    counted = "SELECT count(*) INTO total FROM payouts_refs_new;" if large else ""
    return f"""
    CREATE OR REPLACE FUNCTION {child}_refs_inserted() RETURNS trigger AS $$
    -- Generated by migrations payouts 0006 and 0007: every reference the statement's rows hold names an
    -- existing row; {note}.
    DECLARE
        total bigint;
        wanted bigint;
        found bigint;
        lo bigint;
        hi bigint;
        nestloop text;
        missing text;
    BEGIN
        {counted}{"".join(checks)}
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """


def _run(*, large: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for child, references in REFERENCES.items():
                schema_editor.execute(_insert_function(child, references, large=large), params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("payouts", "0006_ledger_references_per_statement")]

    operations = [migrations.RunPython(_run(large=True), _run(large=False))]
