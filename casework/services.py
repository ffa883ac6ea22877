"""Every write on people, cases, consents and referrals. Each leaves an audit row."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import blind_index
from casework.access import Perm, case_missions_for, mission_ids_with
from casework.audit import Action, audit_record
from casework.models import (
    Case,
    CaseEvent,
    CaseNumberSequence,
    CaseStatus,
    ClosureReason,
    ClosureRequest,
    Consent,
    ConsentPurpose,
    Mission,
    Person,
    Referral,
    User,
)

S = CaseStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.REGISTERED: frozenset({S.UNDER_SCREENING, S.CLOSED}),
    S.UNDER_SCREENING: frozenset({S.ELIGIBLE, S.NOT_ELIGIBLE, S.CLOSED}),
    S.ELIGIBLE: frozenset({S.ASSISTANCE, S.CLOSED}),
    S.NOT_ELIGIBLE: frozenset({S.CLOSED}),
    S.ASSISTANCE: frozenset({S.RETURN_IN_PROGRESS, S.CLOSED}),
    S.RETURN_IN_PROGRESS: frozenset({S.RETURNED, S.ASSISTANCE, S.CLOSED}),
    S.RETURNED: frozenset({S.REINTEGRATION, S.CLOSED}),
    S.REINTEGRATION: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}
# Determinations and closure are a mission manager's decision.
DECISION_STATUSES = frozenset({S.ELIGIBLE, S.NOT_ELIGIBLE, S.CLOSED})
# Statuses a person may set by hand; the others follow from a workflow (a confirmed
# screening, a planned return, a confirmed arrival, a reintegration plan).
MANUAL_STATUSES = frozenset({S.UNDER_SCREENING, S.ASSISTANCE, S.CLOSED})

PERSON_IDENTIFIER_FIELDS = (
    "given_names",
    "family_names",
    "other_names",
    "date_of_birth",
    "place_of_birth",
    "document_type",
    "document_number",
    "phone",
    "address",
    "notes",
)
PERSON_ATTRIBUTE_FIELDS = (
    "sex",
    "citizenship",
    "birth_year",
    "birth_year_estimated",
    "preferred_language",
)
PERSON_FIELDS = PERSON_IDENTIFIER_FIELDS + PERSON_ATTRIBUTE_FIELDS
CASE_EDITABLE_FIELDS = (
    "destination_mission",
    "source_mission",
    "country_of_exploitation",
    "identified_on",
    "registered_on",
)


class ConcurrentEditError(ValidationError):
    """The case changed since the user opened it; their save would overwrite someone's work."""

    def __init__(self):
        super().__init__(
            _(
                "Someone else changed this case while you were editing it. Nothing was "
                "saved. Reload the case to see their changes, then make yours again."
            ),
            code="stale",
        )


@dataclass(frozen=True)
class PersonData:
    given_names: str
    family_names: str
    sex: str
    other_names: str = ""
    date_of_birth: date | None = None
    place_of_birth: str = ""
    document_type: str = ""
    document_number: str = ""
    phone: str = ""
    address: str = ""
    notes: str = ""
    citizenship: str = ""
    birth_year: int | None = None
    birth_year_estimated: bool = False
    preferred_language: str = ""

    @classmethod
    def of(cls, person: Person) -> "PersonData":
        """Return the person's current data, e.g. to change one field of it."""
        values = {field: getattr(person, field) for field in PERSON_FIELDS}
        values["citizenship"] = str(person.citizenship or "")
        return cls(**values)


def acting_mission(actor: User, case: Case, perm: Perm) -> int | None:
    """The lowest-numbered of the actor's missions taking part in the case with the permission."""
    missions = case_missions_for(actor, case, perm)
    return min(missions) if missions else None


