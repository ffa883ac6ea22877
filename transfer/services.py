"""Importing a mission's caseload from a template-shaped spreadsheet.

The flow is django-import-export's (dry run, per-row results "new / update / skip /
error", then the real import), but written as plain services: one row spans a person,
a case, a screening version, services and follow-up visits, each with its own rules,
events and audit rows, which `ModelResource.import_row` (one model per resource, one
save per row) cannot express. Each row is written in a savepoint of its own, so a row
either is written whole or not at all; the caller may ask for all or nothing.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from assistance.models import FollowUpVisit, ReintegrationPlan, ServiceRecord
from casework import blind_index
from casework.access import Perm, missions_with
from casework.audit import Action, audit_record
from casework.models import (
    AuditEvent,
    Case,
    CaseEvent,
    CaseNumberSequence,
    CaseStatus,
    Mission,
    Person,
    User,
)
from casework.services import (
    PERSON_FIELDS,
    PersonData,
    _validate_case_dates,
    _validate_missions,
)
from screening.models import ScreeningVersion
from screening.rules import assess
from transfer import parsing
from transfer.matching import match_people
from transfer.models import ImportPreview
from transfer.rows import ParsedRow, RowErrors, RowParser, shown

CREATED, UPDATED, SKIPPED, ERROR = "created", "updated", "skipped", "error"
IMPORT_ACTION = "transfer.imported"
EXPORT_ACTION = "transfer.exported"
PREVIEW_LIFETIME = timedelta(hours=2)
DECIDED_STATUSES = {
    CaseStatus.ELIGIBLE,
    CaseStatus.NOT_ELIGIBLE,
    CaseStatus.ASSISTANCE,
    CaseStatus.RETURN_IN_PROGRESS,
    CaseStatus.RETURNED,
    CaseStatus.REINTEGRATION,
    CaseStatus.CLOSED,
}


@dataclass
class RowResult:
    row: int
    reference: str
    outcome: str
    errors: list[dict] = field(default_factory=list)
    duplicates: int = 0
    changes: list[str] = field(default_factory=list)
    note: str = ""
    person: Person | None = field(default=None, repr=False, compare=False)  # to be matched

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("person")
        return data


@dataclass
class ImportReport:
    mission: str
    dry_run: bool
    all_or_nothing: bool
    day_first: bool
    rows: list[RowResult] = field(default_factory=list)
    problem: str = ""  # the file as a whole could not be read
    ignored_columns: list[str] = field(default_factory=list)
    rolled_back: bool = False  # all or nothing, and some row failed: nothing was written

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def counts(self) -> dict:
        return {
            CREATED: self.count(CREATED),
            UPDATED: self.count(UPDATED),
            SKIPPED: self.count(SKIPPED),
            ERROR: self.count(ERROR),
            "duplicates": sum(r.duplicates for r in self.rows),
            "rows": len(self.rows),
        }

    @property
    def errors(self) -> list[dict]:
        return [
            {"row": r.row, **error} for r in self.rows if r.outcome == ERROR for error in r.errors
        ]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["rows"] = [row.as_dict() for row in self.rows]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        rows = [RowResult(**row) for row in data.pop("rows")]
        return cls(rows=rows, **data)


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Database constraints a row can break, by the column to fix and why.
CONSTRAINT_COLUMNS = {
    "case_closure_reason_iff_closed": (
        "closure_reason",
        _lazy("a closed case needs a closure reason, and only a closed case has one"),
    ),
}


def _errors_of(error: ValidationError) -> list[dict]:
    errors = []
    messages = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
    for name, texts in messages.items():
        column = "" if name in ("__all__", "") else name
        reason = " ".join(texts)
        for constraint, (constraint_column, why) in CONSTRAINT_COLUMNS.items():
            if constraint in reason:
                column, reason = constraint_column, str(why)
        errors.append({"column": column, "value": "", "reason": reason})
    return errors


def _apply_person(person: Person, data: PersonData) -> list[str]:
    """Copy the data onto the person as `casework.services` does; return the changed fields.

    The database's check constraints are left to the database (the row's savepoint turns a
    refusal into a row error): validating them in Python costs a query each, per row.
    """
    changed = []
    for name in PERSON_FIELDS:
        value = getattr(data, name)
        if not _same(getattr(person, name), value):
            setattr(person, name, value)
            changed.append(name)
    if person.date_of_birth:
        person.birth_year = person.date_of_birth.year
        person.birth_year_estimated = False
    person.name_index = blind_index.name_index(person.given_names, person.family_names)
    person.family_name_index = blind_index.family_name_index(person.family_names)
    person.date_of_birth_index = blind_index.date_of_birth_index(person.date_of_birth)
    person.full_clean(exclude=PERSON_TRUSTED, validate_constraints=False)
    return changed


def _event(actor, case, mission, kind, note="", **extra) -> None:
    CaseEvent.objects.create(case=case, actor=actor, mission=mission, kind=kind, note=note, **extra)


def _screening_version(
    actor: User, mission: Mission, case: Case, parsed: ParsedRow, latest=None
) -> ScreeningVersion:
    """The (unsaved) version holding the row's screening answers."""
    answers = parsed.screening
    assessment = assess(answers.merged_values(), answers.states())
    determination = answers.coded["determination"]
    confirmed = determination in ("victim", "not_victim") and parsed.status in DECIDED_STATUSES
    return ScreeningVersion(
        case=case,
        number=(latest.number + 1) if latest else 1,
        mission=mission,
        coded=answers.coded,
        missing=answers.missing,
        private=json.dumps(answers.private, ensure_ascii=False),
        elements=assessment.as_dict(),
        suggestion=assessment.suggestion,
        determination=determination,
        status="confirmed" if confirmed else "submitted",
        reviewed_by=actor if confirmed else None,
        reviewed_at=timezone.now() if confirmed else None,
        review_comment=_("Imported from the mission's earlier records.") if confirmed else "",
        interviewer=actor,
        supersedes=latest,
        correction_reason=_("Imported again.") if latest else "",
    )


