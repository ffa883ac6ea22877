"""Forms of an interview wizard, built from the questionnaire definitions."""

from collections.abc import Callable

from django import forms
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from casework.forms import DateInput, language_choices
from casework.widgets import FastSelect, FastSelectMultiple
from interviews import questionnaire as qn

BLANK = [("", "—")]


class RouteWidget(forms.MultiWidget):
    use_fieldset = True

    def __init__(self, attrs=None):
        choices = [("", "—"), *countries]
        super().__init__([FastSelect(choices=choices) for _ in range(qn.ROUTE_LENGTH)], attrs)

    def decompress(self, value):
        value = list(value or [])
        return value + [""] * (qn.ROUTE_LENGTH - len(value))

    def render(self, name, value, attrs=None, renderer=None):
        """Each box through FastSelect.render (the template path would render every option)."""
        if not isinstance(value, list):
            value = self.decompress(value)
        final = self.build_attrs(self.attrs, attrs)
        base_id = final.pop("id", None)
        boxes = []
        for index, widget in enumerate(self.widgets):
            box_attrs = {**final, **({"id": f"{base_id}_{index}"} if base_id else {})}
            box_value = value[index] if index < len(value) else None
            boxes.append(widget.render(f"{name}_{index}", box_value, box_attrs, renderer))
        return mark_safe(f'<div class="route">{"".join(boxes)}</div>')  # noqa: S308  (escaped by FastSelect)


class RouteField(forms.MultiValueField):
    """An ordered list of countries, without gaps."""

    widget = RouteWidget

    def __init__(self, **kwargs):
        codes = [("", "—"), *countries]
        fields = [forms.ChoiceField(choices=codes, required=False) for _ in range(qn.ROUTE_LENGTH)]
        super().__init__(fields=fields, require_all_fields=False, **kwargs)
        # Each box is named after the question, as the group's legend is not read per box.
        for number, select in enumerate(self.widget.widgets, start=1):
            select.attrs["aria-label"] = format_lazy("{}, {} {}", self.label, _("country"), number)

    def compress(self, data_list):
        codes = list(data_list or [])
        filled = [c for c in codes if c]
        if filled and codes[: len(filled)] != filled:
            raise forms.ValidationError(
                _("List the countries in order, without empty boxes between.")
            )
        return filled


def field_for(question: qn.Question) -> forms.Field:
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
        return forms.ChoiceField(choices=BLANK + list(countries), widget=FastSelect, **common)
    if kind == qn.COUNTRIES:
        return forms.MultipleChoiceField(
            choices=list(countries), widget=FastSelectMultiple(attrs={"size": 6}), **common
        )
    if kind == qn.ROUTE:
        return RouteField(**common)
    if kind == qn.LANGUAGE:
        return forms.ChoiceField(
            choices=lambda: BLANK + language_choices()[1:], widget=FastSelect, **common
        )
    if kind == qn.LANGUAGES:
        return forms.MultipleChoiceField(
            choices=lambda: language_choices()[1:],
            widget=FastSelectMultiple(attrs={"size": 6}),
            **common,
        )
    if kind == qn.TEXT:
        return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), **common)
    raise ValueError(kind)


CrossFieldRules = Callable[[dict, object], list[tuple[str, str]]]


class SectionForm(forms.Form):
    """One section of a questionnaire; knows the other sections' answers for cross-checks."""

    section: qn.Section
    cross_field_rules: CrossFieldRules | None = None

    def __init__(self, *args, other_answers: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.other_answers = other_answers or {}

    def clean(self):
        cleaned = super().clean()
        for question in self.section.questions:
            if question.key in self.errors:
                continue
            value = cleaned.get(question.key)
            code = cleaned.get(qn.missing_key(question.key)) if question.allow_missing else None
            if code and not qn.is_blank(value):
                self.add_error(
                    question.key, _("Give an answer or say why there is none, not both.")
                )
            elif question.required and not code and qn.is_blank(value):
                self.add_error(
                    question.key,
                    _("Answer this question, or mark it unknown, declined or not applicable.")
                    if question.allow_missing
                    else _("This question must be answered."),
                )
        if self.cross_field_rules is not None:
            values = {**self.other_answers}
            for question in self.section.questions:
                value = cleaned.get(question.key)
                values[question.key] = None if qn.is_blank(value) else value
            own = {q.key for q in self.section.questions}
            rules = type(self).cross_field_rules
            for key, message in rules(values, timezone.localdate()):
                if key in own and key not in self.errors:
                    self.add_error(key, message)
        return cleaned

    def question_rows(self):
        """Pairs of (value field, missing-code field or None) for the template."""
        for question in self.section.questions:
            missing = qn.missing_key(question.key)
            yield self[question.key], (self[missing] if missing in self.fields else None)


def build_section_form(section: qn.Section, base: type[SectionForm]) -> type[SectionForm]:
    attrs = {"section": section}
    for question in section.questions:
        attrs[question.key] = field_for(question)
        if question.allow_missing:
            attrs[qn.missing_key(question.key)] = forms.ChoiceField(
                label=_("No answer"), choices=BLANK + qn.MISSING, required=False
            )
    return type(f"{section.key.title().replace('_', '')}Form", (base,), attrs)


def build_section_forms(
    questionnaire: qn.Questionnaire, base: type[SectionForm], special: dict | None = None
) -> dict[str, type[SectionForm]]:
    special = special or {}
    return {s.key: build_section_form(s, special.get(s.key, base)) for s in questionnaire.sections}