def _apply_person(person: Person, data: PersonData) -> list[str]:
    """Copy the data onto the person, refresh derived fields; return the changed field names."""
    changed = []
    for field in PERSON_FIELDS:
        value = getattr(data, field)
        if getattr(person, field) != value:
            setattr(person, field, value)
            changed.append(field)
    if person.date_of_birth:
        person.birth_year = person.date_of_birth.year
        person.birth_year_estimated = False
    person.name_index = blind_index.name_index(person.given_names, person.family_names)
    person.family_name_index = blind_index.family_name_index(person.family_names)
    person.date_of_birth_index = blind_index.date_of_birth_index(person.date_of_birth)
    person.full_clean(exclude=["registered_by"])
    return changed


def _next_case_number(mission: Mission, year: int) -> str:
    sequence, _created = CaseNumberSequence.objects.select_for_update().get_or_create(
        mission=mission, year=year
    )
    CaseNumberSequence.objects.filter(pk=sequence.pk).update(last_value=F("last_value") + 1)
    sequence.refresh_from_db(fields=["last_value"])
    return f"{mission.code}-{year}-{sequence.last_value:06d}"


def _validate_case_dates(identified_on: date, registered_on: date) -> None:
    today = timezone.localdate()
    errors = {}
    if identified_on > today:
        errors["identified_on"] = _("The identification date cannot be in the future.")
    if registered_on > today:
        errors["registered_on"] = _("The registration date cannot be in the future.")
    if identified_on > registered_on and "identified_on" not in errors:
        errors["identified_on"] = _(
            "A person is identified before, or on, the day of registration."
        )
    if errors:
        raise ValidationError(errors)


def _validate_missions(destination: Mission, source: Mission | None) -> None:
    if source is not None and source.pk == destination.pk:
        raise ValidationError(
            {"source_mission": _("The source mission must differ from the destination mission.")}
        )


@transaction.atomic
def case_register(
    *,
    actor: User,
    registering_mission: Mission,
    destination_mission: Mission,
    source_mission: Mission | None,
    country_of_exploitation: str,
    identified_on: date,
    registered_on: date,
    person: PersonData,
) -> Case:
    """Register a person and their case in the actor's mission."""
    if registering_mission.pk not in mission_ids_with(actor, Perm.CASE_REGISTER):
        raise PermissionDenied
    _validate_case_dates(identified_on, registered_on)
    _validate_missions(destination_mission, source_mission)
    new_person = Person(registered_by=registering_mission)
    _apply_person(new_person, person)
    new_person.save()
    _person_saved(new_person)
    case = Case(
        case_number=_next_case_number(registering_mission, registered_on.year),
        person=new_person,
        registering_mission=registering_mission,
        destination_mission=destination_mission,
        source_mission=source_mission,
        country_of_exploitation=country_of_exploitation,
        identified_on=identified_on,
        registered_on=registered_on,
        created_by=actor,
    )
    case.full_clean(exclude=["person", "created_by", "case_number"])
    case.save()
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        mission=registering_mission,
        kind=CaseEvent.Kind.REGISTERED,
        to_status=case.status,
    )
    audit_record(
        action=Action.CASE_REGISTERED, actor=actor, case=case, mission=registering_mission, obj=case
    )
    return case


