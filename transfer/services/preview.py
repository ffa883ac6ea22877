"""Upload → preview (a dry run) → confirm: the parsed rows wait, encrypted, in between."""

import json

from django.db import transaction
from django.utils import timezone

from casework.models import (
    Mission,
    User,
)
from transfer import parsing
from transfer.models import ImportPreview
from transfer.services.importing import import_audit, import_table
from transfer.services.report import PREVIEW_LIFETIME, ImportReport, checksum

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
