"""Every write of assistance, return and reintegration. Each leaves an event and an audit row."""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from assistance.models import (
    AssistanceDraft,
    AssistanceVersion,
    FollowUpVisit,
    ReintegrationPlan,
    ReturnMovement,
    ServiceRecord,
)
from assistance.questionnaire import PREFILLED_FROM_SCREENING, QUESTIONNAIRE
from casework.access import Perm, acts_for
from casework.audit import Action, audit_record
from casework.models import Case, CaseEvent, CaseStatus, Mission, Referral, User
from casework.services import ConcurrentEditError, acting_mission, case_transition
from interviews.questionnaire import Answers
from interviews.services import (
    DraftConflict,
    correction_draft_open,
    stored_answers,
    wizard_state,
)

S = CaseStatus
ASSISTED = {S.ELIGIBLE, S.ASSISTANCE, S.RETURN_IN_PROGRESS, S.RETURNED, S.REINTEGRATION}
DEFAULT_FOLLOW_UP_MONTHS = (3, 6, 12)
# A planned return whose arrival is not confirmed this many days after departure is overdue.
RETURN_CONFIRMATION_GRACE_DAYS = 3


def _event(actor: User, case: Case, mission: int | None, kind: str, note: str = "") -> None:
    CaseEvent.objects.create(case=case, actor=actor, mission_id=mission, kind=kind, note=note)


def _mission_for(actor: User, case: Case, perm: Perm = Perm.CASE_EDIT) -> int:
    mission = acting_mission(actor, case, perm)
    if mission is None:
        raise PermissionDenied
    return mission


def _ensure_assisted(actor: User, case: Case) -> Case:
    """Assistance begins with the first service or interview of an eligible case."""
    if case.status not in ASSISTED:
        raise ValidationError(
            _("Assistance is recorded for eligible cases; this one is “%(status)s”.")
            % {"status": case.get_status_display()}
        )
    if case.status == S.ELIGIBLE:
        case = case_transition(
            actor=actor,
            case=case,
            to_status=S.ASSISTANCE,
            expected_version=case.version,
            note=_("Assistance started."),
        )
    return case


# The Assistance Interview Form -------------------------------------------------------


def _screening_answers(case: Case) -> Answers | None:
    from screening.questionnaire import QUESTIONNAIRE as SCREENING
    from screening.services import current_version

    version = current_version(case)
    return stored_answers(SCREENING, version) if version else None


def _prefill(case: Case) -> Answers:
    answers = Answers(QUESTIONNAIRE)
    screening = _screening_answers(case)
    if screening is not None:
        for key, source in PREFILLED_FROM_SCREENING.items():
            answers.set(key, screening.value(source))
            if source in screening.missing:
                answers.missing[key] = screening.missing[source]
    return answers


def screening_corrections(case: Case, answers: Answers) -> dict:
    """Pre-filled answers that the caseworker changed: {question: {"from": old, "to": new}}."""
    screening = _screening_answers(case)
    if screening is None:
        return {}
    corrections = {}
    for key, source in PREFILLED_FROM_SCREENING.items():
        before = screening.coded.get(source, screening.missing.get(source))
        after = answers.coded.get(key, answers.missing.get(key))
        if before is not None and before != after:
            corrections[key] = {"from": before, "to": after}
    return corrections


@transaction.atomic
def assistance_interview_start(*, actor: User, case: Case) -> AssistanceDraft:
    case = Case.objects.select_for_update().get(pk=case.pk)
    existing = AssistanceDraft.objects.filter(case=case).first()
    if existing:
        return existing
    if case.assistance_interviews.exists():
        raise ValidationError(
            _("This case already has an assistance interview; correct it instead.")
        )
    mission = _mission_for(actor, case)
    case = _ensure_assisted(actor, case)
    draft = AssistanceDraft.objects.create(
        case=case,
        mission_id=mission,
        state=wizard_state(_prefill(case)),
        started_by=actor,
        updated_by=actor,
    )
    audit_record(
        action=Action.ASSISTANCE_STARTED, actor=actor, case=case, mission=mission, obj=draft
    )
    return draft


