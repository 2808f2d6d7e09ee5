"""The audit trail is append-only at the database: UPDATE and DELETE on its rows are refused, so
neither the admin, a bug nor a stray shell session can rewrite history (the ledger's pattern, M4)."""

from django.db import migrations

TABLE = "platform_auditevent"

POSTGRES_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION platform_audit_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the audit trail is append-only (% on %)', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION platform_audit_append_only();
    """,
]
POSTGRES_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};",
    "DROP FUNCTION IF EXISTS platform_audit_append_only();",
]
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {TABLE}_no_{operation} BEFORE {operation.upper()} ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    """
    for operation in ("update", "delete")
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS {TABLE}_no_{operation};" for operation in ("update", "delete")]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("platform", "0002_deadletter_auditevent")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        )
    ]
