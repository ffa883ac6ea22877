"""Export a mission, import the file into an empty database: the same cases result."""

import json
from datetime import date

import pytest
from django.db import transaction

from casework.models import Case, CaseStatus, MissionRole
from casework.services import PersonData, case_register
from casework.tests.factories import MissionFactory, staff
from transfer import exports, services
from transfer.tests.conftest import csv_bytes, row

pytestmark = pytest.mark.django_db


def snapshot(mission_code: str) -> dict:
    """Everything the template carries, per legacy reference, decrypted."""
    result = {}
    cases = Case.objects.filter(registering_mission__code=mission_code).select_related(
        "person", "destination_mission", "source_mission"
    )
    for case in cases:
        person = case.person
        version = case.screenings.order_by("-number").first()
        plan = getattr(case, "reintegration_plan", None)
        result[case.legacy_reference or case.case_number] = {
            "person": {
                name: str(getattr(person, name) or "")
                for name in (
                    "given_names",
                    "family_names",
                    "other_names",
                    "date_of_birth",
                    "place_of_birth",
                    "document_type",
                    "document_number",
                    "phone",
                    "address",
                    "sex",
                    "citizenship",
                    "birth_year",
                    "birth_year_estimated",
                    "preferred_language",
                )
            },
            "case": (
                case.destination_mission.code,
                case.source_mission.code if case.source_mission else "",
                str(case.country_of_exploitation),
                case.identified_on,
                case.registered_on,
                case.status,
                case.closure_reason,
            ),
            "screening": version
            and (
                version.coded,
                version.missing,
                json.loads(version.private),
                version.determination,
                version.status,
            ),
            "services": sorted(
                (s.service_type, s.status, s.start_date, s.end_date, s.partner_name)
                for s in case.services.all()
            ),
            "plan": plan
            and (
                plan.return_date,
                sorted(
                    (
                        v.due_on,
                        v.status,
                        v.visited_on,
                        v.score_economic,
                        v.score_social,
                        v.score_psychosocial,
                    )
                    for v in plan.visits.all()
                ),
            ),
        }
    return result


def build_caseload(manager, berlin, kyiv):
    rows = [
        row(
            "RT-1",
            given_names="Олена",
            family_names="Шевченко",
            other_names="Lena",
            place_of_birth="Вінниця",
            document_type="passport",
            document_number="=FX1",
            phone="+380 1",
            address="вул. Січових Стрільців 1",
            preferred_language="uk",
            source_mission="UA-KYV",
            country_of_exploitation="DE",
            status="reintegration",
            screening_interview_date="2019-05-03",
            screening_interview_place="Berlin",
            screening_determination="victim",
            screening_route="UA;PL;DE",
            screening_exploitation_types="forced_labour;begging",
            screening_means_of_control="(unknown)",
            screening_risk_to_person="n/a",
            screening_age_at_interview="25",
            screening_needs_notes="Arzt, українською",
            services="shelter|delivered|2019-05-03|2019-06-30|; legal|planned|2019-05-10||Caritas",
            reintegration_return_date="2019-07-01",
            follow_ups="2019-10-01|done|2019-10-02|0.5|0.25|1; 2020-01-01|scheduled",
        ),
        row(
            "RT-2",
            given_names="李",
            family_names="娜",
            sex="unknown",
            date_of_birth="",
            birth_year="1990",
            birth_year_estimated="yes",
            citizenship="CN",
            status="closed",
            closure_reason="lost_contact",
        ),
        row(
            "RT-3",
            given_names="Ahmed",
            family_names="Al-Sayed",
            sex="male",
            citizenship="SY",
            screening_determination="inconclusive",
            screening_sex="male",
            status="under_screening",
        ),
    ]
    headers = sorted({key for r in rows for key in r})
    report = services.import_file(actor=manager, mission=berlin, data=csv_bytes(rows, headers))
    assert report.counts["created"] == 3, report.errors
    # And a case registered in the product itself (no legacy reference: its case number).
    case_register(
        actor=manager,
        registering_mission=berlin,
        destination_mission=berlin,
        source_mission=kyiv,
        country_of_exploitation="DE",
        identified_on=date(2024, 2, 1),
        registered_on=date(2024, 2, 2),
        person=PersonData(
            given_names="Mariana",
            family_names="Popescu",
            sex="female",
            date_of_birth=date(2001, 1, 31),
            citizenship="MD",
        ),
    )
    Case.objects.filter(legacy_reference="").update(status=CaseStatus.UNDER_SCREENING)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_round_trip_into_an_empty_database(file_format):
    with transaction.atomic():
        berlin = MissionFactory(code="DE-BER", country="DE")
        kyiv = MissionFactory(code="UA-KYV", country="UA")
        manager = staff(berlin, MissionRole.MANAGER, username="mgr.de-ber")
        build_caseload(manager, berlin, kyiv)
        expected = snapshot("DE-BER")
        data = exports.export_mission(berlin, include_identifiers=True, file_format=file_format)
        transaction.set_rollback(True)  # back to an empty database
    assert not Case.objects.exists()

    berlin = MissionFactory(code="DE-BER", country="DE")
    MissionFactory(code="UA-KYV", country="UA")
    manager = staff(berlin, MissionRole.MANAGER, username="mgr.de-ber")
    report = services.import_file(actor=manager, mission=berlin, data=data)
    assert report.counts["created"] == 4, report.errors
    assert snapshot("DE-BER") == expected
    # And exporting again gives the same file, apart from the new case numbers.
    again = exports.export_mission(berlin, include_identifiers=True, file_format="csv")
    first = services.import_file(actor=manager, mission=berlin, data=again)
    assert first.counts["skipped"] == 4


def test_export_without_identifiers_leaves_them_out(manager, berlin, kyiv):
    build_caseload(manager, berlin, kyiv)
    data = exports.export_mission(berlin, include_identifiers=False, file_format="csv")
    text = data.decode("utf-8")
    for secret in ("Олена", "Шевченко", "FX1", "Вінниця", "Arzt", "Popescu", "2001-01-31"):
        assert secret not in text
    assert "RT-1" in text and "forced_labour;begging" in text
    header = text.splitlines()[0]
    assert "given_names" not in header and "screening_needs_notes" not in header


def test_formula_like_text_is_exported_inert(manager, berlin, kyiv):
    build_caseload(manager, berlin, kyiv)
    text = exports.export_mission(berlin, include_identifiers=True, file_format="csv").decode()
    assert "'=FX1" in text and ",=FX1" not in text
