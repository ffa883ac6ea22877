"""Reads of the research layer: policy, releases, extracts, the portal's counts."""

from django.db.models import Count, QuerySet
from django.http import Http404

from casework.access import Perm, has_perm
from research import codebook as cb
from research.models import DisclosurePolicy, ExtractRequest, Release, ResearchRecord

SUPPRESSED_MARK = "<"  # shown, with the threshold, for every withheld count


def current_policy() -> DisclosurePolicy:
    """The policy in force: the latest the DPO set, or the defaults (k = 11, threshold 10)."""
    return DisclosurePolicy.objects.first() or DisclosurePolicy(set_by_id=0, set_by_name="")


def releases_for(user) -> QuerySet[Release]:
    """Approved releases for researchers and donors; drafts too for the DPO."""
    releases = Release.objects.select_related("corrects")
    if has_perm(user, Perm.RESEARCH_MANAGE):
        return releases
    if has_perm(user, Perm.RESEARCH_VIEW):
        return releases.filter(status=Release.Status.APPROVED)
    return releases.none()


def release_for(user, number) -> Release:
    try:
        return releases_for(user).get(number=number)
    except (Release.DoesNotExist, ValueError, TypeError) as missing:
        raise Http404("No such release.") from missing


def latest_release() -> Release | None:
    return Release.objects.filter(status=Release.Status.APPROVED).order_by("-number").first()


def extracts_for(user) -> QuerySet[ExtractRequest]:
    """The DPO sees every request; a researcher their own."""
    requests = ExtractRequest.objects.select_related("release").defer("data")
    if has_perm(user, Perm.RESEARCH_MANAGE):
        return requests
    if has_perm(user, Perm.EXTRACT_REQUEST):
        return requests.filter(requested_by_id=user.pk)
    return requests.none()


def extract_for(user, pk) -> ExtractRequest:
    try:
        return extracts_for(user).defer(None).get(pk=pk)
    except (ExtractRequest.DoesNotExist, ValueError, TypeError) as missing:
        raise Http404("No such extract request.") from missing


def protect_one_way(counts: dict, threshold: int) -> dict:
    """Withhold small counts of a one-way table so that none can be worked out.

    Counts from 1 to threshold - 1 are withheld; if that leaves the withheld cells' sum
    (which the total gives away) below the threshold, or only one cell withheld, the next
    smallest counts are withheld too. A withheld cell then lies anywhere in [0, sum] for
    someone who knows the total: an interval at least as wide as the threshold.
    """
    withheld = {key for key, n in counts.items() if 0 < n < threshold}
    others = sorted((n, str(key), key) for key, n in counts.items() if n and key not in withheld)
    while (
        withheld
        and (len(withheld) < 2 or sum(counts[key] for key in withheld) < threshold)
        and others
    ):
        withheld.add(others.pop(0)[2])
    return {key: (None if key in withheld else n) for key, n in counts.items()}


PORTAL_TABLES = ("year_registered", "sex", "citizenship", "exploitation_type")


def portal_counts(release: Release, variable_name: str, threshold: int) -> dict:
    """Persons and cases by one variable, with small counts withheld."""
    variable = cb.variable(variable_name)
    records = ResearchRecord.objects.filter(release=release)
    cases = dict(records.values_list(variable_name).annotate(n=Count("id")).order_by(variable_name))
    persons = dict(
        records.values_list(variable_name)
        .annotate(n=Count("person", distinct=True))
        .order_by(variable_name)
    )
    labels = {**variable.labels, **cb.MISSING_LABELS}
    protected_cases = protect_one_way(cases, threshold)
    protected_persons = protect_one_way(persons, threshold)
    rows = [
        {
            "code": code,
            "label": labels.get(code, str(code)),
            "cases": protected_cases[code],
            "persons": protected_persons.get(code),
        }
        for code in sorted(cases, key=lambda c: (c < 0, c))
    ]
    return {
        "variable": variable,
        "rows": rows,
        "total_cases": release.cases,
        "total_persons": release.persons,
        "threshold": threshold,
    }
