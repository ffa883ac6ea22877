"""Assistance pages: the interview, services, return, reintegration, dashboard, export."""

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from assistance import charts, exports, selectors, services
from assistance import vocabularies as v
from assistance.forms import (
    CORRECTION_FORM,
    SECTION_FORMS,
    ArrivalForm,
    CancelReturnForm,
    DashboardFilterForm,
    ExportForm,
    FollowUpForm,
    ReintegrationPlanForm,
    ReturnForm,
    ScheduleVisitForm,
    ServiceForm,
)
from assistance.models import AssistanceDraft, FollowUpVisit, ServiceRecord
from assistance.questionnaire import QUESTIONNAIRE
from casework.access import Perm, access_case, acts_for, has_perm, mission_ids_with, requires
from casework.audit import Action, audit_record
from casework.models import Mission
from casework.views import apply_service_errors
from interviews import display
from interviews.services import stored_answers
from interviews.wizard import InterviewWizard


def _back_to_case(case, anchor="assistance"):
    return redirect(reverse("case_detail", args=[case.public_id]) + f"#{anchor}")


def _form_page(request, case, form, *, title, submit, status=None, intro=""):
    return render(
        request,
        "_form_page.html",
        {"case": case, "form": form, "title": title, "submit": submit, "intro": intro},
        status=status or (400 if form.errors else 200),
    )


# The Assistance Interview Form ---------------------------------------------------------


@method_decorator(requires(Perm.CASE_EDIT), name="dispatch")
class AssistanceWizard(InterviewWizard):
    questionnaire = QUESTIONNAIRE
    draft_model = AssistanceDraft
    permission = Perm.CASE_EDIT
    form_list = list(SECTION_FORMS.items())
    title = _lazy("Assistance Interview Form")
    overview_url = "case_detail"
    step_saved_action = Action.ASSISTANCE_STEP_SAVED
    viewed_action = Action.ASSISTANCE_NARRATIVES_VIEWED

    def get_form_list(self):
        forms = super().get_form_list()
        if self.draft.corrects_id:
            forms["plan"] = CORRECTION_FORM
        return forms

    def submit(self, answers, form_dict):
        version = services.assistance_interview_submit(
            actor=self.request.user,
            draft=self.draft,
            expected_version=self.draft.version,
            answers=answers,
            correction_reason=form_dict["plan"].cleaned_data.get("correction_reason", ""),
        )
        messages.success(self.request, _("Assistance interview saved."))
        return version

    def submitted_url(self, version):
        return reverse("assistance_summary", args=[self.case.public_id, version.number])


@requires(Perm.CASE_EDIT)
@require_POST
def assistance_start(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_EDIT)
    try:
        services.assistance_interview_start(actor=request.user, case=case)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return _back_to_case(case)
    return redirect("assistance_wizard", public_id=case.public_id)


@requires(Perm.CASE_EDIT)
@require_POST
def assistance_correct(request: HttpRequest, public_id, number: int) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_EDIT)
    version = case.assistance_interviews.filter(number=number).first()
    if version is None:
        raise Http404
    try:
        services.assistance_interview_correct(actor=request.user, version=version)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return _back_to_case(case)
    return redirect("assistance_wizard", public_id=case.public_id)


@requires(Perm.CASE_VIEW)
def assistance_summary(request: HttpRequest, public_id, number: int) -> HttpResponse:
    case = access_case(request.user, public_id)
    version = case.assistance_interviews.select_related("interviewer").filter(number=number).first()
    if version is None:
        raise Http404
    audit_record(
        action=Action.ASSISTANCE_NARRATIVES_VIEWED,
        actor=request.user,
        case=case,
        request=request,
        detail={"version": version.number},
    )
    answers = stored_answers(QUESTIONNAIRE, version)
    questions = QUESTIONNAIRE.questions
    corrections = [
        (
            questions[key],
            display.shown(questions[key], change["from"]),
            display.shown(questions[key], change["to"]),
        )
        for key, change in version.screening_corrections.items()
    ]
    return render(
        request,
        "assistance/summary.html",
        {
            "case": case,
            "version": version,
            "rows": display.summary_rows(answers),
            "corrections": corrections,
        },
    )


# Services ------------------------------------------------------------------------------


