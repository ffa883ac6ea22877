"""The research portal: codebook, releases, counts and extracts. No casework in sight."""

import json
import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework.access import Perm, has_perm, requires
from casework.audit import Action, audit_record
from research import codebook as cb
from research import reports, selectors, services, tables
from research.extracts import FORMATS
from research.forms import (
    ExtractDecisionForm,
    ExtractRequestForm,
    PolicyForm,
    ProgrammeForm,
    PublishForm,
    ReportForm,
    TrendForm,
)


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@requires(Perm.RESEARCH_VIEW)
def portal(request: HttpRequest) -> HttpResponse:
    release = selectors.latest_release()
    policy = selectors.current_policy()
    tables = (
        [
            selectors.portal_counts(release, name, policy.threshold)
            for name in selectors.PORTAL_TABLES
        ]
        if release
        else []
    )
    return render(
        request,
        "research/portal.html",
        {
            "release": release,
            "tables": tables,
            "policy": policy,
            "manage": has_perm(request.user, Perm.RESEARCH_MANAGE),
            "can_request": has_perm(request.user, Perm.EXTRACT_REQUEST),
        },
    )


@requires(Perm.RESEARCH_VIEW)
def codebook(request: HttpRequest) -> HttpResponse:
    return render(
        request, "research/codebook.html", {"variables": cb.VARIABLES, "missing": cb.MISSING_LABELS}
    )


@requires(Perm.RESEARCH_VIEW)
def codebook_json(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(
        [v.describe() for v in cb.VARIABLES], safe=False, json_dumps_params={"indent": 2}
    )
    response["Content-Disposition"] = 'attachment; filename="codebook.json"'
    return response


@requires(Perm.RESEARCH_VIEW)
def release_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "research/release_list.html",
        {
            "releases": selectors.releases_for(request.user),
            "manage": has_perm(request.user, Perm.RESEARCH_MANAGE),
            "form": PublishForm(initial={"as_of": timezone.localdate()}),
        },
    )


@requires(Perm.RESEARCH_VIEW)
def release_detail(request: HttpRequest, number: int) -> HttpResponse:
    release = selectors.release_for(request.user, number)
    return render(
        request,
        "research/release_detail.html",
        {
            "release": release,
            "policy_json": json.dumps(release.policy),
            "manage": has_perm(request.user, Perm.RESEARCH_MANAGE),
        },
    )


@require_POST
@requires(Perm.RESEARCH_MANAGE)
def release_publish(request: HttpRequest) -> HttpResponse:
    form = PublishForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("research_releases")
    try:
        release = services.release_publish(actor=request.user, **form.cleaned_data)
    except ValidationError as error:
        _errors(request, error)
        return redirect("research_releases")
    messages.success(
        request,
        _("Release %(number)s published as a draft; check it and approve it.")
        % {"number": release.number},
    )
    return redirect("research_release", number=release.number)


@require_POST
@requires(Perm.RESEARCH_MANAGE)
def release_approve(request: HttpRequest, number: int) -> HttpResponse:
    release = selectors.release_for(request.user, number)
    try:
        services.release_approve(actor=request.user, release=release)
        messages.success(request, _("Release approved. It can no longer change."))
    except ValidationError as error:
        _errors(request, error)
    return redirect("research_release", number=number)


@require_POST
@requires(Perm.RESEARCH_MANAGE)
def release_discard(request: HttpRequest, number: int) -> HttpResponse:
    release = selectors.release_for(request.user, number)
    try:
        services.release_discard(actor=request.user, release=release)
        messages.success(request, _("Draft discarded."))
    except ValidationError as error:
        _errors(request, error)
        return redirect("research_release", number=number)
    return redirect("research_releases")