@transaction.atomic
def assistance_interview_submit(
    *,
    actor: User,
    draft: AssistanceDraft,
    expected_version: int,
    answers: Answers,
    correction_reason: str = "",
) -> AssistanceVersion:
    draft = AssistanceDraft.objects.select_for_update().select_related("case").get(pk=draft.pk)
    if draft.version != expected_version:
        raise DraftConflict()
    if draft.corrects_id and not correction_reason.strip():
        raise ValidationError({"correction_reason": _("Say why the form is being corrected.")})
    case = draft.case
    previous = case.assistance_interviews.order_by("-number").first()
    version = AssistanceVersion.objects.create(
        case=case,
        number=previous.number + 1 if previous else 1,
        mission_id=draft.mission_id,
        coded=answers.coded,
        missing=answers.missing,
        private=json.dumps(answers.private, ensure_ascii=False),
        interviewer=actor,
        supersedes=previous,
        correction_reason=correction_reason,
        screening_corrections=screening_corrections(case, answers),
    )
    draft.delete()
    _event(actor, case, version.mission_id, CaseEvent.Kind.ASSISTANCE_SUBMITTED)
    audit_record(
        action=Action.ASSISTANCE_SUBMITTED,
        actor=actor,
        case=case,
        mission=version.mission_id,
        obj=version,
        detail={
            "version": version.number,
            "corrected_from_screening": sorted(version.screening_corrections),
        },
    )
    return version


@transaction.atomic
def assistance_interview_correct(*, actor: User, version: AssistanceVersion) -> AssistanceDraft:
    case = version.case
    latest = case.assistance_interviews.order_by("-number").first()
    if latest.pk != version.pk:
        raise ValidationError(_("Only the latest version can be corrected."))
    return correction_draft_open(
        actor=actor,
        version=version,
        draft_model=AssistanceDraft,
        questionnaire=QUESTIONNAIRE,
        mission_id=_mission_for(actor, case),
        action=Action.ASSISTANCE_CORRECTION_STARTED,
    )


# Services -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceData:
    service_type: str
    status: str
    start_date: date
    end_date: date | None = None
    provider_mission: Mission | None = None
    partner_name: str = ""
    cost: Decimal | None = None
    currency: str = ""
    notes: str = ""