def _service_form(request, case, service=None):
    missions = Mission.objects.filter(
        pk__in=[
            m
            for m in (
                case.registering_mission_id,
                case.destination_mission_id,
                case.source_mission_id,
            )
            if m
        ]
    )
    initial = {}
    if service is not None:
        initial = {
            f: getattr(service, f)
            for f in (
                "service_type",
                "status",
                "provider_mission",
                "partner_name",
                "start_date",
                "end_date",
                "cost",
                "currency",
                "notes",
                "version",
            )
        }
    return ServiceForm(request.POST or None, initial=initial, missions=missions)


@requires(Perm.CASE_EDIT)
@require_http_methods(["GET", "POST"])
def service_create(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_EDIT)
    form = _service_form(request, case)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_record(actor=request.user, case=case, data=form.service_data())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Service recorded."))
            return _back_to_case(case, "services")
    return _form_page(request, case, form, title=_("Record a service"), submit=_("Record"))


@requires(Perm.CASE_EDIT)
@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, public_id, service_id: int) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_EDIT)
    try:
        service = case.services.get(pk=service_id)
    except ServiceRecord.DoesNotExist as missing:
        raise Http404 from missing
    form = _service_form(request, case, service)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_update(
                actor=request.user,
                service=service,
                expected_version=form.cleaned_data["version"] or 0,
                data=form.service_data(),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Service updated."))
            return _back_to_case(case, "services")
    return _form_page(request, case, form, title=_("Edit a service"), submit=_("Save"))


# Return --------------------------------------------------------------------------------


@requires(Perm.CASE_EDIT)
@require_http_methods(["GET", "POST"])
def return_plan(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_EDIT)
    if not acts_for(request.user, case, Perm.CASE_EDIT, case.destination_mission_id):
        raise Http404  # the destination mission plans the return
    form = ReturnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.return_plan(actor=request.user, case=case, data=form.return_data())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Return planned; the source mission confirms the arrival."))
            return _back_to_case(case, "return")
    return _form_page(request, case, form, title=_("Plan the return"), submit=_("Plan the return"))


def _movement(case, movement_id):
    movement = case.returns.filter(pk=movement_id).first()
    if movement is None:
        raise Http404
    return movement


@requires(Perm.CASE_EDIT)
@require_http_methods(["GET", "POST"])
def return_arrival(request: HttpRequest, public_id, movement_id: int) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_EDIT)
    movement = _movement(case, movement_id)
    if not acts_for(request.user, case, Perm.CASE_EDIT, movement.to_mission_id):
        raise Http404  # only the receiving mission confirms an arrival
    form = ArrivalForm(request.POST or None, initial={"arrival_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.return_confirm_arrival(
                actor=request.user,
                movement=movement,
                arrival_date=form.cleaned_data["arrival_date"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Arrival confirmed."))
            return _back_to_case(case, "return")
    return _form_page(request, case, form, title=_("Confirm the arrival"), submit=_("Confirm"))


@requires(Perm.CASE_EDIT)
@require_http_methods(["GET", "POST"])
def return_cancel(request: HttpRequest, public_id, movement_id: int) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_EDIT)
    movement = _movement(case, movement_id)
    if not acts_for(request.user, case, Perm.CASE_EDIT, movement.from_mission_id):
        raise Http404  # only the sending mission cancels a return
    form = CancelReturnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.return_cancel(
                actor=request.user, movement=movement, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Return cancelled."))
            return _back_to_case(case, "return")
    return _form_page(
        request, case, form, title=_("Cancel the return"), submit=_("Cancel the return")
    )


# Reintegration -------------------------------------------------------------------------


@requires(Perm.CASE_EDIT)
@require_http_methods(["GET", "POST"])
def reintegration_plan(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_EDIT)
    if not selectors.assistance_panel(request.user, case)["can_plan_reintegration"]:
        raise Http404  # the receiving mission plans reintegration once the person arrived
    form = ReintegrationPlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reintegration_plan(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Reintegration plan saved, follow-up visits scheduled."))
            return _back_to_case(case, "reintegration")
    return _form_page(request, case, form, title=_("Plan reintegration"), submit=_("Save the plan"))


def _visit(case, visit_id):
    visit = (
        FollowUpVisit.objects.filter(pk=visit_id, plan__case=case).select_related("plan").first()
    )
    if visit is None:
        raise Http404
    return visit


@requires(Perm.CASE_EDIT)
@require_http_methods(["GET", "POST"])
def follow_up_record(request: HttpRequest, public_id, visit_id: int) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_EDIT)
    visit = _visit(case, visit_id)
    if not acts_for(request.user, case, Perm.CASE_EDIT, visit.plan.mission_id):
        raise Http404  # follow-up visits belong to the mission running reintegration
    form = FollowUpForm(request.POST or None, initial={"visited_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.follow_up_record(
                actor=request.user,
                visit=visit,
                visited_on=form.cleaned_data["visited_on"],
                situation=form.cleaned_data["situation"],
                scores=form.scores(),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Follow-up visit recorded."))
            return _back_to_case(case, "reintegration")
    return _form_page(
        request,
        case,
        form,
        title=_("Follow-up visit due %(date)s") % {"date": visit.due_on.isoformat()},
        submit=_("Record the visit"),
    )


@requires(Perm.CASE_EDIT)
@require_POST
def follow_up_missed(request: HttpRequest, public_id, visit_id: int) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_EDIT)
    try:
        services.follow_up_missed(actor=request.user, visit=_visit(case, visit_id))
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    return _back_to_case(case, "reintegration")


@requires(Perm.CASE_EDIT)
@require_http_methods(["GET", "POST"])
def follow_up_schedule(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_EDIT)
    plan = getattr(case, "reintegration_plan", None)
    if plan is None:
        raise Http404
    form = ScheduleVisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.follow_up_schedule(
                actor=request.user, plan=plan, due_on=form.cleaned_data["due_on"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Visit scheduled."))
            return _back_to_case(case, "reintegration")
    return _form_page(request, case, form, title=_("Schedule a visit"), submit=_("Schedule"))


# Dashboard and export ------------------------------------------------------------------


def _dashboard_missions(user):
    return Mission.objects.filter(pk__in=mission_ids_with(user, Perm.DASHBOARD_VIEW))


@requires(Perm.DASHBOARD_VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    missions = _dashboard_missions(request.user)
    today = timezone.localdate()
    filters = DashboardFilterForm(request.GET or None, missions=missions)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    mission = criteria.get("mission") or missions.first()
    since = criteria.get("since") or date(today.year - 1, today.month, 1)
    until = criteria.get("until") or today
    data = selectors.mission_dashboard(mission, since=since, until=until, today=today)
    dimension_labels = dict(v.DIMENSIONS)
    return render(
        request,
        "assistance/dashboard.html",
        {
            "filters": filters,
            "d": data,
            "status_chart": charts.bar_chart(
                [(label, n) for _code, label, n in data.by_status], _("Cases by status")
            ),
            "services_chart": charts.bar_chart(
                [(label, n) for _code, label, n in data.services_by_type], _("Services delivered")
            ),
            "scores_chart": charts.score_chart(
                data.scores, dimension_labels, _("Months since return")
            ),
            "dimension_labels": dimension_labels,
            "can_export_identifiers": has_perm(request.user, Perm.EXPORT_IDENTIFIERS),
        },
    )


@requires(Perm.CASE_EXPORT)
def dashboard_export(request: HttpRequest) -> HttpResponse:
    missions = Mission.objects.filter(pk__in=mission_ids_with(request.user, Perm.CASE_EXPORT))
    form = ExportForm(request.GET)
    try:
        mission = missions.get(pk=request.GET.get("mission"))
    except (Mission.DoesNotExist, ValueError, TypeError) as missing:
        raise Http404 from missing
    if not form.is_valid():
        return HttpResponse(_("Choose CSV or XLSX."), status=400, content_type="text/plain")
    identifiers = form.cleaned_data["include_identifiers"]
    if identifiers and mission.pk not in mission_ids_with(request.user, Perm.EXPORT_IDENTIFIERS):
        identifiers = False
    fmt = form.cleaned_data["format"]
    audit_record(
        action=Action.EXPORT,
        actor=request.user,
        mission=mission,
        request=request,
        detail={"what": "mission_cases", "format": fmt, "identifiers": identifiers},
    )
    name = f"cases-{mission.code}-{timezone.localdate().isoformat()}"
    if fmt == "csv":
        response = StreamingHttpResponse(
            exports.csv_stream(mission, identifiers), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    return FileResponse(
        exports.xlsx_file(mission, identifiers),
        as_attachment=True,
        filename=f"{name}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
