"""The publish pipeline: casework in, anonymised research records out.

The only research module that reads casework. It reads coded answers and the few
person attributes research needs (sex, citizenship, birth year; a date of birth is
decrypted only where the birth year leaves the age band in doubt), transforms them to
research codes (`research.codebook`), and writes one record per case of a consenting
person to the research database. It writes nothing back to casework.

Persons are deduplicated: cases whose people were decided to be one person (a
`PersonCluster`) share one random research identifier, numbered as episodes in order of
registration, so that both persons and cases can be counted and re-trafficking is seen.
"""

import hashlib
import json
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import connections, transaction
from django.db.models import Max

from assistance.models import (
    AssistanceVersion,
    FollowUpVisit,
    ReintegrationPlan,
    ReturnMovement,
    ServiceRecord,
)
from casework.access import Perm, has_perm
from casework.audit import Action, audit_record
from casework.models import (
    Case,
    CaseStatus,
    Consent,
    ConsentPurpose,
    Mission,
    OrgRole,
    Person,
    User,
)
from dedupe.models import PersonCluster
from research import codebook as cb
from research.models import Release, ResearchRecord
from research.router import RESEARCH_DB
from screening.models import ScreeningVersion

CHUNK = 20_000
DELIVERED_STATUSES = ("in_progress", "delivered")
COLUMNS = ("release_id", "person", *cb.NAMES)


@dataclass(slots=True)
class CaseFacts:
    """What the pipeline knows about one case, gathered table by table."""

    case_id: int
    person_id: int
    registered_on: date
    status: str
    destination: str
    source: str
    mission: str  # code of the registering mission, for the release's coverage
    screening: tuple | None = None  # research codes of SCREENING_NAMES
    age_at_interview: int | None = None
    assistance: tuple | None = None  # research codes of ASSISTANCE_NAMES
    services: set = field(default_factory=set)
    returned: bool = False
    plan: bool = False
    visits: int = 0
    last_score: float | None = None


def _chunks(queryset, size: int = CHUNK) -> Iterable:
    return queryset.iterator(chunk_size=size)


def consenting_case_ids(as_of: date) -> set[int]:
    """Cases registered up to the date whose person's latest research decision is a consent
    in force. A refusal or a withdrawal, whenever made, keeps the case out."""
    latest: dict[int, tuple] = {}
    rows = (
        Consent.objects.filter(purpose=ConsentPurpose.RESEARCH, case__registered_on__lte=as_of)
        .order_by("case_id", "decided_on", "id")
        .values_list("case_id", "decision", "withdrawn_on")
    )
    for case_id, decision, withdrawn_on in _chunks(rows):
        latest[case_id] = (decision, withdrawn_on)
    return {
        case_id
        for case_id, (decision, withdrawn_on) in latest.items()
        if decision == Consent.Decision.GIVEN and withdrawn_on is None
    }


