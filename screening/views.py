"""Screening pages: overview, the resumable wizard, the printable summary, review."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, SuspiciousOperation, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from formtools.wizard.storage.base import BaseStorage
from formtools.wizard.views import WizardView

from casework.access import Perm, access_case, case_missions_for, requires
from casework.audit import Action, audit_record
from screening import selectors, services
from screening.forms import CORRECTION_FORM, SECTION_FORMS, ReviewForm
from screening.models import ScreeningDraft
from screening.questionnaire import SECTION_OF, SECTIONS, Answers
from screening.rules import assess


class DraftStorage(BaseStorage):
    """Wizard state kept in the case's ScreeningDraft row instead of the session.

    The view loads it from the draft and saves it back after every step, so any
    caseworker of the mission can resume the interview from any browser.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_data()

    def load(self, state: str) -> None:
        self.init_data()
        stored = json.loads(state or "{}")
        for key in self.data:
            if stored.get(key) is not None:
                self.data[key] = stored[key]

    @property
    def answers(self) -> Answers:
        return Answers.from_dict(self.extra_data.get("answers"))

    def remember(self, answers: Answers) -> None:
        self.extra_data = {**self.extra_data, "answers": answers.as_dict()}


@method_decorator(requires(Perm.SCREENING_EDIT), name="dispatch")
class ScreeningWizard(WizardView):
    storage_name = "screening.views.DraftStorage"
    template_name = "screening/wizard.html"
    form_list = list(SECTION_FORMS.items())

    def dispatch(self, request, *args, **kwargs):
        self.case = access_case(request.user, kwargs["public_id"], Perm.SCREENING_EDIT)
        self.draft = (
            ScreeningDraft.objects.filter(case=self.case).select_related("corrects").first()
        )
        if self.draft is None:
            return redirect("screening_overview", public_id=self.case.public_id)
        if self.draft.mission_id not in case_missions_for(
            request.user, self.case, Perm.SCREENING_EDIT
        ):
            # Another mission taking part in the case conducts this interview.
            raise PermissionDenied
        self.submitted_version = None
        return super().dispatch(request, *args, **kwargs)

    def get_prefix(self, request, *args, **kwargs):
        return "screening"

    def get_form_list(self):
        forms = super().get_form_list()
        if self.draft.corrects_id:
            forms["assessment"] = CORRECTION_FORM
        return forms

    def get_form_initial(self, step):
        return self.storage.answers.section_values(self._section(step))

    def get_form_kwargs(self, step=None):
        answers = self.storage.answers
        others = {k: v for k, v in answers.merged_values().items() if SECTION_OF[k] != step}
        kwargs = {"other_answers": others}
        if step == "assessment":
            kwargs["assessment"] = assess(answers.merged_values(), answers.states())
        return kwargs

    @staticmethod
    def _section(step):
        return next(s for s in SECTIONS if s.key == step)

    def _remember(self, form) -> None:
        answers = self.storage.answers
        answers.update_section(form.section, form.cleaned_data)
        self.storage.remember(answers)
        if form.section.key == "consent":
            services.record_interview_consent(
                actor=self.request.user,
                case=self.case,
                decided_on=form.cleaned_data["consent_date"],
            )

    def process_step(self, form):
        self._remember(form)
        return super().process_step(form)

    def get(self, request, *args, **kwargs):
        self.storage.load(self.draft.state)
        step = self.storage.current_step or self.steps.first
        self.storage.current_step = step
        audit_record(
            action=Action.SCREENING_NARRATIVES_VIEWED,
            actor=request.user,
            case=self.case,
            request=request,
            detail={"draft": True},
        )
        return self.render(self.get_form(step=step, data=self.storage.get_step_data(step)))

    @method_decorator(transaction.atomic)
    def post(self, *args, **kwargs):
        self.storage.load(self.draft.state)
        try:
            expected = int(self.request.POST.get("draft_version", ""))
        except ValueError:
            expected = -1
        if expected != self.draft.version:
            messages.error(self.request, services.DraftConflict().messages[0])
            return redirect("screening_wizard", public_id=self.case.public_id)
        if self.request.POST.get(f"{self.prefix}-current_step") not in self.get_form_list():
            raise SuspiciousOperation("Unknown or missing wizard step.")
        leaving = "save_and_leave" in self.request.POST
        if leaving:
            self._keep_current_page()
            response = redirect("case_detail", public_id=self.case.public_id)
            messages.success(
                self.request, _("Draft saved. Any caseworker of the mission can resume it.")
            )
        else:
            response = super().post(*args, **kwargs)
        if self.submitted_version is None:
            try:
                services.draft_save(
                    actor=self.request.user,
                    draft=self.draft,
                    expected_version=expected,
                    state=self.storage.data,
                    step=self.storage.current_step or "",
                )
            except ValidationError as conflict:
                transaction.set_rollback(True)
                messages.error(self.request, conflict.messages[0])
                return redirect("screening_wizard", public_id=self.case.public_id)
        return response

    def _keep_current_page(self):
        """Store what is on the current page, valid or not, before leaving it."""
        form = self.get_form(data=self.request.POST)
        if form.is_valid():
            self._remember(form)
        self.storage.set_step_data(self.steps.current, form.data)

    def render_goto_step(self, goto_step, **kwargs):
        self._keep_current_page()
        return super().render_goto_step(goto_step, **kwargs)

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        answers = self.storage.answers
        context.update(
            {
                "case": self.case,
                "draft": self.draft,
                "sections": SECTIONS,
                "section": form.section,
                "assessment": getattr(form, "assessment", None),
                "visited": set(self.storage.data.get("step_data", {})),
                "answered": answers,
            }
        )
        return context

    def done(self, form_list, form_dict, **kwargs):
        answers = Answers()
        for form in form_list:
            answers.update_section(form.section, form.cleaned_data)
        try:
            version = services.screening_submit(
                actor=self.request.user,
                draft=self.draft,
                expected_version=self.draft.version,
                answers=answers,
                correction_reason=form_dict["assessment"].cleaned_data.get("correction_reason", ""),
            )
        except ValidationError as refused:
            messages.error(self.request, " ".join(refused.messages))
            return redirect("screening_wizard", public_id=self.case.public_id)
        self.submitted_version = version
        messages.success(
            self.request, _("Screening form submitted for the manager's confirmation.")
        )
        return redirect("screening_summary", public_id=self.case.public_id, number=version.number)


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
