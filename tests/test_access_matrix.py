"""Every role × own / other / referred mission × every page and action.

Exactly the allowed cells succeed; the others get 403 (the role never has the
permission) or 404 (the case is not theirs, indistinguishable from a missing case), and
no refused response contains any of the person's identifiers or the case number.
"""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from casework import services
from casework.models import (
    AuditEvent,
    Case,
    CaseEvent,
    Consent,
    MissionRole,
    OrgRole,
    Referral,
)
from casework.tests.factories import (
    CaseFactory,
    MissionFactory,
    PersonFactory,
    UserFactory,
    give_consent,
    staff,
)

pytestmark = pytest.mark.django_db

SECRETS = ("Oleksandra", "Bondarchuk", "FX7310442", "1987-11-23")

ACTORS = [
    "own_caseworker",
    "own_manager",
    "referred_caseworker",
    "referred_manager",
    "pending_manager",
    "other_caseworker",
    "other_manager",
    "researcher",
    "donor",
    "dpo",
    "admin",
    "anonymous",
]
CASE_STAFF = {"own_caseworker", "own_manager", "referred_caseworker", "referred_manager"}
MANAGERS = {"own_manager", "referred_manager", "pending_manager", "other_manager"}
MISSION_STAFF = CASE_STAFF | {"pending_manager", "other_caseworker", "other_manager"}

# action -> actors that succeed
ALLOWED = {
    "list": MISSION_STAFF | {"dpo"},
    "list_shows_case": CASE_STAFF | {"dpo"},
    "detail": CASE_STAFF | {"dpo"},
    "edit_get": CASE_STAFF,
    "edit_post": CASE_STAFF,
    "transition": CASE_STAFF,
    "consent_get": CASE_STAFF,
    "consent_post": CASE_STAFF,
    "withdraw_post": CASE_STAFF,
    "refer_post": CASE_STAFF,
    "search_finds_case": CASE_STAFF | {"dpo"},
    "register_get": MISSION_STAFF,
    "inbox": MANAGERS,
    "decide": {"pending_manager"},
    "audit": {"dpo"},
}
# Roles that hold the permission nowhere are refused with 403 before any lookup.
PERMISSION_HOLDERS = {
    "list": MISSION_STAFF | {"dpo"},
    "detail": MISSION_STAFF | {"dpo"},
    "edit_get": MISSION_STAFF,
    "edit_post": MISSION_STAFF,
    "transition": MISSION_STAFF,
    "consent_get": MISSION_STAFF,
    "consent_post": MISSION_STAFF,
    "withdraw_post": MISSION_STAFF,
    "refer_post": MISSION_STAFF,
    "register_get": MISSION_STAFF,
    "inbox": MANAGERS,
    "decide": MANAGERS,
    "audit": {"dpo"},
}


@pytest.fixture
def world():
    own = MissionFactory(code="DE-BER", country="DE")
    referred = MissionFactory(code="UA-KYV", country="UA")
    pending = MissionFactory(code="IT-ROM", country="IT")
    other = MissionFactory(code="PL-WAW", country="PL")
    extra = MissionFactory(code="NP-KTM", country="NP")
    users = {
        "own_caseworker": staff(own),
        "own_manager": staff(own, MissionRole.MANAGER),
        "referred_caseworker": staff(referred),
        "referred_manager": staff(referred, MissionRole.MANAGER),
        "pending_manager": staff(pending, MissionRole.MANAGER),
        "other_caseworker": staff(other),
        "other_manager": staff(other, MissionRole.MANAGER),
        "researcher": UserFactory(username="researcher", org_role=OrgRole.RESEARCHER),
        "donor": UserFactory(username="donor", org_role=OrgRole.DONOR),
        "dpo": UserFactory(username="dpo", org_role=OrgRole.DPO),
        "admin": UserFactory(username="admin", is_staff=True, is_superuser=True),
        "anonymous": None,
    }
    person = PersonFactory(
        given_names=SECRETS[0],
        family_names=SECRETS[1],
        document_number=SECRETS[2],
        date_of_birth=date(1987, 11, 23),
        registered_by=own,
    )
    case = CaseFactory(registering_mission=own, person=person, created_by=users["own_caseworker"])
    give_consent(case, by=users["own_caseworker"])
    accepted = services.referral_create(
        actor=users["own_caseworker"], case=case, to_mission=referred
    )
    services.referral_decide(actor=users["referred_manager"], referral=accepted, accept=True)
    pending_referral = services.referral_create(
        actor=users["own_caseworker"], case=case, to_mission=pending
    )
    case.refresh_from_db()
    return {
        "users": users,
        "case": case,
        "pending_referral": pending_referral,
        "consent": case.consents.get(purpose="sharing"),
        "extra": extra,
        "own": own,
    }


def _client(world, actor):
    client = Client()
    if world["users"][actor] is not None:
        client.force_login(world["users"][actor])
    return client


def _edit_payload(case):
    return {
        "given_names": "Changed",
        "family_names": SECRETS[1],
        "sex": "female",
        "date_of_birth": "1987-11-23",
        "destination_mission": case.destination_mission_id,
        "source_mission": case.source_mission_id or "",
        "country_of_exploitation": "DE",
        "identified_on": "2025-01-10",
        "registered_on": "2025-01-12",
        "document_type": "passport",
        "document_number": SECRETS[2],
        "version": case.version,
    }


