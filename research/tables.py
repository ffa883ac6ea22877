"""Tables of a release: counted, protected, audited, stored, and kept consistent.

A table is a definition (row variables, column variable, filters, unit, method) applied
to a release's records. Persons are counted once, by their first case of the table's
records (so that the table stays additive); cases one per record. Missing values are
their own category, labelled as such; countries have their regions as subtotals.

Every table of a release is protected together with every table already published from
that release (the same cell is withheld in both or in neither) and with the same table
in the previous release (so that differencing two releases reveals nothing), through the
joint audit of `research.sdc.linked`. A published table is stored and never changes:
asking again for the same table of the same release gives the same cells, byte for byte.
"""

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import transaction

from research import codebook as cb
from research import regions, sdc
from research.models import PublishedTable, Release, ResearchRecord
from research.router import RESEARCH_DB
from research.sdc.linked import NotReleasable, Published, protect_with, too_narrow

UNITS = ("persons", "cases")
SUPPRESSION, ROUNDING = "suppression", "rounding"
METHODS = (SUPPRESSION, ROUNDING)
WITHHELD = "x"  # the one mark for every withheld count, primary or secondary


class TableError(ValueError):
    """A table that cannot be made, with a message for the person who asked."""


@dataclass(frozen=True)
class Definition:
    rows: tuple[str, ...]
    cols: str | None = None
    where: tuple[tuple[str, int | tuple[int, ...]], ...] = ()  # a code, or any of several
    unit: str = "cases"
    method: str = SUPPRESSION
    threshold: int = 10

    @classmethod
    def make(cls, rows, cols=None, where=None, unit="cases", method="suppression", threshold=10):
        rows = tuple(r.strip() for r in ([rows] if isinstance(rows, str) else rows) if r.strip())
        names = [*rows, *([cols] if cols else [])]
        if not rows or len(rows) > 2:
            raise TableError("A table has one or two row variables.")
        unknown = [n for n in names if n not in cb.BY_NAME]
        if unknown:
            raise TableError(f"Unknown variable(s): {', '.join(unknown)}. See the codebook.")
        if len(set(names)) != len(names):
            raise TableError("A variable appears twice in the table.")
        if unit not in UNITS:
            raise TableError(f"The unit is one of {', '.join(UNITS)}.")
        if method not in METHODS:
            raise TableError(f"The method is one of {', '.join(METHODS)}.")
        if threshold < 2:
            raise TableError("The threshold is at least 2.")
        filters = {}
        for name, value in dict(where or {}).items():
            if name not in cb.BY_NAME:
                raise TableError(f"Unknown filter variable {name!r}.")
            filters[name] = (
                tuple(sorted({int(v) for v in value}))
                if isinstance(value, list | tuple | set)
                else int(value)
            )
        return cls(rows, cols or None, tuple(sorted(filters.items())), unit, method, threshold)

    @property
    def variables(self) -> list[str]:
        return [*self.rows, *([self.cols] if self.cols else [])]

    def as_dict(self) -> dict:
        return {
            "rows": list(self.rows),
            "cols": self.cols,
            "where": {k: list(v) if isinstance(v, tuple) else v for k, v in self.where},
            "unit": self.unit,
            "method": self.method,
            "threshold": self.threshold,
        }

    @property
    def lookups(self) -> dict:
        return {
            (f"{name}__in" if isinstance(value, tuple) else name): value
            for name, value in self.where
        }

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()


def _label(variable: cb.Variable, code: int) -> str:
    if code in cb.MISSING_LABELS:
        return cb.MISSING_LABELS[code]
    if variable.kind in (cb.YEAR, cb.COUNT):
        return str(code)
    return str(variable.labels.get(code, code))


def _hierarchy(variable: cb.Variable, codes) -> dict | None:
    """Countries under their regions: the regions become subtotals."""
    if variable.levels and variable.levels[0].name == "country":
        return {
            _label(variable, code): regions.REGIONS[regions.region(cb.ALPHA2_OF[code])]
            for code in codes
            if code in cb.ALPHA2_OF
        }
    return None


def microdata(release: Release, definition: Definition) -> tuple[pd.DataFrame, dict]:
    """One row per unit, the table's variables as labels; and the regions of countries."""
    names = definition.variables
    records = ResearchRecord.objects.filter(release=release, **definition.lookups)
    if definition.unit == "persons":
        # A person counts once, in the categories of their first case among these records.
        records = records.order_by("person", "episode")
    rows = list(records.values_list("person", *names).iterator(chunk_size=50_000))
    frame = pd.DataFrame.from_records(rows, columns=["person", *names])
    if definition.unit == "persons":
        frame = frame.drop_duplicates("person", keep="first")
    out = pd.DataFrame(index=frame.index)
    hierarchies = {}
    for name in names:
        variable = cb.BY_NAME[name]
        codes = [int(code) for code in frame[name].unique()]
        out[name] = frame[name].map({code: _label(variable, code) for code in codes})
        mapping = _hierarchy(variable, codes)
        if mapping:
            hierarchies[name] = mapping
    return out, hierarchies


