"""Showing answers to people: labels for codes, countries and languages."""

from django.conf.locale import LANG_INFO
from django.utils.translation import gettext
from django_countries import countries

from interviews.questionnaire import (
    COUNTRIES,
    COUNTRY,
    LANGUAGE,
    LANGUAGES,
    MISSING,
    ROUTE,
    Answers,
    Question,
)


def _country(code: str) -> str:
    return f"{countries.name(code)} ({code})"


def _language(code: str) -> str:
    name = LANG_INFO.get(code, {}).get("name")
    return gettext(name) if name else code


def display(question: Question, value) -> str:
    if question.kind == COUNTRY:
        return _country(value)
    if question.kind in (COUNTRIES, ROUTE):
        return (" → " if question.kind == ROUTE else ", ").join(_country(c) for c in value)
    if question.kind == LANGUAGE:
        return _language(value)
    if question.kind == LANGUAGES:
        return ", ".join(_language(c) for c in value)
    if question.choices:
        labels = dict(question.choices)
        if isinstance(value, list):
            return ", ".join(str(labels.get(c, c)) for c in value)
        return str(labels.get(value, value))
    return str(value)


def shown(question: Question, value) -> str:
    """An answer or a missing-value code, as a person reads it."""
    missing = dict(MISSING)
    if isinstance(value, str) and value in missing:
        return str(missing[value])
    return "—" if value in (None, "", []) else display(question, value)


def summary_rows(answers: Answers):
    """Sections with (question, shown answer, state) for a printable summary."""
    missing_labels = dict(MISSING)
    for section in answers.questionnaire.sections:
        rows = []
        for question in section.questions:
            state = answers.state(question.key)
            if state == "answered":
                shown = display(question, answers.value(question.key))
            elif state == "blank":
                shown = "—"
            else:
                shown = str(missing_labels[state])
            rows.append((question, shown, state))
        yield section, rows
