import json
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from casework.models import AuditEvent, CaseEvent, Consent, MissionRole
from casework.tests.factories import CaseFactory, MissionFactory, UserFactory, staff
from screening.models import ScreeningDraft, ScreeningVersion

pytestmark = pytest.mark.django_db

ANSWERS = {
    "interview": {
        "interview_date": "2025-03-10",
        "interview_place": "Shelter office, Berlin",
        "interview_language": "uk",
        "interpreter_present": "yes",
        "referral_source": "police",
    },
    "consent": {
        "consent_interview": "given",
        "consent_data_processing": "given",
        "consent_date": "2025-03-10",
    },
    "profile": {
        "sex": "female",
        "date_of_birth": "1994-03-07",
        "age_at_interview": "31",
        "citizenship": "UA",
        "marital_status": "single",
        "children": "1",
        "education": "upper_secondary",
        "languages_spoken": ["uk", "ru"],
        "occupation_before": "trade",
    },
    "recruitment": {
        "recruitment_date": "2024-05-01",
        "age_at_recruitment": "30",
        "recruitment_country": "UA",
        "recruitment_place": "Bila Tserkva",
        "recruitment_method": "job_offer",
        "recruiter_relationship": "friend",
        "promised": "Work in a restaurant kitchen, 1,500 EUR a month",
        "fees_or_debt": "yes",
        "debt_amount_usd": "2000",
    },
    "transit": {
        "route_0": "UA",
        "route_1": "PL",
        "route_2": "DE",
        "transport": ["bus_or_car"],
        "documents_used": "own",
        "border_crossing": "regular",
    },
    "exploitation": {
        "exploitation_countries": ["DE"],
        "exploitation_start": "2024-06-01",
        "exploitation_end": "2025-02-20",
        "exploitation_types": ["forced_labour"],
        "labour_sector": "hospitality",
        "hours_per_day": "14",
        "days_per_week": "7",
        "earnings_kept_by": "exploiter",
        "means_of_control": ["debt_bondage", "withholds_documents", "threats"],
    },
    "exit": {"exit_method": "escaped", "exit_date": "2025-02-21"},
    "needs": {
        "needs_medical": "yes",
        "needs_shelter": "yes",
        "risk_to_person": "yes",
        "risk_to_family__missing": "unknown",
        "urgent_assistance": "no",
        "needs_notes": "Fears the recruiter knows her mother's address",
    },
    "assessment": {"determination": "victim"},
}
STEPS = list(ANSWERS)


def _post_data(step, draft_version, values=None, **extra):
    data = {"interview-current_step": step, "draft_version": draft_version}
    for key, value in (values if values is not None else ANSWERS[step]).items():
        data[f"{step}-{key}"] = value
    data.update(extra)
    return data


def _draft(case):
    return ScreeningDraft.objects.get(case=case)


def _submit_step(client, case, step, values=None, **extra):
    url = reverse("screening_wizard", args=[case.public_id])
    return client.post(url, _post_data(step, _draft(case).version, values, **extra))


@pytest.fixture
def berlin():
    return MissionFactory(code="DE-BER", country="DE")


@pytest.fixture
def case(berlin):
    return CaseFactory(registering_mission=berlin)


@pytest.fixture
def worker(berlin):
    client = Client()
    client.force_login(staff(berlin))
    return client


@pytest.fixture
def manager(berlin):
    client = Client()
    client.force_login(staff(berlin, MissionRole.MANAGER))
    return client


def _start(client, case):
    response = client.post(reverse("screening_start", args=[case.public_id]))
    assert response.status_code == 302
    return response


def _fill_all(client, case):
    _start(client, case)
    response = None
    for step in STEPS:
        response = _submit_step(client, case, step)
        assert response.status_code in (200, 302), step
        if response.status_code == 200 and response.context and "wizard" in response.context:
            form = response.context["wizard"]["form"]
            assert form.section.key != step or not form.errors, (step, form.errors)
    return response


def test_whole_interview_is_submitted_and_moves_the_case(worker, case):
    response = _fill_all(worker, case)
    version = ScreeningVersion.objects.get(case=case)
    assert response.status_code == 302
    assert response["Location"] == reverse("screening_summary", args=[case.public_id, 1])
    assert version.determination == version.suggestion == "victim"
    assert version.elements == {
        "act": "met",
        "means": "met",
        "purpose": "met",
        "minor": False,
        "suggestion": "victim",
    }
    assert version.coded["means_of_control"] == ["debt_bondage", "withholds_documents", "threats"]
    assert version.coded["route"] == ["UA", "PL", "DE"]
    assert version.missing == {"risk_to_family": "unknown"}
    private = json.loads(version.private)
    assert private["needs_notes"].startswith("Fears the recruiter")
    assert "Bila Tserkva" not in json.dumps(version.coded)
    assert not ScreeningDraft.objects.filter(case=case).exists()
    case.refresh_from_db()
    assert case.status == "under_screening"
    assert Consent.objects.filter(case=case, purpose="assistance", decision="given").exists()
    kinds = list(case.events.values_list("kind", flat=True))
    assert "screening_submitted" in kinds


