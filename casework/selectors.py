"""Reads shared by views, commands and benchmarks. Access scoping comes from `access`."""

from datetime import date

from django.db.models import Case as CaseWhen
from django.db.models import Q, QuerySet, Value, When

from casework import blind_index
from casework.access import Perm, cases_with, mission_ids_with
from casework.models import AuditEvent, Case, Mission, Referral, User


def case_list(
    user: User,
    *,
    case_number: str = "",
    status: str = "",
    mission: Mission | None = None,
    registered_from: date | None = None,
    registered_to: date | None = None,
) -> QuerySet[Case]:
    """Cases the user may see, filtered, newest first, with what a list row shows."""
    cases = cases_with(user, Perm.CASE_VIEW).filter(merged_into__isnull=True)
    if case_number:
        cases = cases.filter(case_number__iexact=case_number.strip())
    if status:
        cases = cases.filter(status=status)
    if mission is not None:
        cases = cases.filter(
            Q(registering_mission=mission)
            | Q(destination_mission=mission)
            | Q(source_mission=mission)
        )
    if registered_from:
        cases = cases.filter(registered_on__gte=registered_from)
    if registered_to:
        cases = cases.filter(registered_on__lte=registered_to)
    return cases.select_related(
        "registering_mission", "destination_mission", "source_mission"
    ).order_by("-registered_on", "-id")


def case_search_by_identifiers(
    user: User, *, name: str = "", date_of_birth: date | None = None
) -> QuerySet[Case]:
    """Cases whose person matches the name (full, or family if one word) and/or birth date."""
    cases = cases_with(user, Perm.CASE_VIEW)
    if name.strip():
        # Several words: the full name, in any order. One word: the family name.
        if len(blind_index.normalise_name(name).split()) > 1:
            cases = cases.filter(person__name_index=blind_index.name_index(name))
        else:
            cases = cases.filter(person__family_name_index=blind_index.family_name_index(name))
    if date_of_birth:
        cases = cases.filter(
            person__date_of_birth_index=blind_index.date_of_birth_index(date_of_birth)
        )
    return cases.select_related(
        "registering_mission", "destination_mission", "source_mission"
    ).order_by("-registered_on", "-id")


def missions_visible_to(user: User) -> QuerySet[Mission]:
    """Missions offered as a list filter: the user's own, or all for organisation-wide readers."""
    ids = mission_ids_with(user, Perm.CASE_VIEW)
    if ids:
        return Mission.objects.filter(pk__in=ids)
    return Mission.objects.all()


def case_timeline(case: Case):
    return case.events.select_related("actor", "mission").order_by("at", "id")


def case_referrals(case: Case) -> QuerySet[Referral]:
    return case.referrals.select_related("from_mission", "to_mission", "requested_by", "decided_by")


def incoming_referrals(user: User) -> QuerySet[Referral]:
    """Referrals addressed to the missions the user decides for, pending first."""
    missions = mission_ids_with(user, Perm.REFERRAL_DECIDE)
    return (
        Referral.objects.filter(to_mission_id__in=missions)
        .select_related("case", "from_mission", "to_mission", "requested_by")
        .order_by(
            CaseWhen(When(status=Referral.Status.PENDING, then=Value(0)), default=Value(1)),
            "-requested_at",
        )
    )


def audit_events(
    *,
    action: str = "",
    actor: str = "",
    mission: Mission | None = None,
    case_number: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("actor", "mission", "case")
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor__username__iexact=actor.strip())
    if mission is not None:
        events = events.filter(mission=mission)
    if case_number:
        events = events.filter(case__case_number__iexact=case_number.strip())
    if since:
        events = events.filter(at__date__gte=since)
    if until:
        events = events.filter(at__date__lte=until)
    return events.order_by("-at", "-id")