def _validate_service(case: Case, data: ServiceData) -> None:
    errors = {}
    today = timezone.localdate()
    if data.start_date > today and data.status in ("in_progress", "delivered"):
        errors["start_date"] = _("A service in progress or delivered cannot start in the future.")
    if data.end_date and data.end_date < data.start_date:
        errors["end_date"] = _("The end cannot be before the start.")
    if data.end_date and data.end_date > today and data.status == "delivered":
        errors["end_date"] = _("A delivered service cannot end in the future.")
    if data.start_date < case.identified_on:
        errors["start_date"] = _("A service cannot start before the person was identified.")
    if bool(data.provider_mission) == bool(data.partner_name.strip()):
        errors["partner_name"] = _("Name either the mission or a partner organisation as provider.")
    if data.cost is not None and not data.currency:
        errors["currency"] = _("Give the currency of the cost.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def service_record(*, actor: User, case: Case, data: ServiceData) -> ServiceRecord:
    mission = _mission_for(actor, case)
    _validate_service(case, data)
    case = _ensure_assisted(actor, Case.objects.select_for_update().get(pk=case.pk))
    service = ServiceRecord(case=case, recorded_by=actor, **data.__dict__)
    service.full_clean(exclude=["case", "recorded_by"])
    service.save()
    _event(
        actor, case, mission, CaseEvent.Kind.SERVICE_RECORDED, service.get_service_type_display()
    )
    audit_record(
        action=Action.SERVICE_RECORDED,
        actor=actor,
        case=case,
        mission=mission,
        obj=service,
        detail={"type": service.service_type, "status": service.status},
    )
    return service


@transaction.atomic
def service_update(
    *, actor: User, service: ServiceRecord, expected_version: int, data: ServiceData
) -> ServiceRecord:
    case = service.case
    mission = _mission_for(actor, case)
    _validate_service(case, data)
    claimed = ServiceRecord.objects.filter(pk=service.pk, version=expected_version).update(
        version=F("version") + 1
    )
    if not claimed:
        raise ConcurrentEditError()
    for field, value in data.__dict__.items():
        setattr(service, field, value)
    service.version = expected_version + 1
    service.full_clean(exclude=["case", "recorded_by"])
    service.save()
    _event(actor, case, mission, CaseEvent.Kind.SERVICE_UPDATED, service.get_service_type_display())
    audit_record(
        action=Action.SERVICE_UPDATED,
        actor=actor,
        case=case,
        mission=mission,
        obj=service,
        detail={"type": service.service_type, "status": service.status},
    )
    return service


# Return between missions --------------------------------------------------------------


@dataclass(frozen=True)
class ReturnData:
    travel_document: str
    departure_date: date
    escort: str
    reception_arranged: bool
    route: tuple[str, ...] = ()
    reception_notes: str = ""


def return_receiving_mission(case: Case) -> int | None:
    """The source mission, once it has accepted the case's referral."""
    if case.source_mission_id is None:
        return None
    accepted = Referral.objects.filter(
        case=case, to_mission_id=case.source_mission_id, status=Referral.Status.ACCEPTED
    ).exists()
    return case.source_mission_id if accepted else None


@transaction.atomic
def return_plan(*, actor: User, case: Case, data: ReturnData) -> ReturnMovement:
    """The destination mission plans the return of a case its source mission accepted."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not acts_for(actor, case, Perm.CASE_EDIT, case.destination_mission_id):
        raise PermissionDenied
    if case.status != S.ASSISTANCE:
        raise ValidationError(
            _("A return is planned for a case under assistance; this one is “%(status)s”.")
            % {"status": case.get_status_display()}
        )
    receiving = return_receiving_mission(case)
    if receiving is None:
        raise ValidationError(
            _("The source mission has not accepted a referral of this case; refer it first.")
        )
    if data.departure_date < case.identified_on:
        raise ValidationError({"departure_date": _("The departure cannot precede identification.")})
    if data.departure_date > timezone.localdate() + timedelta(days=365):
        raise ValidationError({"departure_date": _("Plan returns at most a year ahead.")})
    movement = ReturnMovement(
        case=case,
        from_mission_id=case.destination_mission_id,
        to_mission_id=receiving,
        planned_by=actor,
        travel_document=data.travel_document,
        departure_date=data.departure_date,
        escort=data.escort,
        reception_arranged=data.reception_arranged,
        route=list(data.route),
        reception_notes=data.reception_notes,
    )
    movement.full_clean(exclude=["case", "planned_by", "from_mission", "to_mission"])
    try:
        with transaction.atomic():
            movement.save()
    except IntegrityError as duplicate:
        raise ValidationError(_("A return is already planned for this case.")) from duplicate
    case_transition(
        actor=actor,
        case=case,
        to_status=S.RETURN_IN_PROGRESS,
        expected_version=case.version,
        note=_("Return planned for %(date)s.") % {"date": data.departure_date.isoformat()},
    )
    _event(actor, case, case.destination_mission_id, CaseEvent.Kind.RETURN_PLANNED)
    audit_record(
        action=Action.RETURN_PLANNED,
        actor=actor,
        case=case,
        mission=case.destination_mission_id,
        obj=movement,
        detail={"to_mission": receiving},
    )
    return movement


@transaction.atomic
def return_cancel(*, actor: User, movement: ReturnMovement, note: str = "") -> ReturnMovement:
    movement = ReturnMovement.objects.select_for_update().select_related("case").get(pk=movement.pk)
    case = movement.case
    if not acts_for(actor, case, Perm.CASE_EDIT, movement.from_mission_id):
        raise PermissionDenied
    if movement.status != ReturnMovement.Status.PLANNED:
        raise ValidationError(_("Only a planned return can be cancelled."))
    movement.status = ReturnMovement.Status.CANCELLED
    movement.save(update_fields=["status"])
    case_transition(
        actor=actor, case=case, to_status=S.ASSISTANCE, expected_version=case.version, note=note
    )
    _event(actor, case, movement.from_mission_id, CaseEvent.Kind.RETURN_CANCELLED, note)
    audit_record(
        action=Action.RETURN_CANCELLED,
        actor=actor,
        case=case,
        mission=movement.from_mission_id,
        obj=movement,
    )
    return movement


@transaction.atomic
def return_confirm_arrival(
    *, actor: User, movement: ReturnMovement, arrival_date: date
) -> ReturnMovement:
    """Only the receiving (source) mission confirms that the person arrived."""
    movement = ReturnMovement.objects.select_for_update().select_related("case").get(pk=movement.pk)
    case = movement.case
    if not acts_for(actor, case, Perm.CASE_EDIT, movement.to_mission_id):
        raise PermissionDenied
    if movement.status != ReturnMovement.Status.PLANNED:
        raise ValidationError(_("This return is not awaiting confirmation."))
    if arrival_date < movement.departure_date:
        raise ValidationError({"arrival_date": _("The arrival cannot precede the departure.")})
    if arrival_date > timezone.localdate():
        raise ValidationError({"arrival_date": _("The arrival date cannot be in the future.")})
    movement.status = ReturnMovement.Status.ARRIVED
    movement.arrival_date = arrival_date
    movement.confirmed_by = actor
    movement.confirmed_at = timezone.now()
    movement.save(update_fields=["status", "arrival_date", "confirmed_by", "confirmed_at"])
    case_transition(
        actor=actor,
        case=case,
        to_status=S.RETURNED,
        expected_version=case.version,
        note=_("Arrived on %(date)s.") % {"date": arrival_date.isoformat()},
    )
    _event(actor, case, movement.to_mission_id, CaseEvent.Kind.ARRIVAL_CONFIRMED)
    audit_record(
        action=Action.ARRIVAL_CONFIRMED,
        actor=actor,
        case=case,
        mission=movement.to_mission_id,
        obj=movement,
    )
    return movement


def is_return_overdue(movement: ReturnMovement, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    grace = timedelta(days=RETURN_CONFIRMATION_GRACE_DAYS)
    return (
        movement.status == ReturnMovement.Status.PLANNED and movement.departure_date + grace < today
    )


# Reintegration ------------------------------------------------------------------------


@transaction.atomic
def reintegration_plan(
    *,
    actor: User,
    case: Case,
    economic_goals: str,
    social_goals: str,
    psychosocial_goals: str,
    follow_up_months: tuple[int, ...] = DEFAULT_FOLLOW_UP_MONTHS,
) -> ReintegrationPlan:
    """The source mission plans reintegration after the arrival, with follow-up visits."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    arrival = (
        case.returns.filter(status=ReturnMovement.Status.ARRIVED).order_by("-arrival_date").first()
    )
    if case.status != S.RETURNED or arrival is None:
        raise ValidationError(_("Reintegration is planned once the person's arrival is confirmed."))
    if not acts_for(actor, case, Perm.CASE_EDIT, arrival.to_mission_id):
        raise PermissionDenied
    months = sorted(set(follow_up_months))
    if not months or months[0] < 1 or months[-1] > 60:
        raise ValidationError(
            {"follow_up_months": _("Schedule visits between 1 and 60 months after return.")}
        )
    plan = ReintegrationPlan.objects.create(
        case=case,
        mission_id=arrival.to_mission_id,
        return_date=arrival.arrival_date,
        economic_goals=economic_goals,
        social_goals=social_goals,
        psychosocial_goals=psychosocial_goals,
        created_by=actor,
    )
    FollowUpVisit.objects.bulk_create(
        FollowUpVisit(plan=plan, due_on=arrival.arrival_date + relativedelta(months=m))
        for m in months
    )
    case_transition(
        actor=actor,
        case=case,
        to_status=S.REINTEGRATION,
        expected_version=case.version,
        note=_("Reintegration plan made."),
    )
    _event(actor, case, plan.mission_id, CaseEvent.Kind.REINTEGRATION_PLANNED)
    audit_record(
        action=Action.REINTEGRATION_PLANNED,
        actor=actor,
        case=case,
        mission=plan.mission_id,
        obj=plan,
        detail={"follow_up_months": months},
    )
    return plan


