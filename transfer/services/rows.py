"""Writing one row in a savepoint of its own: create or update its case, whole or not at all."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from casework import blind_index
from casework.audit import Action, audit_record
from casework.models import (
    AuditEvent,
    Case,
    CaseEvent,
    CaseNumberSequence,
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
from transfer.rows import ParsedRow, shown
from transfer.services.parts import (
    CASE_TRUSTED,
    PERSON_TRUSTED,
    _event,
    _write_follow_ups,
    _write_screening,
    _write_services,
)
from transfer.services.report import CREATED, ERROR, SKIPPED, UPDATED, RowResult

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


def _allocate_numbers(mission: Mission, year: int, count: int) -> list[str]:
    """Take `count` consecutive case numbers of the mission and year (as case_register does)."""
    sequence, _created = CaseNumberSequence.objects.select_for_update().get_or_create(
        mission=mission, year=year
    )
    CaseNumberSequence.objects.filter(pk=sequence.pk).update(last_value=F("last_value") + count)
    sequence.refresh_from_db(fields=["last_value"])
    first = sequence.last_value - count + 1
    return [f"{mission.code}-{year}-{n:06d}" for n in range(first, sequence.last_value + 1)]


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
