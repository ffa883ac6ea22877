from django import forms
from django.utils.translation import gettext_lazy as _

from research import codebook as cb
from research.models import MIN_K, Release


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
