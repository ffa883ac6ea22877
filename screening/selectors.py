"""Reads of the screening workflow shared by the case page and the screening pages."""

import json

from casework.access import Perm, case_missions_for
from casework.models import Case, User
from screening.models import ScreeningDraft, ScreeningVersion
from screening.questionnaire import (
    COUNTRIES,
    COUNTRY,
    LANGUAGE,
    LANGUAGES,
    ROUTE,
    SECTIONS,
    Answers,
)
from screening.services import SCREENABLE
from screening.vocabularies import MISSING


def screening_panel(user: User, case: Case) -> dict:
    """What the case page and the screening overview show about the case's screening."""
    draft = ScreeningDraft.objects.filter(case=case).select_related("updated_by").first()
    versions = list(
        case.screenings.select_related("interviewer", "reviewed_by").order_by("-number")
    )
    current = next((v for v in versions if v.status in ("submitted", "confirmed")), None)
    can_edit = bool(case_missions_for(user, case, Perm.SCREENING_EDIT))
    return {
        "screening_draft": draft,
        "screening_versions": versions,
        "screening_current": current,
        "can_screen": can_edit,
        "can_start_screening": can_edit
        and draft is None
        and current is None
        and case.status in SCREENABLE,
        "can_review_screening": bool(case_missions_for(user, case, Perm.SCREENING_REVIEW)),
    }


def _display(question, value) -> str:
    from django.conf.locale import LANG_INFO
    from django_countries import countries

    def country(code):
        return f"{countries.name(code)} ({code})"

    def language(code):
        return LANG_INFO.get(code, {}).get("name", code)

    if question.kind == COUNTRY:
        return country(value)
    if question.kind in (COUNTRIES, ROUTE):
        return (" → " if question.kind == ROUTE else ", ").join(country(c) for c in value)
    if question.kind == LANGUAGE:
        return language(value)
    if question.kind == LANGUAGES:
        return ", ".join(language(c) for c in value)
    if question.choices:
        labels = dict(question.choices)
        if isinstance(value, list):
            return ", ".join(str(labels.get(c, c)) for c in value)
        return str(labels.get(value, value))
    return str(value)


def summary_rows(version: ScreeningVersion):
    """Sections with (question, shown answer, kind of answer) for the printable summary."""
    answers = Answers(
        coded=version.coded, missing=version.missing, private=json.loads(version.private)
    )
    missing_labels = dict(MISSING)
    for section in SECTIONS:
        rows = []
        for question in section.questions:
            state = answers.state(question.key)
            if state == "answered":
                shown = _display(question, answers.value(question.key))
            elif state == "blank":
                shown = "—"
            else:
                shown = str(missing_labels[state])
            rows.append((question, shown, state))
        yield section, rows
