"""Writing a row's screening version, services and follow-up visits (create or update)."""

import json

from django.utils import timezone
from django.utils.translation import gettext as _

from assistance.models import FollowUpVisit, ReintegrationPlan, ServiceRecord
from casework.audit import Action, audit_record
from casework.models import (
    AuditEvent,
    Case,
    CaseEvent,
    Mission,
    User,
)
from screening.models import ScreeningVersion
from screening.rules import assess
from transfer.rows import ParsedRow
from transfer.services.report import DECIDED_STATUSES

# Coded fields, checked already by the row's parser (validating the country codes again
# would normalise the 250 choices on every row).
PERSON_TRUSTED = ["registered_by", "sex", "citizenship", "document_type", "preferred_language"]
SERVICE_TRUSTED = ["case", "recorded_by", "provider_mission", "service_type", "status"]
# Set by the import itself (the missions are looked up among the active ones): checking
# them again would cost a query per foreign key and row. Uniqueness and the check
# constraints are the database's (a refusal rolls the row's savepoint back).
CASE_TRUSTED = [
    "country_of_exploitation",
    "status",
    "closure_reason",
    "person",
    "created_by",
    "case_number",
    "registering_mission",
    "destination_mission",
    "source_mission",
    "merged_into",
]


def _event(actor, case, mission, kind, note="", **extra) -> None:
    CaseEvent.objects.create(case=case, actor=actor, mission=mission, kind=kind, note=note, **extra)


def _screening_version(
    actor: User, mission: Mission, case: Case, parsed: ParsedRow, latest=None
) -> ScreeningVersion:
    """The (unsaved) version holding the row's screening answers."""
    answers = parsed.screening
    assessment = assess(answers.merged_values(), answers.states())
    determination = answers.coded["determination"]
    confirmed = determination in ("victim", "not_victim") and parsed.status in DECIDED_STATUSES
    return ScreeningVersion(
        case=case,
        number=(latest.number + 1) if latest else 1,
        mission=mission,
        coded=answers.coded,
        missing=answers.missing,
        private=json.dumps(answers.private, ensure_ascii=False),
        elements=assessment.as_dict(),
        suggestion=assessment.suggestion,
        determination=determination,
        status="confirmed" if confirmed else "submitted",
        reviewed_by=actor if confirmed else None,
        reviewed_at=timezone.now() if confirmed else None,
        review_comment=_("Imported from the mission's earlier records.") if confirmed else "",
        interviewer=actor,
        supersedes=latest,
        correction_reason=_("Imported again.") if latest else "",
    )


def _screening_audit(actor: User, mission: Mission, version: ScreeningVersion) -> AuditEvent:
    return AuditEvent(
        action=Action.SCREENING_SUBMITTED,
        actor=actor,
        case=version.case,
        mission=mission,
        object_type="ScreeningVersion",
        object_id=str(version.pk),
        detail={
            "version": version.number,
            "determination": version.determination,
            "imported": True,
        },
    )


def _write_screening(
    actor: User, mission: Mission, case: Case, parsed: ParsedRow, new: bool
) -> bool:
    answers = parsed.screening
    if answers is None:
        return False
    latest = None if new else case.screenings.order_by("-number").first()
    if (
        latest is not None
        and latest.coded == answers.coded
        and latest.missing == answers.missing
        and json.loads(latest.private or "{}") == answers.private
    ):
        return False
    if latest is not None and latest.status in ("submitted", "confirmed"):
        latest.status = ScreeningVersion.Status.SUPERSEDED
        latest.save(update_fields=["status"])
    version = _screening_version(actor, mission, case, parsed, latest)
    version.save()
    _event(actor, case, mission, CaseEvent.Kind.SCREENING_SUBMITTED, _("Imported."))
    _screening_audit(actor, mission, version).save()
    return True


def _service(actor: User, mission: Mission, case: Case, item) -> ServiceRecord:
    return ServiceRecord(
        case=case,
        service_type=item.service_type,
        provider_mission=None if item.partner_name else mission,
        partner_name=item.partner_name,
        start_date=item.start_date,
        end_date=item.end_date,
        status=item.status,
        recorded_by=actor,
    )


def _write_services(actor: User, mission: Mission, case: Case, parsed: ParsedRow, new: bool) -> int:
    if not parsed.services:
        return 0
    existing = (
        {}
        if new
        else {(s.service_type, s.start_date, s.partner_name): s for s in case.services.all()}
    )
    written = 0
    for item in parsed.services:
        key = (item.service_type, item.start_date, item.partner_name)
        service = existing.get(key)
        if service is not None:
            if (service.status, service.end_date) == (item.status, item.end_date):
                continue
            service.status, service.end_date = item.status, item.end_date
            service.version += 1
            service.full_clean(exclude=SERVICE_TRUSTED, validate_constraints=False)
            service.save(update_fields=["status", "end_date", "version", "updated_at"])
            kind, action = CaseEvent.Kind.SERVICE_UPDATED, Action.SERVICE_UPDATED
        else:
            service = _service(actor, mission, case, item)
            service.full_clean(exclude=SERVICE_TRUSTED, validate_constraints=False)
            service.save()
            existing[key] = service
            kind, action = CaseEvent.Kind.SERVICE_RECORDED, Action.SERVICE_RECORDED
        _event(actor, case, mission, kind, service.get_service_type_display())
        audit_record(
            action=action,
            actor=actor,
            case=case,
            mission=mission,
            obj=service,
            detail={"type": service.service_type, "imported": True},
        )
        written += 1
    return written


def _write_follow_ups(
    actor: User, mission: Mission, case: Case, parsed: ParsedRow, new: bool
) -> int:
    if parsed.return_date is None:
        return 0
    written = 0
    plan = None if new else ReintegrationPlan.objects.filter(case=case).first()
    if plan is None:
        plan = ReintegrationPlan.objects.create(
            case=case, mission=mission, return_date=parsed.return_date, created_by=actor
        )
        _event(actor, case, mission, CaseEvent.Kind.REINTEGRATION_PLANNED, _("Imported."))
        audit_record(
            action=Action.REINTEGRATION_PLANNED,
            actor=actor,
            case=case,
            mission=mission,
            obj=plan,
            detail={"imported": True},
        )
        written += 1
    elif plan.return_date != parsed.return_date:
        plan.return_date = parsed.return_date
        plan.save(update_fields=["return_date"])
        written += 1
    visits = {v.due_on: v for v in plan.visits.all()}
    for item in parsed.follow_ups or []:
        visit = visits.get(item.due_on) or FollowUpVisit(plan=plan, due_on=item.due_on)
        scores = item.scores or (None, None, None)
        values = (item.status, item.visited_on, *scores)
        current = (
            visit.status,
            visit.visited_on,
            visit.score_economic,
            visit.score_social,
            visit.score_psychosocial,
        )
        if visit.pk and current == values:
            continue
        visit.status, visit.visited_on = item.status, item.visited_on
        visit.score_economic, visit.score_social, visit.score_psychosocial = scores
        visit.recorded_by = actor if item.status != "scheduled" else None
        visit.save()
        visits[item.due_on] = visit
        if item.status == "done":
            _event(actor, case, mission, CaseEvent.Kind.FOLLOW_UP_RECORDED, _("Imported."))
        audit_record(
            action=Action.FOLLOW_UP_RECORDED,
            actor=actor,
            case=case,
            mission=mission,
            obj=visit,
            detail={"status": item.status, "imported": True},
        )
        written += 1
    return written