def _screening_audit(actor: User, mission: Mission, version: ScreeningVersion) -> AuditEvent:
    return AuditEvent(
        action=Action.SCREENING_SUBMITTED,
        actor=actor,
        case=version.case,
        mission=mission,
        object_type="ScreeningVersion",
        object_id=str(version.pk),
        detail={
            "version": version.number,
            "determination": version.determination,
            "imported": True,
        },
    )


def _write_screening(
    actor: User, mission: Mission, case: Case, parsed: ParsedRow, new: bool
) -> bool:
    answers = parsed.screening
    if answers is None:
        return False
    latest = None if new else case.screenings.order_by("-number").first()
    if (
        latest is not None
        and latest.coded == answers.coded
        and latest.missing == answers.missing
        and json.loads(latest.private or "{}") == answers.private
    ):
        return False
    if latest is not None and latest.status in ("submitted", "confirmed"):
        latest.status = ScreeningVersion.Status.SUPERSEDED
        latest.save(update_fields=["status"])
    version = _screening_version(actor, mission, case, parsed, latest)
    version.save()
    _event(actor, case, mission, CaseEvent.Kind.SCREENING_SUBMITTED, _("Imported."))
    _screening_audit(actor, mission, version).save()
    return True


def _service(actor: User, mission: Mission, case: Case, item) -> ServiceRecord:
    return ServiceRecord(
        case=case,
        service_type=item.service_type,
        provider_mission=None if item.partner_name else mission,
        partner_name=item.partner_name,
        start_date=item.start_date,
        end_date=item.end_date,
        status=item.status,
        recorded_by=actor,
    )


def _write_services(actor: User, mission: Mission, case: Case, parsed: ParsedRow, new: bool) -> int:
    if not parsed.services:
        return 0
    existing = (
        {}
        if new
        else {(s.service_type, s.start_date, s.partner_name): s for s in case.services.all()}
    )
    written = 0
    for item in parsed.services:
        key = (item.service_type, item.start_date, item.partner_name)
        service = existing.get(key)
        if service is not None:
            if (service.status, service.end_date) == (item.status, item.end_date):
                continue
            service.status, service.end_date = item.status, item.end_date
            service.version += 1
            service.full_clean(exclude=SERVICE_TRUSTED, validate_constraints=False)
            service.save(update_fields=["status", "end_date", "version", "updated_at"])
            kind, action = CaseEvent.Kind.SERVICE_UPDATED, Action.SERVICE_UPDATED
        else:
            service = _service(actor, mission, case, item)
            service.full_clean(exclude=SERVICE_TRUSTED, validate_constraints=False)
            service.save()
            existing[key] = service
            kind, action = CaseEvent.Kind.SERVICE_RECORDED, Action.SERVICE_RECORDED
        _event(actor, case, mission, kind, service.get_service_type_display())
        audit_record(
            action=action,
            actor=actor,
            case=case,
            mission=mission,
            obj=service,
            detail={"type": service.service_type, "imported": True},
        )
        written += 1
    return written


