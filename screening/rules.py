"""Cross-field rules and the eligibility assessment. Plain Python over answer values.

`values` maps question keys to typed values (dates as `date`), None when blank;
`states` maps question keys to 'answered', 'blank' or a missing code.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Events of the trafficking experience in the order they must have happened.
CHRONOLOGY = [
    ("date_of_birth", gettext_lazy("the date of birth")),
    ("recruitment_date", gettext_lazy("the date of recruitment")),
    ("exploitation_start", gettext_lazy("the start of exploitation")),
    ("exploitation_end", gettext_lazy("the end of exploitation")),
    ("exit_date", gettext_lazy("the date of exit")),
    ("interview_date", gettext_lazy("the date of the interview")),
]
DATE_LABELS = dict(CHRONOLOGY) | {"consent_date": gettext_lazy("the date of consent")}


def _age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def cross_field_errors(values: dict, today: date) -> list[tuple[str, str]]:
    """Return (question key, message) for every rule the answers break."""
    errors: list[tuple[str, str]] = []
    for key, label in DATE_LABELS.items():
        if values.get(key) and values[key] > today:
            message = _("%(event)s cannot be in the future.") % {"event": label}
            errors.append((key, capfirst(message)))

    # Every pair out of order is reported on both of its dates, so the caseworker sees
    # the conflict on whichever step they are.
    dated = [(key, label, values.get(key)) for key, label in CHRONOLOGY if values.get(key)]
    for i, (early_key, early_label, early) in enumerate(dated):
        for late_key, late_label, late in dated[i + 1 :]:
            if early > late:
                message = _(
                    "%(early)s (%(early_date)s) must not be after %(late)s (%(late_date)s)."
                ) % {
                    "early": early_label,
                    "early_date": early.isoformat(),
                    "late": late_label,
                    "late_date": late.isoformat(),
                }
                errors.append((early_key, capfirst(message)))
                errors.append((late_key, capfirst(message)))

    consent, interview = values.get("consent_date"), values.get("interview_date")
    if consent and interview and consent > interview:
        errors.append(
            ("consent_date", _("Consent is recorded on or before the day of the interview."))
        )

    born = values.get("date_of_birth")
    age_now = values.get("age_at_interview")
    if born and interview and age_now is not None and abs(_age_on(born, interview) - age_now) > 1:
        errors.append(
            (
                "age_at_interview",
                _("The age does not match the date of birth (%(age)s at the interview).")
                % {"age": _age_on(born, interview)},
            )
        )
    age_recruited = values.get("age_at_recruitment")
    recruited = values.get("recruitment_date")
    if age_recruited is not None and age_now is not None and age_recruited > age_now:
        errors.append(
            (
                "age_at_recruitment",
                _("The age at recruitment cannot exceed the age at the interview."),
            )
        )
    if (
        born
        and recruited
        and age_recruited is not None
        and abs(_age_on(born, recruited) - age_recruited) > 1
    ):
        errors.append(
            (
                "age_at_recruitment",
                _("The age at recruitment does not match the date of birth (%(age)s).")
                % {"age": _age_on(born, recruited)},
            )
        )
    hours, days = values.get("hours_per_day"), values.get("days_per_week")
    if hours == 0 and days:
        errors.append(("hours_per_day", _("Working days are recorded, but no working hours.")))
    if values.get("debt_amount_usd") and values.get("fees_or_debt") == "no":
        errors.append(
            ("debt_amount_usd", _("An amount is given, but no fees or debt were recorded."))
        )
    return errors


MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"

# Means of the international definition (Palermo Protocol art. 3), as the form records them.
MEANS_CONTROLS = {
    "debt_bondage",
    "takes_earnings",
    "restricts_financial_access",
    "threats",
    "psychological_abuse",
    "physical_abuse",
    "sexual_abuse",
    "false_promises",
    "psychoactive_substances",
    "restricts_movement",
    "restricts_medical_care",
    "uses_children",
    "threat_of_law_enforcement",
    "withholds_necessities",
    "withholds_documents",
}


@dataclass(frozen=True)
class Assessment:
    act: str
    means: str
    purpose: str
    minor: bool | None  # under 18 at recruitment or exploitation; None when unknown
    suggestion: str

    def as_dict(self) -> dict:
        return {
            "act": self.act,
            "means": self.means,
            "purpose": self.purpose,
            "minor": self.minor,
            "suggestion": self.suggestion,
        }


def _element(met: bool, states: list[str]) -> str:
    if met:
        return MET
    if states and all(s == "not_applicable" for s in states):
        return NOT_MET
    return UNKNOWN


def _is_minor(values: dict) -> bool | None:
    ages = []
    if values.get("age_at_recruitment") is not None:
        ages.append(values["age_at_recruitment"])
    born = values.get("date_of_birth")
    for key in ("recruitment_date", "exploitation_start"):
        if born and values.get(key):
            ages.append(_age_on(born, values[key]))
    if not ages:
        return None
    return min(ages) < 18


def assess(values: dict, states: dict) -> Assessment:
    """Which elements of the definition the answers meet, and the suggested determination.

    Act: recruitment, transport, transfer, harbouring or receipt. Means: threat, force,
    coercion, abduction, fraud, deception, abuse of power or vulnerability, payments.
    Purpose: exploitation. For a person under 18, act and purpose suffice.
    """
    act = _element(
        bool(values.get("recruitment_method"))
        or bool(values.get("route"))
        or bool(values.get("exploitation_countries")),
        [states.get(k, "blank") for k in ("recruitment_method", "route", "exploitation_countries")],
    )
    controls = set(values.get("means_of_control") or [])
    means_met = (
        bool(controls & MEANS_CONTROLS)
        or values.get("recruitment_method") == "abduction"
        or values.get("documents_used") in ("forged", "taken_away")
        or values.get("earnings_kept_by") == "exploiter"
    )
    means = _element(means_met, [states.get("means_of_control", "blank")])
    purpose = _element(
        bool(values.get("exploitation_types")), [states.get("exploitation_types", "blank")]
    )
    minor = _is_minor(values)
    if act == MET and purpose == MET and (means == MET or minor):
        suggestion = "victim"
    elif NOT_MET in (act, purpose) or (means == NOT_MET and minor is False):
        suggestion = "not_victim"
    else:
        suggestion = "inconclusive"
    return Assessment(act=act, means=means, purpose=purpose, minor=minor, suggestion=suggestion)
