"""Writing the append-only audit log. Rows name what happened, never a person's data."""

from typing import Any

from django.http import HttpRequest

from casework import blind_index
from casework.models import AuditEvent, Case, Mission, User


class Action:
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGIN_REFUSED = "auth.login_refused"
    LOGOUT = "auth.logout"
    CASE_REGISTERED = "case.registered"
    CASE_UPDATED = "case.updated"
    CASE_STATUS_CHANGED = "case.status_changed"
    CASE_LIST_VIEWED = "case.list_viewed"
    IDENTIFIERS_VIEWED = "person.identifiers_viewed"
    IDENTIFIER_SEARCH = "person.identifier_search"
    CONSENT_RECORDED = "consent.recorded"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    REFERRAL_CREATED = "referral.created"
    REFERRAL_ACCEPTED = "referral.accepted"
    REFERRAL_DECLINED = "referral.declined"
    AUDIT_VIEWED = "audit.viewed"
    EXPORT = "data.exported"
    KEY_ROTATED = "keys.rotated"
    SCREENING_STARTED = "screening.started"
    SCREENING_STEP_SAVED = "screening.step_saved"
    SCREENING_SUBMITTED = "screening.submitted"
    SCREENING_CONFIRMED = "screening.confirmed"
    SCREENING_RETURNED = "screening.returned"
    SCREENING_CORRECTION_STARTED = "screening.correction_started"
    SCREENING_NARRATIVES_VIEWED = "screening.narratives_viewed"
    CLOSURE_REQUESTED = "closure.requested"
    CLOSURE_APPROVED = "closure.approved"
    CLOSURE_REJECTED = "closure.rejected"
    ASSISTANCE_STARTED = "assistance.started"
    ASSISTANCE_STEP_SAVED = "assistance.step_saved"
    ASSISTANCE_SUBMITTED = "assistance.submitted"
    ASSISTANCE_CORRECTION_STARTED = "assistance.correction_started"
    ASSISTANCE_NARRATIVES_VIEWED = "assistance.narratives_viewed"
    SERVICE_RECORDED = "service.recorded"
    SERVICE_UPDATED = "service.updated"
    RETURN_PLANNED = "return.planned"
    RETURN_CANCELLED = "return.cancelled"
    ARRIVAL_CONFIRMED = "return.arrival_confirmed"
    REINTEGRATION_PLANNED = "reintegration.planned"
    FOLLOW_UP_SCHEDULED = "reintegration.follow_up_scheduled"
    FOLLOW_UP_RECORDED = "reintegration.follow_up_recorded"
    FOLLOW_UP_MISSED = "reintegration.follow_up_missed"
    DASHBOARD_EXPORTED = "dashboard.exported"
    RELEASE_PUBLISHED = "research.release_published"
    RELEASE_APPROVED = "research.release_approved"
    DISCLOSURE_POLICY_SET = "research.policy_set"
    EXTRACT_REQUESTED = "research.extract_requested"
    EXTRACT_APPROVED = "research.extract_approved"
    EXTRACT_REJECTED = "research.extract_rejected"
    EXTRACT_DOWNLOADED = "research.extract_downloaded"
    REPORT_PUBLISHED = "research.report_published"
    REPORT_DOWNLOADED = "research.report_downloaded"
    PROGRAMME_CREATED = "research.programme_created"


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def username_key(username: str) -> str:
    """Keyed digest of a typed username, so failed logins can be counted without storing it."""
    return blind_index.digest("username", (username or "").strip().casefold())


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    case: Case | None = None,
    mission: Mission | int | None = None,
    obj: Any = None,
    request: HttpRequest | None = None,
    subject_key: str = "",
    detail: dict | None = None,
) -> AuditEvent:
    """Append one row to the audit log (inside the caller's transaction)."""
    mission_id = mission.pk if isinstance(mission, Mission) else mission
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        case=case,
        mission_id=mission_id,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        subject_key=subject_key,
        ip_address=client_ip(request),
        detail=detail or {},
    )