def _write_follow_ups(
    actor: User, mission: Mission, case: Case, parsed: ParsedRow, new: bool
) -> int:
    if parsed.return_date is None:
        return 0
    written = 0
    plan = None if new else ReintegrationPlan.objects.filter(case=case).first()
    if plan is None:
        plan = ReintegrationPlan.objects.create(
            case=case, mission=mission, return_date=parsed.return_date, created_by=actor
        )
        _event(actor, case, mission, CaseEvent.Kind.REINTEGRATION_PLANNED, _("Imported."))
        audit_record(
            action=Action.REINTEGRATION_PLANNED,
            actor=actor,
            case=case,
            mission=mission,
            obj=plan,
            detail={"imported": True},
        )
        written += 1
    elif plan.return_date != parsed.return_date:
        plan.return_date = parsed.return_date
        plan.save(update_fields=["return_date"])
        written += 1
    visits = {v.due_on: v for v in plan.visits.all()}
    for item in parsed.follow_ups or []:
        visit = visits.get(item.due_on) or FollowUpVisit(plan=plan, due_on=item.due_on)
        scores = item.scores or (None, None, None)
        values = (item.status, item.visited_on, *scores)
        current = (
            visit.status,
            visit.visited_on,
            visit.score_economic,
            visit.score_social,
            visit.score_psychosocial,
        )
        if visit.pk and current == values:
            continue
        visit.status, visit.visited_on = item.status, item.visited_on
        visit.score_economic, visit.score_social, visit.score_psychosocial = scores
        visit.recorded_by = actor if item.status != "scheduled" else None
        visit.save()
        visits[item.due_on] = visit
        if item.status == "done":
            _event(actor, case, mission, CaseEvent.Kind.FOLLOW_UP_RECORDED, _("Imported."))
        audit_record(
            action=Action.FOLLOW_UP_RECORDED,
            actor=actor,
            case=case,
            mission=mission,
            obj=visit,
            detail={"status": item.status, "imported": True},
        )
        written += 1
    return written


# Set by the import itself (the missions are looked up among the active ones): checking
# them again would cost a query per foreign key and row. Uniqueness and the check
# constraints are the database's (a refusal rolls the row's savepoint back).
# Coded fields, checked already by the row's parser (validating the country codes again
# would normalise the 250 choices on every row).
PERSON_TRUSTED = ["registered_by", "sex", "citizenship", "document_type", "preferred_language"]
SERVICE_TRUSTED = ["case", "recorded_by", "provider_mission", "service_type", "status"]
CASE_TRUSTED = [
    "country_of_exploitation",
    "status",
    "closure_reason",
    "person",
    "created_by",
    "case_number",
    "registering_mission",
    "destination_mission",
    "source_mission",
    "merged_into",
]
CASE_FIELDS = (
    "destination_mission",
    "source_mission",
    "country_of_exploitation",
    "identified_on",
    "registered_on",
    "status",
    "closure_reason",
)


def _case_values(parsed: ParsedRow) -> dict:
    return {
        "destination_mission": parsed.destination_mission,
        "source_mission": parsed.source_mission,
        "country_of_exploitation": parsed.country_of_exploitation,
        "identified_on": parsed.identified_on,
        "registered_on": parsed.registered_on,
        "status": parsed.status,
        "closure_reason": parsed.closure_reason,
    }


def _same(current, value) -> bool:
    if hasattr(current, "code") and not isinstance(current, Mission):  # a Country
        current = current.code or ""
    return current == value