def _perform(world, client, action):
    case = world["case"]
    detail = reverse("case_detail", args=[case.public_id])
    if action in ("list", "list_shows_case"):
        return client.get(reverse("case_list"))
    if action == "detail":
        return client.get(detail)
    if action == "edit_get":
        return client.get(reverse("case_edit", args=[case.public_id]))
    if action == "edit_post":
        return client.post(reverse("case_edit", args=[case.public_id]), _edit_payload(case))
    if action == "transition":
        return client.post(
            reverse("case_transition", args=[case.public_id]),
            {"to_status": "under_screening", "version": case.version},
        )
    if action == "consent_get":
        return client.get(reverse("consent_record", args=[case.public_id]))
    if action == "consent_post":
        return client.post(
            reverse("consent_record", args=[case.public_id]),
            {"purpose": "research", "decision": "given", "decided_on": "2025-02-01"},
        )
    if action == "withdraw_post":
        return client.post(
            reverse("consent_withdraw", args=[case.public_id, world["consent"].pk]),
            {"withdrawn_on": date.today().isoformat()},
        )
    if action == "refer_post":
        return client.post(
            reverse("referral_create", args=[case.public_id]), {"to_mission": world["extra"].pk}
        )
    if action == "search_finds_case":
        return client.post(reverse("case_search"), {"name": f"{SECRETS[0]} {SECRETS[1]}"})
    if action == "register_get":
        return client.get(reverse("case_register"))
    if action == "inbox":
        return client.get(reverse("referral_inbox"))
    if action == "decide":
        return client.post(
            reverse("referral_decide", args=[world["pending_referral"].pk]), {"decision": "accept"}
        )
    if action == "audit":
        return client.get(reverse("audit_log"))
    raise AssertionError(action)


def _state():
    case = Case.objects.get()
    return (
        case.version,
        case.status,
        case.person.given_names,
        CaseEvent.objects.count(),
        Consent.objects.filter(withdrawn_on__isnull=False).count(),
        Consent.objects.count(),
        Referral.objects.filter(status="pending").count(),
        Referral.objects.count(),
    )


CELLS = [(actor, action) for action in ALLOWED for actor in ACTORS]


@pytest.mark.parametrize(("actor", "action"), CELLS)
def test_access_matrix(world, actor, action):
    client = _client(world, actor)
    before = _state()
    response = _perform(world, client, action)
    content = response.content.decode()
    allowed = actor in ALLOWED[action]

    if actor == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert _state() == before
        return

    if action in ("list_shows_case", "search_finds_case"):
        holder = action == "list_shows_case" and actor in PERMISSION_HOLDERS["list"]
        holder = holder or (action == "search_finds_case" and actor in PERMISSION_HOLDERS["list"])
        if not holder:
            assert response.status_code == 403
        else:
            assert response.status_code == 200
            assert (world["case"].case_number in content) is allowed
        if not allowed:
            # The search page echoes the name the user typed; nothing else may appear.
            unseen = SECRETS[2:] if action == "search_finds_case" else SECRETS
            assert not any(secret in content for secret in unseen)
        return

    if allowed:
        assert response.status_code in (200, 302), content[:500]
        if response.status_code == 302:
            assert not response["Location"].startswith(reverse("login"))
        if action.endswith("_post") or action in ("transition", "decide"):
            assert _state() != before, "an allowed write changed nothing"
        return

    expected = 404 if actor in PERMISSION_HOLDERS.get(action, set()) else 403
    assert response.status_code == expected
    assert _state() == before
    assert not any(secret in content for secret in SECRETS)
    assert world["case"].case_number not in content


def test_identifier_views_are_audited_and_name_the_dpo(world):
    dpo = _client(world, "dpo")
    dpo.get(reverse("case_detail", args=[world["case"].public_id]))
    event = AuditEvent.objects.filter(action="person.identifiers_viewed").latest("id")
    assert event.actor == world["users"]["dpo"] and event.case == world["case"]
    assert event.detail == {"as": "dpo"}


def test_pending_referral_shows_no_identifier_to_the_receiving_manager(world):
    response = _client(world, "pending_manager").get(reverse("referral_inbox"))
    content = response.content.decode()
    assert world["case"].case_number in content
    assert not any(secret in content for secret in SECRETS)


def test_every_view_declares_its_permission():
    from django.urls import get_resolver

    public = {"login", "logout", "home", "set_language"}
    checked = 0

    def walk(patterns):
        nonlocal checked
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                if getattr(pattern, "app_name", None) != "admin":
                    walk(pattern.url_patterns)
                continue
            if pattern.name in public:
                continue
            callback = pattern.callback
            view_class = getattr(callback, "view_class", None)
            target = view_class.dispatch if view_class else callback
            declared = getattr(target, "required_permission", None) or getattr(
                callback, "required_permission", None
            )
            assert declared, pattern.name
            checked += 1

    walk(get_resolver().url_patterns)
    assert checked > 30
