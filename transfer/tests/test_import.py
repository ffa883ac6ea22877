"""Messy files: each gets a clear report, and the rows that failed leave nothing behind."""

import time
from datetime import date, timedelta

import pytest
from django.db import connection, transaction

from casework.models import AuditEvent, Case, Person
from casework.services import PersonData, case_register
from dedupe.models import MatchCandidate
from screening.models import ScreeningVersion
from transfer import services
from transfer.tests.conftest import csv_bytes, row, table_counts, xlsx_bytes

pytestmark = pytest.mark.django_db

AUDIT = "casework.AuditEvent"


def run(manager, mission, data, **options):
    return services.import_file(actor=manager, mission=mission, data=data, **options)


def without_audit(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if k != AUDIT}


def delta(before: dict, after: dict) -> dict:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def test_a_clean_file_creates_cases_encrypted_and_audited(manager, berlin):
    data = csv_bytes([row("BER-1", given_names=" Олена ", family_names="Коваленко")])
    report = run(manager, berlin, data)
    assert report.counts["created"] == 1 and report.counts["error"] == 0
    case = Case.objects.get(legacy_reference="BER-1")
    assert case.registering_mission == berlin and case.person.given_names == "Олена"
    assert case.case_number.startswith("DE-BER-2019-")
    with connection.cursor() as cursor:
        cursor.execute("SELECT given_names, family_names FROM casework_person")
        stored = cursor.fetchone()
    assert "Олена" not in stored[0] and "Коваленко" not in stored[1]  # encrypted at rest
    event = AuditEvent.objects.filter(action=services.IMPORT_ACTION).get()
    assert event.actor == manager and event.mission == berlin
    assert event.detail["sha256"] == services.checksum(data)
    assert event.detail["created"] == 1 and event.detail["via"] == "command"
    assert "Олена" not in str(event.detail)


def test_reimporting_the_same_file_creates_nothing_new(manager, berlin):
    data = xlsx_bytes(
        [
            row("BER-1"),
            row(
                "BER-2",
                screening_determination="victim",
                screening_exploitation_types="forced_labour",
                services="shelter|delivered|2019-05-03||",
            ),
        ]
    )
    assert run(manager, berlin, data).counts["created"] == 2
    before = without_audit(table_counts())
    again = run(manager, berlin, data)
    assert again.counts == {
        "created": 0,
        "updated": 0,
        "skipped": 2,
        "error": 0,
        "duplicates": 0,
        "rows": 2,
    }
    assert without_audit(table_counts()) == before


def test_a_changed_row_updates_its_case(manager, berlin):
    run(manager, berlin, csv_bytes([row("BER-1")]))
    report = run(
        manager, berlin, csv_bytes([row("BER-1", status="under_screening", phone="+380 44 000")])
    )
    assert report.rows[0].outcome == "updated"
    assert set(report.rows[0].changes) == {"person.phone", "status"}
    case = Case.objects.get(legacy_reference="BER-1")
    assert case.status == "under_screening" and case.person.phone == "+380 44 000"
    assert Case.objects.count() == 1


MESSY_ROWS = {
    "wrong types": (row("W-1", birth_year="nineteen", date_of_birth=""), "birth_year"),
    "wrong sex": (row("W-2", sex="xyz"), "sex"),
    "impossible date": (row("D-1", identified_on="31/02/2019"), "identified_on"),
    "identified after registered": (
        row("D-2", identified_on="2019-06-01", registered_on="2019-05-01"),
        "identified_on",
    ),
    "future": (
        row("D-3", registered_on=(date.today() + timedelta(days=30)).isoformat()),
        "registered_on",
    ),
    "unknown code": (
        row("C-1", screening_determination="victim", screening_exploitation_types="fishing"),
        "screening_exploitation_types",
    ),
    "unknown country": (row("C-2", citizenship="Atlantis"), "citizenship"),
    "unknown mission": (row("C-3", destination_mission="XX-NOPE"), "destination_mission"),
    "missing name": (row("N-1", given_names="  "), "given_names"),
    "no reference": (row("", family_names="Noref"), "legacy_reference"),
    "screening without determination": (
        row("S-1", screening_sex="female"),
        "screening_determination",
    ),
    # Refused by the database after the person was saved and matched: the row's savepoint
    # takes the person, their blocking keys and cluster back with it.
    "closure reason on an open case": (
        row("S-2", status="assistance", closure_reason="lost_contact"),
        "closure_reason",
    ),
    "service ending before it starts": (
        row("S-3", services="shelter|delivered|2019-05-03|2019-04-01|"),
        "services",
    ),
}


