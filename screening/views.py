"""Screening pages: overview, the resumable wizard, the printable summary, review."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from casework.access import Perm, access_case, case_missions_for, requires
from casework.audit import Action, audit_record
from interviews.wizard import InterviewWizard
from screening import selectors, services
from screening.forms import CORRECTION_FORM, SECTION_FORMS, ReviewForm
from screening.models import ScreeningDraft
from screening.questionnaire import QUESTIONNAIRE
from screening.rules import assess


@method_decorator(requires(Perm.SCREENING_EDIT), name="dispatch")
class ScreeningWizard(InterviewWizard):
    questionnaire = QUESTIONNAIRE
    draft_model = ScreeningDraft
    permission = Perm.SCREENING_EDIT
    form_list = list(SECTION_FORMS.items())
    template_name = "screening/wizard.html"
    title = _lazy("Screening Interview Form")
    overview_url = "screening_overview"
    step_saved_action = Action.SCREENING_STEP_SAVED
    viewed_action = Action.SCREENING_NARRATIVES_VIEWED

    def get_form_list(self):
        forms = super().get_form_list()
        if self.draft.corrects_id:
            forms["assessment"] = CORRECTION_FORM
        return forms

    def extra_form_kwargs(self, step, answers):
        if step == "assessment":
            return {"assessment": assess(answers.merged_values(), answers.states())}
        return {}

    def section_saved(self, form):
        if form.section.key == "consent":
            services.record_interview_consent(
                actor=self.request.user,
                case=self.case,
                decided_on=form.cleaned_data["consent_date"],
            )

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        context["assessment"] = getattr(form, "assessment", None)
        return context

    def submit(self, answers, form_dict):
        version = services.screening_submit(
            actor=self.request.user,
            draft=self.draft,
            expected_version=self.draft.version,
            answers=answers,
            correction_reason=form_dict["assessment"].cleaned_data.get("correction_reason", ""),
        )
        messages.success(
            self.request, _("Screening form submitted for the manager's confirmation.")
        )
        return version

    def submitted_url(self, version):
        return reverse("screening_summary", args=[self.case.public_id, version.number])


@requires(Perm.CASE_VIEW)
def screening_overview(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id)
    return render(
        request,
        "screening/overview.html",
        {
            "case": case,
            **selectors.screening_panel(request.user, case),
            "review_form": ReviewForm(),
        },
    )


@requires(Perm.SCREENING_EDIT)
@require_POST
def screening_start(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.SCREENING_EDIT)
    try:
        services.screening_start(actor=request.user, case=case)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("screening_overview", public_id=case.public_id)
    return redirect("screening_wizard", public_id=case.public_id)


@requires(Perm.SCREENING_EDIT)
@require_POST
def screening_correct(request: HttpRequest, public_id, number: int) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.SCREENING_EDIT)
    version = _version_of(case, number)
    try:
        services.screening_correct(actor=request.user, version=version)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("screening_overview", public_id=case.public_id)
    return redirect("screening_wizard", public_id=case.public_id)


@requires(Perm.SCREENING_REVIEW)
@require_POST
def screening_review(request: HttpRequest, public_id, number: int) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.SCREENING_REVIEW)
    version = _version_of(case, number)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("screening_overview", public_id=case.public_id)
    confirm = form.cleaned_data["decision"] == "confirm"
    try:
        services.screening_review(
            actor=request.user,
            version=version,
            confirm=confirm,
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(
            request,
            _("Determination confirmed.") if confirm else _("Form returned to the caseworkers."),
        )
    return redirect("screening_overview", public_id=case.public_id)


@requires(Perm.CASE_VIEW)
def screening_summary(request: HttpRequest, public_id, number: int) -> HttpResponse:
    case = access_case(request.user, public_id)
    version = _version_of(case, number)
    audit_record(
        action=Action.SCREENING_NARRATIVES_VIEWED,
        actor=request.user,
        case=case,
        request=request,
        detail={"version": version.number},
    )
    return render(
        request,
        "screening/summary.html",
        {
            "case": case,
            "version": version,
            "rows": selectors.summary_rows(version),
            "can_review": bool(case_missions_for(request.user, case, Perm.SCREENING_REVIEW)),
        },
    )


def _version_of(case, number):
    try:
        return case.screenings.select_related("interviewer", "reviewed_by", "mission").get(
            number=number
        )
    except case.screenings.model.DoesNotExist as missing:
        raise Http404 from missing
