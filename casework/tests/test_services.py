from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from casework import services
from casework.access import Perm, access_case, cases_with
from casework.models import (
    AuditEvent,
    Case,
    CaseEvent,
    CaseStatus,
    Consent,
    ConsentPurpose,
    MissionRole,
    Person,
    Referral,
)
from casework.services import TRANSITIONS, ConcurrentEditError, PersonData
from casework.tests.factories import CaseFactory, MissionFactory, give_consent, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def berlin():
    return MissionFactory(code="DE-BER", country="DE")


@pytest.fixture
def kyiv():
    return MissionFactory(code="UA-KYV", country="UA")


def _register(actor, mission, **overrides):
    values = dict(
        actor=actor,
        registering_mission=mission,
        destination_mission=mission,
        source_mission=None,
        country_of_exploitation="DE",
        identified_on=date(2025, 2, 1),
        registered_on=date(2025, 2, 3),
        person=PersonData(
            given_names="Олена",
            family_names="Шевченко",
            sex="female",
            date_of_birth=date(1990, 5, 4),
        ),
    )
    values.update(overrides)
    return services.case_register(**values)


def _counts():
    return (
        Person.objects.count(),
        Case.objects.count(),
        CaseEvent.objects.count(),
        AuditEvent.objects.count(),
        Consent.objects.count(),
        Referral.objects.count(),
    )


def test_register_numbers_cases_per_mission_and_year_and_audits(berlin):
    worker = staff(berlin)
    first = _register(worker, berlin)
    second = _register(worker, berlin)
    assert first.case_number == "DE-BER-2025-000001"
    assert second.case_number == "DE-BER-2025-000002"
    assert first.person.birth_year == 1990
    assert list(first.events.values_list("kind", flat=True)) == ["registered"]
    audit = AuditEvent.objects.get(case=first)
    assert audit.action == "case.registered" and audit.actor == worker


def test_register_refuses_a_mission_the_actor_does_not_belong_to(berlin, kyiv):
    worker = staff(berlin)
    before = _counts()
    with pytest.raises(PermissionDenied):
        _register(worker, kyiv)
    assert _counts() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"identified_on": date(2025, 3, 1)}, "identified_on"),
        ({"registered_on": timezone.localdate() + timedelta(days=1)}, "registered_on"),
    ],
)
def test_register_refuses_bad_dates_and_writes_nothing(berlin, overrides, field):
    worker = staff(berlin)
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        _register(worker, berlin, **overrides)
    assert field in refused.value.message_dict
    assert _counts() == before


def test_register_refuses_an_unknown_country_and_writes_nothing(berlin):
    worker = staff(berlin)
    before = _counts()
    with pytest.raises(ValidationError):
        _register(worker, berlin, country_of_exploitation="XX")
    assert _counts() == before


def test_register_refuses_same_source_and_destination(berlin):
    worker = staff(berlin)
    with pytest.raises(ValidationError) as refused:
        _register(worker, berlin, source_mission=berlin)
    assert "source_mission" in refused.value.message_dict
    assert not Case.objects.exists()


def _walk(case, manager, path):
    for status in path:
        case = services.case_transition(
            actor=manager,
            case=case,
            to_status=status,
            expected_version=case.version,
            closure_reason="reintegration_completed" if status == CaseStatus.CLOSED else "",
        )
    return case


ALL_VALID = [(start, target) for start, targets in TRANSITIONS.items() for target in targets]
ALL_INVALID = [
    (start, target)
    for start in CaseStatus.values
    for target in CaseStatus.values
    if target not in TRANSITIONS[start]
]


@pytest.mark.parametrize(("start", "target"), ALL_VALID)
def test_every_valid_transition_works(berlin, start, target):
    manager = staff(berlin, MissionRole.MANAGER)
    case = CaseFactory(registering_mission=berlin, status=start)
    if start == CaseStatus.CLOSED:
        pytest.skip("closed is final")
    moved = services.case_transition(
        actor=manager,
        case=case,
        to_status=target,
        expected_version=case.version,
        closure_reason="lost_contact" if target == CaseStatus.CLOSED else "",
        note="checked",
    )
    case.refresh_from_db()
    assert case.status == target == moved.status
    event = case.events.get(kind=CaseEvent.Kind.STATUS_CHANGED)
    assert (event.from_status, event.to_status, event.actor) == (start, target, manager)
    assert AuditEvent.objects.filter(case=case, action="case.status_changed").count() == 1


