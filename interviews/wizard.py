"""A resumable interview wizard on django-formtools, its state kept in a draft row.

Every step (forward, back, or "save and leave") is saved to the database, so an
interview survives a closed browser, a logout or a dropped connection and can be
resumed by any caseworker of the mission conducting it. Two people saving the same
draft are kept apart by the draft's version number.
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, SuspiciousOperation, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from formtools.wizard.storage.base import BaseStorage
from formtools.wizard.views import WizardView

from casework.access import Perm, access_case, case_missions_for
from casework.audit import audit_record
from interviews import services
from interviews.questionnaire import Answers, Questionnaire


class DraftStorage(BaseStorage):
    """Wizard state loaded from and saved to the draft row instead of the session."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_data()

    def load(self, state: str) -> None:
        self.init_data()
        stored = json.loads(state or "{}")
        for key in self.data:
            if stored.get(key) is not None:
                self.data[key] = stored[key]


class InterviewWizard(WizardView):
    """Base of an interview wizard; subclasses name their questionnaire, draft and submit."""

    storage_name = "interviews.wizard.DraftStorage"
    template_name = "interviews/wizard.html"
    questionnaire: Questionnaire
    draft_model = None
    permission = Perm.CASE_EDIT
    title = ""
    overview_url = ""
    step_saved_action = ""
    viewed_action = ""

    def dispatch(self, request, *args, **kwargs):
        self.case = access_case(request.user, kwargs["public_id"], self.permission)
        self.draft = self.draft_model.objects.filter(case=self.case).first()
        if self.draft is None:
            return redirect(self.overview_url, public_id=self.case.public_id)
        if self.draft.mission_id not in case_missions_for(request.user, self.case, self.permission):
            # Another mission taking part in the case conducts this interview.
            raise PermissionDenied
        self.finished = False
        return super().dispatch(request, *args, **kwargs)

    def get_prefix(self, request, *args, **kwargs):
        return "interview"

    # Answers kept in the wizard's extra data, updated whenever a step is valid.
    @property
    def answers(self) -> Answers:
        return Answers.from_dict(self.questionnaire, self.storage.extra_data.get("answers"))

    def _remember(self, form) -> None:
        answers = self.answers
        answers.update_section(form.section, form.cleaned_data)
        self._mark(form.section.key, complete=True, answers=answers)
        self.section_saved(form)

    def _mark(self, step: str, *, complete: bool, answers: Answers | None = None) -> None:
        extra = dict(self.storage.extra_data)
        completed = set(extra.get("completed", []))
        (completed.add if complete else completed.discard)(step)
        extra["completed"] = sorted(completed)
        if answers is not None:
            extra["answers"] = answers.as_dict()
        self.storage.extra_data = extra

    def section_saved(self, form) -> None:
        """Hook: a valid section was stored (e.g. record consent on the case)."""

    def extra_form_kwargs(self, step: str, answers: Answers) -> dict:
        """Hook: more keyword arguments for a section's form."""
        return {}

    def submit(self, answers: Answers, form_dict: dict):
        """Hook: lock the interview; return the submitted version."""
        raise NotImplementedError

    def submitted_url(self, version) -> str:
        raise NotImplementedError

    def get_form_initial(self, step):
        return self.answers.section_values(self.questionnaire.section(step))

    def get_form_kwargs(self, step=None):
        answers = self.answers
        section_of = self.questionnaire.section_of
        others = {k: v for k, v in answers.merged_values().items() if section_of[k] != step}
        return {"other_answers": others, **self.extra_form_kwargs(step, answers)}

    def process_step(self, form):
        self._remember(form)
        return super().process_step(form)

    def get(self, request, *args, **kwargs):
        self.storage.load(self.draft.state)
        step = self.storage.current_step or self.steps.first
        self.storage.current_step = step
        audit_record(
            action=self.viewed_action,
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
            return redirect(self.request.path)
        if self.request.POST.get(f"{self.prefix}-current_step") not in self.get_form_list():
            raise SuspiciousOperation("Unknown or missing wizard step.")
        if "save_and_leave" in self.request.POST:
            self._keep_current_page()
            messages.success(
                self.request, _("Draft saved. Any caseworker of the mission can resume it.")
            )
            response = redirect("case_detail", public_id=self.case.public_id)
        else:
            response = super().post(*args, **kwargs)
        if not self.finished:
            try:
                services.draft_save(
                    actor=self.request.user,
                    draft=self.draft,
                    expected_version=expected,
                    state=self.storage.data,
                    step=self.storage.current_step or "",
                    action=self.step_saved_action,
                )
            except ValidationError as conflict:
                transaction.set_rollback(True)
                messages.error(self.request, conflict.messages[0])
                return redirect(self.request.path)
        return response

    def _keep_current_page(self):
        """Store what is on the current page, valid or not, before leaving it."""
        form = self.get_form(data=self.request.POST)
        if form.is_valid():
            self._remember(form)
        else:
            self._mark(self.steps.current, complete=False)
        self.storage.set_step_data(self.steps.current, form.data)

    def render_goto_step(self, goto_step, **kwargs):
        self._keep_current_page()
        return super().render_goto_step(goto_step, **kwargs)

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        context.update(
            {
                "case": self.case,
                "draft": self.draft,
                "title": self.title,
                "sections": self.questionnaire.sections,
                "section": form.section,
                "completed": set(self.storage.extra_data.get("completed", [])),
            }
        )
        return context

    def done(self, form_list, form_dict, **kwargs):
        answers = Answers(self.questionnaire)
        for form in form_list:
            answers.update_section(form.section, form.cleaned_data)
        try:
            version = self.submit(answers, form_dict)
        except ValidationError as refused:
            messages.error(self.request, " ".join(refused.messages))
            return redirect(self.request.path)
        self.finished = True
        return redirect(self.submitted_url(version))
