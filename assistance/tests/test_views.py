from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistance.models import AssistanceVersion, ServiceRecord
from casework.models import MissionRole, OrgRole
from casework.tests.factories import CaseFactory, MissionFactory, UserFactory, staff

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def case():
    berlin = MissionFactory(code="DE-BER", country="DE")
    return CaseFactory(
        registering_mission=berlin,
        status="eligible",
        identified_on=TODAY - timedelta(days=60),
        registered_on=TODAY - timedelta(days=59),
    )


def _client(user):
    client = Client()
    client.force_login(user)
    return client


CASE_PAGES = [
    ("get", "service_create", {}),
    ("post", "assistance_start", {}),
    ("get", "assistance_wizard", {}),
    ("get", "return_plan", {}),
    ("get", "reintegration_plan", {}),
    ("get", "follow_up_schedule", {}),
    ("get", "closure_request", {}),
    ("get", "return_arrival", {"movement_id": 1}),
    ("get", "follow_up_record", {"visit_id": 1}),
    ("get", "assistance_summary", {"number": 1}),
]


@pytest.mark.parametrize(("method", "name", "extra"), CASE_PAGES)
def test_unrelated_mission_gets_404_and_org_roles_403(case, method, name, extra):
    url = reverse(name, kwargs={"public_id": case.public_id, **extra})
    outsider = _client(staff(MissionFactory(code="IT-ROM"), MissionRole.MANAGER))
    assert getattr(outsider, method)(url).status_code == 404
    researcher = _client(UserFactory(username="r", org_role=OrgRole.RESEARCHER))
    assert getattr(researcher, method)(url).status_code == 403
    case.refresh_from_db()
    assert case.status == "eligible"


def test_service_form_records_and_shows_errors_beside_fields(case):
    worker = _client(staff(case.registering_mission))
    url = reverse("service_create", args=[case.public_id])
    bad = worker.post(
        url,
        {
            "service_type": "shelter",
            "status": "delivered",
            "start_date": (TODAY - timedelta(days=10)).isoformat(),
            "end_date": (TODAY - timedelta(days=20)).isoformat(),
            "cost": "-5",
        },
    )
    assert bad.status_code == 400
    errors = bad.context["form"].errors
    assert {"end_date", "cost", "partner_name"} <= set(errors)
    assert not ServiceRecord.objects.exists()
    good = worker.post(
        url,
        {
            "service_type": "shelter",
            "status": "delivered",
            "provider_mission": case.registering_mission_id,
            "start_date": (TODAY - timedelta(days=10)).isoformat(),
            "end_date": (TODAY - timedelta(days=2)).isoformat(),
            "cost": "150.50",
            "currency": "EUR",
        },
    )
    assert good.status_code == 302
    page = worker.get(reverse("case_detail", args=[case.public_id])).content.decode()
    assert "Shelter or accommodation" in page and "150.50 EUR" in page


def test_assistance_interview_prefills_from_screening_and_records_corrections(case):
    from screening.models import ScreeningVersion

    ScreeningVersion.objects.create(
        case=case,
        number=1,
        mission=case.registering_mission,
        coded={"needs_medical": "yes", "children": 2, "education": "primary", "citizenship": "UA"},
        private="{}",
        suggestion="victim",
        determination="victim",
        status="confirmed",
        interviewer=case.created_by,
        reviewed_by=case.created_by,
        reviewed_at=timezone.now(),
    )
    worker = _client(staff(case.registering_mission))
    worker.post(reverse("assistance_start", args=[case.public_id]))
    url = reverse("assistance_wizard", args=[case.public_id])
    page = worker.get(url)
    assert page.context["wizard"]["form"]["medical_care_needed"].value() == "yes"
    from assistance.models import AssistanceDraft

    def post(step, values):
        draft = AssistanceDraft.objects.get(case=case)
        data = {"interview-current_step": step, "draft_version": draft.version}
        data.update({f"{step}-{k}": v for k, v in values.items()})
        return worker.post(url, data)

    post(
        "health",
        {"medical_care_needed": "yes", "physical_health": "minor", "mental_health": "serious"},
    )
    post("legal", {"identity_documents": "lost", "cooperates_with_law_enforcement": "undecided"})
    post("family", {"children": "3", "risk_to_family": "no", "safe_to_return_home": "yes"})
    post("education", {"education": "primary", "skills": ["sewing"]})
    post("wishes", {"wishes": "return", "preferred_country": "UA"})
    done = post("plan", {"planned_services": ["medical", "return_travel"]})
    assert done.status_code == 302
    version = AssistanceVersion.objects.get(case=case)
    assert version.screening_corrections == {"children": {"from": 2, "to": 3}}
    case.refresh_from_db()
    assert case.status == "assistance"
    summary = worker.get(reverse("assistance_summary", args=[case.public_id, 1])).content.decode()
    assert "Corrected from the screening form" in summary


def test_exported_text_never_becomes_a_spreadsheet_formula():
    from assistance.exports import _inert

    assert _inert('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert (
        _inert("@SUM(A1)").startswith("'") and _inert("Olena") == "Olena" and _inert(1990) == 1990
    )
