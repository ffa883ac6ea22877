"""Make the audit log append-only in the database itself, on SQLite and PostgreSQL."""

from django.db import migrations

SQLITE_UP = [
    """CREATE TRIGGER casework_auditevent_no_update BEFORE UPDATE ON casework_auditevent
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;""",
    """CREATE TRIGGER casework_auditevent_no_delete BEFORE DELETE ON casework_auditevent
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS casework_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS casework_auditevent_no_delete;",
]
POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION casework_audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER casework_auditevent_append_only
       BEFORE UPDATE OR DELETE ON casework_auditevent
       FOR EACH ROW EXECUTE FUNCTION casework_audit_append_only();""",
    """CREATE TRIGGER casework_auditevent_no_truncate
       BEFORE TRUNCATE ON casework_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION casework_audit_append_only();""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS casework_auditevent_no_truncate ON casework_auditevent;",
    "DROP TRIGGER IF EXISTS casework_auditevent_append_only ON casework_auditevent;",
    "DROP FUNCTION IF EXISTS casework_audit_append_only();",
]


def _run(statements_by_vendor):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
