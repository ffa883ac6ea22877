from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework.models import AuditEvent, Case, CaseEvent, MissionRole, Person
from casework.tests.factories import CaseFactory, MissionFactory, UserFactory, staff

pytestmark = pytest.mark.django_db

TOMORROW = (timezone.localdate() + timedelta(days=1)).isoformat()


@pytest.fixture
def berlin():
    return MissionFactory(code="DE-BER", country="DE")


@pytest.fixture
def worker(berlin):
    return staff(berlin)


@pytest.fixture
def client_of(worker):
    client = Client()
    client.force_login(worker)
    return client


def _registration(berlin, **changes):
    data = {
        "registering_mission": berlin.pk,
        "destination_mission": berlin.pk,
        "source_mission": "",
        "country_of_exploitation": "DE",
        "identified_on": "2025-03-01",
        "registered_on": "2025-03-02",
        "given_names": "Ірина",
        "family_names": "Коваленко",
        "sex": "female",
        "date_of_birth": "1999-04-30",
        "citizenship": "UA",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _written():
    return (Person.objects.count(), Case.objects.count(), CaseEvent.objects.count())


def test_register_creates_the_case_and_shows_it(client_of, berlin):
    response = client_of.post(reverse("case_register"), _registration(berlin))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == reverse("case_detail", args=[case.public_id])
    page = client_of.get(response["Location"]).content.decode()
    assert "Ірина Коваленко" in page and case.case_number in page
    assert "Registered" in page


BAD_REGISTRATIONS = [
    ({"identified_on": TOMORROW}, "identified_on", "future"),
    ({"registered_on": TOMORROW}, "registered_on", "future"),
    ({"date_of_birth": TOMORROW}, "date_of_birth", "future"),
    ({"date_of_birth": "1890-01-01"}, "date_of_birth", "1900"),
    ({"date_of_birth": "2001-02-30"}, "date_of_birth", "valid date"),
    ({"identified_on": "2025-03-05"}, "identified_on", "before, or on"),
    ({"country_of_exploitation": "XX"}, "country_of_exploitation", "valid choice"),
    ({"citizenship": "ZZ"}, "citizenship", "valid choice"),
    ({"given_names": "x" * 151}, "given_names", "at most 150"),
    ({"notes": "x" * 5001}, "notes", "at most 5000"),
    ({"family_names": ""}, "family_names", "required"),
    ({"sex": None}, "sex", "required"),
    ({"sex": "robot"}, "sex", "valid choice"),
    ({"estimated_age": "-3"}, "estimated_age", "greater than or equal"),
    ({"estimated_age": "40"}, "estimated_age", "does not match"),
    ({"document_number": "X123"}, "document_type", "which document"),
    ({"source_mission": "__same__"}, "source_mission", "must differ"),
    ({"destination_mission": "999999"}, "destination_mission", "valid choice"),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_REGISTRATIONS)
def test_bad_registration_is_refused_beside_the_field_and_writes_nothing(
    client_of, berlin, changes, field, message
):
    if changes.get("source_mission") == "__same__":
        changes = {"source_mission": berlin.pk}
    before = _written()
    response = client_of.post(reverse("case_register"), _registration(berlin, **changes))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert _written() == before


def test_tampered_registering_mission_is_refused(client_of, berlin):
    elsewhere = MissionFactory(code="IT-ROM")
    before = _written()
    response = client_of.post(
        reverse("case_register"), _registration(berlin, registering_mission=elsewhere.pk)
    )
    assert response.status_code == 400
    assert "registering_mission" in response.context["form"].errors
    assert _written() == before


def _edit_data(case, **changes):
    data = {
        "given_names": "Iryna",
        "family_names": "Kovalenko",
        "sex": "female",
        "destination_mission": case.destination_mission_id,
        "country_of_exploitation": "DE",
        "identified_on": case.identified_on.isoformat(),
        "registered_on": case.registered_on.isoformat(),
        "version": case.version,
    }
    data.update(changes)
    return data


def test_second_of_two_concurrent_edits_is_refused_with_a_clear_message(berlin, worker):
    case = CaseFactory(registering_mission=berlin)
    other = staff(berlin, username="second.worker")
    first, second = Client(), Client()
    first.force_login(worker)
    second.force_login(other)
    url = reverse("case_edit", args=[case.public_id])
    # Both opened the form at version 1.
    assert first.get(url).context["form"]["version"].value() == 1
    assert second.get(url).context["form"]["version"].value() == 1
    assert first.post(url, _edit_data(case, given_names="First")).status_code == 302
    refused = second.post(url, _edit_data(case, given_names="Second"))
    assert refused.status_code == 400
    assert "Someone else changed this case" in refused.content.decode()
    assert Person.objects.get(pk=case.person_id).given_names == "First"


@pytest.mark.parametrize("version", ["0", "abc", "", "99"])
def test_tampered_version_is_refused(client_of, berlin, version):
    case = CaseFactory(registering_mission=berlin)
    response = client_of.post(
        reverse("case_edit", args=[case.public_id]), _edit_data(case, version=version)
    )
    assert response.status_code == 400
    assert Person.objects.get(pk=case.person_id).given_names == case.person.given_names


def test_tampered_status_choice_is_refused(client_of, berlin):
    case = CaseFactory(registering_mission=berlin)
    for target in ("closed", "eligible", "returned", "nonsense"):
        response = client_of.post(
            reverse("case_transition", args=[case.public_id]),
            {"to_status": target, "closure_reason": "other", "version": 1},
        )
        assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == "registered" and case.version == 1


def test_malformed_ids_give_404_not_500(client_of):
    assert client_of.get("/cases/not-a-uuid/").status_code == 404
    assert client_of.get("/cases/00000000-0000-4000-8000-000000000000/").status_code == 404
    assert client_of.post("/referrals/99999999999999999999/decide/").status_code in (403, 404)


def test_case_list_filters_and_query_count_does_not_grow_with_page_size(
    client_of, berlin, settings
):
    for status in ("registered", "closed"):
        for _ in range(30):
            CaseFactory(
                registering_mission=berlin,
                status=status,
                closure_reason="other" if status == "closed" else "",
            )
    url = reverse("case_list") + "?status=closed"
    counts = {}
    for size in (5, 25):
        settings.CASE_LIST_PAGE_SIZE = size
        with CaptureQueriesContext(__import__("django.db").db.connection) as queries:
            response = client_of.get(url)
        counts[size] = len(queries)
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == size
        assert all(c.status == "closed" for c in response.context["page"].object_list)
    assert counts[5] == counts[25]
    bad = client_of.get(
        reverse("case_list") + "?registered_from=2025-05-01&registered_to=2025-01-01"
    )
    assert bad.status_code == 200 and "before its start" in bad.content.decode()


def test_identifier_search_is_posted_and_audited_without_the_terms(client_of, berlin):
    case = CaseFactory(registering_mission=berlin)
    assert client_of.get(reverse("case_search")).status_code == 405
    response = client_of.post(
        reverse("case_search"), {"name": f"{case.person.given_names} {case.person.family_names}"}
    )
    assert case.case_number in response.content.decode()
    event = AuditEvent.objects.get(action="person.identifier_search")
    assert case.person.family_names not in str(event.detail)
    assert event.detail["results"] == 1
    empty = client_of.post(reverse("case_search"), {"name": " "})
    assert empty.status_code == 400 and "Enter a name" in empty.content.decode()


def test_login_success_failure_and_logout_are_audited():
    UserFactory(username="amina")
    client = Client()
    bad = client.post(reverse("login"), {"username": "amina", "password": "wrong"})
    assert bad.status_code == 400 and "not correct" in bad.content.decode()
    good = client.post(
        reverse("login"), {"username": "amina", "password": "Correct-horse-battery-9"}
    )
    assert good.status_code == 302
    client.post(reverse("logout"))
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["auth.login_failed", "auth.login", "auth.logout"]
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor is None and failed.subject_key and "amina" not in failed.subject_key


def test_login_is_blocked_after_repeated_failures_even_with_the_right_password(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    UserFactory(username="amina")
    client = Client()
    for _ in range(3):
        client.post(reverse("login"), {"username": "Amina ", "password": "guess"})
    blocked = client.post(
        reverse("login"), {"username": "amina", "password": "Correct-horse-battery-9"}
    )
    assert blocked.status_code == 400 and "Too many failed attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.login_refused").count() == 1


def test_login_redirect_refuses_other_hosts():
    UserFactory(username="amina")
    response = Client().post(
        reverse("login") + "?next=x",
        {
            "username": "amina",
            "password": "Correct-horse-battery-9",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == reverse("home")


def test_weak_passwords_are_rejected():
    for weak in ("password123", "12345678901234", "short1!"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("Tide-lantern-orchard-47")


def test_sessions_expire_when_idle(settings):
    assert settings.SESSION_COOKIE_AGE <= 3600
    assert settings.SESSION_SAVE_EVERY_REQUEST


def test_audit_log_cannot_be_changed_or_deleted_even_with_sql(berlin, worker):
    event = AuditEvent.objects.create(action="case.viewed", actor=worker)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "case.viewed"


def test_dpo_filters_the_audit_log(berlin, worker):
    dpo = UserFactory(username="dpo.officer", org_role="dpo")
    case = CaseFactory(registering_mission=berlin)
    AuditEvent.objects.create(action="case.viewed", actor=worker, case=case, mission=berlin)
    AuditEvent.objects.create(action="auth.login", actor=dpo)
    client = Client()
    client.force_login(dpo)
    page = client.get(reverse("audit_log"), {"case_number": case.case_number})
    events = list(page.context["page"].object_list)
    assert [e.action for e in events] == ["case.viewed"]
    by_user = client.get(reverse("audit_log"), {"actor": worker.username})
    assert {e.actor for e in by_user.context["page"].object_list} == {worker}


def test_admin_is_for_administrators_only(berlin):
    manager = staff(berlin, MissionRole.MANAGER)
    manager.is_staff = True
    manager.save()
    client = Client()
    client.force_login(manager)
    assert client.get("/admin/").status_code == 302
    admin = UserFactory(username="root.admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/casework/mission/").status_code == 200
    assert client.get("/admin/casework/auditevent/").status_code == 200
    assert client.get("/admin/casework/auditevent/add/").status_code == 403


def test_saving_unchanged_keeps_an_estimated_birth_year(client_of, berlin):
    registered = timezone.localdate() - timedelta(days=800)
    case = CaseFactory(
        registering_mission=berlin,
        identified_on=registered - timedelta(days=2),
        registered_on=registered,
    )
    Person.objects.filter(pk=case.person_id).update(birth_year=1990, birth_year_estimated=True)
    case.person.refresh_from_db()
    url = reverse("case_edit", args=[case.public_id])
    for _ in range(2):
        form = client_of.get(url).context["form"]
        data = {name: form[name].value() for name in form.fields}
        data = {k: ("" if v is None else v) for k, v in data.items()}
        data["date_of_birth"] = ""
        assert client_of.post(url, data).status_code == 302
    person = Person.objects.get(pk=case.person_id)
    assert (person.birth_year, person.birth_year_estimated) == (1990, True)
