"""The outcome of an import, row by row, and its counts."""

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from casework.models import (
    CaseStatus,
    Person,
)

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