def _write_row(actor: User, mission: Mission, parsed: ParsedRow) -> RowResult:
    """Create or update one case with everything on its row; raise on any invalid part."""
    _validate_case_dates(parsed.identified_on, parsed.registered_on)
    _validate_missions(parsed.destination_mission, parsed.source_mission)
    case = (
        Case.objects.select_for_update()
        .select_related("person")
        .filter(registering_mission=mission, legacy_reference=parsed.reference)
        .first()
    )
    result = RowResult(row=0, reference=parsed.reference, outcome=SKIPPED)
    if case is None:
        person = Person(registered_by=mission)
        _apply_person(person, parsed.person)
        person.save()
        result.person = person
        case = Case(
            case_number=_allocate_numbers(mission, parsed.registered_on.year, 1)[0],
            person=person,
            registering_mission=mission,
            legacy_reference=parsed.reference,
            created_by=actor,
            **_case_values(parsed),
        )
        case.full_clean(exclude=CASE_TRUSTED, validate_unique=False, validate_constraints=False)
        case.save()
        _event(actor, case, mission, CaseEvent.Kind.REGISTERED, to_status=case.status)
        audit_record(
            action=Action.CASE_REGISTERED,
            actor=actor,
            case=case,
            mission=mission,
            obj=case,
            detail={"imported": True},
        )
        result.outcome = CREATED
    else:
        person = case.person
        changed = [f"person.{name}" for name in _apply_person(person, parsed.person)]
        if changed:
            person.save()
            result.person = person
        from_status = case.status
        for name, value in _case_values(parsed).items():
            if not _same(getattr(case, name), value):
                setattr(case, name, value)
                changed.append(name)
        if any(not name.startswith("person.") for name in changed):
            case.version += 1
            case.full_clean(exclude=CASE_TRUSTED, validate_unique=False, validate_constraints=False)
            case.save(update_fields=[*CASE_FIELDS, "version", "updated_at"])
        if changed:
            _event(actor, case, mission, CaseEvent.Kind.UPDATED, _("Imported."))
            if case.status != from_status:
                _event(
                    actor,
                    case,
                    mission,
                    CaseEvent.Kind.STATUS_CHANGED,
                    _("Imported."),
                    from_status=from_status,
                    to_status=case.status,
                )
            audit_record(
                action=Action.CASE_UPDATED,
                actor=actor,
                case=case,
                mission=mission,
                obj=case,
                detail={"fields": sorted(changed), "imported": True},
            )
        result.changes = changed
    new = result.outcome == CREATED
    parts = [
        ("screening", _write_screening(actor, mission, case, parsed, new)),
        ("services", _write_services(actor, mission, case, parsed, new)),
        ("follow_ups", _write_follow_ups(actor, mission, case, parsed, new)),
    ]
    result.changes += [name for name, written in parts if written]
    if result.outcome == SKIPPED and result.changes:
        result.outcome = UPDATED
    return result


def import_table(
    *,
    actor: User,
    mission: Mission,
    table: parsing.Table,
    day_first: bool = True,
    all_or_nothing: bool = False,
    dry_run: bool = False,
    progress=None,
) -> ImportReport:
    """Import (or, dry, preview) every row; each row whole or not at all.

    Rows are written in order, each in a savepoint: a failing row leaves nothing behind.
    With `all_or_nothing`, one failing row rolls back every row. A dry run does the same
    work and rolls it all back, so its report (created, updated, skipped, likely duplicates
    queued for review) is what the real import will do.
    """
    if not missions_with(actor, Perm.IMPORT_CASES).filter(pk=mission.pk).exists():
        raise PermissionDenied
    report = ImportReport(
        mission=mission.code,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        day_first=day_first,
        ignored_columns=list(table.ignored),
    )
    parser = RowParser(mission, day_first=day_first)
    seen: dict[str, tuple[int, dict]] = {}
    done = 0
    records: dict = {}  # matching fields of the people read so far, shared by the chunks
    holders: dict = {}  # and the people holding each blocking key
    with transaction.atomic():
        for start in range(0, len(table.rows), CHUNK):
            chunk = table.rows[start : start + CHUNK]
            results = _import_chunk(actor, mission, parser, seen, chunk)
            report.rows += results
            _match([r for r in results if r.person is not None], records, holders)
            done += len(chunk)
            if progress:
                progress(done, len(table.rows))
        if dry_run or (all_or_nothing and report.count(ERROR)):
            report.rolled_back = not dry_run
            transaction.set_rollback(True)
    return report


