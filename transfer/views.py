"""Upload → preview (a dry run) → confirm; the template; the export. Views stay thin."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casework.access import Perm, has_perm, mission_ids_with, missions_with, requires
from casework.audit import audit_record
from casework.models import Mission
from transfer import exports, services
from transfer.forms import ExportForm, UploadForm
from transfer.models import ImportPreview

SHOWN_ROWS = 1000


def _mission(user, perm: Perm, mission_id) -> Mission:
    """One of the user's missions for the permission, or 404 (not yours = not found)."""
    try:
        return missions_with(user, perm).get(pk=mission_id)
    except (Mission.DoesNotExist, ValueError, TypeError) as missing:
        raise Http404("No such mission.") from missing


def _preview(user, preview_id) -> ImportPreview:
    try:
        preview = ImportPreview.objects.select_related("mission").get(
            pk=preview_id, created_by=user
        )
    except (ImportPreview.DoesNotExist, ValueError, TypeError) as missing:
        raise Http404("No such import.") from missing
    _mission(user, Perm.IMPORT_CASES, preview.mission_id)
    return preview


def _report_context(report: services.ImportReport) -> dict:
    return {
        "report": report,
        "counts": report.counts,
        "shown_rows": report.rows[:SHOWN_ROWS],
        "hidden_rows": max(0, len(report.rows) - SHOWN_ROWS),
        "errors": report.errors,
    }


@requires(Perm.IMPORT_CASES)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    missions = list(missions_with(request.user, Perm.IMPORT_CASES))
    form = UploadForm(request.POST or None, request.FILES or None, missions=missions)
    export_form = None
    if has_perm(request.user, Perm.EXPORT_TEMPLATE):
        export_form = ExportForm(
            missions=missions_with(request.user, Perm.EXPORT_TEMPLATE), auto_id="export_%s"
        )
    context = {"form": form, "export_form": export_form}
    if request.method == "POST":
        mission = _mission(request.user, Perm.IMPORT_CASES, request.POST.get("mission"))
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                data = upload.read()
            finally:
                upload.close()  # a temporary upload file is deleted on close: none is kept
            report, preview = services.preview_create(
                actor=request.user,
                mission=mission,
                data=data,
                file_name=upload.name,
                day_first=form.cleaned_data["date_order"] == "day_first",
                all_or_nothing=form.cleaned_data["all_or_nothing"],
            )
            if preview is not None:
                return redirect("transfer_preview", preview_id=preview.pk)
            context["problem"] = report.problem
    return render(request, "transfer/upload.html", context, status=200)


@requires(Perm.IMPORT_CASES)
@require_GET
def import_preview(request: HttpRequest, preview_id) -> HttpResponse:
    preview = _preview(request.user, preview_id)
    report = services.preview_report(preview)
    context = {"preview": preview, "mission": preview.mission, **_report_context(report)}
    return render(request, "transfer/preview.html", context)


@requires(Perm.IMPORT_CASES)
@require_POST
def import_confirm(request: HttpRequest, preview_id) -> HttpResponse:
    preview = _preview(request.user, preview_id)
    report = services.preview_confirm(actor=request.user, preview=preview)
    if report.rolled_back:
        messages.error(request, _("Some rows are invalid: nothing was imported (all or nothing)."))
    else:
        messages.success(
            request,
            _(
                "Import done: %(created)d created, %(updated)d updated, %(skipped)d unchanged, "
                "%(error)d with errors."
            )
            % report.counts,
        )
    context = {"mission": preview.mission, "done": True, **_report_context(report)}
    return render(request, "transfer/preview.html", context)


@requires(Perm.IMPORT_CASES)
@require_POST
def import_cancel(request: HttpRequest, preview_id) -> HttpResponse:
    services.preview_cancel(preview=_preview(request.user, preview_id))
    messages.info(request, _("Import cancelled; nothing was imported."))
    return redirect("transfer_upload")


@requires(Perm.IMPORT_CASES)
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    file_format = request.GET.get("format", "xlsx")
    if file_format not in exports.FORMATS:
        return HttpResponse(_("Choose CSV or XLSX."), status=400, content_type="text/plain")
    response = HttpResponse(
        exports.template_file(file_format), content_type=exports.CONTENT_TYPES[file_format]
    )
    response["Content-Disposition"] = f'attachment; filename="case-import-template.{file_format}"'
    return response


@requires(Perm.EXPORT_TEMPLATE)
@require_GET
def mission_export(request: HttpRequest) -> HttpResponse:
    mission = _mission(request.user, Perm.EXPORT_TEMPLATE, request.GET.get("mission"))
    file_format = request.GET.get("format", "xlsx")
    if file_format not in exports.FORMATS:
        return HttpResponse(_("Choose CSV or XLSX."), status=400, content_type="text/plain")
    identifiers = mission.pk in mission_ids_with(request.user, Perm.EXPORT_IDENTIFIERS)
    data = exports.export_mission(mission, identifiers, file_format)
    audit_record(
        action=services.EXPORT_ACTION,
        actor=request.user,
        mission=mission,
        request=request,
        detail={
            "format": file_format,
            "identifiers": identifiers,
            "sha256": services.checksum(data),
        },
    )
    name = f"caseload-{mission.code}-{timezone.localdate().isoformat()}.{file_format}"
    response = HttpResponse(data, content_type=exports.CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
