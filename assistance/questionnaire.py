"""The Assistance Interview Form: needs, and what the screening form left open.

Questions that the screening form already answered are pre-filled from it (see
`PREFILLED_FROM_SCREENING`); the caseworker may correct them, and the correction is
recorded on the submitted version.
"""

from django.utils.translation import gettext_lazy as _

from assistance import vocabularies as v
from interviews.questionnaire import (
    CHOICE,
    COUNTRY,
    DATE,
    INTEGER,
    MULTI,
    TEXT,
    Answers,
    Question,
    Questionnaire,
    Section,
)
from screening.vocabularies import EDUCATION

Q = Question

SECTIONS: tuple[Section, ...] = (
    Section(
        "health",
        _("Health"),
        (
            Q("medical_care_needed", _("Needs medical care"), CHOICE, v.YES_NO, required=True),
            Q("physical_health", _("Physical health"), CHOICE, v.HEALTH, required=True),
            Q("physical_conditions", _("Physical health conditions"), MULTI, v.PHYSICAL_CONDITIONS),
            Q("mental_health", _("Mental health"), CHOICE, v.HEALTH, required=True),
            Q("mental_conditions", _("Mental health conditions"), MULTI, v.MENTAL_CONDITIONS),
            Q("health_notes", _("Notes on health"), TEXT),
        ),
    ),
    Section(
        "legal",
        _("Legal situation"),
        (
            Q(
                "identity_documents",
                _("Identity documents"),
                CHOICE,
                v.IDENTITY_DOCUMENTS,
                required=True,
            ),
            Q("legal_status", _("Legal status in this country"), CHOICE, v.LEGAL_STATUS),
            Q("proceedings", _("Pending proceedings"), MULTI, v.PROCEEDINGS),
            Q(
                "cooperates_with_law_enforcement",
                _("Willing to cooperate with law enforcement"),
                CHOICE,
                v.COOPERATION,
                required=True,
            ),
            Q("legal_notes", _("Notes on the legal situation"), TEXT),
        ),
    ),
    Section(
        "family",
        _("Family situation and safety at home"),
        (
            Q("family_contact", _("In contact with family"), CHOICE, v.YES_NO),
            Q("children", _("Number of children"), INTEGER, min_value=0, max_value=30),
            Q("family_involved", _("Family involved in the trafficking"), CHOICE, v.YES_NO),
            Q("risk_to_family", _("Safety risk to the family"), CHOICE, v.YES_NO, required=True),
            Q(
                "safe_to_return_home",
                _("Safe to return home"),
                CHOICE,
                v.SAFE_TO_RETURN,
                required=True,
            ),
            Q("family_notes", _("Notes on the family"), TEXT),
        ),
    ),
    Section(
        "education",
        _("Education and skills"),
        (
            Q("education", _("Highest education"), CHOICE, EDUCATION),
            Q("literacy", _("Literacy"), CHOICE, v.LITERACY),
            Q("skills", _("Skills"), MULTI, v.SKILLS),
            Q("work_wish", _("What the person wants to do"), CHOICE, v.WORK_WISH),
        ),
    ),
    Section(
        "wishes",
        _("The person's wishes"),
        (
            Q(
                "wishes",
                _("The person wishes to"),
                CHOICE,
                v.WISHES,
                required=True,
                allow_missing=False,
            ),
            Q("preferred_country", _("Country where the person wants to live"), COUNTRY),
            Q("wishes_notes", _("In the person's words"), TEXT),
        ),
    ),
    Section(
        "plan",
        _("Assistance plan"),
        (
            Q("planned_services", _("Services planned"), MULTI, v.SERVICE_TYPE, required=True),
            Q("plan_review_date", _("Review the plan on"), DATE),
            Q("plan_notes", _("The plan"), TEXT),
        ),
    ),
)

QUESTIONNAIRE = Questionnaire(SECTIONS)

# assistance question -> screening question that already asked it
PREFILLED_FROM_SCREENING = {
    "medical_care_needed": "needs_medical",
    "risk_to_family": "risk_to_family",
    "children": "children",
    "education": "education",
}


def answers(data: dict | None = None) -> Answers:
    return Answers.from_dict(QUESTIONNAIRE, data)