@requires(Perm.RESEARCH_MANAGE)
def policy(request: HttpRequest) -> HttpResponse:
    current = selectors.current_policy()
    form = PolicyForm(request.POST or None, initial=current.as_dict())
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_set(actor=request.user, **form.cleaned_data)
            messages.success(request, _("Disclosure policy saved."))
            return redirect("research_policy")
        except ValidationError as error:
            _errors(request, error)
    return render(request, "research/policy.html", {"form": form, "current": current})


@requires(Perm.RESEARCH_VIEW)
def extract_list(request: HttpRequest) -> HttpResponse:
    can_request = has_perm(request.user, Perm.EXTRACT_REQUEST)
    form = ExtractRequestForm(request.POST or None) if can_request else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                extract = services.extract_request(actor=request.user, **form.cleaned_data)
                messages.success(request, _("Request sent to the data protection officer."))
                return redirect("research_extract", pk=extract.pk)
            except ValidationError as error:
                _errors(request, error)
    return render(
        request,
        "research/extract_list.html",
        {
            "requests": selectors.extracts_for(request.user),
            "form": form,
            "manage": has_perm(request.user, Perm.RESEARCH_MANAGE),
        },
    )


@requires(Perm.RESEARCH_VIEW)
def extract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    extract = selectors.extract_for(request.user, pk)
    manage = has_perm(request.user, Perm.RESEARCH_MANAGE)
    form = None
    if manage and extract.status == extract.Status.PENDING:
        form = ExtractDecisionForm(
            request.POST or None, initial={"k": extract.k, "decision": "approve"}
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.extract_decide(
                    actor=request.user,
                    request=extract,
                    approve=form.cleaned_data["decision"] == "approve",
                    note=form.cleaned_data["note"],
                    k=form.cleaned_data["k"],
                )
                messages.success(request, _("Decision recorded."))
                return redirect("research_extract", pk=pk)
            except ValidationError as error:
                _errors(request, error)
    return render(
        request,
        "research/extract_detail.html",
        {
            "extract": extract,
            "form": form,
            "formats": FORMATS,
            "labels": {v.name: v.label for v in cb.VARIABLES},
        },
    )


@requires(Perm.RESEARCH_VIEW)
def extract_download(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    extract = selectors.extract_for(request.user, pk)
    try:
        content = services.extract_download(
            actor=request.user, request=extract, file_format=file_format
        )
    except ValidationError as error:
        _errors(request, error)
        return redirect("research_extract", pk=pk)
    response = HttpResponse(content, content_type="application/zip")
    name = f"extract-{extract.pk}-release-{extract.release.number}-{file_format}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@requires(Perm.RESEARCH_VIEW)
def trends(request: HttpRequest) -> HttpResponse:
    release = selectors.latest_release()
    form = TrendForm(request.GET or None, initial={"variable": "sex", "unit": "persons"})
    trend = None
    if release is not None and form.is_valid():
        definition = reports.definition(
            form.cleaned_data["variable"],
            form.cleaned_data["unit"],
            tables.SUPPRESSION,
            selectors.current_policy().threshold,
        )
        try:
            stored = tables.publish_table(release, definition)
            label = cb.variable(form.cleaned_data["variable"]).label
            trend = reports.trend(stored, f"{label} by year ({form.cleaned_data['unit']})")
        except tables.TableError as error:
            messages.error(request, str(error))
    return render(
        request,
        "research/trends.html",
        {
            "form": form,
            "release": release,
            "trend": trend,
            "manage": has_perm(request.user, Perm.RESEARCH_MANAGE),
        },
    )


@requires(Perm.RESEARCH_VIEW)
def trend_download(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    """A published table in its public form (one mark for every withheld count)."""
    from research.models import PublishedTable

    try:
        stored = PublishedTable.objects.select_related("release").get(
            pk=pk, release__status="approved"
        )
    except PublishedTable.DoesNotExist as missing:
        raise Http404("No such table.") from missing
    with tempfile.NamedTemporaryFile(suffix=f".{file_format}") as handle:
        tables.write(stored, handle.name, file_format, for_dpo=False)
        content = Path(handle.name).read_bytes()
    response = HttpResponse(content, content_type=DOWNLOAD_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="table-{stored.pk}.{file_format}"'
    return response


@requires(Perm.RESEARCH_MANAGE)
def release_tables(request: HttpRequest, number: int) -> HttpResponse:
    release = selectors.release_for(request.user, number)
    return render(
        request,
        "research/release_tables.html",
        {"release": release, "tables": release.tables.order_by("id"), "manage": True},
    )


@requires(Perm.RESEARCH_MANAGE)
def table_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The DPO's view: true counts, why each count is withheld, and its audited interval."""
    stored = selectors.table_for_dpo(request.user, pk)
    return render(
        request,
        "research/table_detail.html",
        {
            "table": stored,
            "names": [d["name"] for d in stored.dimensions],
            "cells": tables.cells(stored, for_dpo=True),
            "note": tables.footnote(stored, stored.release),
            "manage": True,
        },
    )


@requires(Perm.RESEARCH_VIEW)
def report_list(request: HttpRequest) -> HttpResponse:
    manage = has_perm(request.user, Perm.RESEARCH_MANAGE)
    form = ReportForm(request.POST or None) if manage else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                report = services.report_create(actor=request.user, **form.cleaned_data)
                messages.success(request, _("Report drafted: check it, then publish it."))
                return redirect("research_report", pk=report.pk)
            except ValidationError as error:
                _errors(request, error)
    return render(
        request,
        "research/report_list.html",
        {"reports": selectors.reports_for(request.user), "form": form, "manage": manage},
    )


@requires(Perm.RESEARCH_MANAGE)
def programme_list(request: HttpRequest) -> HttpResponse:
    """The DPO's programmes (a report may be scoped to one) and the form for a new one."""
    form = ProgrammeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            programme = services.programme_create(actor=request.user, **form.cleaned_data)
            messages.success(request, _("Programme %(name)s created.") % {"name": programme.name})
            return redirect("research_programmes")
        except ValidationError as error:
            form.add_error(None, error)
    return render(
        request,
        "research/programme_list.html",
        {"programmes": selectors.programmes_for(request.user), "form": form, "manage": True},
    )


@requires(Perm.RESEARCH_VIEW)
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_for(request.user, pk)
    return render(
        request,
        "research/report_detail.html",
        {
            "report": report,
            "trends": reports.report_trends(report),
            "doc": reports.documentation(report),
            "manage": has_perm(request.user, Perm.RESEARCH_MANAGE),
            "formats": REPORT_FORMATS,
        },
    )


@require_POST
@requires(Perm.RESEARCH_MANAGE)
def report_publish(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_for(request.user, pk)
    try:
        services.report_publish(actor=request.user, report=report)
        messages.success(request, _("Report published: donors can now read it."))
    except ValidationError as error:
        _errors(request, error)
    return redirect("research_report", pk=pk)


@requires(Perm.RESEARCH_VIEW)
def report_download(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    report = selectors.report_for(request.user, pk)
    if report.status != report.Status.PUBLISHED:
        messages.error(request, _("Publish the report before downloading it."))
        return redirect("research_report", pk=pk)
    content = REPORT_WRITERS[file_format](report)
    audit_record(
        action=Action.REPORT_DOWNLOADED,
        actor=request.user,
        obj=report,
        request=request,
        detail={"format": file_format},
    )
    response = HttpResponse(content, content_type=DOWNLOAD_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="report-{report.pk}.{file_format}"'
    return response


DOWNLOAD_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}
REPORT_FORMATS = ("html", "pdf", "csv", "xlsx")
REPORT_WRITERS = {
    "html": lambda report: reports.as_html(report).encode(),
    "pdf": reports.as_pdf,
    "csv": reports.as_csv,
    "xlsx": reports.as_xlsx,
}
