import re

from django import forms
from django.utils.translation import gettext_lazy as _

from research import codebook as cb
from research import regions
from research.models import MIN_K, Programme, Release
from research.reports import REPORT_TABLES


class PublishForm(forms.Form):
    as_of = forms.DateField(
        label=_("Cases registered up to"), widget=forms.DateInput(attrs={"type": "date"})
    )
    provisional = forms.BooleanField(label=_("Provisional"), required=False, initial=True)
    corrects = forms.ModelChoiceField(
        Release.objects.filter(status=Release.Status.APPROVED),
        label=_("Corrects release"),
        required=False,
    )
    change_note = forms.CharField(
        label=_("What changed (for a correction)"), widget=forms.Textarea, required=False
    )


class PolicyForm(forms.Form):
    k = forms.IntegerField(label=_("k (smallest group of persons in an extract)"), min_value=MIN_K)
    threshold = forms.IntegerField(label=_("Smallest published count"), min_value=2)
    max_suppressed_share = forms.FloatField(
        label=_("Largest share of records with a suppressed value"), min_value=0, max_value=0.5
    )
    note = forms.CharField(label=_("Why"), widget=forms.Textarea, required=False)


class ExtractRequestForm(forms.Form):
    release = forms.ModelChoiceField(
        Release.objects.filter(status=Release.Status.APPROVED), label=_("Release")
    )
    variables = forms.MultipleChoiceField(
        label=_("Variables"),
        choices=[(v.name, f"{v.name}: {v.label}") for v in cb.VARIABLES],
        widget=forms.CheckboxSelectMultiple,
    )
    filters = forms.CharField(
        label=_("Filters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, variable=code from the codebook, for example sex=1."),
    )
    purpose = forms.CharField(label=_("Purpose of the research"), widget=forms.Textarea)

    def clean_filters(self):
        return [line.strip() for line in self.cleaned_data["filters"].splitlines() if line.strip()]


class ExtractDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))], widget=forms.RadioSelect
    )
    k = forms.IntegerField(label=_("k"), min_value=MIN_K)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea, required=False)


TREND_VARIABLES = [
    (v.name, v.label)
    for v in cb.VARIABLES
    if v.name not in ("year_registered", "episode", "cases_of_person", "follow_up_visits")
    and v.kind in (cb.CATEGORICAL, cb.FLAG)
]


class TrendForm(forms.Form):
    variable = forms.ChoiceField(label=_("Counts by year and"), choices=TREND_VARIABLES)
    unit = forms.ChoiceField(
        label=_("Count"), choices=[("persons", _("persons")), ("cases", _("cases"))]
    )


class ReportForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    release = forms.ModelChoiceField(
        Release.objects.filter(status=Release.Status.APPROVED), label=_("Release")
    )
    year_from = forms.IntegerField(label=_("From year"), min_value=1990, max_value=2100)
    year_to = forms.IntegerField(label=_("To year"), min_value=1990, max_value=2100)
    region = forms.TypedChoiceField(
        label=_("Scope"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", _("Whole organisation"))]
        + [(code, name) for code, name in regions.REGIONS.items() if code],
        help_text=_("Cases identified in this region only."),
    )
    programme = forms.ModelChoiceField(
        Programme.objects.all(),
        label=_("Programme"),
        required=False,
        empty_label=_("None"),
        help_text=_(
            "Or a donor's programme: cases identified in its countries only. "
            "Leave the scope at the whole organisation."
        ),
    )
    tables = forms.MultipleChoiceField(
        label=_("Tables"),
        choices=[(key, title) for key, title, _column, _unit in REPORT_TABLES],
        widget=forms.CheckboxSelectMultiple,
    )
    method = forms.ChoiceField(
        label=_("Protection"),
        choices=[
            ("suppression", _("Cell suppression (exact counts; totals add up)")),
            ("rounding", _("10-5 rule: withhold below 10, round the rest to 5")),
        ],
    )
    introduction = forms.CharField(label=_("Introduction"), widget=forms.Textarea, required=False)

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("year_from") is not None
            and cleaned.get("year_to") is not None
            and cleaned["year_from"] > cleaned["year_to"]
        ):
            raise forms.ValidationError(_("The period ends before it starts."))
        if cleaned.get("region") and cleaned.get("programme") is not None:
            raise forms.ValidationError(
                _("Scope the report to a region or to a programme, not both.")
            )
        return cleaned


class ProgrammeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=Programme._meta.get_field("name").max_length)
    donor = forms.CharField(
        label=_("Donor"),
        required=False,
        max_length=Programme._meta.get_field("donor").max_length,
    )
    countries = forms.CharField(
        label=_("Countries of identification"),
        help_text=_(
            "ISO 3166-1 alpha-2 codes, separated by commas or spaces, for example UA, MD, RO."
        ),
    )

    def clean_countries(self):
        """The codes as typed; the service checks them against the codebook's countries."""
        return [code for code in re.split(r"[\s,;]+", self.cleaned_data["countries"]) if code]
