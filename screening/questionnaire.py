"""The Screening Interview Form, defined once: its sections, questions and vocabularies.

The wizard's forms, the stored answers, the printable summary and the research codebook
are all derived from these definitions (see `interviews.questionnaire`).
"""

from django.utils.translation import gettext_lazy as _

from interviews.questionnaire import (
    CHOICE,
    COUNTRIES,
    COUNTRY,
    DATE,
    INTEGER,
    LANGUAGE,
    LANGUAGES,
    MULTI,
    ROUTE,
    TEXT,
    Answers,
    Question,
    Questionnaire,
    Section,
)
from screening import vocabularies as v

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
                allow_missing=False,
                help=_("Required when the determination differs from the suggestion."),
            ),
        ),
    ),
)

QUESTIONNAIRE = Questionnaire(SECTIONS)
QUESTIONS = QUESTIONNAIRE.questions
SECTION_OF = QUESTIONNAIRE.section_of


def answers(data: dict | None = None, **parts) -> Answers:
    """Answers to the screening form, from stored parts or empty."""
    if data is not None:
        return Answers.from_dict(QUESTIONNAIRE, data)
    return Answers(QUESTIONNAIRE, **parts)