def _plan_mission(actor: User, plan: ReintegrationPlan) -> int:
    if not acts_for(actor, plan.case, Perm.CASE_EDIT, plan.mission_id):
        raise PermissionDenied
    if Case.objects.filter(pk=plan.case_id, status=S.CLOSED).exists():
        raise ValidationError(_("The case is closed: no more follow-up visits."))
    return plan.mission_id


def follow_ups_cancel(case: Case) -> int:
    """When a case closes, its visits still scheduled will not take place."""
    return FollowUpVisit.objects.filter(
        plan__case=case, status=FollowUpVisit.Status.SCHEDULED
    ).update(status=FollowUpVisit.Status.CANCELLED)


@transaction.atomic
def follow_up_schedule(*, actor: User, plan: ReintegrationPlan, due_on: date) -> FollowUpVisit:
    mission = _plan_mission(actor, plan)
    if due_on < plan.return_date:
        raise ValidationError({"due_on": _("A follow-up visit comes after the return.")})
    visit = FollowUpVisit.objects.create(plan=plan, due_on=due_on)
    audit_record(
        action=Action.FOLLOW_UP_SCHEDULED, actor=actor, case=plan.case, mission=mission, obj=visit
    )
    return visit


def _score(value) -> Decimal:
    score = Decimal(str(value))
    if not Decimal(0) <= score <= Decimal(1):
        raise ValidationError(_("Scores run from 0 to 1."))
    return score.quantize(Decimal("0.01"))