def cell_keys(table: sdc.Table, definition: Definition) -> list:
    """What identifies a number across tables: unit, filters, and the non-total labels."""
    context = (definition.unit, definition.where)
    keys = []
    for cell in table.cells():
        labels = tuple(
            sorted(
                (name, label)
                for name, label in zip(table.names, cell, strict=True)
                if label != sdc.TOTAL
            )
        )
        keys.append((context, labels))
    return keys


def _dimensions_json(table: sdc.Table) -> list[dict]:
    return [
        {"name": d.name, "labels": list(d.labels), "parent": list(d.parent)} for d in table.dims
    ]


def stored_table(stored: PublishedTable) -> sdc.Table:
    dims = tuple(
        sdc.Dimension(
            d["name"],
            tuple(d["labels"]),
            tuple(d["parent"]),
            tuple(_depths(d["parent"])),
        )
        for d in stored.dimensions
    )
    return sdc.Table(dims, np.asarray(stored.counts, dtype=np.int64), sdc.relation_matrix(dims))


def _depths(parents: list[int]) -> list[int]:
    depth = []
    for parent in parents:
        depth.append(0 if parent < 0 else depth[parent] + 1)
    return depth


def _published(stored: PublishedTable, same_release: bool) -> Published:
    table = stored_table(stored)
    definition = Definition.make(**stored.definition)
    status = np.asarray(stored.status, dtype=np.int8)
    lower, upper = sdc.protection_levels(table.counts, status == sdc.PRIMARY, definition.threshold)
    return Published(table, status, lower, upper, cell_keys(table, definition), same_release)


def _others(release: Release, definition: Definition) -> list[Published]:
    """The tables this one must be safe with: this release's, and its own last edition."""
    others = [
        _published(stored, same_release=True)
        for stored in PublishedTable.objects.filter(release=release)
        .exclude(definition__method=ROUNDING)
        .order_by("id")
    ]
    previous = (
        PublishedTable.objects.filter(key=definition.key, release__number__lt=release.number)
        .order_by("-release__number")
        .first()
    )
    if previous is not None:
        others.append(_published(previous, same_release=False))
    return others


def _audit_json(protection: sdc.Protection) -> dict:
    audit = protection.audit
    if audit is None:
        return {"method": SUPPRESSION}
    withheld = [
        i
        for i in np.flatnonzero(protection.status != sdc.PUBLISHED)
        if i < protection.table.n_cells
    ]
    intervals = {str(i): audit.rounded_interval(i) for i in withheld}
    outer = {
        str(i): audit.rounded_interval(i, outer=True) for i in withheld if not audit.is_exact(i)
    }
    status = protection.status
    summary = {
        "passed": not too_narrow(audit),
        "cells": int(status.size),
        "primary": int((status == sdc.PRIMARY).sum()),
        "secondary": int((status == sdc.SECONDARY).sum()),
        "joint_lp_solves": audit.lp_solves,
        "joint_seconds": round(audit.seconds, 3),
        "bracketed": len(outer),
    }
    return {"method": SUPPRESSION, "summary": summary, "intervals": intervals, "outer": outer}


def publish_table(release: Release, definition: Definition) -> PublishedTable:
    """The table of the release: made, protected with the others and stored, or as stored."""
    if not release.is_approved:
        raise TableError("Tables are made from approved releases only.")
    with transaction.atomic(using=RESEARCH_DB):
        Release.objects.select_for_update().get(pk=release.pk)  # one table-maker at a time
        existing = PublishedTable.objects.filter(release=release, key=definition.key).first()
        if existing is not None:
            return existing
        data, hierarchies = microdata(release, definition)
        if data.empty:
            raise TableError("No record of this release matches the filters: the table is empty.")
        table = sdc.build_table(data, list(definition.rows), definition.cols, hierarchies)
        if definition.method == ROUNDING:
            protection = sdc.round_table(table, definition.threshold)
            audit = {"method": ROUNDING, "base": 5}
        else:
            # Group disclosure: a line whose persons all share one value of a sensitive
            # variable (the type of exploitation, say) tells that of each of them.
            # (A one-way table has no lines to tell apart.)
            sensitive = next(
                (n for n in definition.variables if cb.BY_NAME[n].role == cb.SENSITIVE), None
            )
            if len(definition.variables) < 2:
                sensitive = None
            protection = sdc.protect(table, definition.threshold, sensitive=sensitive)
            try:
                joint = protect_with(
                    protection, cell_keys(table, definition), _others(release, definition)
                )
            except NotReleasable:
                raise TableError(
                    "Publishing this table would let small counts be worked out by comparing "
                    "it with tables already published (of this release or the previous one)."
                ) from None
            audit = _audit_json(protection) | {
                "linked_tables": joint.parts - 1,
                "withheld_for_links": joint.withheld_for_links,
                "withheld_for_joint_audit": joint.withheld_for_audit,
            }
        return PublishedTable.objects.create(
            release=release,
            key=definition.key,
            definition=definition.as_dict(),
            dimensions=_dimensions_json(table),
            counts=table.counts.tolist(),
            status=protection.status.astype(int).tolist(),
            published=protection.published.astype(int).tolist(),
            audit=audit,
            passed=True,
        )