@pytest.mark.parametrize(("start", "target"), ALL_INVALID)
def test_every_invalid_transition_is_refused_and_writes_nothing(berlin, start, target):
    manager = staff(berlin, MissionRole.MANAGER)
    case = CaseFactory(
        registering_mission=berlin,
        status=start,
        closure_reason="lost_contact" if start == CaseStatus.CLOSED else "",
    )
    before = _counts()
    with pytest.raises(ValidationError):
        services.case_transition(
            actor=manager,
            case=case,
            to_status=target,
            expected_version=case.version,
            closure_reason="lost_contact" if target == CaseStatus.CLOSED else "",
        )
    case.refresh_from_db()
    assert case.status == start and case.version == 1
    assert _counts() == before


def test_full_lifecycle_in_order(berlin):
    manager = staff(berlin, MissionRole.MANAGER)
    case = _register(manager, berlin)
    path = [
        "under_screening",
        "eligible",
        "assistance",
        "return_in_progress",
        "returned",
        "reintegration",
        "closed",
    ]
    case = _walk(case, manager, path)
    assert case.status == "closed" and case.closure_reason == "reintegration_completed"
    timeline = list(case.events.values_list("to_status", flat=True))
    assert timeline == ["registered", *path]


def test_closing_needs_a_reason(berlin):
    manager = staff(berlin, MissionRole.MANAGER)
    case = CaseFactory(registering_mission=berlin)
    with pytest.raises(ValidationError) as refused:
        services.case_transition(
            actor=manager, case=case, to_status="closed", expected_version=1, closure_reason=""
        )
    assert "closure_reason" in refused.value.message_dict
    case.refresh_from_db()
    assert case.status == "registered"


def test_determinations_and_closure_are_for_managers(berlin):
    worker = staff(berlin)
    case = CaseFactory(registering_mission=berlin, status="under_screening")
    for target in ("eligible", "not_eligible"):
        with pytest.raises(PermissionDenied):
            services.case_transition(
                actor=worker, case=case, to_status=target, expected_version=case.version
            )
    case.refresh_from_db()
    assert case.status == "under_screening"
    assert services.allowed_transitions(case, can_decide=False) == []


def test_stale_transition_is_refused(berlin):
    manager = staff(berlin, MissionRole.MANAGER)
    case = CaseFactory(registering_mission=berlin)
    services.case_transition(
        actor=manager, case=case, to_status="under_screening", expected_version=1
    )
    stale = Case.objects.get(pk=case.pk)
    stale.status, stale.version = "registered", 1
    with pytest.raises(ValidationError):
        services.case_transition(
            actor=manager, case=stale, to_status="under_screening", expected_version=1
        )
    assert Case.objects.get(pk=case.pk).version == 2


def _person(**changes):
    values = dict(given_names="Olena", family_names="Shevchenko", sex="female")
    values.update(changes)
    return PersonData(**values)


def _update(actor, case, version, person):
    return services.case_update(
        actor=actor,
        case=case,
        expected_version=version,
        person=person,
        destination_mission=case.destination_mission,
        source_mission=case.source_mission,
        country_of_exploitation=str(case.country_of_exploitation or ""),
        identified_on=case.identified_on,
        registered_on=case.registered_on,
    )


def test_two_edits_of_the_same_case_the_second_is_refused_the_first_survives(berlin):
    alice, bob = staff(berlin, username="alice"), staff(berlin, username="bob")
    case = CaseFactory(registering_mission=berlin)
    # Both open the edit page at version 1.
    alices_copy = access_case(alice, case.public_id, Perm.CASE_EDIT)
    bobs_copy = access_case(bob, case.public_id, Perm.CASE_EDIT)
    _update(alice, alices_copy, 1, _person(given_names="Alice's correction"))
    with pytest.raises(ConcurrentEditError):
        _update(bob, bobs_copy, 1, _person(given_names="Bob's correction"))
    person = Person.objects.get(pk=case.person_id)
    assert person.given_names == "Alice's correction"
    assert Case.objects.get(pk=case.pk).version == 2
    assert AuditEvent.objects.filter(action="case.updated").count() == 1


def test_update_records_changed_field_names_not_values(berlin):
    worker = staff(berlin)
    case = CaseFactory(registering_mission=berlin)
    person = replace(PersonData.of(case.person), family_names="Kovalenko", phone="+380 44 000")
    _update(worker, case, 1, person)
    audit = AuditEvent.objects.get(action="case.updated")
    assert audit.detail == {"fields": ["person.family_names", "person.phone"]}
    assert "Kovalenko" not in str(audit.detail)
    person = Person.objects.get(pk=case.person_id)
    assert person.family_name_index


