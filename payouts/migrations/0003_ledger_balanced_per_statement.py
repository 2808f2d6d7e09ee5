"""M1 in the database, per statement instead of per row at commit (ADR 14).

Migration 0002 checked balance with a deferred constraint trigger that fired once per inserted
entry at commit, each firing summing that entry's transaction again: three index lookups and
three PL/pgSQL calls per booking, which dominated the commit of a set-based batch (a million
bookings, three million firings). This replaces it with one statement-level trigger: the rows an
``INSERT`` adds must balance per transaction and currency on their own.

That is the same invariant, held at every statement instead of at commit: entries are immutable
(0002) and every statement that adds entries to a transaction leaves them balanced, so every
transaction's existing entries sum to zero and a new statement balances its transactions exactly
when its own rows do. What it no longer allows is building one transaction's entries over several
statements; ``payouts.services.ledger.ledger_post`` writes them in one ``bulk_create`` and the set-based earnings
in one ``INSERT ... SELECT``. SQLite has neither trigger (``_post`` checks there), as before.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "DROP TRIGGER IF EXISTS payouts_ledgerentry_balanced ON payouts_ledgerentry;",
    "DROP FUNCTION IF EXISTS payouts_ledger_balanced();",
    """
    CREATE OR REPLACE FUNCTION payouts_ledger_balanced_statement() RETURNS trigger AS $$
    DECLARE
        bad record;
    BEGIN
        SELECT transaction_id, currency INTO bad FROM payouts_ledger_inserted
        GROUP BY transaction_id, currency HAVING SUM(amount_minor) <> 0 LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger transaction % does not balance in %', bad.transaction_id, bad.currency
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER payouts_ledgerentry_balanced AFTER INSERT ON payouts_ledgerentry
    REFERENCING NEW TABLE AS payouts_ledger_inserted
    FOR EACH STATEMENT EXECUTE FUNCTION payouts_ledger_balanced_statement();
    """,
]

# Back to 0002's deferred per-row check.
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS payouts_ledgerentry_balanced ON payouts_ledgerentry;",
    "DROP FUNCTION IF EXISTS payouts_ledger_balanced_statement();",
    """
    CREATE OR REPLACE FUNCTION payouts_ledger_balanced() RETURNS trigger AS $$
    DECLARE
        bad_currency text;
    BEGIN
        SELECT currency INTO bad_currency FROM payouts_ledgerentry
        WHERE transaction_id = NEW.transaction_id
        GROUP BY currency HAVING SUM(amount_minor) <> 0 LIMIT 1;
        IF bad_currency IS NOT NULL THEN
            RAISE EXCEPTION 'ledger transaction % does not balance in %', NEW.transaction_id, bad_currency
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE CONSTRAINT TRIGGER payouts_ledgerentry_balanced AFTER INSERT ON payouts_ledgerentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payouts_ledger_balanced();
    """,
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("payouts", "0002_ledger_immutable_and_balanced")]

    operations = [
        migrations.RunPython(_run({"postgresql": POSTGRES_FORWARD}), _run({"postgresql": POSTGRES_BACKWARD})),
    ]