@pytest.mark.parametrize("name", MESSY_ROWS)
def test_each_messy_row_is_reported_and_leaves_nothing(manager, berlin, name):
    bad, column = MESSY_ROWS[name]
    before = table_counts()
    report = run(
        manager, berlin, csv_bytes([bad], headers=list(row()) + [k for k in bad if k not in row()])
    )
    assert report.counts["error"] == 1, report.rows
    errors = report.errors
    assert errors and errors[0]["row"] == 2
    assert any(e["column"] == column and e["reason"] for e in errors), errors
    after = table_counts()
    assert without_audit(after) == without_audit(before)  # exactly as before
    assert after[AUDIT] == before[AUDIT] + 1  # the import itself is on record


def test_failed_rows_leave_nothing_and_good_rows_are_unaffected(manager, berlin):
    good = [row("G-1"), row("G-2", given_names="Іван", sex="m")]
    bad = [item for item, _column in MESSY_ROWS.values()]
    headers = sorted({key for r in good + bad for key in r})
    # What the good rows alone write, measured and rolled back...
    with transaction.atomic():
        start = table_counts()
        run(manager, berlin, csv_bytes(good, headers))
        expected = delta(start, table_counts())
        transaction.set_rollback(True)
    # ... is exactly what the messy file writes.
    start = table_counts()
    report = run(manager, berlin, csv_bytes(good[:1] + bad + good[1:], headers))
    assert report.counts["created"] == 2 and report.counts["error"] == len(bad)
    assert delta(start, table_counts()) == expected
    assert set(Case.objects.values_list("legacy_reference", flat=True)) == {"G-1", "G-2"}


def test_all_or_nothing_writes_nothing_when_a_row_fails(manager, berlin):
    before = table_counts()
    data = csv_bytes([row("A-1"), row("A-2", sex="xyz"), row("A-3")])
    report = run(manager, berlin, data, all_or_nothing=True)
    assert report.rolled_back and report.counts["error"] == 1
    assert without_audit(table_counts()) == without_audit(before)
    assert AuditEvent.objects.get(action=services.IMPORT_ACTION).detail["rolled_back"] is True
    # Fixed, it goes through whole.
    fixed = run(
        manager, berlin, csv_bytes([row("A-1"), row("A-2"), row("A-3")]), all_or_nothing=True
    )
    assert not fixed.rolled_back and Case.objects.count() == 3


def test_a_dry_run_writes_nothing_and_predicts_the_import(manager, berlin):
    data = csv_bytes([row("P-1"), row("P-2", sex="?"), row("P-3", sex="xyz")])
    before = table_counts()
    preview = run(manager, berlin, data, dry_run=True)
    assert table_counts() == before  # not even an audit row
    real = run(manager, berlin, data)
    assert [r.outcome for r in preview.rows] == [r.outcome for r in real.rows]
    assert Person.objects.get(cases__legacy_reference="P-2").sex == "unknown"


def test_duplicated_rows_in_one_file(manager, berlin):
    data = csv_bytes([row("R-1"), row("R-1"), row("R-1", given_names="Other")])
    report = run(manager, berlin, data)
    assert [r.outcome for r in report.rows] == ["created", "skipped", "error"]
    assert report.rows[1].note == "repeats row 2"
    assert "already used on row 2" in report.rows[2].errors[0]["reason"]
    assert Case.objects.count() == 1


def test_a_row_duplicating_an_existing_person_goes_to_the_review_queue(manager, berlin, kyiv):
    from casework.models import MissionRole
    from casework.tests.factories import staff

    kyiv_worker = staff(kyiv, MissionRole.CASEWORKER)
    existing = case_register(
        actor=kyiv_worker,
        registering_mission=kyiv,
        destination_mission=kyiv,
        source_mission=None,
        country_of_exploitation="PL",
        identified_on=date(2018, 1, 5),
        registered_on=date(2018, 1, 6),
        person=PersonData(
            given_names="Iryna",
            family_names="Polishchuk",
            sex="female",
            date_of_birth=date(1988, 11, 4),
            citizenship="UA",
        ),
    )
    data = csv_bytes(
        [row("DUP-1", given_names="Ірина", family_names="Поліщук", date_of_birth="04/11/1988")]
    )
    preview = run(manager, berlin, data, dry_run=True)
    assert preview.counts["duplicates"] == 1
    assert not MatchCandidate.objects.exists()
    report = run(manager, berlin, data)
    assert report.counts["duplicates"] == 1 and report.rows[0].duplicates == 1
    candidate = MatchCandidate.objects.get()
    imported = Case.objects.get(legacy_reference="DUP-1").person
    assert {candidate.person_a_id, candidate.person_b_id} == {existing.person_id, imported.pk}
    assert candidate.decision == "pending"


