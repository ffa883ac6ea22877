"""An approved release cannot change: its row and its records are frozen in the database."""

from django.db import migrations

MESSAGE = "an approved release is immutable; publish a correction instead"
SQLITE_UP = [
    f"""CREATE TRIGGER research_release_frozen_update BEFORE UPDATE ON research_release
       WHEN OLD.status = 'approved'
       BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER research_release_frozen_delete BEFORE DELETE ON research_release
       WHEN OLD.status = 'approved'
       BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER research_record_frozen_insert BEFORE INSERT ON research_researchrecord
       WHEN (SELECT status FROM research_release WHERE id = NEW.release_id) = 'approved'
       BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER research_record_no_update BEFORE UPDATE ON research_researchrecord
       BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER research_record_frozen_delete BEFORE DELETE ON research_researchrecord
       WHEN (SELECT status FROM research_release WHERE id = OLD.release_id) = 'approved'
       BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {name};"
    for name in (
        "research_release_frozen_update",
        "research_release_frozen_delete",
        "research_record_frozen_insert",
        "research_record_no_update",
        "research_record_frozen_delete",
    )
]
POSTGRES_UP = [
    f"""CREATE OR REPLACE FUNCTION research_release_frozen() RETURNS trigger AS $$
       BEGIN
         IF OLD.status = 'approved' THEN
           RAISE EXCEPTION '{MESSAGE}';
         END IF;
         RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER research_release_frozen BEFORE UPDATE OR DELETE ON research_release
       FOR EACH ROW EXECUTE FUNCTION research_release_frozen();""",
    f"""CREATE OR REPLACE FUNCTION research_record_frozen() RETURNS trigger AS $$
       DECLARE release_status text;
       BEGIN
         IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION '{MESSAGE}'; END IF;
         SELECT status INTO release_status FROM research_release
           WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.release_id ELSE NEW.release_id END;
         IF release_status = 'approved' THEN RAISE EXCEPTION '{MESSAGE}'; END IF;
         RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER research_record_frozen
       BEFORE INSERT OR UPDATE OR DELETE ON research_researchrecord
       FOR EACH ROW EXECUTE FUNCTION research_record_frozen();""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS research_record_frozen ON research_researchrecord;",
    "DROP TRIGGER IF EXISTS research_release_frozen ON research_release;",
    "DROP FUNCTION IF EXISTS research_record_frozen();",
    "DROP FUNCTION IF EXISTS research_release_frozen();",
]


def _run(statements_by_vendor):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("research", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