CHUNK = 500  # rows prepared, created in bulk and matched together


def _allocate_numbers(mission: Mission, year: int, count: int) -> list[str]:
    """Take `count` consecutive case numbers of the mission and year (as case_register does)."""
    sequence, _created = CaseNumberSequence.objects.select_for_update().get_or_create(
        mission=mission, year=year
    )
    CaseNumberSequence.objects.filter(pk=sequence.pk).update(last_value=F("last_value") + count)
    sequence.refresh_from_db(fields=["last_value"])
    first = sequence.last_value - count + 1
    return [f"{mission.code}-{year}-{n:06d}" for n in range(first, sequence.last_value + 1)]


def _match(results: list[RowResult], records: dict, holders: dict) -> None:
    """Run deduplication for the people of these rows; note each row's likely duplicates."""
    if not results:
        return
    people = [r.person for r in results]
    updated = {r.person.pk for r in results if r.outcome != CREATED}
    queued = match_people(people, updated, records, holders)
    for result in results:
        result.duplicates = queued.get(result.person.pk, 0)
        result.person = None


def _prepare(parser, seen, number, values) -> RowResult | ParsedRow:
    """The parsed row, or its result when it goes no further (invalid, repeated)."""
    try:
        parsed = parser.parse(values)
    except RowErrors as invalid:
        reference = parsing.text(values.get("legacy_reference", "") or "")
        return RowResult(row=number, reference=reference, outcome=ERROR, errors=invalid.errors)
    earlier = seen.get(parsed.reference)
    if earlier is not None:
        if earlier[1] == values:
            return RowResult(
                row=number,
                reference=parsed.reference,
                outcome=SKIPPED,
                note=_("repeats row %(row)d") % {"row": earlier[0]},
            )
        return RowResult(
            row=number,
            reference=parsed.reference,
            outcome=ERROR,
            errors=[
                {
                    "column": "legacy_reference",
                    "value": parsed.reference,
                    "reason": _("already used on row %(row)d with other values")
                    % {"row": earlier[0]},
                }
            ],
        )
    seen[parsed.reference] = (number, values)
    return parsed


def _import_chunk(actor, mission, parser, seen, chunk) -> list[RowResult]:
    """Import a chunk of rows: new cases in bulk, the others (and any bulk refusal) by row."""
    results: dict[int, RowResult] = {}
    prepared = []
    for number, values in chunk:
        outcome = _prepare(parser, seen, number, values)
        if isinstance(outcome, RowResult):
            results[number] = outcome
        else:
            prepared.append((number, values, outcome))
    known = set(
        Case.objects.filter(
            registering_mission=mission,
            legacy_reference__in=[p.reference for _n, _v, p in prepared],
        ).values_list("legacy_reference", flat=True)
    )
    bulk = [
        item for item in prepared if item[2].reference not in known and item[2].return_date is None
    ]
    one_by_one = [item for item in prepared if item not in bulk]
    if bulk:
        created, refused = _create_many(actor, mission, bulk)
        results.update(created)
        one_by_one += refused
    for number, values, parsed in sorted(one_by_one, key=lambda item: item[0]):
        results[number] = _write_one(actor, mission, number, values, parsed)
    return [results[number] for number, _values in chunk]


