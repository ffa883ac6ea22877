"""The Screening Interview Form, defined once: sections, questions, vocabularies, rules.

The wizard's forms, the stored answers, the printable summary and (later) the research
codebook are all derived from these definitions. Answers are kept in three parts:
coded answers (counted by research), missing-value codes (unknown / declined / not
applicable, distinct from blank) and identifying or free-text answers (encrypted).
"""

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext_lazy as _

from screening import vocabularies as v

DATE, INTEGER, CHOICE, MULTI, COUNTRY, COUNTRIES, ROUTE, TEXT, LANGUAGE, LANGUAGES = (
    "date",
    "integer",
    "choice",
    "multi",
    "country",
    "countries",
    "route",
    "text",
    "language",
    "languages",
)
ROUTE_LENGTH = 6


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    kind: str
    choices: list = field(default_factory=list)
    required: bool = False  # must be answered, or marked unknown / declined / not applicable
    allow_missing: bool = True
    identifying: bool = False  # stored encrypted; never leaves casework
    min_value: int | None = None
    max_value: int | None = None
    help: str = ""

    @property
    def encrypted(self) -> bool:
        return self.identifying or self.kind == TEXT


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    questions: tuple[Question, ...]
    intro: str = ""


Q = Question

SECTIONS: tuple[Section, ...] = (
    Section(
        "interview",
        _("Interview"),
        (
            Q(
                "interview_date",
                _("Date of the interview"),
                DATE,
                required=True,
                allow_missing=False,
            ),
            Q("interview_place", _("Place of the interview"), TEXT, required=True),
            Q("interview_language", _("Language of the interview"), LANGUAGE, required=True),
            Q("interpreter_present", _("Interpreter present"), CHOICE, v.YES_NO, required=True),
            Q(
                "referral_source",
                _("How the person came to the mission"),
                CHOICE,
                v.REFERRAL_SOURCE,
                required=True,
            ),
            Q("referring_organisation", _("Referring organisation"), TEXT),
        ),
    ),
    Section(
        "consent",
        _("Consent"),
        (
            Q(
                "consent_interview",
                _("Consent to the interview"),
                CHOICE,
                v.CONSENT,
                required=True,
                allow_missing=False,
            ),
            Q(
                "consent_data_processing",
                _("Consent to the processing of their personal data"),
                CHOICE,
                v.CONSENT,
                required=True,
                allow_missing=False,
            ),
            Q(
                "consent_date",
                _("Date consent was given"),
                DATE,
                required=True,
                allow_missing=False,
            ),
        ),
        intro=_(
            "Explain the purpose of the interview and how the answers are used. Without the "
            "person's consent to both, the interview cannot continue."
        ),
    ),
    Section(
        "profile",
        _("Profile"),
        (
            Q("sex", _("Sex/gender"), CHOICE, v.SEX, required=True),
            Q("date_of_birth", _("Date of birth"), DATE, identifying=True),
            Q(
                "age_at_interview",
                _("Age at the interview (estimated if the date of birth is unknown)"),
                INTEGER,
                required=True,
                min_value=0,
                max_value=110,
            ),
            Q("citizenship", _("Citizenship"), COUNTRY, required=True),
            Q("marital_status", _("Marital status"), CHOICE, v.MARITAL_STATUS),
            Q("children", _("Number of children"), INTEGER, min_value=0, max_value=30),
            Q("education", _("Highest education"), CHOICE, v.EDUCATION),
            Q("languages_spoken", _("Languages spoken"), LANGUAGES),
            Q("occupation_before", _("Occupation before recruitment"), CHOICE, v.OCCUPATION),
        ),
    ),
    Section(
        "recruitment",
        _("Recruitment"),
        (
            Q("recruitment_date", _("Date of recruitment"), DATE),
            Q(
                "age_at_recruitment",
                _("Age at recruitment"),
                INTEGER,
                required=True,
                min_value=0,
                max_value=110,
            ),
            Q("recruitment_country", _("Country of recruitment"), COUNTRY, required=True),
            Q("recruitment_place", _("Place of recruitment"), TEXT, identifying=True),
            Q(
                "recruitment_method",
                _("Method of recruitment"),
                CHOICE,
                v.RECRUITMENT_METHOD,
                required=True,
            ),
            Q(
                "recruiter_relationship",
                _("Relationship to the recruiter"),
                CHOICE,
                v.RECRUITER_RELATIONSHIP,
                required=True,
            ),
            Q("promised", _("What was promised"), TEXT),
            Q("fees_or_debt", _("Fees paid or debt incurred"), CHOICE, v.YES_NO),
            Q("debt_amount_usd", _("Amount of fees or debt (USD)"), INTEGER, min_value=0),
        ),
    ),
    Section(
        "transit",
        _("Transit"),
        (
            Q(
                "route",
                _("Route (countries in the order crossed)"),
                ROUTE,
                required=True,
                help=_("Start with the country of departure; leave later boxes empty."),
            ),
            Q("transport", _("Means of transport"), MULTI, v.TRANSPORT),
            Q("documents_used", _("Documents used"), CHOICE, v.DOCUMENTS_USED),
            Q("border_crossing", _("How borders were crossed"), CHOICE, v.BORDER_CROSSING),
        ),
    ),
    Section(
        "exploitation",
        _("Exploitation"),
        (
            Q(
                "exploitation_countries",
                _("Country or countries of exploitation"),
                COUNTRIES,
                required=True,
            ),
            Q("exploitation_start", _("Start of exploitation"), DATE),
            Q("exploitation_end", _("End of exploitation"), DATE),
            Q(
                "exploitation_months",
                _("Duration in months (if the dates are unknown)"),
                INTEGER,
                min_value=0,
                max_value=600,
            ),
            Q(
                "exploitation_types",
                _("Type(s) of exploitation"),
                MULTI,
                v.EXPLOITATION_TYPE,
                required=True,
            ),
            Q("labour_sector", _("Labour sector"), CHOICE, v.LABOUR_SECTOR),
            Q("hours_per_day", _("Working hours per day"), INTEGER, min_value=0, max_value=24),
            Q("days_per_week", _("Working days per week"), INTEGER, min_value=0, max_value=7),
            Q("earnings_kept_by", _("Who kept the earnings"), CHOICE, v.EARNINGS_KEPT_BY),
            Q(
                "means_of_control",
                _("Means of control"),
                MULTI,
                v.MEANS_OF_CONTROL,
                required=True,
            ),
        ),
    ),
    Section(
        "exit",
        _("Exit"),
        (
            Q("exit_method", _("How the person left"), CHOICE, v.EXIT_METHOD, required=True),
            Q("exit_date", _("Date of exit"), DATE),
        ),
    ),
    Section(
        "needs",
        _("Immediate needs and risks"),
        (
            Q("needs_medical", _("Needs medical care"), CHOICE, v.YES_NO, required=True),
            Q("needs_shelter", _("Needs shelter"), CHOICE, v.YES_NO, required=True),
            Q("risk_to_person", _("Safety risk to the person"), CHOICE, v.YES_NO, required=True),
            Q("risk_to_family", _("Safety risk to the family"), CHOICE, v.YES_NO, required=True),
            Q(
                "urgent_assistance",
                _("Urgent assistance requested"),
                CHOICE,
                v.YES_NO,
                required=True,
            ),
            Q("needs_notes", _("Notes on needs and risks"), TEXT),
        ),
    ),
    Section(
        "assessment",
        _("Assessment"),
        (
            Q(
                "determination",
                _("Determination"),
                CHOICE,
                v.DETERMINATION,
                required=True,
                allow_missing=False,
            ),
            Q(
                "rationale",
                _("Rationale"),
                TEXT,
                help=_("Required when the determination differs from the suggestion."),
            ),
        ),
    ),
)

