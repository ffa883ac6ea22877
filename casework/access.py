"""The access policy: the one place that decides who may see and do what.

Mission staff act through their memberships. A case involves the missions that
registered it, that are its destination, and that accepted a referral of it. Users
outside those missions get the same 404 as for a case that does not exist. The data
protection officer may read every case; every such read is audited by the views.
"""

from enum import StrEnum
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from casework.models import Case, Membership, Mission, MissionRole, OrgRole, Referral, User


class Perm(StrEnum):
    CASE_VIEW = "case.view"
    CASE_REGISTER = "case.register"
    CASE_EDIT = "case.edit"
    CASE_TRANSITION = "case.transition"
    CASE_DECIDE = "case.decide"  # eligibility and closure: a manager's decision
    CONSENT_RECORD = "consent.record"
    REFERRAL_CREATE = "referral.create"
    REFERRAL_DECIDE = "referral.decide"
    AUDIT_VIEW = "audit.view"
    SCREENING_EDIT = "screening.edit"  # fill in, resume, submit and correct the form
    SCREENING_REVIEW = "screening.review"  # confirm or return a determination
    DASHBOARD_VIEW = "dashboard.view"  # a mission's figures
    CASE_EXPORT = "case.export"  # the operational export of the mission's case list
    EXPORT_IDENTIFIERS = "export.identifiers"  # names and dates of birth in that export
    DEDUPE_REVIEW = "dedupe.review"  # decide whether two registrations are one person
    RESEARCH_VIEW = "research.view"  # the research portal: codebook, releases, counts
    EXTRACT_REQUEST = "research.extract_request"  # ask for anonymised microdata
    RESEARCH_MANAGE = "research.manage"  # publish and approve releases, decide extracts, set k
    IMPORT_CASES = "transfer.import"  # bring a mission's caseload in from a spreadsheet
    EXPORT_TEMPLATE = "transfer.export"  # take it out again in the import template's shape


_CASEWORKER = {
    Perm.CASE_VIEW,
    Perm.CASE_REGISTER,
    Perm.CASE_EDIT,
    Perm.CASE_TRANSITION,
    Perm.CONSENT_RECORD,
    Perm.REFERRAL_CREATE,
    Perm.SCREENING_EDIT,
    Perm.CASE_EXPORT,
}
MISSION_ROLE_PERMS: dict[str, frozenset[Perm]] = {
    MissionRole.CASEWORKER: frozenset(_CASEWORKER),
    MissionRole.MANAGER: frozenset(
        _CASEWORKER
        | {
            Perm.CASE_DECIDE,
            Perm.REFERRAL_DECIDE,
            Perm.SCREENING_REVIEW,
            Perm.DASHBOARD_VIEW,
            Perm.EXPORT_IDENTIFIERS,
            Perm.DEDUPE_REVIEW,
            Perm.IMPORT_CASES,
            Perm.EXPORT_TEMPLATE,
        }
    ),
}
ORG_ROLE_PERMS: dict[str, frozenset[Perm]] = {
    OrgRole.DPO: frozenset(
        {
            Perm.CASE_VIEW,
            Perm.AUDIT_VIEW,
            Perm.DEDUPE_REVIEW,
            Perm.RESEARCH_VIEW,
            Perm.RESEARCH_MANAGE,
            # The DPO administers missions: may bring in or take out any mission's caseload.
            Perm.IMPORT_CASES,
            Perm.EXPORT_TEMPLATE,
        }
    ),
    OrgRole.RESEARCHER: frozenset({Perm.RESEARCH_VIEW, Perm.EXTRACT_REQUEST}),
    OrgRole.DONOR: frozenset({Perm.RESEARCH_VIEW}),
    OrgRole.NONE: frozenset(),
}


def _memberships(user: User) -> list[Membership]:
    """Return the user's memberships, cached on the user object for the request."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_membership_cache", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user, mission__is_active=True))
        user._membership_cache = cached
    return cached


def mission_ids_with(user: User, perm: Perm) -> set[int]:
    """Return the ids of the missions in which the user holds the permission."""
    return {m.mission_id for m in _memberships(user) if perm in MISSION_ROLE_PERMS[m.role]}


def missions_with(user: User, perm: Perm) -> QuerySet[Mission]:
    """Active missions in which the user may use the permission: all of them for an org role."""
    if not user.is_authenticated or not user.is_active:
        return Mission.objects.none()
    if perm in ORG_ROLE_PERMS[user.org_role]:
        return Mission.objects.filter(is_active=True)
    return Mission.objects.filter(pk__in=mission_ids_with(user, perm), is_active=True)


def is_dpo(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.org_role == OrgRole.DPO


def has_perm(user: User, perm: Perm) -> bool:
    """Whether the user holds the permission anywhere (in some mission, or organisation-wide)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return perm in ORG_ROLE_PERMS[user.org_role] or bool(mission_ids_with(user, perm))


