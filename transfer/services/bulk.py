"""Creating a chunk of new cases at once: the same rows as `rows`, a few INSERTs per chunk."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from assistance.models import ServiceRecord
from casework.audit import Action
from casework.models import (
    AuditEvent,
    Case,
    CaseEvent,
    Person,
)
from casework.services import (
    _validate_case_dates,
    _validate_missions,
)
from screening.models import ScreeningVersion
from transfer.services.parts import (
    CASE_TRUSTED,
    SERVICE_TRUSTED,
    _screening_audit,
    _screening_version,
    _service,
)
from transfer.services.report import CREATED, RowResult
from transfer.services.rows import _allocate_numbers, _apply_person, _audit, _case_values


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
