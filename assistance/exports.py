"""The operational export of a mission's cases, as CSV or XLSX, streamed row by row.

Identifiers (names, date of birth, identity document) are included only when asked for
by a user whose role allows it; the caller decides and audits.
"""

import csv
import tempfile
from collections.abc import Iterator

from django.db.models import OuterRef, Subquery
from openpyxl import Workbook

from assistance.models import ReturnMovement
from casework.access import cases_of_missions
from casework.models import Mission
from screening.models import ScreeningVersion

COLUMNS = [
    "case_number",
    "status",
    "registering_mission",
    "destination_mission",
    "source_mission",
    "country_of_exploitation",
    "identified_on",
    "registered_on",
    "sex",
    "birth_year",
    "citizenship",
    "screening_determination",
    "return_status",
    "arrival_date",
    "closure_reason",
]
IDENTIFIER_COLUMNS = ["given_names", "family_names", "date_of_birth", "document_number"]


def export_columns(include_identifiers: bool) -> list[str]:
    return COLUMNS + (IDENTIFIER_COLUMNS if include_identifiers else [])


def export_queryset(mission: Mission, include_identifiers: bool):
    determination = ScreeningVersion.objects.filter(
        case=OuterRef("pk"), status__in=["submitted", "confirmed"]
    ).values("determination")[:1]
    latest_return = ReturnMovement.objects.filter(case=OuterRef("pk")).order_by("-id")
    cases = (
        cases_of_missions({mission.pk})
        .select_related("registering_mission", "destination_mission", "source_mission")
        .annotate(
            screening_determination=Subquery(determination),
            return_status=Subquery(latest_return.values("status")[:1]),
            arrival_date=Subquery(latest_return.values("arrival_date")[:1]),
        )
        .order_by("-registered_on", "-id")
    )
    fields = [
        "case_number",
        "status",
        "country_of_exploitation",
        "identified_on",
        "registered_on",
        "closure_reason",
        "registering_mission__code",
        "destination_mission__code",
        "source_mission__code",
        "person__sex",
        "person__birth_year",
        "person__citizenship",
    ]
    if include_identifiers:
        # Only the exported identifiers are decrypted, not the person's other fields.
        fields += [f"person__{name}" for name in IDENTIFIER_COLUMNS]
    return cases.select_related("person").only(*fields)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    """Text a spreadsheet would run as a formula is kept as text (a leading apostrophe)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export_rows(mission: Mission, include_identifiers: bool) -> Iterator[list]:
    for case in export_queryset(mission, include_identifiers).iterator(chunk_size=2000):
        person = case.person
        row = [
            case.case_number,
            case.status,
            case.registering_mission.code,
            case.destination_mission.code,
            case.source_mission.code if case.source_mission_id else "",
            str(case.country_of_exploitation or ""),
            case.identified_on.isoformat(),
            case.registered_on.isoformat(),
            person.sex,
            person.birth_year or "",
            str(person.citizenship or ""),
            case.screening_determination or "",
            case.return_status or "",
            case.arrival_date.isoformat() if case.arrival_date else "",
            case.closure_reason,
        ]
        if include_identifiers:
            row += [
                person.given_names,
                person.family_names,
                person.date_of_birth.isoformat() if person.date_of_birth else "",
                person.document_number,
            ]
        yield [_inert(value) for value in row]


class _Echo:
    def write(self, value):
        return value


def csv_stream(mission: Mission, include_identifiers: bool) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # byte-order mark: spreadsheet programs then read UTF-8 names correctly
    yield writer.writerow(export_columns(include_identifiers))
    for row in export_rows(mission, include_identifiers):
        yield writer.writerow(row)


def xlsx_file(mission: Mission, include_identifiers: bool):
    """Write the workbook in write-only mode to a temporary file and return it, rewound."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("cases")
    sheet.append(export_columns(include_identifiers))
    for row in export_rows(mission, include_identifiers):
        sheet.append(row)
    handle = tempfile.TemporaryFile()  # noqa: SIM115  (returned open; FileResponse closes it)
    workbook.save(handle)
    handle.seek(0)
    return handle
