"""Forms: parse and check input; the services decide and write."""

from datetime import date

from django import forms
from django.conf.locale import LANG_INFO
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from casework.models import (
    AuditEvent,
    CaseStatus,
    ClosureReason,
    Consent,
    ConsentPurpose,
    DocumentType,
    Mission,
    Sex,
)
from casework.services import PersonData
from casework.widgets import FastSelect

OLDEST_BIRTH = date(1900, 1, 1)


def country_choices():
    return [("", _("Unknown")), *countries]


def language_choices():
    # Django's own catalogue translates the language names.
    named = sorted(
        (
            (code, gettext(info["name"]))
            for code, info in LANG_INFO.items()
            if len(code) == 2 and "name" in info
        ),
        key=lambda item: item[1],
    )
    return [("", _("Unknown")), *named]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _not_future(value: date | None, message: str) -> None:
    if value and value > timezone.localdate():
        raise forms.ValidationError(message)


class PersonFieldsForm(forms.Form):
    """A person's identifiers and attributes, as entered at registration or correction."""

    given_names = forms.CharField(label=_("Given names"), max_length=150)
    family_names = forms.CharField(label=_("Family names"), max_length=150)
    other_names = forms.CharField(
        label=_("Other names and aliases"), max_length=300, required=False
    )
    sex = forms.ChoiceField(label=_("Sex/gender"), choices=[("", "—"), *Sex.choices])
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())
    estimated_age = forms.IntegerField(
        label=_("Estimated age at registration (if the date of birth is unknown)"),
        required=False,
        min_value=0,
        max_value=120,
    )
    place_of_birth = forms.CharField(label=_("Place of birth"), max_length=150, required=False)
    citizenship = forms.ChoiceField(
        label=_("Citizenship"), choices=country_choices, required=False, widget=FastSelect
    )
    preferred_language = forms.ChoiceField(
        label=_("Preferred language"), choices=language_choices, required=False, widget=FastSelect
    )
    document_type = forms.ChoiceField(
        label=_("Identity document type"),
        choices=[("", _("None or unknown")), *DocumentType.choices],
        required=False,
    )
    document_number = forms.CharField(
        label=_("Identity document number"), max_length=60, required=False
    )
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    notes = forms.CharField(
        label=_("Notes"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        _not_future(value, _("The date of birth cannot be in the future."))
        if value and value < OLDEST_BIRTH:
            raise forms.ValidationError(_("The date of birth cannot be before 1900."))
        return value

    def clean(self):
        cleaned = super().clean()
        born = cleaned.get("date_of_birth")
        age = cleaned.get("estimated_age")
        if born and age is not None:
            actual = _age_on(born, timezone.localdate())
            if abs(actual - age) > 1:
                self.add_error(
                    "estimated_age",
                    _("The estimated age does not match the date of birth (age %(age)s).")
                    % {"age": actual},
                )
        if cleaned.get("document_number") and not cleaned.get("document_type"):
            self.add_error("document_type", _("Say which document the number belongs to."))
        return cleaned

    def person_data(self, *, on: date) -> PersonData:
        data = self.cleaned_data
        birth_year, estimated = None, False
        if data["date_of_birth"]:
            birth_year = data["date_of_birth"].year
        elif data["estimated_age"] is not None:
            birth_year, estimated = on.year - data["estimated_age"], True
        return PersonData(
            given_names=data["given_names"],
            family_names=data["family_names"],
            other_names=data["other_names"],
            sex=data["sex"],
            date_of_birth=data["date_of_birth"],
            place_of_birth=data["place_of_birth"],
            citizenship=data["citizenship"],
            preferred_language=data["preferred_language"],
            document_type=data["document_type"],
            document_number=data["document_number"],
            phone=data["phone"],
            address=data["address"],
            notes=data["notes"],
            birth_year=birth_year,
            birth_year_estimated=estimated,
        )

    @staticmethod
    def initial_from(person, *, on: date) -> dict:
        """Initial values to edit a person; an estimated age is given as of `on` (registration)."""
        initial = {
            field: getattr(person, field)
            for field in (
                "given_names",
                "family_names",
                "other_names",
                "sex",
                "date_of_birth",
                "place_of_birth",
                "citizenship",
                "preferred_language",
                "document_type",
                "document_number",
                "phone",
                "address",
                "notes",
            )
        }
        initial["citizenship"] = str(person.citizenship or "")
        if person.birth_year_estimated and person.birth_year:
            initial["estimated_age"] = on.year - person.birth_year
        return initial


def _age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class CaseFieldsForm(forms.Form):
    destination_mission = forms.ModelChoiceField(
        label=_("Destination mission"),
        queryset=Mission.objects.filter(is_active=True),
        help_text=_("Where the person was exploited or identified."),
    )
    source_mission = forms.ModelChoiceField(
        label=_("Source mission"),
        queryset=Mission.objects.filter(is_active=True),
        required=False,
        help_text=_("Where the person comes from and would return to, if known."),
    )
    country_of_exploitation = forms.ChoiceField(
        label=_("Country of exploitation"),
        choices=country_choices,
        required=False,
        widget=FastSelect,
    )
    identified_on = forms.DateField(label=_("Identified on"), widget=DateInput())
    registered_on = forms.DateField(label=_("Registered on"), widget=DateInput())

    def clean_identified_on(self):
        value = self.cleaned_data["identified_on"]
        _not_future(value, _("The identification date cannot be in the future."))
        return value

    def clean_registered_on(self):
        value = self.cleaned_data["registered_on"]
        _not_future(value, _("The registration date cannot be in the future."))
        return value

    def clean(self):
        cleaned = super().clean()
        identified, registered = cleaned.get("identified_on"), cleaned.get("registered_on")
        if identified and registered and identified > registered:
            self.add_error(
                "identified_on", _("A person is identified before, or on, the day of registration.")
            )
        destination, source = cleaned.get("destination_mission"), cleaned.get("source_mission")
        if destination and source and destination == source:
            self.add_error(
                "source_mission", _("The source mission must differ from the destination mission.")
            )
        return cleaned


class CaseRegisterForm(CaseFieldsForm, PersonFieldsForm):
    registering_mission = forms.ModelChoiceField(
        label=_("Registering mission"), queryset=Mission.objects.none()
    )

    field_order = ["registering_mission"]

    def __init__(self, *args, missions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["registering_mission"].queryset = missions
        if len(missions) == 1:
            self.fields["registering_mission"].initial = missions[0]
            self.fields["destination_mission"].initial = missions[0]
        self.fields["registered_on"].initial = timezone.localdate()


class CaseEditForm(CaseFieldsForm, PersonFieldsForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class CaseTransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"))
    closure_reason = forms.ChoiceField(
        label=_("Closure reason"),
        choices=[("", _("— only when closing —")), *ClosureReason.choices],
        required=False,
    )
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, targets: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(CaseStatus.choices)
        self.fields["to_status"].choices = [(t, labels[t]) for t in targets]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("to_status") == CaseStatus.CLOSED and not cleaned.get("closure_reason"):
            self.add_error("closure_reason", _("Choose why the case is closed."))
        elif cleaned.get("to_status") not in (None, CaseStatus.CLOSED) and cleaned.get(
            "closure_reason"
        ):
            self.add_error("closure_reason", _("Only a closed case has a closure reason."))
        return cleaned


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    decision = forms.ChoiceField(
        label=_("Decision"), choices=Consent.Decision.choices, widget=forms.RadioSelect
    )
    decided_on = forms.DateField(label=_("Date of decision"), widget=DateInput())

    def clean_decided_on(self):
        value = self.cleaned_data["decided_on"]
        _not_future(value, _("The date of the decision cannot be in the future."))
        return value


class ConsentWithdrawForm(forms.Form):
    withdrawn_on = forms.DateField(label=_("Withdrawn on"), widget=DateInput())

    def clean_withdrawn_on(self):
        value = self.cleaned_data["withdrawn_on"]
        _not_future(value, _("The withdrawal date cannot be in the future."))
        return value


class ReferralForm(forms.Form):
    to_mission = forms.ModelChoiceField(
        label=_("Refer to mission"), queryset=Mission.objects.filter(is_active=True)
    )
    note = forms.CharField(
        label=_("Note for the receiving mission"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReferralDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("decline", _("Decline"))], widget=forms.HiddenInput
    )
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CaseFilterForm(forms.Form):
    """Filters of the case list: they travel in the URL, so they hold no identifier."""

    case_number = forms.CharField(label=_("Case number"), max_length=24, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any")), *CaseStatus.choices], required=False
    )
    mission = forms.ModelChoiceField(
        label=_("Mission"), queryset=Mission.objects.none(), required=False, empty_label=_("Any")
    )
    registered_from = forms.DateField(
        label=_("Registered from"), required=False, widget=DateInput()
    )
    registered_to = forms.DateField(label=_("Registered to"), required=False, widget=DateInput())

    def __init__(self, *args, missions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mission"].queryset = missions

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("registered_from"), cleaned.get("registered_to")
        if start and end and start > end:
            self.add_error("registered_to", _("The end of the period is before its start."))
        return cleaned


class IdentifierSearchForm(forms.Form):
    """Exact search on a person's name or date of birth, matched through blind indexes.

    Sent by POST so that no name or date of birth appears in a URL or an access log.
    """

    name = forms.CharField(label=_("Full name or family name"), max_length=300, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())

    def clean(self):
        cleaned = super().clean()
        nothing_entered = not cleaned.get("name", "").strip() and not cleaned.get("date_of_birth")
        if nothing_entered and not self.errors:
            raise forms.ValidationError(_("Enter a name, a date of birth, or both."))
        return cleaned


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("User name"), max_length=150, required=False)
    mission = forms.ModelChoiceField(
        label=_("Mission"), queryset=Mission.objects.all(), required=False, empty_label=_("Any")
    )
    case_number = forms.CharField(label=_("Case number"), max_length=24, required=False)
    since = forms.DateField(label=_("From"), required=False, widget=DateInput())
    until = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        actions = AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()
        self.fields["action"].choices = [("", _("Any")), *((a, a) for a in actions)]


class ClosureRequestForm(forms.Form):
    reason = forms.ChoiceField(label=_("Closure reason"), choices=ClosureReason.choices)
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ClosureDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)