def _gather(case_ids: set[int], as_of: date, progress: Callable[[str], None]) -> dict:
    countries = dict(Mission.objects.values_list("id", "country"))
    codes = dict(Mission.objects.values_list("id", "code"))
    facts: dict[int, CaseFacts] = {}
    rows = (
        Case.objects.filter(registered_on__lte=as_of, merged_into__isnull=True)
        .order_by("id")
        .values_list(
            "id",
            "person_id",
            "registered_on",
            "status",
            "destination_mission_id",
            "source_mission_id",
            "registering_mission_id",
        )
    )
    for case_id, person_id, registered_on, status, destination, source, mission in _chunks(rows):
        if case_id in case_ids:
            facts[case_id] = CaseFacts(
                case_id,
                person_id,
                registered_on,
                status,
                countries.get(destination, ""),
                countries.get(source, ""),
                codes.get(mission, ""),
            )
    progress(f"{len(facts)} cases")

    current = ScreeningVersion.objects.filter(
        status__in=[ScreeningVersion.Status.CONFIRMED, ScreeningVersion.Status.SUBMITTED]
    ).values_list("case_id", "coded", "missing", "status", "determination")
    for case_id, coded, missing, status, determination in _chunks(current):
        case = facts.get(case_id)
        if case is not None:
            answers = {"coded": _json(coded), "missing": _json(missing)}
            confirmed = status == ScreeningVersion.Status.CONFIRMED
            case.screening = screening_codes(answers, determination if confirmed else None)
            age = answers["coded"].get("age_at_interview")
            case.age_at_interview = age if isinstance(age, int) else None
    progress("screening forms read")

    latest = AssistanceVersion.objects.values("case_id").annotate(latest=Max("number"))
    numbers = {row["case_id"]: row["latest"] for row in latest}
    assistance = AssistanceVersion.objects.values_list("case_id", "number", "coded", "missing")
    for case_id, number, coded, missing in _chunks(assistance):
        if case_id in facts and numbers.get(case_id) == number:
            answers = {"coded": _json(coded), "missing": _json(missing)}
            facts[case_id].assistance = tuple(answer(n, answers) for n in ASSISTANCE_NAMES)

    services = ServiceRecord.objects.filter(status__in=DELIVERED_STATUSES).values_list(
        "case_id", "service_type"
    )
    for case_id, service_type in _chunks(services):
        if case_id in facts:
            facts[case_id].services.add(service_type)

    arrived = ReturnMovement.objects.filter(status=ReturnMovement.Status.ARRIVED)
    for case_id in _chunks(arrived.values_list("case_id", flat=True)):
        if case_id in facts:
            facts[case_id].returned = True

    plans = dict(ReintegrationPlan.objects.values_list("id", "case_id"))
    for case_id in plans.values():
        if case_id in facts:
            facts[case_id].plan = True
    visits = (
        FollowUpVisit.objects.filter(status=FollowUpVisit.Status.DONE)
        .order_by("plan_id", "visited_on", "id")
        .values_list("plan_id", "score_economic", "score_social", "score_psychosocial")
    )
    for plan_id, *scores in _chunks(visits):
        case = facts.get(plans.get(plan_id))
        if case is not None:
            case.visits += 1
            case.last_score = float(sum(scores)) / 3
    progress("assistance, services, returns and reintegration read")
    return facts


def _json(value):
    return json.loads(value) if isinstance(value, str) else (value or {})


