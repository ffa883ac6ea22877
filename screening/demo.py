"""Screening forms for the demo caseload, consistent with each case's path and with the rules."""

import json
import random
from datetime import date, timedelta

from django.utils import timezone

from casework.models import Case, CaseStatus
from screening import vocabularies as v
from screening.models import ScreeningVersion
from screening.questionnaire import answers as new_answers
from screening.rules import assess

ROUTES = {
    "UA": [["UA", "PL"], ["UA", "PL", "DE"], ["UA", "HU", "AT", "IT"]],
    "MD": [["MD", "RO", "HU", "AT", "IT"], ["MD", "RO", "DE"], ["MD", "TR", "AE"]],
    "NG": [["NG", "NE", "LY", "IT"], ["NG", "AE"], ["NG", "MA", "ES", "DE"]],
    "VN": [["VN", "LA", "TH"], ["VN", "RU", "PL"], ["VN", "CN", "RU", "DE"]],
    "NP": [["NP", "IN", "AE"], ["NP", "TH"], ["NP", "IN", "QA", "AE"]],
}
LANGUAGE = {"UA": "uk", "MD": "ro", "NG": "en", "VN": "vi", "NP": "ne"}


def _codes(choices) -> list[str]:
    return [code for code, _label in choices]


def _some(rng: random.Random, choices, low=1, high=3) -> list[str]:
    codes = _codes(choices)
    return rng.sample(codes, rng.randint(low, min(high, len(codes))))


def _maybe_missing(rng: random.Random, answers, key: str, value, rate=0.06) -> None:
    roll = rng.random()
    if roll < rate:
        answers.missing[key] = rng.choice(["unknown", "unknown", "declined"])
    elif value not in (None, [], ""):
        answers.coded[key] = value.isoformat() if isinstance(value, date) else value


def demo_answers(case: Case, rng: random.Random, *, victim: bool):
    """Plausible coded answers for a case; a non-victim lacks means and exploitation."""
    person = case.person
    source = str(case.source_mission.country) if case.source_mission_id else "UA"
    destination = str(case.destination_mission.country)
    interview = case.registered_on + timedelta(days=rng.randint(0, 14))
    interview = min(interview, date(2026, 6, 30))
    exit_day = case.identified_on - timedelta(days=rng.randint(0, 20))
    start = exit_day - timedelta(days=rng.randint(30, 900))
    recruited = start - timedelta(days=rng.randint(3, 120))
    born = person.date_of_birth or date(person.birth_year or 1990, 7, 1)
    age = lambda day: day.year - born.year - ((day.month, day.day) < (born.month, born.day))  # noqa: E731
    a = new_answers()
    a.coded.update(
        interview_date=interview.isoformat(),
        consent_interview="given",
        consent_data_processing="given",
        consent_date=interview.isoformat(),
        interview_language=LANGUAGE.get(source, "en"),
        sex=person.sex if person.sex != "unknown" else "female",
        age_at_interview=max(age(interview), 0),
        citizenship=source,
        age_at_recruitment=max(age(recruited), 0),
        recruitment_country=source,
        exploitation_countries=[destination],
        exit_method=rng.choice(_codes(v.EXIT_METHOD)),
        determination="victim" if victim else "not_victim",
    )
    a.private.update(interview_place="Mission office", recruitment_place="Home town")
    for key, choices in (
        ("interpreter_present", v.YES_NO),
        ("referral_source", v.REFERRAL_SOURCE),
        ("marital_status", v.MARITAL_STATUS),
        ("education", v.EDUCATION),
        ("occupation_before", v.OCCUPATION),
        ("recruitment_method", v.RECRUITMENT_METHOD),
        ("recruiter_relationship", v.RECRUITER_RELATIONSHIP),
        ("fees_or_debt", v.YES_NO),
        ("documents_used", v.DOCUMENTS_USED),
        ("border_crossing", v.BORDER_CROSSING),
        ("needs_medical", v.YES_NO),
        ("needs_shelter", v.YES_NO),
        ("risk_to_person", v.YES_NO),
        ("risk_to_family", v.YES_NO),
        ("urgent_assistance", v.YES_NO),
    ):
        _maybe_missing(rng, a, key, rng.choice(_codes(choices)))
    _maybe_missing(rng, a, "children", rng.choice([0, 0, 1, 2, 3]))
    _maybe_missing(rng, a, "recruitment_date", recruited)
    _maybe_missing(rng, a, "route", rng.choice(ROUTES.get(source, [[source, destination]])))
    _maybe_missing(rng, a, "transport", _some(rng, v.TRANSPORT, 1, 2))
    _maybe_missing(rng, a, "exploitation_start", start)
    _maybe_missing(rng, a, "exploitation_end", exit_day)
    _maybe_missing(rng, a, "exit_date", exit_day)
    if victim:
        types = _some(rng, v.EXPLOITATION_TYPE[:5], 1, 2)
        a.coded["exploitation_types"] = types
        a.coded["means_of_control"] = _some(rng, v.MEANS_OF_CONTROL[:16], 1, 4)
        if "forced_labour" in types:
            a.coded["labour_sector"] = rng.choice(_codes(v.LABOUR_SECTOR))
        _maybe_missing(rng, a, "hours_per_day", rng.randint(10, 18))
        _maybe_missing(rng, a, "days_per_week", rng.choice([6, 7]))
        _maybe_missing(
            rng, a, "earnings_kept_by", rng.choice(["exploiter", "shared", "no_earnings"])
        )
    else:
        a.missing["exploitation_types"] = "not_applicable"
        a.missing["means_of_control"] = "not_applicable"
        a.private["rationale"] = "Labour dispute without control or deception."
    return a


def _version(case: Case, answers, status: str, interviewer: int, reviewer: int):
    assessment = assess(answers.merged_values(), answers.states())
    reviewed = status == ScreeningVersion.Status.CONFIRMED
    return ScreeningVersion(
        case=case,
        number=1,
        mission_id=case.registering_mission_id,
        coded=answers.coded,
        missing=answers.missing,
        private=json.dumps(answers.private),
        elements=assessment.as_dict(),
        suggestion=assessment.suggestion,
        determination=answers.coded["determination"],
        status=status,
        interviewer_id=interviewer,
        reviewed_by_id=reviewer if reviewed else None,
        reviewed_at=timezone.now() if reviewed else None,
    )


def seed_screenings(plans, staff, rng: random.Random) -> None:
    """Add the screening form each seeded case's path implies."""
    versions = []
    for case, path in plans:
        worker, manager = staff[case.registering_mission_id]
        if CaseStatus.ELIGIBLE in path or CaseStatus.NOT_ELIGIBLE in path:
            victim = CaseStatus.NOT_ELIGIBLE not in path
            answers = demo_answers(case, rng, victim=victim)
            versions.append(_version(case, answers, "confirmed", worker, manager))
        elif path[-1] == CaseStatus.UNDER_SCREENING and rng.random() < 0.5:
            answers = demo_answers(case, rng, victim=rng.random() < 0.8)
            versions.append(_version(case, answers, "submitted", worker, manager))
    ScreeningVersion.objects.bulk_create(versions, batch_size=1000)