def test_manager_confirms_and_the_timeline_shows_it(worker, manager, case):
    _fill_all(worker, case)
    response = manager.post(
        reverse("screening_review", args=[case.public_id, 1]), {"decision": "confirm"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "eligible"
    last = case.events.order_by("-id")[:2]
    assert [e.kind for e in last] == ["screening_confirmed", "status_changed"]


def test_caseworker_cannot_confirm(worker, case):
    _fill_all(worker, case)
    response = worker.post(
        reverse("screening_review", args=[case.public_id, 1]), {"decision": "confirm"}
    )
    assert response.status_code == 403
    assert ScreeningVersion.objects.get(case=case).status == "submitted"


def test_return_with_comment_reopens_a_draft(worker, manager, case):
    _fill_all(worker, case)
    refused = manager.post(
        reverse("screening_review", args=[case.public_id, 1]), {"decision": "return"}
    )
    assert refused.status_code == 302
    assert ScreeningVersion.objects.get(case=case).status == "submitted"  # a comment is required
    manager.post(
        reverse("screening_review", args=[case.public_id, 1]),
        {"decision": "return", "comment": "Check the exploitation dates"},
    )
    version = ScreeningVersion.objects.get(case=case)
    assert version.status == "returned"
    draft = _draft(case)
    assert draft.returned_with == "Check the exploitation dates"
    page = worker.get(reverse("screening_wizard", args=[case.public_id]))
    assert "Check the exploitation dates" in page.content.decode()
    # Resubmitting makes version 2, the returned version kept.
    response = _submit_step(worker, case, "assessment")
    assert response.status_code == 302
    assert list(case.screenings.values_list("number", "status")) == [
        (2, "submitted"),
        (1, "returned"),
    ]


def test_going_back_keeps_answers_and_changes_are_kept(worker, case):
    _start(worker, case)
    for step in STEPS[:4]:
        _submit_step(worker, case, step)
    # Back to the profile from the transit page, with a half-filled transit page.
    response = _submit_step(worker, case, "transit", {"route_0": "UA"}, wizard_goto_step="profile")
    form = response.context["wizard"]["form"]
    assert form.section.key == "profile"
    assert form["children"].value() == "1"
    changed = dict(ANSWERS["profile"], children="2")
    _submit_step(worker, case, "profile", changed)
    page = worker.get(reverse("screening_wizard", args=[case.public_id]))
    assert page.context["wizard"]["steps"].current == "recruitment"
    answers = json.loads(_draft(case).state)["extra_data"]["answers"]
    assert answers["coded"]["children"] == 2
    transit = json.loads(_draft(case).state)["step_data"]["transit"]
    assert transit["transit-route_0"] == ["UA"]


def test_draft_survives_logout_and_another_caseworker_resumes(worker, berlin, case):
    _start(worker, case)
    _submit_step(worker, case, "interview")
    leave = _submit_step(worker, case, "consent", save_and_leave="1")
    assert leave["Location"] == reverse("case_detail", args=[case.public_id])
    worker.post(reverse("logout"))
    colleague = Client()
    colleague.force_login(staff(berlin, username="colleague"))
    page = colleague.get(reverse("screening_wizard", args=[case.public_id]))
    assert page.context["wizard"]["steps"].current == "consent"
    assert page.context["wizard"]["form"]["consent_date"].value() == "2025-03-10"


def test_stale_draft_save_is_refused(worker, berlin, case):
    _start(worker, case)
    stale_version = _draft(case).version
    _submit_step(worker, case, "interview")
    colleague = Client()
    colleague.force_login(staff(berlin, username="colleague"))
    response = colleague.post(
        reverse("screening_wizard", args=[case.public_id]),
        _post_data("interview", stale_version, dict(ANSWERS["interview"], interview_place="X")),
    )
    assert response.status_code == 302
    state = json.loads(_draft(case).state)
    assert state["extra_data"]["answers"]["private"]["interview_place"] == "Shelter office, Berlin"


def test_refused_consent_stops_the_interview(worker, case):
    _start(worker, case)
    _submit_step(worker, case, "interview")
    response = _submit_step(
        worker, case, "consent", dict(ANSWERS["consent"], consent_interview="refused")
    )
    assert response.status_code == 200
    form = response.context["wizard"]["form"]
    assert "cannot continue" in " ".join(form.errors["consent_interview"])
    assert not Consent.objects.filter(case=case).exists()


@pytest.mark.parametrize(
    ("step", "changes", "field", "message"),
    [
        (
            "recruitment",
            {"recruitment_date": "2026-01-01"},
            "recruitment_date",
            "must not be after",
        ),
        (
            "exploitation",
            {"exploitation_start": "2024-04-01"},
            "exploitation_start",
            "must not be after",
        ),
        (
            "exploitation",
            {"exploitation_end": "2024-05-20"},
            "exploitation_end",
            "must not be after",
        ),
        ("exit", {"exit_date": "2025-04-01"}, "exit_date", "must not be after"),
        ("exit", {"exit_date": "2099-01-01"}, "exit_date", "future"),
        ("profile", {"age_at_interview": "45"}, "age_at_interview", "does not match"),
        ("recruitment", {"age_at_recruitment": "25"}, "age_at_recruitment", "does not match"),
        ("profile", {"age_at_interview": "300"}, "age_at_interview", "less than or equal"),
        ("exploitation", {"hours_per_day": "25"}, "hours_per_day", "less than or equal"),
        ("exploitation", {"means_of_control": []}, "means_of_control", "Answer this question"),
        (
            "exploitation",
            {"means_of_control__missing": "declined"},
            "means_of_control",
            "not both",
        ),
        ("transit", {"route_1": "", "route_2": "DE"}, "route", "without empty boxes"),
        ("profile", {"citizenship": "XX"}, "citizenship", "valid choice"),
        ("recruitment", {"fees_or_debt": "no"}, "debt_amount_usd", "no fees or debt"),
    ],
)
def test_cross_field_rules_refuse_with_a_message_on_the_field(
    worker, case, step, changes, field, message
):
    _start(worker, case)
    for earlier in STEPS[: STEPS.index(step)]:
        _submit_step(worker, case, earlier)
    before = _draft(case).state
    response = _submit_step(worker, case, step, dict(ANSWERS[step], **changes))
    assert response.status_code == 200
    form = response.context["wizard"]["form"]
    assert form.section.key == step
    assert message in " ".join(form.errors.get(field, [])), form.errors
    answers_before = json.loads(before)["extra_data"]["answers"]
    answers_after = json.loads(_draft(case).state)["extra_data"]["answers"]
    assert answers_after == answers_before


def test_rationale_required_when_determination_differs(worker, case):
    _start(worker, case)
    for step in STEPS[:-1]:
        _submit_step(worker, case, step)
    response = _submit_step(worker, case, "assessment", {"determination": "not_victim"})
    assert response.status_code == 200
    assert "differs from the suggestion" in " ".join(
        response.context["wizard"]["form"].errors["rationale"]
    )
    assert not ScreeningVersion.objects.exists()
    ok = _submit_step(
        worker,
        case,
        "assessment",
        {"determination": "not_victim", "rationale": "Left voluntarily; no control found"},
    )
    assert ok.status_code == 302
    assert ScreeningVersion.objects.get().determination == "not_victim"


def test_correction_is_a_new_version_with_reason_and_keeps_the_old(worker, manager, case):
    _fill_all(worker, case)
    manager.post(reverse("screening_review", args=[case.public_id, 1]), {"decision": "confirm"})
    assert worker.post(reverse("screening_correct", args=[case.public_id, 1])).status_code == 302
    _submit_step(worker, case, "profile", dict(ANSWERS["profile"], children="3"))
    missing_reason = _submit_step(worker, case, "assessment")
    assert missing_reason.status_code == 200
    assert "correction_reason" in missing_reason.context["wizard"]["form"].errors
    done = _submit_step(
        worker,
        case,
        "assessment",
        dict(ANSWERS["assessment"], correction_reason="Third child mentioned at follow-up"),
    )
    assert done.status_code == 302
    first, second = case.screenings.order_by("number")
    assert (first.status, first.coded["children"]) == ("superseded", 1)
    assert (second.status, second.coded["children"], second.supersedes) == ("submitted", 3, first)
    assert second.correction_reason == "Third child mentioned at follow-up"


def test_summary_is_printable_and_its_narratives_view_is_audited(worker, case):
    _fill_all(worker, case)
    page = worker.get(reverse("screening_summary", args=[case.public_id, 1]))
    content = page.content.decode()
    assert "Bila Tserkva" in content and "Debt bondage" in content
    assert "Ukraine (UA) → Poland (PL) → Germany (DE)" in content
    assert "window.print()" in content
    assert AuditEvent.objects.filter(action="screening.narratives_viewed", case=case).exists()


def test_french_labels(worker, case):
    _start(worker, case)
    worker.post(reverse("set_language"), {"language": "fr", "next": "/"})
    page = worker.get(reverse("screening_wizard", args=[case.public_id]))
    content = page.content.decode()
    assert "Date de l’entretien" in content
    assert "Enregistrer et continuer" in content


@pytest.mark.parametrize("role", ["other_mission", "researcher", "donor"])
def test_outsiders_get_nothing_on_every_screening_page(worker, case, role):
    _fill_all(worker, case)
    if role == "other_mission":
        user = staff(MissionFactory(code="IT-ROM"), MissionRole.MANAGER)
        expected = 404
    else:
        user = UserFactory(username=role, org_role=role)
        expected = 403
    outsider = Client()
    outsider.force_login(user)
    urls = [
        ("get", reverse("screening_overview", args=[case.public_id])),
        ("get", reverse("screening_wizard", args=[case.public_id])),
        ("get", reverse("screening_summary", args=[case.public_id, 1])),
        ("post", reverse("screening_start", args=[case.public_id])),
        ("post", reverse("screening_correct", args=[case.public_id, 1])),
        ("post", reverse("screening_review", args=[case.public_id, 1])),
    ]
    for method, url in urls:
        response = getattr(outsider, method)(
            url, {"decision": "confirm"} if method == "post" else None
        )
        assert response.status_code == expected, url
        assert "Bila Tserkva" not in response.content.decode()
    assert ScreeningVersion.objects.get(case=case).status == "submitted"


def test_no_second_draft_and_closed_cases_cannot_start(worker, berlin):
    closed = CaseFactory(registering_mission=berlin, status="closed", closure_reason="other")
    response = worker.post(reverse("screening_start", args=[closed.public_id]))
    assert response.status_code == 302
    assert not ScreeningDraft.objects.filter(case=closed).exists()
    assert CaseEvent.objects.filter(case=closed).count() == 0


def test_minor_needs_only_act_and_purpose():
    from screening.rules import assess

    values = {
        "recruitment_method": "family_member",
        "exploitation_types": ["begging"],
        "date_of_birth": date(2010, 1, 1),
        "recruitment_date": date(2024, 1, 1),
    }
    result = assess(values, {"means_of_control": "unknown"})
    assert (result.minor, result.means, result.suggestion) == (True, "unknown", "victim")


def test_answers_are_encrypted_at_rest(worker, case):
    from django.db import connection

    _fill_all(worker, case)
    worker.post(reverse("screening_correct", args=[case.public_id, 1]))  # a draft exists again
    dumped = []
    with connection.cursor() as cursor:
        for table in ("screening_screeningversion", "screening_screeningdraft"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
            dumped.extend(str(value) for row in cursor.fetchall() for value in row)
    text = "\n".join(dumped)
    assert "debt_bondage" in text  # coded answers stay countable
    for secret in ("Bila Tserkva", "Fears the recruiter", "Shelter office", "1994-03-07"):
        assert secret not in text


def test_tampered_wizard_fields_give_400_not_500(worker, case):
    _start(worker, case)
    url = reverse("screening_wizard", args=[case.public_id])
    version = _draft(case).version
    no_step = worker.post(url, {"draft_version": version, "interview-interview_date": "2025-01-01"})
    assert no_step.status_code == 400
    bad_step = worker.post(url, _post_data("nonsense", version, {}))
    assert bad_step.status_code == 400
    stale = worker.post(url, _post_data("interview", "not-a-number"))
    assert stale.status_code == 302


def test_a_draft_belongs_to_the_mission_conducting_the_interview(worker, berlin, case):
    from casework import services as case_services
    from casework.tests.factories import give_consent

    _start(worker, case)
    kyiv = MissionFactory(code="UA-KYV")
    kyiv_manager = staff(kyiv, MissionRole.MANAGER)
    give_consent(case)
    referral = case_services.referral_create(actor=staff(berlin), case=case, to_mission=kyiv)
    case_services.referral_decide(actor=kyiv_manager, referral=referral, accept=True)
    kyiv_client = Client()
    kyiv_client.force_login(kyiv_manager)
    assert kyiv_client.get(reverse("screening_overview", args=[case.public_id])).status_code == 200
    assert kyiv_client.get(reverse("screening_wizard", args=[case.public_id])).status_code == 403
