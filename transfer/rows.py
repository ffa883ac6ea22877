"""One template row, checked cell by cell into the typed values the services write.

Every problem is collected (column, value, reason) rather than stopping at the first,
so that a manager can fix a file in one pass.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from assistance import vocabularies as av
from casework.models import Mission, Sex
from casework.services import PersonData
from interviews import questionnaire as qn
from screening.questionnaire import answers as screening_answers
from transfer import columns as c
from transfer import parsing as p


@dataclass
class ServiceItem:
    service_type: str
    status: str
    start_date: date
    end_date: date | None
    partner_name: str


@dataclass
class VisitItem:
    due_on: date
    status: str
    visited_on: date | None
    scores: tuple[Decimal, Decimal, Decimal] | None


@dataclass
class ParsedRow:
    reference: str
    person: PersonData
    destination_mission: Mission
    source_mission: Mission | None
    country_of_exploitation: str
    identified_on: date
    registered_on: date
    status: str
    closure_reason: str
    screening: qn.Answers | None
    services: list[ServiceItem] = field(default_factory=list)
    return_date: date | None = None
    follow_ups: list[VisitItem] | None = None


class RowErrors(Exception):
    def __init__(self, errors: list[dict]):
        super().__init__(errors)
        self.errors = errors


def shown(raw) -> str:
    """The value as the manager typed it, for the report."""
    if isinstance(raw, dict):
        return raw["date"]
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


class RowParser:
    """Parse rows for one mission with one date order; caches the missions by code."""

    def __init__(self, mission: Mission, day_first: bool = True):
        self.mission = mission
        self.day_first = day_first
        self.missions = {m.code: m for m in Mission.objects.filter(is_active=True)}

    def parse(self, values: dict) -> ParsedRow:
        errors: list[dict] = []

        def cell(name, parse, *, required=False, default=None):
            raw = values.get(name, "")
            if _blank(raw) or (
                p.missing_code(raw) and c.BY_NAME[name].kind not in (c.SERVICES, c.FOLLOW_UPS)
            ):
                if required:
                    reason = _("required") if _blank(raw) else _("required, not unknown")
                    errors.append({"column": name, "value": shown(raw), "reason": reason})
                return default
            try:
                return parse(raw)
            except p.CellError as error:
                errors.append({"column": name, "value": shown(raw), "reason": str(error)})
                return default

        def choice(name, choices, synonyms=None, **kw):
            return cell(name, lambda raw: p.parse_choice(raw, choices, synonyms), **kw)

        def a_date(name, **kw):
            return cell(name, lambda raw: p.parse_date(raw, self.day_first), **kw)

        reference = cell("legacy_reference", p.text, required=True, default="")
        if len(reference) > 60:
            errors.append(
                {"column": "legacy_reference", "value": reference, "reason": _("too long")}
            )
        date_of_birth = a_date("date_of_birth")
        birth_year = cell("birth_year", lambda raw: p.parse_integer(raw, 1900, 2100))
        estimated = cell("birth_year_estimated", p.parse_boolean, default=False)
        if date_of_birth is not None:
            birth_year, estimated = date_of_birth.year, False
        sex_raw = values.get("sex", "")
        sex = (
            Sex.UNKNOWN
            if p.missing_code(sex_raw)
            else choice("sex", Sex.choices, p.SEX_SYNONYMS, required=True, default="")
        )
        person = PersonData(
            given_names=cell("given_names", p.text, required=True, default=""),
            family_names=cell("family_names", p.text, required=True, default=""),
            sex=sex,
            other_names=cell("other_names", p.text, default=""),
            date_of_birth=date_of_birth,
            place_of_birth=cell("place_of_birth", p.text, default=""),
            document_type=choice("document_type", c.BY_NAME["document_type"].choices, default=""),
            document_number=cell("document_number", p.text, default=""),
            phone=cell("phone", p.text, default=""),
            address=cell("address", p.text, default=""),
            citizenship=cell("citizenship", p.parse_country, default=""),
            birth_year=birth_year,
            birth_year_estimated=bool(estimated),
            preferred_language=cell("preferred_language", p.parse_language, default=""),
        )
        destination = cell("destination_mission", self._mission, default=self.mission)
        source = cell("source_mission", self._mission)
        status = choice("status", c.BY_NAME["status"].choices, default="registered")
        parsed = ParsedRow(
            reference=reference,
            person=person,
            destination_mission=destination,
            source_mission=source,
            country_of_exploitation=cell("country_of_exploitation", p.parse_country, default=""),
            identified_on=a_date("identified_on", required=True),
            registered_on=a_date("registered_on", required=True),
            status=status,
            closure_reason=choice(
                "closure_reason", c.BY_NAME["closure_reason"].choices, default=""
            ),
            screening=self._screening(values, errors),
            services=cell("services", self._services, default=[]),
            return_date=a_date("reintegration_return_date"),
            follow_ups=cell("follow_ups", self._visits),
        )
        if parsed.follow_ups and parsed.return_date is None:
            errors.append(
                {
                    "column": "follow_ups",
                    "value": shown(values.get("follow_ups", "")),
                    "reason": _("follow-up visits need a reintegration_return_date"),
                }
            )
        if errors:
            raise RowErrors(errors)
        return parsed

    def _mission(self, raw) -> Mission:
        code = p.text(raw).upper()
        if code not in self.missions:
            raise p.CellError(_("no active mission has this code"))
        return self.missions[code]

    def _screening(self, values: dict, errors: list[dict]) -> qn.Answers | None:
        answers = screening_answers()
        present = False
        for column in c.SCREENING_COLUMNS:
            raw = values.get(column.name, "")
            if _blank(raw):
                continue
            present = True
            question = column.question
            code = p.missing_code(raw)
            if code and column.kind in (c.CHOICE, c.MULTI):
                try:  # a question's own code "unknown" is an answer, not a missing value
                    p.parse_choice(raw, column.choices)
                    code = None
                except p.CellError:
                    pass
            if code:
                if not question.allow_missing:
                    errors.append(
                        {
                            "column": column.name,
                            "value": shown(raw),
                            "reason": _("must be answered"),
                        }
                    )
                else:
                    answers.missing[question.key] = code
                continue
            try:
                answers.set(question.key, self._answer(question, raw))
            except p.CellError as error:
                errors.append({"column": column.name, "value": shown(raw), "reason": str(error)})
        if not present:
            return None
        if not answers.coded.get("determination"):
            errors.append(
                {
                    "column": c.SCREENING_PREFIX + "determination",
                    "value": shown(values.get(c.SCREENING_PREFIX + "determination", "")),
                    "reason": _("required when screening answers are given"),
                }
            )
        return answers

    def _answer(self, question: qn.Question, raw):
        kind = question.kind
        if kind == qn.DATE:
            return p.parse_date(raw, self.day_first)
        if kind == qn.INTEGER:
            return p.parse_integer(raw, question.min_value, question.max_value)
        if kind == qn.CHOICE:
            return p.parse_choice(raw, question.choices)
        if kind == qn.MULTI:
            return [p.parse_choice(part, question.choices) for part in p.split_list(p.text(raw))]
        if kind == qn.COUNTRY:
            return p.parse_country(raw)
        if kind in (qn.COUNTRIES, qn.ROUTE):
            codes = [p.parse_country(part) for part in p.split_list(p.text(raw))]
            if kind == qn.ROUTE and len(codes) > qn.ROUTE_LENGTH:
                raise p.CellError(_("at most %(n)d countries") % {"n": qn.ROUTE_LENGTH})
            return codes
        if kind == qn.LANGUAGE:
            return p.parse_language(raw)
        if kind == qn.LANGUAGES:
            return [p.parse_language(part) for part in p.split_list(p.text(raw))]
        return p.text(raw)

    def _items(self, raw, size: int) -> list[list[str]]:
        items = []
        for item in p.text(raw).split(c.LIST_SEPARATOR):
            if not item.strip():
                continue
            parts = [part.strip() for part in item.split(c.PART_SEPARATOR)]
            if len(parts) > size:
                raise p.CellError(_("“%(item)s” has too many parts") % {"item": item.strip()})
            items.append(parts + [""] * (size - len(parts)))
        return items

    def _services(self, raw) -> list[ServiceItem]:
        services = []
        for kind, status, start, end, partner in self._items(raw, len(c.SERVICE_PARTS)):
            if not start:
                raise p.CellError(_("a service needs its start date"))
            item = ServiceItem(
                service_type=p.parse_choice(kind, av.SERVICE_TYPE),
                status=p.parse_choice(status, av.SERVICE_STATUS),
                start_date=p.parse_date(start, self.day_first),
                end_date=p.parse_date(end, self.day_first) if end else None,
                partner_name=partner[:150],
            )
            if item.end_date and item.end_date < item.start_date:
                raise p.CellError(_("a service ends before it starts"))
            services.append(item)
        return services

    def _visits(self, raw) -> list[VisitItem]:
        visits = []
        for due, status, visited, *scores in self._items(raw, len(c.FOLLOW_UP_PARTS)):
            if not due:
                raise p.CellError(_("a visit needs its due date"))
            code = p.parse_choice(status or "scheduled", c.FOLLOW_UP_STATUS)
            item = VisitItem(
                due_on=p.parse_date(due, self.day_first),
                status=code,
                visited_on=p.parse_date(visited, self.day_first) if visited else None,
                scores=None,
            )
            if code == "done":
                if item.visited_on is None or not all(scores):
                    raise p.CellError(_("a visit done needs its date and three scores"))
                values = tuple(p.parse_decimal(s) for s in scores)
                if not all(Decimal(0) <= v <= Decimal(1) for v in values):
                    raise p.CellError(_("scores lie between 0 and 1"))
                item.scores = values
            elif item.visited_on or any(scores):
                raise p.CellError(_("only a visit done has a date visited and scores"))
            visits.append(item)
        return visits