def test_consent_withdrawal_keeps_the_decision(berlin):
    worker = staff(berlin)
    case = CaseFactory(registering_mission=berlin)
    consent = services.consent_record(
        actor=worker,
        case=case,
        purpose=ConsentPurpose.RESEARCH,
        decision="given",
        decided_on=date(2025, 2, 1),
    )
    services.consent_withdraw(actor=worker, consent=consent, withdrawn_on=date(2025, 3, 1))
    consent.refresh_from_db()
    assert consent.decision == "given" and consent.withdrawn_on == date(2025, 3, 1)
    assert not services.consent_in_force(case, ConsentPurpose.RESEARCH)
    with pytest.raises(ValidationError):
        services.consent_withdraw(actor=worker, consent=consent, withdrawn_on=date(2025, 3, 2))


def test_consent_refuses_future_and_pre_identification_dates(berlin):
    worker = staff(berlin)
    case = CaseFactory(registering_mission=berlin)
    for day in (timezone.localdate() + timedelta(days=1), date(2024, 1, 1)):
        with pytest.raises(ValidationError):
            services.consent_record(
                actor=worker, case=case, purpose="sharing", decision="given", decided_on=day
            )
    assert not Consent.objects.exists()


def test_referral_requires_sharing_consent(berlin, kyiv):
    worker = staff(berlin)
    case = CaseFactory(registering_mission=berlin)
    with pytest.raises(ValidationError) as refused:
        services.referral_create(actor=worker, case=case, to_mission=kyiv)
    assert refused.value.code == "no_consent"
    assert not Referral.objects.exists()


def test_referral_accept_shares_the_case(berlin, kyiv):
    worker = staff(berlin)
    kyiv_manager = staff(kyiv, MissionRole.MANAGER)
    kyiv_worker = staff(kyiv)
    case = CaseFactory(registering_mission=berlin)
    give_consent(case, by=worker)
    referral = services.referral_create(actor=worker, case=case, to_mission=kyiv, note="return")
    assert case not in cases_with(kyiv_worker, Perm.CASE_VIEW)
    with pytest.raises(ValidationError):
        services.referral_create(actor=worker, case=case, to_mission=kyiv)
    services.referral_decide(actor=kyiv_manager, referral=referral, accept=True)
    assert case in cases_with(kyiv_worker, Perm.CASE_VIEW)
    case.refresh_from_db()
    assert case.source_mission == kyiv
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds[-2:] == ["referred", "referral_accepted"]
    with pytest.raises(ValidationError):
        services.referral_decide(actor=kyiv_manager, referral=referral, accept=False)


def test_referral_can_only_be_decided_by_the_receiving_managers(berlin, kyiv):
    worker = staff(berlin)
    case = CaseFactory(registering_mission=berlin)
    give_consent(case, by=worker)
    referral = services.referral_create(actor=worker, case=case, to_mission=kyiv)
    for outsider in (staff(kyiv), staff(berlin, MissionRole.MANAGER)):
        with pytest.raises(PermissionDenied):
            services.referral_decide(actor=outsider, referral=referral, accept=True)
    referral.refresh_from_db()
    assert referral.status == "pending"


def test_declined_referral_shares_nothing_and_can_be_sent_again(berlin, kyiv):
    worker = staff(berlin)
    kyiv_manager = staff(kyiv, MissionRole.MANAGER)
    case = CaseFactory(registering_mission=berlin)
    give_consent(case, by=worker)
    referral = services.referral_create(actor=worker, case=case, to_mission=kyiv)
    services.referral_decide(actor=kyiv_manager, referral=referral, accept=False, note="no")
    assert case not in cases_with(kyiv_manager, Perm.CASE_VIEW)
    services.referral_create(actor=worker, case=case, to_mission=kyiv)
    assert case.referrals.count() == 2


def test_withdrawn_sharing_consent_blocks_acceptance(berlin, kyiv):
    worker = staff(berlin)
    kyiv_manager = staff(kyiv, MissionRole.MANAGER)
    case = CaseFactory(registering_mission=berlin)
    consent = give_consent(case, by=worker)
    referral = services.referral_create(actor=worker, case=case, to_mission=kyiv)
    services.consent_withdraw(actor=worker, consent=consent, withdrawn_on=timezone.localdate())
    with pytest.raises(ValidationError):
        services.referral_decide(actor=kyiv_manager, referral=referral, accept=True)
    referral.refresh_from_db()
    assert referral.status == "pending"
