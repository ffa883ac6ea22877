"""Reads of the research layer: policy, releases, extracts, the portal's counts, reports
and programmes."""

from django.db.models import QuerySet
from django.http import Http404

from casework.access import Perm, has_perm
from research import codebook as cb
from research.models import DisclosurePolicy, ExtractRequest, Release


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


def approved_release(spec: str) -> Release:
    """An approved release named by its number, or "latest"; LookupError if there is none."""
    if spec == "latest":
        release = latest_release()
        missing = "No release has been approved yet."
    else:
        release = Release.objects.filter(
            number=int(spec) if spec.isdigit() else -1, status=Release.Status.APPROVED
        ).first()
        missing = f"No approved release {spec!r}."
    if release is None:
        raise LookupError(missing)
    return release


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


PORTAL_TABLES = ("year_registered", "sex", "citizenship", "exploitation_type")


def portal_definitions(threshold: int) -> list:
    """The portal's counts: persons and cases by each of a few variables."""
    from research.tables import Definition

    return [
        Definition.make([name], None, {}, unit, "suppression", threshold)
        for name in PORTAL_TABLES
        for unit in ("persons", "cases")
    ]


def portal_counts(release: Release, variable_name: str, threshold: int) -> dict:
    """Persons and cases by one variable, as published (protected with the release's tables).

    Countries come under their regions: a region's row is a subtotal.
    """
    from research import tables

    by_unit = {}
    for unit in ("persons", "cases"):
        definition = tables.Definition.make(
            [variable_name], None, {}, unit, "suppression", threshold
        )
        try:
            stored = tables.publish_table(release, definition)
        except tables.TableError as refused:
            return {"variable": cb.variable(variable_name), "refused": str(refused)}
        by_unit[unit] = {cell[variable_name]: cell["count"] for cell in tables.cells(stored)}
        dimension = stored.dimensions[0]
    subtotals = {dimension["labels"][p] for p in dimension["parent"] if p > 0}
    rows = [
        {
            "label": label,
            "persons": by_unit["persons"].get(label, 0),  # absent: nobody
            "cases": by_unit["cases"].get(label, 0),
            "subtotal": label in subtotals,
        }
        for label in dimension["labels"][1:]
    ]
    return {
        "variable": cb.variable(variable_name),
        "rows": rows,
        "total_cases": by_unit["cases"]["Total"],
        "total_persons": by_unit["persons"]["Total"],
        "threshold": threshold,
    }


def reports_for(user) -> QuerySet:
    """Published reports for researchers and donors; drafts too for the DPO."""
    from research.models import Report

    reports = Report.objects.select_related("release")
    if has_perm(user, Perm.RESEARCH_MANAGE):
        return reports
    if has_perm(user, Perm.RESEARCH_VIEW):
        return reports.filter(status=Report.Status.PUBLISHED)
    return reports.none()


def report_for(user, pk):
    from research.models import Report

    try:
        return reports_for(user).get(pk=pk)
    except (Report.DoesNotExist, ValueError, TypeError) as missing:
        raise Http404("No such report.") from missing


def programmes_for(user) -> QuerySet:
    """Donors' programmes, for the DPO who defines them and scopes reports to them."""
    from research.models import Programme

    if has_perm(user, Perm.RESEARCH_MANAGE):
        return Programme.objects.all()
    return Programme.objects.none()


def table_for_dpo(user, pk):
    from research.models import PublishedTable

    if not has_perm(user, Perm.RESEARCH_MANAGE):
        raise Http404("No such table.")
    try:
        return PublishedTable.objects.select_related("release").get(pk=pk)
    except (PublishedTable.DoesNotExist, ValueError, TypeError) as missing:
        raise Http404("No such table.") from missing
