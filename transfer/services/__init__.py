"""Importing a mission's caseload from a template-shaped spreadsheet.

The flow is django-import-export's (dry run, per-row results "new / update / skip /
error", then the real import), but written as plain services: one row spans a person,
a case, a screening version, services and follow-up visits, each with its own rules,
events and audit rows, which `ModelResource.import_row` (one model per resource, one
save per row) cannot express. New cases are created in bulk a chunk at a time; a chunk
the database refuses is redone row by row, each row in a savepoint of its own, so a row
is written whole or not at all; the caller may ask for all or nothing.

- `report`: the per-row results and the report.
- `rows`: writing one row (create or update) and its screening, services and visits.
- `bulk`: creating a chunk of new cases at once.
- `importing`: the import of a table or a file, its audit.
- `preview`: the web flow, upload → preview → confirm.
"""

from transfer.services.importing import import_audit, import_file, import_table
from transfer.services.preview import (
    preview_cancel,
    preview_confirm,
    preview_create,
    preview_report,
)
from transfer.services.report import (
    CREATED,
    ERROR,
    EXPORT_ACTION,
    IMPORT_ACTION,
    PREVIEW_LIFETIME,
    SKIPPED,
    UPDATED,
    ImportReport,
    RowResult,
    checksum,
)

__all__ = [
    "CREATED",
    "ERROR",
    "EXPORT_ACTION",
    "IMPORT_ACTION",
    "PREVIEW_LIFETIME",
    "SKIPPED",
    "UPDATED",
    "ImportReport",
    "RowResult",
    "checksum",
    "import_audit",
    "import_file",
    "import_table",
    "preview_cancel",
    "preview_confirm",
    "preview_create",
    "preview_report",
]