def _create_many(actor, mission, items) -> tuple[dict[int, RowResult], list]:
    """Create new cases in bulk, in one savepoint; return them and the rows left to do one by one.

    The same objects, events and audit rows as `_write_row`, a few INSERTs per chunk rather
    than a dozen queries per row. A row that fails a check here, or any refusal by the
    database (the whole savepoint is then rolled back), is handed back for `_write_one`,
    which finds and reports the row at fault.
    """
    ready, refused = [], []
    for number, values, parsed in items:
        try:
            _validate_case_dates(parsed.identified_on, parsed.registered_on)
            _validate_missions(parsed.destination_mission, parsed.source_mission)
            person = Person(registered_by=mission)
            _apply_person(person, parsed.person)
            case = Case(
                person=person,
                registering_mission=mission,
                legacy_reference=parsed.reference,
                created_by=actor,
                **_case_values(parsed),
            )
            case.full_clean(exclude=CASE_TRUSTED, validate_unique=False, validate_constraints=False)
            services = [_service(actor, mission, case, item) for item in parsed.services]
            for service in services:
                service.full_clean(exclude=SERVICE_TRUSTED, validate_constraints=False)
        except ValidationError:
            refused.append((number, values, parsed))
            continue
        ready.append((number, parsed, person, case, services))
    if not ready:
        return {}, refused
    try:
        with transaction.atomic():
            Person.objects.bulk_create([person for _n, _p, person, _c, _s in ready])
            by_year: dict[int, list[Case]] = {}
            for _n, _p, _person, case, _s in ready:
                by_year.setdefault(case.registered_on.year, []).append(case)
            for year, cases in by_year.items():
                for case, number in zip(
                    cases, _allocate_numbers(mission, year, len(cases)), strict=True
                ):
                    case.case_number = number
            for _n, _p, person, case, _s in ready:
                case.person = person
            Case.objects.bulk_create([case for _n, _p, _person, case, _s in ready])
            events, audits, versions, services = [], [], [], []
            for _n, parsed, _person, case, case_services in ready:
                events.append(
                    CaseEvent(
                        case=case,
                        actor=actor,
                        mission=mission,
                        kind=CaseEvent.Kind.REGISTERED,
                        to_status=case.status,
                    )
                )
                audits.append(_audit(Action.CASE_REGISTERED, actor, mission, case, case))
                if parsed.screening is not None:
                    versions.append(_screening_version(actor, mission, case, parsed))
                for service in case_services:
                    service.case = case
                    services.append(service)
            ScreeningVersion.objects.bulk_create(versions)
            ServiceRecord.objects.bulk_create(services)
            for version in versions:
                events.append(
                    CaseEvent(
                        case=version.case,
                        actor=actor,
                        mission=mission,
                        kind=CaseEvent.Kind.SCREENING_SUBMITTED,
                        note=_("Imported."),
                    )
                )
                audits.append(_screening_audit(actor, mission, version))
            for service in services:
                events.append(
                    CaseEvent(
                        case=service.case,
                        actor=actor,
                        mission=mission,
                        kind=CaseEvent.Kind.SERVICE_RECORDED,
                        note=service.get_service_type_display(),
                    )
                )
                audits.append(
                    _audit(
                        Action.SERVICE_RECORDED,
                        actor,
                        mission,
                        service.case,
                        service,
                        {"type": service.service_type, "imported": True},
                    )
                )
            CaseEvent.objects.bulk_create(events)
            AuditEvent.objects.bulk_create(audits)
    except IntegrityError:
        return {}, list(items)
    created = {}
    for number, parsed, person, _case, case_services in ready:
        changes = (["screening"] if parsed.screening is not None else []) + (
            ["services"] if case_services else []
        )
        created[number] = RowResult(
            row=number, reference=parsed.reference, outcome=CREATED, changes=changes, person=person
        )
    return created, refused


def _audit(action, actor, mission, case, obj, detail=None) -> AuditEvent:
    """An audit row as `audit_record` writes it, to be saved in bulk."""
    return AuditEvent(
        action=action,
        actor=actor,
        case=case,
        mission=mission,
        object_type=type(obj).__name__,
        object_id=str(obj.pk),
        detail=detail or {"imported": True},
    )


def _write_one(actor, mission, number, values, parsed) -> RowResult:
    """Write one row in a savepoint of its own; a refusal becomes the row's errors."""
    try:
        with transaction.atomic():
            result = _write_row(actor, mission, parsed)
    except ValidationError as invalid:
        errors = _errors_of(invalid)
        for error in errors:
            if not error["value"] and error["column"] in values:
                error["value"] = shown(values[error["column"]])
        return RowResult(row=number, reference=parsed.reference, outcome=ERROR, errors=errors)
    except IntegrityError as conflict:
        for constraint, (column, why) in CONSTRAINT_COLUMNS.items():
            if constraint in str(conflict):
                value = shown(values.get(column, ""))
                error = {"column": column, "value": value, "reason": str(why)}
                return RowResult(
                    row=number, reference=parsed.reference, outcome=ERROR, errors=[error]
                )
        return RowResult(
            row=number,
            reference=parsed.reference,
            outcome=ERROR,
            errors=[
                {
                    "column": "",
                    "value": "",
                    "reason": _("refused by the database: %s")
                    % (str(conflict).splitlines()[0][:200]),
                }
            ],
        )
    result.row = number
    return result