def _claim_version(case: Case, expected_version: int) -> None:
    """Bump the case's version if it is still the one the user saw, else refuse."""
    claimed = Case.objects.filter(pk=case.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    if not claimed:
        raise ConcurrentEditError()
    case.version = expected_version + 1


@transaction.atomic
def case_update(
    *,
    actor: User,
    case: Case,
    expected_version: int,
    person: PersonData,
    destination_mission: Mission,
    source_mission: Mission | None,
    country_of_exploitation: str,
    identified_on: date,
    registered_on: date,
) -> Case:
    """Change a case's details and its person's data, refusing a stale edit."""
    _claim_version(case, expected_version)
    _validate_case_dates(identified_on, registered_on)
    _validate_missions(destination_mission, source_mission)
    changed = [f"person.{name}" for name in _apply_person(case.person, person)]
    case_values = {
        "destination_mission": destination_mission,
        "source_mission": source_mission,
        "country_of_exploitation": country_of_exploitation,
        "identified_on": identified_on,
        "registered_on": registered_on,
    }
    for field, value in case_values.items():
        if getattr(case, field) != value:
            setattr(case, field, value)
            changed.append(field)
    if not changed:
        transaction.set_rollback(True)
        case.version = expected_version
        return case
    case.person.save()
    if any(name.startswith("person.") for name in changed):
        _person_saved(case.person)
    case.full_clean(exclude=["person", "created_by", "case_number"])
    case.save(update_fields=[*CASE_EDITABLE_FIELDS, "updated_at"])
    mission = acting_mission(actor, case, Perm.CASE_EDIT)
    CaseEvent.objects.create(
        case=case, actor=actor, mission_id=mission, kind=CaseEvent.Kind.UPDATED
    )
    audit_record(
        action=Action.CASE_UPDATED,
        actor=actor,
        case=case,
        mission=mission,
        obj=case,
        detail={"fields": sorted(changed)},
    )
    return case


def allowed_transitions(case: Case, *, can_decide: bool) -> list[str]:
    """Statuses offered on the case page's status form."""
    targets = TRANSITIONS[case.status] & MANUAL_STATUSES
    if not can_decide:
        targets = targets - DECISION_STATUSES
    return [s for s in S.values if s in targets]


@transaction.atomic
def case_transition(
    *,
    actor: User,
    case: Case,
    to_status: str,
    expected_version: int,
    note: str = "",
    closure_reason: str = "",
) -> Case:
    """Move a case along its lifecycle; an invalid move is refused and writes nothing."""
    if to_status not in TRANSITIONS.get(case.status, ()):
        raise ValidationError(
            {
                "to_status": _("A case cannot move from “%(from)s” to “%(to)s”.")
                % {"from": case.get_status_display(), "to": to_status}
            }
        )
    if to_status in DECISION_STATUSES and not case_missions_for(actor, case, Perm.CASE_DECIDE):
        raise PermissionDenied
    if to_status == S.CLOSED and closure_reason not in ClosureReason.values:
        raise ValidationError({"closure_reason": _("Choose why the case is closed.")})
    if to_status != S.CLOSED and closure_reason:
        raise ValidationError({"closure_reason": _("Only a closed case has a closure reason.")})
    _claim_version(case, expected_version)
    from_status = case.status
    case.status = to_status
    case.closure_reason = closure_reason
    case.save(update_fields=["status", "closure_reason", "updated_at"])
    if to_status == S.CLOSED:
        for callback in _ON_CLOSE:
            callback(case)
    mission = acting_mission(actor, case, Perm.CASE_TRANSITION)
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        mission_id=mission,
        kind=CaseEvent.Kind.STATUS_CHANGED,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    audit_record(
        action=Action.CASE_STATUS_CHANGED,
        actor=actor,
        case=case,
        mission=mission,
        obj=case,
        detail={"from": from_status, "to": to_status, "closure_reason": closure_reason},
    )
    return case


@transaction.atomic
def consent_record(
    *, actor: User, case: Case, purpose: str, decision: str, decided_on: date
) -> Consent:
    """Record a person's decision on one purpose of the case."""
    if decided_on > timezone.localdate():
        raise ValidationError(
            {"decided_on": _("The date of the decision cannot be in the future.")}
        )
    if decided_on < case.identified_on:
        raise ValidationError(
            {"decided_on": _("The decision cannot predate the person's identification.")}
        )
    consent = Consent(
        case=case, purpose=purpose, decision=decision, decided_on=decided_on, recorded_by=actor
    )
    consent.full_clean(exclude=["case", "recorded_by"])
    consent.save()
    mission = acting_mission(actor, case, Perm.CONSENT_RECORD)
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        mission_id=mission,
        kind=CaseEvent.Kind.CONSENT_RECORDED,
        note=f"{consent.get_purpose_display()}: {consent.get_decision_display()}",
    )
    audit_record(
        action=Action.CONSENT_RECORDED,
        actor=actor,
        case=case,
        mission=mission,
        obj=consent,
        detail={"purpose": purpose, "decision": decision},
    )
    return consent


