"""Forms of the screening wizard, built from the questionnaire definitions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from interviews.forms import SectionForm, build_section_form, build_section_forms
from screening import rules
from screening.questionnaire import QUESTIONNAIRE


class ScreeningSectionForm(SectionForm):
    cross_field_rules = staticmethod(rules.cross_field_errors)


class ConsentSectionForm(ScreeningSectionForm):
    def clean(self):
        cleaned = super().clean()
        for key in ("consent_interview", "consent_data_processing"):
            if cleaned.get(key) == "refused":
                self.add_error(
                    key,
                    _(
                        "Without this consent the interview cannot continue. Record the refusal "
                        "on the case and stop here."
                    ),
                )
        return cleaned


class AssessmentSectionForm(ScreeningSectionForm):
    def __init__(self, *args, assessment: rules.Assessment | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.assessment = assessment

    def clean(self):
        cleaned = super().clean()
        determination = cleaned.get("determination")
        if (
            self.assessment
            and determination
            and determination != self.assessment.suggestion
            and not (cleaned.get("rationale") or "").strip()
        ):
            self.add_error(
                "rationale",
                _("Explain why the determination differs from the suggestion."),
            )
        return cleaned


class CorrectionSectionForm(AssessmentSectionForm):
    correction_reason = forms.CharField(
        label=_("Why is the submitted form being corrected?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


SECTION_FORMS = build_section_forms(
    QUESTIONNAIRE,
    ScreeningSectionForm,
    {"consent": ConsentSectionForm, "assessment": AssessmentSectionForm},
)
CORRECTION_FORM = build_section_form(QUESTIONNAIRE.section("assessment"), CorrectionSectionForm)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("confirm", _("Confirm")), ("return", _("Return for changes"))],
        widget=forms.HiddenInput,
    )
    comment = forms.CharField(
        label=_("Comment"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "return" and not (cleaned.get("comment") or "").strip():
            self.add_error("comment", _("Say what needs to change."))
        return cleaned
