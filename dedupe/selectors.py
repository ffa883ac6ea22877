"""Reads of deduplication: the case page's notice, the review queue, person counts."""

from django.db.models import Q, QuerySet

from casework.access import Perm, has_perm
from casework.models import Case, User
from dedupe.engine.linkage import DOB_LEVELS, NAME_LEVELS
from dedupe.models import Decision, MatchCandidate, PersonCluster
from dedupe.services import STRONG_THRESHOLD, reviewable

FIELD_LABELS = {
    "given": "Given names",
    "family": "Family names",
    "dob": "Date of birth",
    "sex": "Sex",
    "citizenship": "Citizenship",
}
LEVEL_LABELS = {
    "given": NAME_LEVELS,
    "family": NAME_LEVELS,
    "dob": DOB_LEVELS,
    "sex": ("same", "different"),
    "citizenship": ("same", "different"),
}


def dedupe_panel(user: User, case: Case) -> dict:
    """Possible other registrations of this case's person, shown without their identifiers."""
    candidates = (
        MatchCandidate.objects.filter(
            Q(person_a=case.person_id) | Q(person_b=case.person_id), decision=Decision.PENDING
        )
        .select_related("person_a__registered_by", "person_b__registered_by")
        .order_by("-probability")[:10]
    )
    notices = []
    for candidate in candidates:
        other = (
            candidate.person_b if candidate.person_a_id == case.person_id else candidate.person_a
        )
        notices.append(
            {
                "mission": other.registered_by,
                "probability": candidate.probability,
                "strong": candidate.probability >= STRONG_THRESHOLD,
                "candidate": candidate,
            }
        )
    links = MatchCandidate.objects.filter(
        Q(person_a=case.person_id) | Q(person_b=case.person_id),
        decision__in=[Decision.SAME_CASE, Decision.NEW_CASE],
    ).count()
    return {
        "notices": notices,
        "linked_records": links,
        "can_review": has_perm(user, Perm.DEDUPE_REVIEW),
        "merged_into": case.merged_into,
    }


def review_queue(user: User, decision: str = Decision.PENDING) -> QuerySet[MatchCandidate]:
    return (
        MatchCandidate.objects.filter(reviewable(user), decision=decision)
        .select_related("person_a__registered_by", "person_b__registered_by", "decided_by")
        .order_by("-probability", "id")
    )


def explanation_rows(candidate: MatchCandidate) -> list[dict]:
    rows = []
    for name, part in candidate.explanation.items():
        levels = LEVEL_LABELS.get(name, ("exact", "close", "different"))
        level = part["level"]
        rows.append(
            {
                "field": FIELD_LABELS.get(name, name.removeprefix("x:").replace("_", " ")),
                "level": "missing" if level < 0 else levels[min(level, len(levels) - 1)],
                "bits": part["bits"],
                "agrees": part["bits"] > 0,
            }
        )
    return rows


def count_persons(cases: QuerySet[Case]) -> int:
    """Distinct people among the cases: records decided to be one person count once."""
    person_ids = cases.values("person_id")
    clustered = PersonCluster.objects.filter(person_id__in=person_ids)
    unclustered = cases.exclude(person_id__in=clustered.values("person_id"))
    return (
        clustered.values("cluster").distinct().count()
        + unclustered.values("person_id").distinct().count()
    )