def _date(value) -> date | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _whole_years(start: date, end: date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def _people(person_ids: set[int]) -> tuple[dict, dict]:
    people = {}
    rows = Person.objects.values_list("id", "sex", "citizenship", "birth_year")
    for person_id, sex, citizenship, birth_year in _chunks(rows):
        if person_id in person_ids:
            people[person_id] = (sex, citizenship, birth_year)
    clusters = {}
    for person_id, cluster in _chunks(PersonCluster.objects.values_list("person_id", "cluster")):
        if person_id in person_ids:
            clusters[person_id] = cluster
    return people, clusters


# Ages at which a birth year alone cannot tell the band: the person is either this age or
# one year younger, and the two fall in different bands.
_BAND_EDGES = {low for low, _high in cb.AGE_BANDS if low > 0}


def _exact_birth_dates(person_ids: list[int]) -> dict[int, date]:
    dates = {}
    for start in range(0, len(person_ids), 2000):
        batch = person_ids[start : start + 2000]
        for person_id, born in Person.objects.filter(pk__in=batch).values_list(
            "id", "date_of_birth"
        ):
            if born is not None:
                dates[person_id] = born
    return dates


def answer(name: str, answers: dict | None, key: str | None = None) -> int:
    """The research code of a coded answer, or of why it is missing."""
    if answers is None:
        return cb.UNKNOWN
    key = key or name
    if key in answers["missing"]:
        return cb.MISSING_CODE.get(answers["missing"][key], cb.UNKNOWN)
    value = answers["coded"].get(key)
    if value in (None, "", []):
        return cb.UNKNOWN
    return cb.variable(name).codes.get(value, cb.UNKNOWN)


def _missing_or_unknown(answers: dict, key: str) -> int:
    if key in answers["missing"]:
        return cb.MISSING_CODE.get(answers["missing"][key], cb.UNKNOWN)
    return cb.UNKNOWN


def _dummies(prefix: str, vocabulary, answers: dict, key: str) -> dict:
    names = [cb.dummy_name(prefix, code) for code, _text in vocabulary]
    chosen = answers["coded"].get(key) or []
    if not chosen:
        return dict.fromkeys(names, _missing_or_unknown(answers, key))
    return {cb.dummy_name(prefix, code): int(code in chosen) for code, _text in vocabulary}


def _coded_majority(answers: dict, key: str) -> int:
    value = answers["coded"].get(key)
    return cb.majority(value) if isinstance(value, int) else _missing_or_unknown(answers, key)


def _majority_at_exploitation(coded: dict) -> int:
    age, interviewed, began = (
        coded.get("age_at_interview"),
        _date(coded.get("interview_date")),
        _date(coded.get("exploitation_start")),
    )
    if isinstance(age, int) and interviewed and began and began <= interviewed:
        return cb.majority(age - _whole_years(began, interviewed))
    recruited_at = coded.get("age_at_recruitment")
    if isinstance(recruited_at, int) and recruited_at >= 18:
        return cb.ADULT  # exploitation follows recruitment
    return cb.UNKNOWN


def _country(answers: dict, key: str) -> int:
    value = answers["coded"].get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return cb.country_code(value) if value else _missing_or_unknown(answers, key)


def _year(answers: dict, key: str) -> int:
    value = _date(answers["coded"].get(key))
    return value.year if value else _missing_or_unknown(answers, key)


def _duration(answers: dict) -> int:
    coded = answers["coded"]
    began, ended = _date(coded.get("exploitation_start")), _date(coded.get("exploitation_end"))
    if began and ended and began <= ended:
        return cb.duration_band((ended.year - began.year) * 12 + ended.month - began.month)
    months = coded.get("exploitation_months")
    if isinstance(months, int):
        return cb.duration_band(months)
    return _missing_or_unknown(answers, "exploitation_months")


SCREENING_ANSWERS = (
    "referral_source",
    "marital_status",
    "education",
    "occupation_before",
    "recruitment_method",
    "recruiter_relationship",
    "fees_or_debt",
    "documents_used",
    "border_crossing",
    "exit_method",
    "needs_medical",
    "needs_shelter",
    "labour_sector",
)


def _screening_values(answers: dict, determination: str | None) -> dict:
    values = {name: answer(name, answers) for name in SCREENING_ANSWERS}
    values["determination"] = cb.variable("determination").codes.get(determination, cb.UNKNOWN)
    values["majority_at_recruitment"] = _coded_majority(answers, "age_at_recruitment")
    values["majority_at_exploitation"] = _majority_at_exploitation(answers["coded"])
    values["country_of_recruitment"] = _country(answers, "recruitment_country")
    values["country_of_exploitation"] = _country(answers, "exploitation_countries")
    values["year_exploitation_began"] = _year(answers, "exploitation_start")
    values["exploitation_duration"] = _duration(answers)
    types = answers["coded"].get("exploitation_types") or []
    values["exploitation_type"] = (
        cb.variable("exploitation_type").codes.get(types[0], cb.UNKNOWN)
        if types
        else _missing_or_unknown(answers, "exploitation_types")
    )
    values |= _dummies(
        "exploitation", cb.screening_vocab.EXPLOITATION_TYPE, answers, "exploitation_types"
    )
    values |= _dummies("control", cb.screening_vocab.MEANS_OF_CONTROL, answers, "means_of_control")
    return values


_EMPTY = {"coded": {}, "missing": {}}
SCREENING_NAMES = tuple(_screening_values(_EMPTY, None))
ASSISTANCE_NAMES = ("physical_health", "mental_health", "wishes")


def screening_codes(answers: dict, determination: str | None) -> tuple:
    values = _screening_values(answers, determination)
    return tuple(values[name] for name in SCREENING_NAMES)


NO_SCREENING = (cb.UNKNOWN,) * len(SCREENING_NAMES)
NO_ASSISTANCE = (cb.UNKNOWN,) * len(ASSISTANCE_NAMES)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def age_at_registration(case: CaseFacts, birth_year: int | None, born: date | None) -> int | None:
    if born is not None:
        return _age(born, case.registered_on)
    if case.age_at_interview is not None:
        return case.age_at_interview
    if birth_year is None:
        return None
    # Without a birth date the age is this or one less: the lower one, as CTDC does.
    return max(case.registered_on.year - birth_year - 1, 0)


def case_values(case: CaseFacts, person: tuple, born: date | None) -> dict:
    """The research codes of one case, but for its person's episodes."""
    sex, citizenship, birth_year = person
    age = age_at_registration(case, birth_year, born)
    values = {
        "year_registered": case.registered_on.year,
        "quarter_registered": (case.registered_on.month - 1) // 3 + 1,
        "sex": cb.variable("sex").codes.get(sex, cb.UNKNOWN),
        "age_band": cb.age_band(age),
        "majority_at_registration": cb.majority(age),
        "citizenship": cb.country_code(citizenship),
        "country_of_identification": cb.country_code(case.destination),
        "country_of_return": cb.country_code(case.source),
        "case_stage": 2 if case.status == CaseStatus.CLOSED else 1,
        "returned": int(case.returned),
        "reintegration_plan": int(case.plan),
        "follow_up_visits": case.visits,
        "reintegration_score": cb.score_band(case.last_score),
    }
    values |= zip(SCREENING_NAMES, case.screening or NO_SCREENING, strict=True)
    values |= zip(ASSISTANCE_NAMES, case.assistance or NO_ASSISTANCE, strict=True)
    values |= {
        f"service_{code}": int(code in case.services)
        for code, _text in cb.assistance_vocab.SERVICE_TYPE
    }
    return values


def _persons_and_episodes(facts: dict[int, CaseFacts], clusters: dict) -> dict[int, tuple]:
    """case id -> (random research person id, episode, cases of that person)."""
    by_person: dict[object, list[CaseFacts]] = defaultdict(list)
    for case in facts.values():
        by_person[clusters.get(case.person_id, ("person", case.person_id))].append(case)
    assigned = {}
    used: set[str] = set()
    for cases in by_person.values():
        research_id = secrets.token_hex(8)
        while research_id in used:
            research_id = secrets.token_hex(8)
        used.add(research_id)
        cases.sort(key=lambda c: (c.registered_on, c.case_id))
        for episode, case in enumerate(cases, start=1):
            assigned[case.case_id] = (research_id, episode, len(cases))
    return assigned


def _insert(rows: Iterable[tuple]) -> None:
    connection = connections[RESEARCH_DB]
    table = ResearchRecord._meta.db_table
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(COLUMNS))
            # Table and column names come from the model, never from input.
            statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == CHUNK:
                    cursor.executemany(statement, batch)
                    batch = []
            if batch:
                cursor.executemany(statement, batch)