# ------------------------------------------------------------------------ what people see


def cells(stored: PublishedTable, *, for_dpo: bool = False) -> list[dict]:
    """One dict per cell: labels, count (None when withheld) and, for the DPO only, why."""
    table = stored_table(stored)
    out = []
    for i, cell in enumerate(table.cells()):
        status = stored.status[i]
        row = dict(zip(table.names, cell, strict=True))
        row["count"] = None if status != sdc.PUBLISHED else stored.published[i]
        if for_dpo:
            row["flag"] = {0: "", 1: "x", 2: "s"}[status]
            row["true_count"] = stored.counts[i]
            row["interval"] = stored.audit.get("intervals", {}).get(str(i))
            row["interval_outer"] = stored.audit.get("outer", {}).get(str(i))
        out.append(row)
    return out


def long_frame(stored: PublishedTable, *, for_dpo: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame(cells(stored, for_dpo=for_dpo))
    frame["count"] = frame["count"].astype("Int64")
    return frame


def _condition(name: str, value) -> str:
    if not isinstance(value, list):
        return f"{name} = {value}"
    if len(value) > 2 and value == list(range(value[0], value[-1] + 1)):
        return f"{name} from {value[0]} to {value[-1]}"
    return f"{name} in {', '.join(map(str, value))}"


def footnote(stored: PublishedTable, release: Release) -> str:
    definition = stored.definition
    unit = (
        "Persons, each counted once (in the categories of their first case among the "
        "records counted)."
        if definition["unit"] == "persons"
        else "Cases (a person assisted more than once counts once per case)."
    )
    if definition["method"] == ROUNDING:
        method = (
            f"Counts below {definition['threshold']} are withheld ({WITHHELD}); the others are "
            "rounded to the nearest 5, so totals need not equal the sum of their parts."
        )
    else:
        method = (
            f"Counts from 1 to {definition['threshold'] - 1} are withheld ({WITHHELD}), with "
            "other counts where needed so that none can be worked out from totals, from other "
            "tables or from earlier releases (audited by linear programming)."
        )
    where = "; ".join(_condition(k, v) for k, v in definition["where"].items()) or "all records"
    return (
        f"{unit} {method} Source: release {release.number}, cases registered up to "
        f"{release.as_of}{' (provisional)' if release.provisional else ''}; {where}. "
        "Missing values are shown as their own category."
    )


def write(stored: PublishedTable, path, file_format: str, *, for_dpo: bool = False) -> None:
    """The long form (one line per cell: dimensions, count, flag), as CSV, XLSX or JSON.

    The DPO's form says why a count is withheld (x primary, s secondary) and, in JSON, the
    audited interval; the public form marks every withheld count x and gives no interval.
    """
    frame = long_frame(stored, for_dpo=True)
    names = [d["name"] for d in stored.dimensions]
    if not for_dpo:
        frame["flag"] = frame["count"].isna().map({True: WITHHELD, False: ""})
    columns = [*names, "count", "flag"]
    if file_format == "csv":
        frame[columns].to_csv(path, index=False, lineterminator="\n")
    elif file_format == "xlsx":
        about = pd.DataFrame({"about": [footnote(stored, stored.release)]})
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            frame[columns].to_excel(writer, sheet_name="table", index=False)
            about.to_excel(writer, sheet_name="about", index=False)
    else:
        entries = []
        for row in frame.to_dict("records"):
            entry = {
                "cell": {name: row[name] for name in names},
                "count": None if pd.isna(row["count"]) else int(row["count"]),
                "flag": row["flag"],
            }
            if for_dpo and row["interval"] is not None:
                entry["interval"] = row["interval"]
                if row["interval_outer"] is not None:
                    entry["interval_exact"] = False
                    entry["interval_outer"] = row["interval_outer"]
            entries.append(entry)
        document = {
            "definition": stored.definition,
            "release": stored.release.number,
            "note": footnote(stored, stored.release),
            "total_label": sdc.TOTAL,
            "cells": entries,
        }
        if for_dpo:
            document["audit"] = stored.audit.get("summary")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, indent=1)
