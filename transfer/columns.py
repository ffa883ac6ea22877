"""The import template: its columns, their kinds, coded values and an example row.

One row is one case: the person, the case, the screening form's answers (one column per
question, `screening_<question>`), the services (one cell) and the follow-up visits (one
cell). The downloadable template, the parser and the export are all derived from here.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from assistance import vocabularies as assistance_vocabularies
from casework.models import CaseStatus, ClosureReason, DocumentType, Sex
from interviews import questionnaire as qn
from screening.questionnaire import QUESTIONNAIRE

TEXT, DATE, INTEGER, CHOICE, MULTI, COUNTRY, COUNTRIES, ROUTE, LANGUAGE, LANGUAGES = (
    qn.TEXT,
    qn.DATE,
    qn.INTEGER,
    qn.CHOICE,
    qn.MULTI,
    qn.COUNTRY,
    qn.COUNTRIES,
    qn.ROUTE,
    qn.LANGUAGE,
    qn.LANGUAGES,
)
BOOLEAN, MISSION, SERVICES, FOLLOW_UPS = "boolean", "mission", "services", "follow_ups"
SCREENING_PREFIX = "screening_"
LIST_SEPARATOR = ";"  # between the items of a cell holding several values
PART_SEPARATOR = "|"  # between the parts of one service or visit


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    help: str = ""
    required: bool = False
    choices: list = field(default_factory=list)
    identifier: bool = False  # exported only to those who may see identifiers
    example: str = ""
    question: qn.Question | None = None  # for the screening answers


SERVICE_PARTS = ("type", "status", "start", "end", "partner")
FOLLOW_UP_PARTS = ("due", "status", "visited", "economic", "social", "psychosocial")
FOLLOW_UP_STATUS = [("scheduled", _("Scheduled")), ("done", _("Done")), ("missed", _("Missed"))]

CASE_COLUMNS: tuple[Column, ...] = (
    Column(
        "legacy_reference",
        TEXT,
        _("The case's number in your earlier records; a re-import updates the same case."),
        required=True,
        example="BER-2019-0042",
    ),
    Column("given_names", TEXT, required=True, identifier=True, example="Олена"),
    Column("family_names", TEXT, required=True, identifier=True, example="Шевченко"),
    Column("other_names", TEXT, _("Aliases"), identifier=True),
    Column("sex", CHOICE, required=True, choices=Sex.choices, example="female"),
    Column("date_of_birth", DATE, identifier=True, example="1994-03-07"),
    Column("birth_year", INTEGER, _("When only the year is known"), example="1994"),
    Column("birth_year_estimated", BOOLEAN, _("yes or no"), example="no"),
    Column("place_of_birth", TEXT, identifier=True, example="Vinnytsia"),
    Column("citizenship", COUNTRY, _("Country name or ISO code"), example="UA"),
    Column("document_type", CHOICE, choices=DocumentType.choices, example="passport"),
    Column("document_number", TEXT, identifier=True, example="FX1234567"),
    Column("phone", TEXT, identifier=True),
    Column("address", TEXT, identifier=True),
    Column("preferred_language", LANGUAGE, _("ISO 639-1 code"), example="uk"),
    Column(
        "destination_mission",
        MISSION,
        _("Mission code; blank means the importing mission"),
        example="",
    ),
    Column("source_mission", MISSION, _("Mission code of the country of origin")),
    Column("country_of_exploitation", COUNTRY, _("Country name or ISO code"), example="DE"),
    Column("identified_on", DATE, required=True, example="2019-05-02"),
    Column("registered_on", DATE, required=True, example="2019-05-03"),
    Column(
        "status",
        CHOICE,
        _("Blank means registered"),
        choices=CaseStatus.choices,
        example="eligible",
    ),
    Column("closure_reason", CHOICE, _("Only for a closed case"), choices=ClosureReason.choices),
)


def _screening_column(question: qn.Question) -> Column:
    return Column(
        SCREENING_PREFIX + question.key,
        question.kind,
        str(question.label),
        choices=list(question.choices),
        identifier=question.encrypted,
        question=question,
    )


SCREENING_COLUMNS: tuple[Column, ...] = tuple(
    _screening_column(q) for q in QUESTIONNAIRE.questions.values()
)
ASSISTANCE_COLUMNS: tuple[Column, ...] = (
    Column(
        "services",
        SERVICES,
        _(
            "One service per item, items separated by “;”: type|status|start|end|partner "
            "(end and partner may be blank; a blank partner means the mission itself)"
        ),
        example="shelter|delivered|2019-05-03|2019-06-30|; medical|delivered|2019-05-04||Caritas",
    ),
    Column(
        "reintegration_return_date",
        DATE,
        _("Date of return, when a reintegration plan was made"),
    ),
    Column(
        "follow_ups",
        FOLLOW_UPS,
        _(
            "One visit per item, separated by “;”: due|status|visited|economic|social|"
            "psychosocial (scores between 0 and 1, only for a visit done)"
        ),
    ),
)
COLUMNS: tuple[Column, ...] = CASE_COLUMNS + SCREENING_COLUMNS + ASSISTANCE_COLUMNS
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
# Shown in exports for reference; ignored on import.
INFORMATIONAL = ("case_number",)

# Header spellings found in real files, after normalisation (see parsing.header_key).
ALIASES = {
    "legacy_ref": "legacy_reference",
    "legacy_id": "legacy_reference",
    "reference": "legacy_reference",
    "ref": "legacy_reference",
    "old_case_number": "legacy_reference",
    "first_name": "given_names",
    "first_names": "given_names",
    "given_name": "given_names",
    "forename": "given_names",
    "last_name": "family_names",
    "family_name": "family_names",
    "surname": "family_names",
    "alias": "other_names",
    "aliases": "other_names",
    "gender": "sex",
    "sex_gender": "sex",
    "dob": "date_of_birth",
    "birth_date": "date_of_birth",
    "birthdate": "date_of_birth",
    "year_of_birth": "birth_year",
    "nationality": "citizenship",
    "passport_number": "document_number",
    "document_no": "document_number",
    "language": "preferred_language",
    "destination": "destination_mission",
    "source": "source_mission",
    "exploitation_country": "country_of_exploitation",
    "date_identified": "identified_on",
    "identification_date": "identified_on",
    "date_registered": "registered_on",
    "registration_date": "registered_on",
    "case_status": "status",
}


def columns_for(include_identifiers: bool) -> list[Column]:
    return [c for c in COLUMNS if include_identifiers or not c.identifier]


def headers(include_identifiers: bool = True) -> list[str]:
    return [c.name for c in columns_for(include_identifiers)]


EXAMPLE_SCREENING = {
    "interview_date": "2019-05-03",
    "interview_place": "Berlin office",
    "interview_language": "uk",
    "interpreter_present": "yes",
    "referral_source": "",
    "consent_interview": "given",
    "consent_data_processing": "given",
    "consent_date": "2019-05-03",
    "sex": "female",
    "age_at_interview": "25",
    "citizenship": "UA",
    "recruitment_country": "Ukraine",
    "age_at_recruitment": "24",
    "recruitment_method": "unknown",
    "recruiter_relationship": "unknown",
    "route": "UA;PL;DE",
    "exploitation_countries": "DE",
    "exploitation_types": "forced_labour",
    "means_of_control": "withholds_documents;threats",
    "exit_method": "unknown",
    "needs_medical": "no",
    "needs_shelter": "yes",
    "risk_to_person": "n/a",
    "risk_to_family": "unknown",
    "urgent_assistance": "no",
    "determination": "victim",
}


def example_row() -> dict[str, str]:
    """A filled-in example row, valid against the template's rules."""
    row = {c.name: c.example for c in COLUMNS}
    for key, value in EXAMPLE_SCREENING.items():
        column = BY_NAME[SCREENING_PREFIX + key]
        codes = {code for code, _label in column.choices}
        if column.kind in (CHOICE, MULTI) and codes:
            parts = [p for p in value.split(LIST_SEPARATOR) if p]
            if not all(p in codes or p in ("unknown", "n/a") for p in parts):
                value = next(iter(codes))
        row[column.name] = value
    return row


def coded_values(column: Column) -> list[tuple[str, str]]:
    """The codes a column accepts with their labels (what the template's second sheet lists)."""
    if column.kind == SERVICES:
        return [(c, str(label)) for c, label in assistance_vocabularies.SERVICE_TYPE] + [
            (f"status: {c}", str(label)) for c, label in assistance_vocabularies.SERVICE_STATUS
        ]
    if column.kind == FOLLOW_UPS:
        return [(f"status: {c}", str(label)) for c, label in FOLLOW_UP_STATUS]
    if column.kind == BOOLEAN:
        return [("yes", str(_("Yes"))), ("no", str(_("No")))]
    return [(code, str(label)) for code, label in column.choices]


MISSING_HELP = _(
    "A screening answer may be left blank, or given as unknown (also: unk, ?, -), "
    "declined (also: refused) or not applicable (also: n/a, na)."
)