def test_empty_and_header_only_files(manager, berlin):
    before = table_counts()
    empty = run(manager, berlin, b"")
    assert "empty" in empty.problem and not empty.rows
    headers = run(manager, berlin, csv_bytes([], headers=list(row())))
    assert "no rows" in headers.problem
    assert without_audit(table_counts()) == without_audit(before)
    assert AuditEvent.objects.filter(action=services.IMPORT_ACTION).count() == 2


def test_wrong_encoding_and_truncated_xlsx(manager, berlin):
    before = table_counts()
    latin = csv_bytes([row("E-1", given_names="Ольга")], encoding="cp1251")
    assert "UTF-8" in run(manager, berlin, latin).problem
    whole = xlsx_bytes([row("E-2")])
    truncated = run(manager, berlin, whole[: len(whole) // 2])
    assert "truncated" in truncated.problem
    assert without_audit(table_counts()) == without_audit(before)


def test_screening_answers_services_and_follow_ups_are_imported(manager, berlin):
    data = csv_bytes(
        [
            row(
                "F-1",
                status="reintegration",
                screening_interview_date="03/05/2019",
                screening_determination="Victim of trafficking",
                screening_exploitation_types="forced labour; begging",
                screening_route="Ukraine;PL;DEU",
                screening_risk_to_person="n/a",
                screening_needs_notes="Needs a doctor who speaks Ukrainian",
                services=(
                    "shelter|delivered|2019-05-03|2019-06-30|; "
                    "medical|in_progress|4/5/2019||Caritas"
                ),
                reintegration_return_date="2019-07-01",
                follow_ups="2019-10-01|done|2019-10-03|0.5|0.75|1; 2020-01-01|scheduled",
            )
        ]
    )
    report = run(manager, berlin, data)
    assert report.counts["created"] == 1, report.errors
    case = Case.objects.get(legacy_reference="F-1")
    version = ScreeningVersion.objects.get(case=case)
    assert version.status == "confirmed" and version.determination == "victim"
    assert version.coded["exploitation_types"] == ["forced_labour", "begging"]
    assert version.coded["route"] == ["UA", "PL", "DE"]
    assert version.coded["interview_date"] == "2019-05-03"
    assert version.missing == {"risk_to_person": "not_applicable"}
    assert "Ukrainian" not in str(version.coded) and "Ukrainian" in version.private
    services_ = {(s.service_type, s.status, s.partner_name) for s in case.services.all()}
    assert services_ == {("shelter", "delivered", ""), ("medical", "in_progress", "Caritas")}
    visits = list(case.reintegration_plan.visits.order_by("due_on"))
    assert [v.status for v in visits] == ["done", "scheduled"]
    assert str(visits[0].score_social) == "0.75"


def test_month_first_dates(manager, berlin):
    data = csv_bytes([row("M-1", identified_on="05/02/2019", registered_on="05/03/2019")])
    run(manager, berlin, data, day_first=False)
    case = Case.objects.get(legacy_reference="M-1")
    assert (case.identified_on, case.registered_on) == (date(2019, 5, 2), date(2019, 5, 3))


def test_another_mission_is_refused(manager, kyiv):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run(manager, kyiv, csv_bytes([row("X-1")]))
    assert not Case.objects.exists()


def test_a_ten_thousand_row_file(manager, berlin):
    rows = [
        row(
            f"T-{n}",
            given_names=f"Name{n}",
            family_names=f"Family{n % 997}",
            date_of_birth=f"{1970 + n % 30}-{1 + n % 12:02d}-{1 + n % 28:02d}",
        )
        for n in range(10_000)
    ]
    rows[17]["sex"] = "robot"
    rows[4242]["identified_on"] = "2019-02-30"
    started = time.monotonic()
    report = run(manager, berlin, xlsx_bytes(rows))
    elapsed = time.monotonic() - started
    assert report.counts["created"] == 9_998 and report.counts["error"] == 2
    assert [e["row"] for e in report.errors] == [19, 4244]
    assert Case.objects.count() == 9_998
    assert elapsed < 600