def row_digest(hasher, row: tuple) -> None:
    """Feed one record (without its release id) to the checksum."""
    hasher.update(("\t".join(str(v) for v in row[1:]) + "\n").encode())


class Coverage:
    """What a release covers, gathered while its records are written."""

    def __init__(self):
        self.years: Counter = Counter()
        self.countries: Counter = Counter()
        self.missions: Counter = Counter()
        self.cases = self.screened = self.assisted = 0

    def add(self, case: CaseFacts, values: dict) -> None:
        self.cases += 1
        self.years[values["year_registered"]] += 1
        self.countries[case.destination] += 1
        self.missions[case.mission] += 1
        self.screened += case.screening is not None
        self.assisted += case.assistance is not None

    def as_dict(self) -> dict:
        total = max(self.cases, 1)
        return {
            "years": sorted(self.years),
            "countries_of_identification": sorted(c for c in self.countries if c),
            "registering_missions": sorted(m for m in self.missions if m),
            "share_with_screening_form": round(self.screened / total, 4),
            "share_with_assistance_form": round(self.assisted / total, 4),
        }


def _notes(as_of: date, coverage: dict, excluded: int) -> str:
    years = coverage["years"]
    span = f"{years[0]}–{years[-1]}" if years else "none"
    return (
        f"Cases registered up to {as_of.isoformat()} whose person consented to use in "
        f"anonymised research ({excluded} registered cases without that consent are not "
        f"included). Years of registration: {span}. Countries of identification: "
        f"{', '.join(coverage['countries_of_identification']) or 'none'}; registered by the "
        f"missions {', '.join(coverage['registering_missions']) or 'none'}. "
        f"{coverage['share_with_screening_form']:.0%} of the cases have a screening form and "
        f"{coverage['share_with_assistance_form']:.0%} an assistance form; the variables of a "
        "missing form are coded -99. Persons registered twice are counted once when the "
        "deduplication review has decided they are one person; pairs still awaiting review "
        "count as two persons."
    )