def import_audit(
    *, actor: User, mission: Mission, report: ImportReport, digest: str, via: str
) -> None:
    """The audit row of a confirmed import: who, when, which file (checksum), counts."""
    audit_record(
        action=IMPORT_ACTION,
        actor=actor,
        mission=mission,
        detail={
            "sha256": digest,
            "via": via,
            "all_or_nothing": report.all_or_nothing,
            "day_first": report.day_first,
            "rolled_back": report.rolled_back,
            "problem": bool(report.problem),
            **report.counts,
        },
    )


def import_file(
    *,
    actor: User,
    mission: Mission,
    data: bytes,
    day_first: bool = True,
    all_or_nothing: bool = False,
    dry_run: bool = False,
    via: str = "command",
    progress=None,
) -> ImportReport:
    """Read and import a file's bytes; a confirmed import is audited even when it failed."""
    digest = checksum(data)
    try:
        table = parsing.read_table(data)
    except parsing.FileProblem as problem:
        report = ImportReport(
            mission=mission.code,
            dry_run=dry_run,
            all_or_nothing=all_or_nothing,
            day_first=day_first,
            problem=str(problem),
        )
        if not missions_with(actor, Perm.IMPORT_CASES).filter(pk=mission.pk).exists():
            raise PermissionDenied from problem
    else:
        report = import_table(
            actor=actor,
            mission=mission,
            table=table,
            day_first=day_first,
            all_or_nothing=all_or_nothing,
            dry_run=dry_run,
            progress=progress,
        )
    if not dry_run:
        import_audit(actor=actor, mission=mission, report=report, digest=digest, via=via)
    return report


# Preview, then confirm (the web flow) --------------------------------------------------


@transaction.atomic
def preview_create(
    *,
    actor: User,
    mission: Mission,
    data: bytes,
    file_name: str,
    day_first: bool,
    all_or_nothing: bool,
) -> tuple[ImportReport, ImportPreview | None]:
    """Dry-run the file; keep its parsed rows (encrypted) for the confirmation, not the file."""
    ImportPreview.objects.filter(created_at__lt=timezone.now() - PREVIEW_LIFETIME).delete()
    ImportPreview.objects.filter(created_by=actor).delete()
    try:
        table = parsing.read_table(data)
    except parsing.FileProblem as problem:
        report = ImportReport(
            mission=mission.code,
            dry_run=True,
            all_or_nothing=all_or_nothing,
            day_first=day_first,
            problem=str(problem),
        )
        return report, None
    report = import_table(
        actor=actor,
        mission=mission,
        table=table,
        day_first=day_first,
        all_or_nothing=all_or_nothing,
        dry_run=True,
    )
    preview = ImportPreview.objects.create(
        mission=mission,
        created_by=actor,
        checksum=checksum(data),
        day_first=day_first,
        all_or_nothing=all_or_nothing,
        file_name=file_name[:200],
        rows=json.dumps(
            {
                "headers": table.headers,
                "columns": table.columns,
                "ignored": table.ignored,
                "rows": table.rows,
            },
            ensure_ascii=False,
        ),
        report=json.dumps(report.as_dict(), ensure_ascii=False),
    )
    return report, preview


def preview_report(preview: ImportPreview) -> ImportReport:
    return ImportReport.from_dict(json.loads(preview.report))


def preview_confirm(*, actor: User, preview: ImportPreview) -> ImportReport:
    """Import the previewed rows for real, audit it, and delete the stored rows."""
    stored = json.loads(preview.rows)
    table = parsing.Table(
        headers=stored["headers"],
        columns=stored["columns"],
        rows=[(number, values) for number, values in stored["rows"]],
        ignored=stored["ignored"],
    )
    mission = preview.mission
    report = import_table(
        actor=actor,
        mission=mission,
        table=table,
        day_first=preview.day_first,
        all_or_nothing=preview.all_or_nothing,
    )
    with transaction.atomic():
        import_audit(
            actor=actor, mission=mission, report=report, digest=preview.checksum, via="web"
        )
        ImportPreview.objects.filter(pk=preview.pk).delete()
    return report


def preview_cancel(*, preview: ImportPreview) -> None:
    ImportPreview.objects.filter(pk=preview.pk).delete()