@transaction.atomic
def consent_withdraw(*, actor: User, consent: Consent, withdrawn_on: date) -> Consent:
    """Record that a given consent has been withdrawn; the original decision is kept."""
    consent = Consent.objects.select_for_update().select_related("case").get(pk=consent.pk)
    if not consent.is_in_force:
        raise ValidationError(_("Only a consent that is in force can be withdrawn."))
    if withdrawn_on > timezone.localdate() or withdrawn_on < consent.decided_on:
        raise ValidationError(
            {"withdrawn_on": _("The withdrawal date must lie between the consent and today.")}
        )
    consent.withdrawn_on = withdrawn_on
    consent.withdrawn_by = actor
    consent.save(update_fields=["withdrawn_on", "withdrawn_by"])
    case = consent.case
    mission = acting_mission(actor, case, Perm.CONSENT_RECORD)
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        mission_id=mission,
        kind=CaseEvent.Kind.CONSENT_WITHDRAWN,
        note=consent.get_purpose_display(),
    )
    audit_record(
        action=Action.CONSENT_WITHDRAWN,
        actor=actor,
        case=case,
        mission=mission,
        obj=consent,
        detail={"purpose": consent.purpose},
    )
    return consent


def consent_in_force(case: Case, purpose: str) -> bool:
    """Whether the person's latest decision on the purpose is a consent not withdrawn."""
    latest = case.consents.filter(purpose=purpose).order_by("-decided_on", "-id").first()
    return latest is not None and latest.is_in_force


@transaction.atomic
def referral_create(*, actor: User, case: Case, to_mission: Mission, note: str = "") -> Referral:
    """Refer the case to another mission; needs the person's consent to sharing."""
    from_mission = acting_mission(actor, case, Perm.REFERRAL_CREATE)
    if from_mission is None:
        raise PermissionDenied
    if case.status == S.CLOSED:
        raise ValidationError(_("A closed case is not referred."))
    if not consent_in_force(case, ConsentPurpose.SHARING):
        raise ValidationError(
            _(
                "The person has not consented to sharing their case with another mission. "
                "Record their consent first."
            ),
            code="no_consent",
        )
    involved = {case.registering_mission_id, case.destination_mission_id}
    if to_mission.pk in involved:
        raise ValidationError({"to_mission": _("This mission already works on the case.")})
    if not to_mission.is_active:
        raise ValidationError({"to_mission": _("This mission is closed.")})
    referral = Referral(
        case=case,
        from_mission_id=from_mission,
        to_mission=to_mission,
        note=note,
        requested_by=actor,
    )
    try:
        with transaction.atomic():
            referral.save()
    except IntegrityError as duplicate:
        raise ValidationError(
            {"to_mission": _("The case is already referred to this mission.")}
        ) from duplicate
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        mission_id=from_mission,
        kind=CaseEvent.Kind.REFERRED,
        note=str(to_mission.code),
    )
    audit_record(
        action=Action.REFERRAL_CREATED,
        actor=actor,
        case=case,
        mission=from_mission,
        obj=referral,
        detail={"to_mission": to_mission.code},
    )
    return referral


@transaction.atomic
def referral_decide(*, actor: User, referral: Referral, accept: bool, note: str = "") -> Referral:
    """Accept or decline a pending referral on behalf of the receiving mission."""
    referral = Referral.objects.select_for_update().select_related("case").get(pk=referral.pk)
    if referral.to_mission_id not in mission_ids_with(actor, Perm.REFERRAL_DECIDE):
        raise PermissionDenied
    if referral.status != Referral.Status.PENDING:
        raise ValidationError(_("This referral has already been decided."), code="decided")
    if accept and not consent_in_force(referral.case, ConsentPurpose.SHARING):
        raise ValidationError(
            _(
                "The person has withdrawn their consent to sharing; "
                "the referral cannot be accepted."
            ),
            code="no_consent",
        )
    referral.status = Referral.Status.ACCEPTED if accept else Referral.Status.DECLINED
    referral.decided_by = actor
    referral.decided_at = timezone.now()
    referral.decision_note = note
    referral.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    case = referral.case
    if (
        accept
        and case.source_mission_id is None
        and case.destination_mission_id != referral.to_mission_id
    ):
        Case.objects.filter(pk=case.pk).update(source_mission_id=referral.to_mission_id)
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        mission_id=referral.to_mission_id,
        kind=CaseEvent.Kind.REFERRAL_ACCEPTED if accept else CaseEvent.Kind.REFERRAL_DECLINED,
        note=note,
    )
    audit_record(
        action=Action.REFERRAL_ACCEPTED if accept else Action.REFERRAL_DECLINED,
        actor=actor,
        case=case,
        mission=referral.to_mission_id,
        obj=referral,
    )
    return referral


