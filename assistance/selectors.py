"""Reads of assistance, return and reintegration: the case page's panel and the dashboard."""

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from assistance import vocabularies as v
from assistance.models import (
    AssistanceDraft,
    FollowUpVisit,
    ReintegrationPlan,
    ReturnMovement,
    ServiceRecord,
)
from assistance.services import (
    ASSISTED,
    RETURN_CONFIRMATION_GRACE_DAYS,
    is_return_overdue,
    is_visit_overdue,
    return_receiving_mission,
)
from casework.access import Perm, acts_for, case_missions_for, cases_of_missions, involving
from casework.models import Case, CaseEvent, CaseStatus, ClosureRequest, Mission, Referral, User

DUE_SOON_DAYS = 30


def assistance_panel(user: User, case: Case) -> dict:
    """What the case page shows of assistance, return, reintegration and closure."""
    can_edit = bool(case_missions_for(user, case, Perm.CASE_EDIT))
    movements = list(case.returns.select_related("from_mission", "to_mission").order_by("-id"))
    active_return = next((m for m in movements if m.status == ReturnMovement.Status.PLANNED), None)
    plan = ReintegrationPlan.objects.filter(case=case).first()
    visits = list(plan.visits.all()) if plan else []
    today = timezone.localdate()
    for visit in visits:
        visit.overdue = is_visit_overdue(visit, today)
    latest_interview = case.assistance_interviews.order_by("-number").first()
    pending_closure = case.closure_requests.filter(status=ClosureRequest.Status.PENDING).first()
    return {
        "services": case.services.select_related("provider_mission"),
        "assistance_draft": AssistanceDraft.objects.filter(case=case).first(),
        "assistance_interview": latest_interview,
        "can_assist": can_edit and case.status in ASSISTED,
        "returns": movements,
        "active_return": active_return,
        "return_overdue": bool(active_return and is_return_overdue(active_return, today)),
        "can_plan_return": case.status == CaseStatus.ASSISTANCE
        and acts_for(user, case, Perm.CASE_EDIT, case.destination_mission_id)
        and return_receiving_mission(case) is not None,
        "can_confirm_arrival": bool(
            active_return and acts_for(user, case, Perm.CASE_EDIT, active_return.to_mission_id)
        ),
        "can_cancel_return": bool(
            active_return and acts_for(user, case, Perm.CASE_EDIT, active_return.from_mission_id)
        ),
        "plan": plan,
        "visits": visits,
        "can_plan_reintegration": case.status == CaseStatus.RETURNED
        and any(
            m.status == ReturnMovement.Status.ARRIVED
            and acts_for(user, case, Perm.CASE_EDIT, m.to_mission_id)
            for m in movements
        ),
        "can_follow_up": bool(plan and acts_for(user, case, Perm.CASE_EDIT, plan.mission_id))
        and case.status != CaseStatus.CLOSED,
        "pending_closure": pending_closure,
        "can_request_closure": bool(case_missions_for(user, case, Perm.CASE_TRANSITION))
        and case.status != CaseStatus.CLOSED
        and pending_closure is None,
        "can_decide_closure": bool(case_missions_for(user, case, Perm.CASE_DECIDE)),
    }


def score_series(visits) -> dict[str, list[tuple[int, float]]]:
    """Average score per dimension by whole months since return, for plotting progress."""
    buckets: dict[tuple[str, int], list[float]] = defaultdict(list)
    for return_date, visited_on, economic, social, psychosocial in visits:
        months = round((visited_on - return_date).days / 30.44)
        for dimension, score in (
            ("economic", economic),
            ("social", social),
            ("psychosocial", psychosocial),
        ):
            buckets[(dimension, months)].append(float(score))
    series: dict[str, list[tuple[int, float]]] = {d: [] for d, _label in v.DIMENSIONS}
    for (dimension, months), scores in sorted(buckets.items(), key=lambda item: item[0][1]):
        series[dimension].append((months, round(sum(scores) / len(scores), 2)))
    return series