@transaction.atomic
def follow_up_record(
    *,
    actor: User,
    visit: FollowUpVisit,
    visited_on: date,
    situation: str,
    scores: dict[str, float],
) -> FollowUpVisit:
    """Record a visit made: the person's situation and a 0–1 score per dimension."""
    visit = FollowUpVisit.objects.select_for_update().select_related("plan__case").get(pk=visit.pk)
    plan = visit.plan
    mission = _plan_mission(actor, plan)
    if visit.status == FollowUpVisit.Status.DONE:
        raise ValidationError(_("This visit is already recorded."))
    if visited_on > timezone.localdate():
        raise ValidationError({"visited_on": _("The visit date cannot be in the future.")})
    if visited_on < plan.return_date:
        raise ValidationError({"visited_on": _("A follow-up visit comes after the return.")})
    errors = {}
    for dimension in ("economic", "social", "psychosocial"):
        try:
            setattr(visit, f"score_{dimension}", _score(scores[dimension]))
        except (KeyError, ValueError, ArithmeticError, ValidationError):
            errors[f"score_{dimension}"] = _("Give a score from 0 to 1.")
    if errors:
        raise ValidationError(errors)
    visit.status = FollowUpVisit.Status.DONE
    visit.visited_on = visited_on
    visit.situation = situation
    visit.recorded_by = actor
    visit.save()
    _event(actor, plan.case, mission, CaseEvent.Kind.FOLLOW_UP_RECORDED)
    audit_record(
        action=Action.FOLLOW_UP_RECORDED, actor=actor, case=plan.case, mission=mission, obj=visit
    )
    return visit


@transaction.atomic
def follow_up_missed(*, actor: User, visit: FollowUpVisit, note: str = "") -> FollowUpVisit:
    visit = FollowUpVisit.objects.select_for_update().select_related("plan__case").get(pk=visit.pk)
    mission = _plan_mission(actor, visit.plan)
    if visit.status != FollowUpVisit.Status.SCHEDULED:
        raise ValidationError(_("Only a scheduled visit can be marked as missed."))
    if visit.due_on > timezone.localdate():
        raise ValidationError(_("A visit that is not yet due cannot be missed."))
    visit.status = FollowUpVisit.Status.MISSED
    visit.save(update_fields=["status"])
    _event(actor, visit.plan.case, mission, CaseEvent.Kind.FOLLOW_UP_MISSED, note)
    audit_record(
        action=Action.FOLLOW_UP_MISSED,
        actor=actor,
        case=visit.plan.case,
        mission=mission,
        obj=visit,
    )
    return visit


def is_visit_overdue(visit: FollowUpVisit, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return visit.status == FollowUpVisit.Status.SCHEDULED and visit.due_on < today
