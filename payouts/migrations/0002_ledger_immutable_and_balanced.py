"""M4: the database itself refuses to change or delete ledger rows, and (on PostgreSQL) refuses to
commit a transaction whose entries do not sum to zero per currency.

SQLite (the embedded `make run` database) gets the immutability triggers; it has no deferred
triggers, so the balance check there is the one in ``payouts.services.ledger.ledger_post``.
"""

from django.db import migrations

TABLES = ("payouts_ledgerentry", "payouts_ledgertransaction")

POSTGRES_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION payouts_ledger_immutable() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'ledger rows are immutable (% on %): correct them with a reversal', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    *[
        f"""
        CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION payouts_ledger_immutable();
        """
        for table in TABLES
    ],
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
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS payouts_ledgerentry_balanced ON payouts_ledgerentry;",
    *[f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};" for table in TABLES],
    "DROP FUNCTION IF EXISTS payouts_ledger_balanced();",
    "DROP FUNCTION IF EXISTS payouts_ledger_immutable();",
]
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {table}_no_{operation} BEFORE {operation.upper()} ON {table}
    BEGIN SELECT RAISE(ABORT, 'ledger rows are immutable: correct them with a reversal'); END;
    """
    for table in TABLES
    for operation in ("update", "delete")
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {table}_no_{operation};" for table in TABLES for operation in ("update", "delete")
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("payouts", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        )
    ]
