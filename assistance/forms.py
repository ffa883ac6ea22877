"""Forms of assistance, return and reintegration: parse and check input."""

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assistance import vocabularies as v
from assistance.questionnaire import QUESTIONNAIRE
from assistance.services import DEFAULT_FOLLOW_UP_MONTHS, ReturnData, ServiceData
from casework.forms import DateInput
from casework.models import Mission
from interviews.forms import RouteField, SectionForm, build_section_form, build_section_forms


class CorrectionSectionForm(SectionForm):
    correction_reason = forms.CharField(
        label=_("Why is the submitted form being corrected?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


SECTION_FORMS = build_section_forms(QUESTIONNAIRE, SectionForm)
CORRECTION_FORM = build_section_form(QUESTIONNAIRE.sections[-1], CorrectionSectionForm)

CURRENCIES = ["EUR", "USD", "GBP", "CHF", "UAH", "MDL", "NGN", "VND", "NPR", "THB", "PLN", "AED"]


class ServiceForm(forms.Form):
    service_type = forms.ChoiceField(label=_("Service"), choices=v.SERVICE_TYPE)
    status = forms.ChoiceField(label=_("Status"), choices=v.SERVICE_STATUS)
    provider_mission = forms.ModelChoiceField(
        label=_("Provided by the mission"),
        queryset=Mission.objects.filter(is_active=True),
        required=False,
        empty_label=_("— a partner organisation —"),
    )
    partner_name = forms.CharField(
        label=_("or by the partner organisation"), max_length=150, required=False
    )
    start_date = forms.DateField(label=_("Start"), widget=DateInput())
    end_date = forms.DateField(label=_("End"), required=False, widget=DateInput())
    cost = forms.DecimalField(
        label=_("Cost"), required=False, min_value=Decimal(0), max_digits=12, decimal_places=2
    )
    currency = forms.ChoiceField(
        label=_("Currency"), required=False, choices=[("", "—"), *((c, c) for c in CURRENCIES)]
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, missions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if missions is not None:
            self.fields["provider_mission"].queryset = missions

    def clean(self):
        cleaned = super().clean()
        mission, partner = (
            cleaned.get("provider_mission"),
            (cleaned.get("partner_name") or "").strip(),
        )
        if "provider_mission" in cleaned and bool(mission) == bool(partner):
            self.add_error("partner_name", _("Name either the mission or a partner organisation."))
        if cleaned.get("cost") is not None and not cleaned.get("currency"):
            self.add_error("currency", _("Give the currency of the cost."))
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end cannot be before the start."))
        return cleaned

    def service_data(self) -> ServiceData:
        data = self.cleaned_data
        return ServiceData(
            service_type=data["service_type"],
            status=data["status"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            provider_mission=data["provider_mission"],
            partner_name=data["partner_name"].strip(),
            cost=data["cost"],
            currency=data["currency"],
            notes=data["notes"],
        )


class ReturnForm(forms.Form):
    travel_document = forms.ChoiceField(label=_("Travel document"), choices=v.TRAVEL_DOCUMENT)
    departure_date = forms.DateField(label=_("Departure date"), widget=DateInput())
    route = RouteField(label=_("Route"), required=False)
    escort = forms.ChoiceField(label=_("Escort"), choices=v.ESCORT)
    reception_arranged = forms.BooleanField(
        label=_("Reception by the source mission arranged"), required=False
    )
    reception_notes = forms.CharField(
        label=_("Reception arrangements"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def return_data(self) -> ReturnData:
        data = self.cleaned_data
        return ReturnData(
            travel_document=data["travel_document"],
            departure_date=data["departure_date"],
            escort=data["escort"],
            reception_arranged=data["reception_arranged"],
            route=tuple(data["route"] or ()),
            reception_notes=data["reception_notes"],
        )


class ArrivalForm(forms.Form):
    arrival_date = forms.DateField(label=_("Arrival date"), widget=DateInput())

    def clean_arrival_date(self):
        value = self.cleaned_data["arrival_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The arrival date cannot be in the future."))
        return value


class CancelReturnForm(forms.Form):
    note = forms.CharField(label=_("Why is the return cancelled?"), max_length=2000)


class ReintegrationPlanForm(forms.Form):
    economic_goals = forms.CharField(
        label=_("Economic goals"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    social_goals = forms.CharField(
        label=_("Social goals"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    psychosocial_goals = forms.CharField(
        label=_("Psychosocial goals"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    follow_up_months = forms.CharField(
        label=_("Follow-up visits, months after return"),
        initial=", ".join(str(m) for m in DEFAULT_FOLLOW_UP_MONTHS),
        max_length=60,
        help_text=_("Comma-separated, e.g. 3, 6, 12"),
    )

    def clean_follow_up_months(self):
        raw = self.cleaned_data["follow_up_months"]
        try:
            months = tuple(
                sorted({int(part) for part in raw.replace(";", ",").split(",") if part.strip()})
            )
        except ValueError as bad:
            raise forms.ValidationError(
                _("Give whole numbers of months, separated by commas.")
            ) from bad
        if not months or months[0] < 1 or months[-1] > 60:
            raise forms.ValidationError(_("Schedule visits between 1 and 60 months after return."))
        return months


class FollowUpForm(forms.Form):
    visited_on = forms.DateField(label=_("Visited on"), widget=DateInput())
    situation = forms.CharField(
        label=_("The person's situation"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    score_economic = forms.DecimalField(
        label=_("Economic score (0–1)"), min_value=0, max_value=1, decimal_places=2
    )
    score_social = forms.DecimalField(
        label=_("Social score (0–1)"), min_value=0, max_value=1, decimal_places=2
    )
    score_psychosocial = forms.DecimalField(
        label=_("Psychosocial score (0–1)"), min_value=0, max_value=1, decimal_places=2
    )

    def scores(self) -> dict:
        return {d: self.cleaned_data[f"score_{d}"] for d in ("economic", "social", "psychosocial")}


class ScheduleVisitForm(forms.Form):
    due_on = forms.DateField(label=_("Extra visit on"), widget=DateInput())


class DashboardFilterForm(forms.Form):
    mission = forms.ModelChoiceField(
        label=_("Mission"), queryset=Mission.objects.none(), required=False
    )
    since = forms.DateField(label=_("From"), required=False, widget=DateInput())
    until = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args, missions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mission"].queryset = missions
        self.fields["mission"].empty_label = None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] > cleaned["until"]:
            self.add_error("until", _("The end of the period is before its start."))
        return cleaned


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("xlsx", "XLSX")])
    include_identifiers = forms.BooleanField(required=False)
