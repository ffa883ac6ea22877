"""manage.py import_cases prints the per-row report; --dry-run writes nothing."""

import io

import pytest
from django.core.management import CommandError, call_command

from casework.models import AuditEvent, Case
from transfer.tests.conftest import csv_bytes, row, table_counts

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_cases", *args, stdout=out)
    return out.getvalue()


def test_dry_run_then_import_then_again(manager, berlin, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_bytes(
        csv_bytes(
            [
                row("C-1"),
                row("C-2", sex="robot"),
                row(
                    "C-3",
                    sex="m",
                    given_names="Taras",
                    family_names="Bulba",
                    date_of_birth="1970-01-02",
                ),
            ]
        )
    )
    before = table_counts()
    dry = run("--mission", "de-ber", "--file", str(path), "--dry-run")
    assert table_counts() == before
    assert "row      2  C-1" in dry and "created" in dry
    assert "column sex: “robot”: not one of the codes" in dry
    assert dry.strip().endswith(
        "Dry run (nothing written): 3 rows; 2 created, 0 updated, 0 skipped, 1 with errors; "
        "0 likely duplicates for review."
    )
    real = run("--mission", "DE-BER", "--file", str(path))
    assert "Imported: 3 rows; 2 created" in real
    assert Case.objects.count() == 2
    event = AuditEvent.objects.get(action="transfer.imported")
    assert event.actor == manager and event.detail["via"] == "command"
    again = run("--mission", "DE-BER", "--file", str(path))
    assert "0 created, 0 updated, 2 skipped, 1 with errors" in again


def test_all_or_nothing_and_month_first(manager, berlin, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_bytes(
        csv_bytes(
            [
                row("M-1", identified_on="05/02/2019", registered_on="05/03/2019"),
                row("M-2", citizenship="Atlantis"),
            ]
        )
    )
    out = run("--mission", "DE-BER", "--file", str(path), "--all-or-nothing", "--month-first")
    assert "All or nothing: rows with errors, NOTHING imported" in out
    assert not Case.objects.exists()


def test_unreadable_file_and_unknown_mission(manager, berlin, tmp_path):
    path = tmp_path / "cases.xlsx"
    path.write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(CommandError, match="could not be read"):
        run("--mission", "DE-BER", "--file", str(path))
    with pytest.raises(CommandError, match="No active mission"):
        run("--mission", "XX-NONE", "--file", str(path))