def publish(
    *,
    actor: User,
    as_of: date,
    policy: dict,
    corrects: Release | None = None,
    change_note: str = "",
    provisional: bool = True,
    progress: Callable[[str], None] = lambda message: None,
) -> Release:
    """Write a draft release of every consenting case registered up to `as_of`."""
    consenting = consenting_case_ids(as_of)
    progress(f"{len(consenting)} cases with research consent in force")
    facts = _gather(consenting, as_of, progress)
    del consenting
    people, clusters = _people({c.person_id for c in facts.values()})
    doubtful = {
        c.person_id
        for c in facts.values()
        if people[c.person_id][2] is not None
        and c.registered_on.year - people[c.person_id][2] in _BAND_EDGES
    }
    birth_dates = _exact_birth_dates(sorted(doubtful))
    progress(f"{len(people)} people; {len(birth_dates)} dates of birth read to settle age bands")
    episodes = _persons_and_episodes(facts, clusters)
    registered = Case.objects.filter(registered_on__lte=as_of, merged_into__isnull=True).count()
    hasher = hashlib.sha256()
    coverage = Coverage()

    def rows(release_id: int):
        for case_id in sorted(facts, key=episodes.__getitem__):
            case = facts[case_id]
            research_id, episode, count = episodes[case_id]
            values = case_values(case, people[case.person_id], birth_dates.get(case.person_id))
            values["episode"], values["cases_of_person"] = episode, count
            values["re_trafficked"] = int(episode > 1)
            coverage.add(case, values)
            row = (release_id, research_id, *(values[name] for name in cb.NAMES))
            row_digest(hasher, row)
            yield row

    with transaction.atomic(using=RESEARCH_DB):
        number = (Release.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        release = Release.objects.create(
            number=number,
            as_of=as_of,
            provisional=provisional,
            corrects=corrects,
            change_note=change_note,
            policy=policy,
            created_by_id=actor.pk,
            created_by_name=actor.get_username(),
        )
        _insert(rows(release.pk))
        progress(f"{coverage.cases} research records written")
        release.cases = coverage.cases
        release.persons = len({research_id for research_id, _e, _c in episodes.values()})
        release.coverage = coverage.as_dict()
        release.checksum = hasher.hexdigest()
        release.notes = _notes(as_of, release.coverage, registered - coverage.cases)
        release.save()
    audit_record(
        action=Action.RELEASE_PUBLISHED,
        actor=actor,
        obj=release,
        detail={"number": release.number, "as_of": as_of.isoformat(), "cases": release.cases},
    )
    return release


def publisher(username: str | None) -> User | None:
    """The user publishing from the command line: the one named, or the first active DPO."""
    users = User.objects.filter(is_active=True)
    actor = (
        users.filter(username=username).first()
        if username
        else users.filter(org_role=OrgRole.DPO).order_by("id").first()
    )
    return actor if actor is not None and has_perm(actor, Perm.RESEARCH_MANAGE) else None
