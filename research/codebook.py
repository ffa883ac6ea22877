"""The codebook: every research variable, its codes, labels, source and generalisations.

Every variable is integer-coded, in every format. Non-negative codes are values; the
negative codes are kept apart and distinct everywhere (CTDC uses -99 for missing):

    -99 unknown or not recorded, -98 declined to answer, -97 not applicable,
    -96 suppressed by disclosure control.

Codes of coded answers are the position of the answer in its vocabulary (1, 2, ...):
vocabularies only ever grow at the end, so a code keeps its meaning across releases.
Countries are ISO 3166-1 numeric codes, which share the UN M49 code space with the
sub-regions and regions they generalise to.

A variable's `levels` are its generalisation hierarchy: level 0 is the value as
published, each further level maps it to a coarser code, the last one to a single code.
Its `role` says what disclosure control does with it: quasi-identifiers (facts an
attacker may know about a person: sex, age, citizenship, where and when) are made
k-anonymous; sensitive attributes (what happened to them) are checked for l-diversity.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _
from django_countries import countries

from assistance import vocabularies as assistance_vocab
from interviews.questionnaire import MISSING as MISSING_REASONS
from research import regions
from screening import vocabularies as screening_vocab

UNKNOWN, DECLINED, NOT_APPLICABLE, SUPPRESSED = -99, -98, -97, -96
MISSING_LABELS = {
    UNKNOWN: "Unknown or not recorded",
    DECLINED: "Declined to answer",
    NOT_APPLICABLE: "Not applicable",
    SUPPRESSED: "Suppressed (disclosure control)",
}
# interviews' missing-value reasons -> research codes
MISSING_CODE = {"unknown": UNKNOWN, "declined": DECLINED, "not_applicable": NOT_APPLICABLE}
assert set(MISSING_CODE) == {code for code, _label in MISSING_REASONS}

QUASI_IDENTIFIER, SENSITIVE, OTHER = "quasi_identifier", "sensitive", "other"
CATEGORICAL, FLAG, COUNT, YEAR = "categorical", "flag", "count", "year"

YEARS = range(1900, 2101)
ALL = 0  # the single code of a fully generalised variable


@dataclass(frozen=True)
class Level:
    """One level of a generalisation hierarchy."""

    name: str
    labels: dict  # code at this level -> label
    up: dict | None = None  # code at level 0 -> code at this level (None for level 0)


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    kind: str
    source: str  # where the value comes from
    role: str = OTHER
    levels: tuple[Level, ...] = ()
    codes: dict = field(default_factory=dict)  # casework code -> research code
    ctdc: str = ""  # column in CTDC's global dataset, when it has one

    @property
    def labels(self) -> dict:
        return self.levels[0].labels if self.levels else {}

    @property
    def generalisable(self) -> bool:
        return len(self.levels) > 1

    def labels_at(self, level: int) -> dict:
        return self.levels[level].labels if self.levels else {}

    def describe(self, level: int = 0) -> dict:
        """The machine-readable codebook entry, at a generalisation level."""
        return {
            "name": self.name,
            "label": str(self.label),
            "type": self.kind,
            "role": self.role,
            "source": str(self.source),
            "generalisation": self.levels[level].name if self.levels else "",
            "hierarchy": [lvl.name for lvl in self.levels],
            "value_labels": {str(code): str(text) for code, text in self.labels_at(level).items()},
            "missing_codes": {str(code): text for code, text in MISSING_LABELS.items()},
        }


def _with_all(levels: list[Level]) -> tuple[Level, ...]:
    """Close a hierarchy with its fully generalised level (every base code -> ALL)."""
    base = levels[0].labels.keys() or levels[-1].up.keys()
    return (*levels, Level("all", {ALL: "All"}, dict.fromkeys(base, ALL)))


def coded(name, label, vocabulary, source, role=OTHER, ctdc="", generalise=False) -> Variable:
    codes = {code: index for index, (code, _text) in enumerate(vocabulary, start=1)}
    labels = {index: text for index, (_code, text) in enumerate(vocabulary, start=1)}
    levels = [Level("value", labels)]
    return Variable(
        name,
        label,
        CATEGORICAL,
        source,
        role,
        _with_all(levels) if generalise else tuple(levels),
        codes,
        ctdc,
    )


def flag(name, label, source, role=OTHER, ctdc="") -> Variable:
    return Variable(
        name, label, FLAG, source, role, (Level("value", {0: "No", 1: "Yes"}),), {}, ctdc
    )


# Age bands of CTDC's global dataset.
AGE_BANDS = [(0, 8), (9, 17), (18, 20), (21, 23), (24, 26), (27, 29), (30, 38), (39, 47), (48, 200)]
MINOR, ADULT = 1, 2
MAJORITY = {MINOR: "Minor", ADULT: "Adult"}


def age_band(age: int | None) -> int:
    if age is None or age < 0:
        return UNKNOWN
    for code, (low, high) in enumerate(AGE_BANDS, start=1):
        if low <= age <= high:
            return code
    return UNKNOWN


def majority(age: int | None) -> int:
    if age is None or age < 0:
        return UNKNOWN
    return MINOR if age < 18 else ADULT


def _band_label(low: int, high: int) -> str:
    return f"{low}+" if high >= 200 else f"{low}–{high}"


def age_variable(name, label, source, ctdc="") -> Variable:
    labels = {code: _band_label(*band) for code, band in enumerate(AGE_BANDS, start=1)}
    to_majority = {
        code: (MINOR if high < 18 else ADULT)
        for code, (_low, high) in enumerate(AGE_BANDS, start=1)
    }
    levels = [Level("age band", labels), Level("minor/adult", dict(MAJORITY), to_majority)]
    return Variable(name, label, CATEGORICAL, source, QUASI_IDENTIFIER, _with_all(levels), {}, ctdc)


def majority_variable(name, label, source, ctdc="") -> Variable:
    levels = [Level("minor/adult", dict(MAJORITY))]
    return Variable(name, label, CATEGORICAL, source, QUASI_IDENTIFIER, _with_all(levels), {}, ctdc)


def _country_label(alpha2: str) -> str:
    return f"{alpha2} {countries.name(alpha2)}"


COUNTRY_CODES = {alpha2: int(countries.numeric(alpha2)) for alpha2 in dict(countries)}
ALPHA2_OF = {numeric: alpha2 for alpha2, numeric in COUNTRY_CODES.items()}
WORLD = 1  # M49's code for the world


def country_code(alpha2: str | None) -> int:
    return COUNTRY_CODES.get((alpha2 or "").upper(), UNKNOWN)


def country_variable(name, label, source, role=QUASI_IDENTIFIER, ctdc="") -> Variable:
    labels = {numeric: _country_label(alpha2) for alpha2, numeric in COUNTRY_CODES.items()}
    to_subregion = {numeric: regions.subregion(alpha2) for alpha2, numeric in COUNTRY_CODES.items()}
    to_region = {numeric: regions.region(alpha2) for alpha2, numeric in COUNTRY_CODES.items()}
    levels = (
        Level("country", labels),
        Level(
            "sub-region",
            {code: name for code, (name, _region) in regions.SUBREGIONS.items()},
            to_subregion,
        ),
        Level("region", dict(regions.REGIONS), to_region),
        Level("all", {WORLD: "World"}, dict.fromkeys(labels, WORLD)),
    )
    return Variable(name, label, CATEGORICAL, source, role, levels, {}, ctdc)


def _period_label(start: int) -> str:
    return f"{start}–{start + 4}"


def year_variable(name, label, source, ctdc="") -> Variable:
    levels = [
        Level("year", {}),
        Level(
            "five-year period",
            {start: _period_label(start) for start in YEARS if start % 5 == 0},
            {year: year - year % 5 for year in YEARS},
        ),
    ]
    return Variable(name, label, YEAR, source, QUASI_IDENTIFIER, _with_all(levels), {}, ctdc)


def _quarter_variable() -> Variable:
    levels = [Level("quarter", {q: f"Q{q}" for q in range(1, 5)})]
    return Variable(
        "quarter_registered",
        _("Quarter of registration"),
        CATEGORICAL,
        _("Case: date registered"),
        QUASI_IDENTIFIER,
        _with_all(levels),
    )


def _ctdc_name(prefix: str, code: str) -> str:
    return prefix + "".join(part.capitalize() for part in code.split("_"))


# Stata allows 32 characters in a variable name.
MAX_NAME = 32
_SHORT_CODES = {
    "restricts_financial_access": "restricts_finances",
    "threat_of_law_enforcement": "law_enforcement_threat",
}


def dummy_name(prefix: str, code: str) -> str:
    return f"{prefix}_{_SHORT_CODES.get(code, code)}"


def dummies(prefix, label, vocabulary, source, ctdc_prefix="", role=OTHER) -> list[Variable]:
    """One 0/1 variable per answer of a multiple-choice question, as CTDC publishes them."""
    return [
        flag(
            dummy_name(prefix, code),
            f"{label}: {text}",
            source,
            role,
            _ctdc_name(ctdc_prefix, code) if ctdc_prefix else "",
        )
        for code, text in vocabulary
    ]


SCREENING = _("Screening form")
ASSISTANCE = _("Assistance form")

CASE_STAGE = [("open", _("Open")), ("closed", _("Closed"))]
DURATION_BANDS = [(0, 0), (1, 5), (6, 11), (12, 23), (24, 10_000)]
DURATION_LABELS = ["Less than a month", "1–5 months", "6–11 months", "12–23 months", "24+ months"]
SCORE_BANDS = [("low", _("Low (below 0.34)")), ("medium", _("Medium")), ("high", _("High (0.67+)"))]


def duration_band(months: int | None) -> int:
    if months is None or months < 0:
        return UNKNOWN
    for code, (low, high) in enumerate(DURATION_BANDS, start=1):
        if low <= months <= high:
            return code
    return UNKNOWN


def _duration_variable() -> Variable:
    return Variable(
        "exploitation_duration",
        _("Duration of the exploitation"),
        CATEGORICAL,
        f"{SCREENING}: exploitation_start/exploitation_end or exploitation_months",
        OTHER,
        (Level("band", dict(enumerate(DURATION_LABELS, start=1))),),
    )


def _count_variable(name, label, source) -> Variable:
    return Variable(name, label, COUNT, source, OTHER, (Level("count", {}),))


v = screening_vocab
a = assistance_vocab
VARIABLES: tuple[Variable, ...] = (
    # The case and the person
    year_variable(
        "year_registered",
        _("Year of registration"),
        _("Case: date registered"),
        "yearOfRegistration",
    ),
    _quarter_variable(),
    coded(
        "sex",
        _("Sex/gender"),
        v.SEX,
        _("Person: sex/gender"),
        QUASI_IDENTIFIER,
        "gender",
        generalise=True,
    ),
    age_variable(
        "age_band",
        _("Age at registration (CTDC band)"),
        _("Person: birth year, or the screening form's age at interview"),
        "ageBroad",
    ),
    majority_variable(
        "majority_at_registration",
        _("Minor or adult at registration"),
        _("Person: birth year, or the screening form's age at interview"),
        "majorityStatus",
    ),
    country_variable("citizenship", _("Citizenship"), _("Person: citizenship"), ctdc="citizenship"),
    country_variable(
        "country_of_identification",
        _("Country where the person was identified"),
        _("Case: destination mission's country"),
    ),
    country_variable(
        "country_of_return", _("Country of return"), _("Case: source mission's country")
    ),
    _count_variable(
        "episode", _("Episode: the person's nth case"), _("Deduplication: cases of one person")
    ),
    _count_variable(
        "cases_of_person",
        _("Number of cases of the person (in this release)"),
        _("Deduplication: cases of one person"),
    ),
    flag("re_trafficked", _("Re-trafficked (a later case of the same person)"), _("Deduplication")),
    coded("case_stage", _("Case open or closed (at the as-of date)"), CASE_STAGE, _("Case status")),
    # Screening
    coded(
        "determination",
        _("Screening determination"),
        v.DETERMINATION,
        f"{SCREENING}: determination",
    ),
    coded(
        "referral_source",
        _("How the person came to the mission"),
        v.REFERRAL_SOURCE,
        f"{SCREENING}: referral_source",
    ),
    coded("marital_status", _("Marital status"), v.MARITAL_STATUS, f"{SCREENING}: marital_status"),
    coded("education", _("Highest education"), v.EDUCATION, f"{SCREENING}: education"),
    coded(
        "occupation_before",
        _("Occupation before recruitment"),
        v.OCCUPATION,
        f"{SCREENING}: occupation_before",
    ),
    majority_variable(
        "majority_at_recruitment",
        _("Minor or adult at recruitment"),
        f"{SCREENING}: age_at_recruitment",
        "majorityEntry",
    ),
    majority_variable(
        "majority_at_exploitation",
        _("Minor or adult when the exploitation began"),
        f"{SCREENING}: age_at_interview, interview_date and exploitation_start",
        "majorityStatusAtExploit",
    ),
    country_variable(
        "country_of_recruitment",
        _("Country of recruitment"),
        f"{SCREENING}: recruitment_country",
    ),
    coded(
        "recruitment_method",
        _("Method of recruitment"),
        v.RECRUITMENT_METHOD,
        f"{SCREENING}: recruitment_method",
    ),
    coded(
        "recruiter_relationship",
        _("Relationship to the recruiter"),
        v.RECRUITER_RELATIONSHIP,
        f"{SCREENING}: recruiter_relationship",
    ),
    coded("fees_or_debt", _("Fees paid or debt incurred"), v.YES_NO, f"{SCREENING}: fees_or_debt"),
    coded("documents_used", _("Documents used"), v.DOCUMENTS_USED, f"{SCREENING}: documents_used"),
    coded(
        "border_crossing",
        _("How borders were crossed"),
        v.BORDER_CROSSING,
        f"{SCREENING}: border_crossing",
    ),
    country_variable(
        "country_of_exploitation",
        _("Country of exploitation (the first named)"),
        f"{SCREENING}: exploitation_countries",
        ctdc="CountryOfExploitation",
    ),
    year_variable(
        "year_exploitation_began",
        _("Year the exploitation began"),
        f"{SCREENING}: exploitation_start",
    ),
    _duration_variable(),
    coded(
        "exploitation_type",
        _("Main type of exploitation (the first named)"),
        v.EXPLOITATION_TYPE,
        f"{SCREENING}: exploitation_types",
        SENSITIVE,
    ),
    *dummies(
        "exploitation",
        _("Type of exploitation"),
        v.EXPLOITATION_TYPE,
        f"{SCREENING}: exploitation_types",
    ),
    coded(
        "labour_sector",
        _("Labour sector"),
        v.LABOUR_SECTOR,
        f"{SCREENING}: labour_sector",
        SENSITIVE,
    ),
    *dummies(
        "control",
        _("Means of control"),
        v.MEANS_OF_CONTROL,
        f"{SCREENING}: means_of_control",
        "meansOfControl",
    ),
    coded("exit_method", _("How the person left"), v.EXIT_METHOD, f"{SCREENING}: exit_method"),
    coded("needs_medical", _("Needed medical care"), v.YES_NO, f"{SCREENING}: needs_medical"),
    coded("needs_shelter", _("Needed shelter"), v.YES_NO, f"{SCREENING}: needs_shelter"),
    # Assistance
    coded("physical_health", _("Physical health"), a.HEALTH, f"{ASSISTANCE}: physical_health"),
    coded("mental_health", _("Mental health"), a.HEALTH, f"{ASSISTANCE}: mental_health"),
    coded("wishes", _("The person's wish"), a.WISHES, f"{ASSISTANCE}: wishes"),
    *dummies(
        "service",
        _("Service received (in progress or delivered)"),
        a.SERVICE_TYPE,
        _("Services recorded"),
    ),
    flag("returned", _("Returned to the country of origin (arrival confirmed)"), _("Returns")),
    flag("reintegration_plan", _("Has a reintegration plan"), _("Reintegration")),
    _count_variable(
        "follow_up_visits", _("Follow-up visits made"), _("Reintegration: follow-up visits")
    ),
    coded(
        "reintegration_score",
        _("Reintegration score at the last visit (mean of the three dimensions)"),
        SCORE_BANDS,
        _("Reintegration: follow-up visits"),
    ),
)

BY_NAME: dict[str, Variable] = {var.name: var for var in VARIABLES}
assert len(BY_NAME) == len(VARIABLES), "variable names must be unique"
assert all(len(name) <= MAX_NAME for name in BY_NAME), "a variable name is too long for Stata"
NAMES: tuple[str, ...] = tuple(BY_NAME)


def variable(name: str) -> Variable:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"No research variable is called {name!r}.") from None


def score_band(score: float | None) -> int:
    if score is None:
        return NOT_APPLICABLE
    if score < 0.34:
        return 1
    return 2 if score < 0.67 else 3
