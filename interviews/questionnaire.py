"""Questionnaires defined once: sections, typed questions, and the answers to them.

A questionnaire (the Screening Interview Form, the Assistance Interview Form) is a list
of sections of questions. The wizard's forms, the stored answers, the printable summary
and the research codebook are derived from these definitions. Answers are kept in three
parts: coded answers (counted by research), missing-value codes (unknown / declined /
not applicable, distinct from blank) and identifying or free-text answers (encrypted).
"""

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext_lazy as _

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

# Why a question has no answer: kept apart from the answer codes, for every question alike.
MISSING = [
    ("unknown", _("Unknown")),
    ("declined", _("Declined to answer")),
    ("not_applicable", _("Not applicable")),
]


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


class Questionnaire:
    def __init__(self, sections: tuple[Section, ...]):
        self.sections = sections
        self.questions: dict[str, Question] = {q.key: q for s in sections for q in s.questions}
        self.section_of: dict[str, str] = {q.key: s.key for s in sections for q in s.questions}
        self._by_key = {s.key: s for s in sections}

    def section(self, key: str) -> Section:
        return self._by_key[key]

    @property
    def first(self) -> str:
        return self.sections[0].key


def missing_key(key: str) -> str:
    return f"{key}__missing"


def to_json(value):
    return value.isoformat() if isinstance(value, date) else value


def from_json(question: Question, value):
    if question.kind == DATE and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def is_blank(value) -> bool:
    return value is None or value == "" or value == [] or value == ()


@dataclass
class Answers:
    """One interview's answers: coded, missing codes, and encrypted (identifying/free text)."""

    questionnaire: Questionnaire
    coded: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    private: dict = field(default_factory=dict)

    def value(self, key: str):
        question = self.questionnaire.questions[key]
        raw = (self.private if question.encrypted else self.coded).get(key)
        return from_json(question, raw)

    def state(self, key: str) -> str:
        """'answered', a missing code, or 'blank'."""
        if key in self.missing:
            return self.missing[key]
        return "blank" if is_blank(self.value(key)) else "answered"

    def states(self) -> dict:
        return {key: self.state(key) for key in self.questionnaire.questions}

    def merged_values(self) -> dict:
        return {key: self.value(key) for key in self.questionnaire.questions}

    def set(self, key: str, value) -> None:
        """Record an answer (or clear it with a blank value)."""
        question = self.questionnaire.questions[key]
        for store in (self.coded, self.missing, self.private):
            store.pop(key, None)
        if not is_blank(value):
            (self.private if question.encrypted else self.coded)[key] = to_json(value)

    def update_section(self, section: Section, cleaned: dict) -> None:
        for question in section.questions:
            code = cleaned.get(missing_key(question.key)) if question.allow_missing else None
            self.set(question.key, None if code else cleaned.get(question.key))
            if code:
                self.missing[question.key] = code

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
        for section in self.questionnaire.sections:
            data = {}
            for question in section.questions:
                name = f"{section.key}-{question.key}"
                value = self.value(question.key)
                if question.key in self.missing:
                    data[missing_key(name)] = [self.missing[question.key]]
                elif is_blank(value):
                    continue
                elif question.kind == ROUTE:
                    for index, code in enumerate(value):
                        data[f"{name}_{index}"] = [code]
                elif isinstance(value, list):
                    data[name] = [str(item) for item in value]
                else:
                    data[name] = [str(to_json(value))]
            steps[section.key] = data
        return steps

    def as_dict(self) -> dict:
        return {"coded": self.coded, "missing": self.missing, "private": self.private}

    @classmethod
    def from_dict(cls, questionnaire: Questionnaire, data: dict | None) -> "Answers":
        data = data or {}
        return cls(
            questionnaire,
            coded=dict(data.get("coded", {})),
            missing=dict(data.get("missing", {})),
            private=dict(data.get("private", {})),
        )
