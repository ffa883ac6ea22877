"""Forms of the screening wizard, built from the questionnaire definitions."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from casework.forms import DateInput, language_choices
from screening import questionnaire as qn
from screening import rules
from screening.vocabularies import MISSING

BLANK = [("", "—")]


class RouteWidget(forms.MultiWidget):
    def __init__(self, attrs=None):
        choices = [("", "—"), *countries]
        super().__init__([forms.Select(choices=choices) for _ in range(qn.ROUTE_LENGTH)], attrs)

    def decompress(self, value):
        value = list(value or [])
        return value + [""] * (qn.ROUTE_LENGTH - len(value))


class RouteField(forms.MultiValueField):
    """An ordered list of countries, without gaps."""

    widget = RouteWidget

    def __init__(self, **kwargs):
        codes = [("", "—"), *countries]
        fields = [forms.ChoiceField(choices=codes, required=False) for _ in range(qn.ROUTE_LENGTH)]
        super().__init__(fields=fields, require_all_fields=False, **kwargs)

    def compress(self, data_list):
        codes = list(data_list or [])
        filled = [c for c in codes if c]
        if filled and codes[: len(filled)] != filled:
            raise forms.ValidationError(
                _("List the countries in order, without empty boxes between.")
            )
        return filled


def _field_for(question: qn.Question) -> forms.Field:
    common = {"label": question.label, "required": False, "help_text": question.help}
    kind = question.kind
    if kind == qn.DATE:
        return forms.DateField(widget=DateInput(), **common)
    if kind == qn.INTEGER:
        return forms.IntegerField(
            min_value=question.min_value, max_value=question.max_value, **common
        )
    if kind == qn.CHOICE:
        return forms.ChoiceField(choices=BLANK + list(question.choices), **common)
    if kind == qn.MULTI:
        return forms.MultipleChoiceField(
            choices=question.choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == qn.COUNTRY:
        return forms.ChoiceField(choices=BLANK + list(countries), **common)
    if kind == qn.COUNTRIES:
        return forms.MultipleChoiceField(
            choices=list(countries), widget=forms.SelectMultiple(attrs={"size": 6}), **common
        )
    if kind == qn.ROUTE:
        return RouteField(**common)
    if kind == qn.LANGUAGE:
        return forms.ChoiceField(choices=BLANK + language_choices()[1:], **common)
    if kind == qn.LANGUAGES:
        return forms.MultipleChoiceField(
            choices=language_choices()[1:],
            widget=forms.SelectMultiple(attrs={"size": 6}),
            **common,
        )
    if kind == qn.TEXT:
        return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), **common)
    raise ValueError(kind)


class SectionForm(forms.Form):
    """One section of the questionnaire; knows the other sections' answers for cross-checks."""

    section: qn.Section

    def __init__(self, *args, other_answers: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.other_answers = other_answers or {}

    def clean(self):
        cleaned = super().clean()
        for question in self.section.questions:
            value = cleaned.get(question.key)
            code = cleaned.get(qn.missing_key(question.key)) if question.allow_missing else None
            if question.key in self.errors:
                continue
            if code and not qn.is_blank(value):
                self.add_error(
                    question.key,
                    _("Give an answer or say why there is none, not both."),
                )
            elif question.required and not code and qn.is_blank(value):
                self.add_error(
                    question.key,
                    _("Answer this question, or mark it unknown, declined or not applicable.")
                    if question.allow_missing
                    else _("This question must be answered."),
                )
        values = {**self.other_answers}
        for question in self.section.questions:
            values[question.key] = (
                None if qn.is_blank(cleaned.get(question.key)) else cleaned.get(question.key)
            )
        own = {q.key for q in self.section.questions}
        for key, message in rules.cross_field_errors(values, timezone.localdate()):
            if key in own and key not in self.errors:
                self.add_error(key, message)
        return cleaned

    def question_rows(self):
        """Pairs of (value field, missing-code field or None) for the template."""
        for question in self.section.questions:
            missing = qn.missing_key(question.key)
            yield self[question.key], (self[missing] if missing in self.fields else None)


class ConsentSectionForm(SectionForm):
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


class AssessmentSectionForm(SectionForm):
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


def _build(section: qn.Section, base: type[SectionForm]) -> type[SectionForm]:
    attrs = {"section": section}
    for question in section.questions:
        attrs[question.key] = _field_for(question)
        if question.allow_missing:
            attrs[qn.missing_key(question.key)] = forms.ChoiceField(
                label=_("No answer"), choices=BLANK + MISSING, required=False
            )
    return type(f"{section.key.title()}Form", (base,), attrs)


SPECIAL = {"consent": ConsentSectionForm, "assessment": AssessmentSectionForm}
SECTION_FORMS: dict[str, type[SectionForm]] = {
    s.key: _build(s, SPECIAL.get(s.key, SectionForm)) for s in qn.SECTIONS
}
CORRECTION_FORM = _build(qn.SECTIONS[-1], CorrectionSectionForm)


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