SECTION_KEYS = [s.key for s in SECTIONS]
QUESTIONS: dict[str, Question] = {q.key: q for s in SECTIONS for q in s.questions}
SECTION_OF: dict[str, str] = {q.key: s.key for s in SECTIONS for q in s.questions}
DATE_KEYS = [k for k, q in QUESTIONS.items() if q.kind == DATE]


def missing_key(key: str) -> str:
    return f"{key}__missing"


def to_json(question: Question, value):
    if isinstance(value, date):
        return value.isoformat()
    return value


def from_json(question: Question, value):
    if question.kind == DATE and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def is_blank(value) -> bool:
    return value is None or value == "" or value == [] or value == ()


@dataclass
class Answers:
    """One interview's answers: coded, missing codes, and encrypted (identifying/free text)."""

    coded: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    private: dict = field(default_factory=dict)

    def value(self, key: str):
        question = QUESTIONS[key]
        raw = (self.private if question.encrypted else self.coded).get(key)
        return from_json(question, raw)

    def state(self, key: str) -> str:
        """'answered', a missing code, or 'blank'."""
        if key in self.missing:
            return self.missing[key]
        return "blank" if is_blank(self.value(key)) else "answered"

    def states(self) -> dict:
        return {key: self.state(key) for key in QUESTIONS}

    def merged_values(self) -> dict:
        return {key: self.value(key) for key in QUESTIONS}

    def update_section(self, section: Section, cleaned: dict) -> None:
        for question in section.questions:
            for store in (self.coded, self.missing, self.private):
                store.pop(question.key, None)
            code = cleaned.get(missing_key(question.key)) if question.allow_missing else None
            value = cleaned.get(question.key)
            if code:
                self.missing[question.key] = code
            elif not is_blank(value):
                target = self.private if question.encrypted else self.coded
                target[question.key] = to_json(question, value)

    def section_values(self, section: Section) -> dict:
        """Initial form values for a section."""
        initial = {}
        for question in section.questions:
            value = self.value(question.key)
            if not is_blank(value):
                initial[question.key] = value
            if question.key in self.missing:
                initial[missing_key(question.key)] = self.missing[question.key]
        return initial

    def as_step_data(self) -> dict:
        """The answers as the wizard's stored form data, step by step, as if just entered."""
        steps = {}
        for section in SECTIONS:
            data = {}
            for question in section.questions:
                name = f"{section.key}-{question.key}"
                value = self.value(question.key)
                if question.key in self.missing:
                    data[f"{name}__missing"] = [self.missing[question.key]]
                elif is_blank(value):
                    continue
                elif question.kind == ROUTE:
                    for index, code in enumerate(value):
                        data[f"{name}_{index}"] = [code]
                elif isinstance(value, list):
                    data[name] = [str(v) for v in value]
                else:
                    data[name] = [
                        to_json(question, value) if isinstance(value, date) else str(value)
                    ]
            steps[section.key] = data
        return steps

    def as_dict(self) -> dict:
        return {"coded": self.coded, "missing": self.missing, "private": self.private}

    @classmethod
    def from_dict(cls, data: dict | None) -> "Answers":
        data = data or {}
        return cls(
            coded=dict(data.get("coded", {})),
            missing=dict(data.get("missing", {})),
            private=dict(data.get("private", {})),
        )