def involving(mission_ids: set[int], via: str = "") -> Q:
    """Condition for cases the missions take part in; `via` reaches the case from a relation.

    For example `involving({m}, via="case__")` filters services or returns by their case.
    """
    # An uncorrelated IN (subquery) rather than EXISTS: PostgreSQL evaluates it once as a
    # hashed subplan, and its lower cost estimate keeps the list query below the JIT
    # threshold, whose compilation alone took half of the list's time.
    accepted = Referral.objects.filter(
        to_mission_id__in=mission_ids, status=Referral.Status.ACCEPTED
    ).values("case_id")
    # A case that absorbed one of the missions' cases (two registrations of one episode,
    # merged after review) stays theirs too.
    absorbed = (
        Case.objects.filter(merged_into__isnull=False)
        .filter(
            Q(registering_mission_id__in=mission_ids) | Q(destination_mission_id__in=mission_ids)
        )
        .values("merged_into_id")
    )
    return (
        Q(**{f"{via}registering_mission_id__in": mission_ids})
        | Q(**{f"{via}destination_mission_id__in": mission_ids})
        | Q(**{f"{via}pk__in": accepted})
        | Q(**{f"{via}pk__in": absorbed})
    )


def cases_of_missions(mission_ids: set[int]) -> QuerySet[Case]:
    """Cases that the missions take part in: registered, destination, or accepted referral."""
    return Case.objects.filter(involving(mission_ids))


def cases_with(user: User, perm: Perm) -> QuerySet[Case]:
    """Return the cases on which the user holds the permission."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    if perm in ORG_ROLE_PERMS[user.org_role]:
        return Case.objects.all()
    mission_ids = mission_ids_with(user, perm)
    if not mission_ids:
        return Case.objects.none()
    return cases_of_missions(mission_ids)


def _read_involved_missions(case: Case) -> set[int]:
    involved = {case.registering_mission_id, case.destination_mission_id}
    for registering, destination in Case.objects.filter(merged_into=case).values_list(
        "registering_mission_id", "destination_mission_id"
    ):
        involved |= {registering, destination}
    involved |= set(
        Referral.objects.filter(case=case, status=Referral.Status.ACCEPTED).values_list(
            "to_mission_id", flat=True
        )
    )
    return involved


def involved_missions(case: Case) -> set[int]:
    """The missions taking part in the case.

    A case fetched by `access_case` carries them, read once for the request's many
    permission checks; any other case object reads them afresh, so a service that has
    just accepted a referral never sees a stale answer.
    """
    cached = getattr(case, "_involved_missions", None)
    return cached if cached is not None else _read_involved_missions(case)


def case_missions_for(user: User, case: Case, perm: Perm) -> set[int]:
    """Return the user's missions that take part in the case and hold the permission."""
    return mission_ids_with(user, perm) & involved_missions(case)


def acts_for(user: User, case: Case, perm: Perm, mission_id: int | None) -> bool:
    """Whether the user holds the permission on the case as a member of that mission."""
    return mission_id is not None and mission_id in case_missions_for(user, case, perm)


def access_case(user: User, public_id, perm: Perm = Perm.CASE_VIEW) -> Case:
    """Fetch a case the user may act on, or raise 404 whether it is missing or forbidden."""
    try:
        return (
            cases_with(user, perm)
            .select_related(
                "person", "registering_mission", "destination_mission", "source_mission"
            )
            .get(public_id=public_id)
        )
    except (Case.DoesNotExist, ValueError, TypeError) as missing:
        raise Http404("No such case.") from missing


def access_incoming_referral(user: User, referral_id: int) -> Referral:
    """Fetch a pending referral addressed to one of the user's missions that may decide it."""
    missions = mission_ids_with(user, Perm.REFERRAL_DECIDE)
    try:
        return Referral.objects.select_related("case", "from_mission", "to_mission").get(
            pk=referral_id, to_mission_id__in=missions
        )
    except (Referral.DoesNotExist, ValueError, TypeError) as missing:
        raise Http404("No such referral.") from missing


def requires(perm: Perm):
    """Declare the permission a view needs; users without it anywhere are refused.

    Views that address a case still fetch it through `access_case`, which checks the
    permission on that case's missions.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not has_perm(request.user, perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_permission = perm
        return wrapped

    return decorator
