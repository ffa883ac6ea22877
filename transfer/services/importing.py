"""The import of a table (or a file): chunks, deduplication, all or nothing, audit."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from casework.access import Perm, missions_with
from casework.audit import audit_record
from casework.models import (
    Case,
    Mission,
    User,
)
from transfer import parsing
from transfer.matching import match_people
from transfer.rows import ParsedRow, RowErrors, RowParser
from transfer.services.bulk import _create_many
from transfer.services.report import (
    CREATED,
    ERROR,
    IMPORT_ACTION,
    SKIPPED,
    ImportReport,
    RowResult,
    checksum,
)
from transfer.services.rows import _write_one

CHUNK = 500  # rows prepared, created in bulk and matched together


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