def _median(values: list[int]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class Dashboard:
    mission: Mission
    since: date
    until: date
    by_status: list[tuple[str, str, int]]
    total: int
    awaiting_acceptance: int
    returns_in_progress: int
    returns_overdue: list
    follow_ups_due: int
    follow_ups_overdue: list
    follow_ups_overdue_count: int
    services_by_type: list[tuple[str, str, int]]
    median_days_to_return: float | None
    returns_counted: int
    median_days_return_to_closure: float | None
    closures_counted: int
    scores: dict[str, list[tuple[int, float]]]


def mission_dashboard(mission: Mission, *, since: date, until: date, today: date | None = None):
    """The mission's figures; a fixed number of queries whatever the caseload."""
    today = today or timezone.localdate()
    cases = cases_of_missions({mission.pk})
    labels = dict(CaseStatus.choices)
    counts = dict(cases.order_by().values_list("status").annotate(n=Count("id")))
    by_status = [(s, labels[s], counts.get(s, 0)) for s in CaseStatus.values]

    awaiting = Referral.objects.filter(to_mission=mission, status=Referral.Status.PENDING).count()
    returns = ReturnMovement.objects.filter(
        Q(from_mission=mission) | Q(to_mission=mission), status=ReturnMovement.Status.PLANNED
    )
    cutoff = today - timedelta(days=RETURN_CONFIRMATION_GRACE_DAYS)
    overdue_returns = list(
        returns.filter(departure_date__lt=cutoff)
        .select_related("case", "from_mission", "to_mission")
        .order_by("departure_date")[:20]
    )
    visits = FollowUpVisit.objects.filter(plan__mission=mission, status="scheduled")
    due = visits.filter(due_on__gte=today, due_on__lte=today + timedelta(days=DUE_SOON_DAYS))
    overdue_visits = visits.filter(due_on__lt=today)

    type_labels = dict(v.SERVICE_TYPE)
    delivered = (
        ServiceRecord.objects.filter(
            involving({mission.pk}, via="case__"),
            status="delivered",
            end_date__gte=since,
            end_date__lte=until,
        )
        .order_by()
        .values_list("service_type")
        .annotate(n=Count("id"))
    )
    services = sorted(
        ((code, type_labels[code], n) for code, n in delivered), key=lambda row: -row[2]
    )

    arrived = ReturnMovement.objects.filter(
        Q(from_mission=mission) | Q(to_mission=mission),
        status=ReturnMovement.Status.ARRIVED,
        arrival_date__gte=since,
        arrival_date__lte=until,
    )
    to_return = [
        (arrival - identified).days
        for arrival, identified in arrived.values_list("arrival_date", "case__identified_on")
    ]
    closed_at = CaseEvent.objects.filter(
        case=OuterRef("case"), kind=CaseEvent.Kind.STATUS_CHANGED, to_status=CaseStatus.CLOSED
    ).values("at")[:1]
    closures = ReturnMovement.objects.filter(
        Q(from_mission=mission) | Q(to_mission=mission),
        status=ReturnMovement.Status.ARRIVED,
        case__status=CaseStatus.CLOSED,
    ).annotate(closed_at=Subquery(closed_at))
    to_closure = [
        (closed.date() - arrival).days
        for arrival, closed in closures.values_list("arrival_date", "closed_at")
        if closed and since <= closed.date() <= until
    ]
    done = FollowUpVisit.objects.filter(plan__mission=mission, status="done").values_list(
        "plan__return_date", "visited_on", "score_economic", "score_social", "score_psychosocial"
    )
    return Dashboard(
        mission=mission,
        since=since,
        until=until,
        by_status=by_status,
        total=sum(counts.values()),
        awaiting_acceptance=awaiting,
        returns_in_progress=returns.count(),
        returns_overdue=overdue_returns,
        follow_ups_due=due.count(),
        follow_ups_overdue=list(
            overdue_visits.select_related("plan__case").order_by("due_on")[:20]
        ),
        follow_ups_overdue_count=overdue_visits.count(),
        services_by_type=services,
        median_days_to_return=_median(to_return),
        returns_counted=len(to_return),
        median_days_return_to_closure=_median(to_closure),
        closures_counted=len(to_closure),
        scores=score_series(done),
    )