# Other apps wind down their part of a case when it closes (e.g. scheduled visits).
_ON_CLOSE: list = []
# ... and look at a person whose identifiers were saved (deduplication).
_ON_PERSON_SAVED: list = []


def register_on_person_saved(callback) -> None:
    """Register `callback(person)`, called inside the transaction that saved a person."""
    if callback not in _ON_PERSON_SAVED:
        _ON_PERSON_SAVED.append(callback)


def _person_saved(person: Person) -> None:
    for callback in _ON_PERSON_SAVED:
        callback(person)


def register_on_close(callback) -> None:
    """Register `callback(case)`, called inside the transaction that closes a case."""
    if callback not in _ON_CLOSE:
        _ON_CLOSE.append(callback)


@transaction.atomic
def closure_request(*, actor: User, case: Case, reason: str, note: str = "") -> ClosureRequest:
    """Ask the mission manager to close the case for a reason."""
    mission = acting_mission(actor, case, Perm.CASE_TRANSITION)
    if mission is None:
        raise PermissionDenied
    if case.status == S.CLOSED:
        raise ValidationError(_("The case is already closed."))
    if reason not in ClosureReason.values:
        raise ValidationError({"reason": _("Choose why the case should be closed.")})
    if case.closure_requests.filter(status=ClosureRequest.Status.PENDING).exists():
        raise ValidationError(_("A closure request is already awaiting the manager's approval."))
    request = ClosureRequest.objects.create(case=case, reason=reason, note=note, requested_by=actor)
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        mission_id=mission,
        kind=CaseEvent.Kind.CLOSURE_REQUESTED,
        note=request.get_reason_display(),
    )
    audit_record(
        action=Action.CLOSURE_REQUESTED,
        actor=actor,
        case=case,
        mission=mission,
        obj=request,
        detail={"reason": reason},
    )
    return request


@transaction.atomic
def closure_decide(
    *, actor: User, request: ClosureRequest, approve: bool, note: str = ""
) -> ClosureRequest:
    """A mission manager approves (closing the case) or rejects a closure request."""
    request = ClosureRequest.objects.select_for_update().select_related("case").get(pk=request.pk)
    case = request.case
    if not case_missions_for(actor, case, Perm.CASE_DECIDE):
        raise PermissionDenied
    if request.status != ClosureRequest.Status.PENDING:
        raise ValidationError(_("This closure request has already been decided."))
    if approve:
        case_transition(
            actor=actor,
            case=case,
            to_status=S.CLOSED,
            expected_version=case.version,
            closure_reason=request.reason,
            note=note or request.note,
        )
    request.status = ClosureRequest.Status.APPROVED if approve else ClosureRequest.Status.REJECTED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if not approve:
        CaseEvent.objects.create(
            case=case,
            actor=actor,
            mission_id=acting_mission(actor, case, Perm.CASE_DECIDE),
            kind=CaseEvent.Kind.CLOSURE_REJECTED,
            note=note,
        )
    audit_record(
        action=Action.CLOSURE_APPROVED if approve else Action.CLOSURE_REJECTED,
        actor=actor,
        case=case,
        obj=request,
        detail={"reason": request.reason},
    )
    return request
