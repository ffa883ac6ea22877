"""Microdata extracts: a release's records, chosen variables, made k-anonymous, written out.

The frame is read from the research database only. Quasi-identifiers are generalised
along their hierarchies and suppressed locally (`research.anonymity`) until every
combination of them occurs at least k times; the codebook written with the data gives
the value labels of the level each variable ended at. Files: CSV (codes), SPSS .sav
(variable and value labels; the negative codes declared missing) and Stata .dta
(variable and value labels; the negative codes labelled).
"""

import gzip
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
from django.template.loader import render_to_string
from django.utils import translation

from research import codebook as cb
from research.anonymity import Hierarchy, anonymise
from research.models import Release, ResearchRecord

FORMATS = ("csv", "sav", "dta")
PERSON = "person_id"
PERSON_LABEL = "Research person (numbered anew in every extract)"


class ExtractError(ValueError):
    """A request that cannot be served, with a message for the person who made it."""


@dataclass
class Extract:
    frame: pd.DataFrame
    variables: list[cb.Variable]
    levels: dict[str, int]  # generalisation level reached per variable
    report: dict


def parse_variables(spec) -> list[str]:
    names = list(cb.NAMES) if spec in ("all", ["all"]) else spec
    if isinstance(names, str):
        names = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in names if name not in cb.BY_NAME]
    if unknown:
        raise ExtractError(f"Unknown variable(s): {', '.join(unknown)}. See the codebook.")
    if not names:
        raise ExtractError("Choose at least one variable.")
    return list(dict.fromkeys(names))


def parse_filters(items) -> dict[str, int]:
    """`var=code` pairs (or a dict) into {variable: code}, checked against the codebook."""
    pairs = items.items() if isinstance(items, dict) else (i.split("=", 1) for i in items or ())
    filters = {}
    for pair in pairs:
        if len(pair) != 2:
            raise ExtractError("A filter is written variable=code, for example sex=1.")
        name, raw = (str(part).strip() for part in pair)
        if name not in cb.BY_NAME:
            raise ExtractError(f"Unknown filter variable {name!r}. See the codebook.")
        try:
            filters[name] = int(raw)
        except ValueError:
            raise ExtractError(f"The filter {name}={raw} needs a numeric code.") from None
    return filters


def read_frame(release: Release, names: list[str], filters: dict[str, int]) -> pd.DataFrame:
    records = ResearchRecord.objects.filter(release=release, **filters).order_by("id")
    rows = records.values_list("person", *names)
    frame = pd.DataFrame.from_records(
        list(rows.iterator(chunk_size=50_000)), columns=["person", *names]
    )
    for name in names:
        frame[name] = frame[name].astype(np.int16 if name != "year_registered" else np.int32)
    return frame


def hierarchy(variable: cb.Variable) -> Hierarchy:
    return Hierarchy(tuple([{}] + [level.up for level in variable.levels[1:]]))


def build(
    release: Release,
    names: list[str],
    filters: dict[str, int],
    *,
    k: int,
    max_suppressed_share: float = 0.05,
) -> Extract:
    """The k-anonymous extract; raises ExtractError when nothing matches."""
    if k < 2:
        raise ExtractError("k must be at least 2.")
    frame = read_frame(release, names, filters)
    if frame.empty:
        raise ExtractError(
            "No record of this release matches the filters: the extract would be empty."
        )
    variables = [cb.BY_NAME[name] for name in names]
    quasi = {v.name: hierarchy(v) for v in variables if v.role == cb.QUASI_IDENTIFIER}
    sensitive = [v.name for v in variables if v.role == cb.SENSITIVE]
    result = anonymise(
        frame[names],
        quasi,
        k=k,
        sensitive=sensitive,
        max_suppressed_share=max_suppressed_share,
    )
    out = result.frame.copy()
    # Persons numbered anew, in random order, per extract: extracts cannot be joined on them.
    persons = frame["person"]
    order = persons.drop_duplicates().sample(frac=1).to_numpy()
    numbers = pd.Series(np.arange(1, len(order) + 1, dtype=np.int32), index=order)
    out.insert(0, PERSON, persons.map(numbers).to_numpy())
    levels = {name: result.levels.get(name, 0) for name in names}
    report = {
        "rows": len(out),
        "levels": levels,
        "k": k,
        "k_achieved": result.k_achieved,
        "quasi_identifiers": list(quasi),
        "sensitive": sensitive,
        "generalised": {
            name: cb.BY_NAME[name].levels[level].name for name, level in levels.items() if level > 0
        },
        "suppressed_values": {name: n for name, n in result.suppressed_values.items() if n},
        "suppressed_total": result.suppressed_total,
        "l_diversity": result.l_diversity,
        "information_loss": round(result.information_loss, 6),
        "equivalence_classes": result.classes,
    }
    return Extract(out, variables, levels, report)


def codebook_entries(extract: Extract) -> list[dict]:
    """The extract's codebook: one entry per column, labels at the level reached."""
    with translation.override("en"):
        entries = [
            {
                "name": PERSON,
                "label": PERSON_LABEL,
                "role": cb.OTHER,
                "type": cb.COUNT,
                "value_labels": {},
            }
        ]
        for variable in extract.variables:
            entry = variable.describe(extract.levels[variable.name])
            entry["value_labels"] = {
                **entry["value_labels"],
                **entry.pop("missing_codes"),
            }
            entry["suppressed_values"] = extract.report["suppressed_values"].get(variable.name, 0)
            entries.append(entry)
    return entries


def _labels(extract: Extract) -> tuple[dict, dict]:
    with translation.override("en"):
        column_labels = {PERSON: PERSON_LABEL}
        value_labels = {}
        for variable in extract.variables:
            column_labels[variable.name] = str(variable.label)[:80]
            labels = {
                int(code): str(text)[:80]
                for code, text in variable.labels_at(extract.levels[variable.name]).items()
            }
            value_labels[variable.name] = {**labels, **cb.MISSING_LABELS}
    return column_labels, value_labels


def write(extract: Extract, path: Path, file_format: str) -> None:
    if file_format not in FORMATS:
        raise ExtractError(f"Unknown format {file_format!r}: choose one of {', '.join(FORMATS)}.")
    frame = extract.frame
    if file_format == "csv":
        frame.to_csv(path, index=False)
        return
    column_labels, value_labels = _labels(extract)
    # pyreadstat wants numbers of one type per column: 64-bit floats hold every code.
    numeric = frame.astype("float64") if file_format == "sav" else frame.astype("int32")
    if file_format == "sav":
        pyreadstat.write_sav(
            numeric,
            str(path),
            file_label="Anonymised research extract",
            column_labels=column_labels,
            variable_value_labels={
                n: {float(c): t for c, t in v.items()} for n, v in value_labels.items()
            },
            missing_ranges={
                name: [{"lo": float(cb.UNKNOWN), "hi": float(cb.SUPPRESSED)}]
                for name in value_labels
            },
            variable_measure={
                PERSON: "nominal",
                **{
                    v.name: "scale" if v.kind in (cb.COUNT, cb.YEAR) else "nominal"
                    for v in extract.variables
                },
            },
        )
    else:
        pyreadstat.write_dta(
            numeric,
            str(path),
            file_label="Anonymised research extract",
            column_labels=column_labels,
            variable_value_labels=value_labels,
        )


def release_document(release: Release) -> dict:
    return {
        "release": release.number,
        "as_of": release.as_of.isoformat(),
        "status": release.status,
        "provisional": release.provisional,
        "approved_by": release.approved_by_name,
        "approved_at": release.approved_at.isoformat() if release.approved_at else None,
        "persons": release.persons,
        "cases": release.cases,
        "checksum_sha256": release.checksum,
        "disclosure_policy": release.policy,
        "coverage": release.coverage,
        "notes": release.notes,
        "corrects_release": release.corrects.number if release.corrects_id else None,
        "change_note": release.change_note,
    }


def write_with_documentation(extract: Extract, release: Release, path: Path, file_format: str):
    """The data file, and beside it PATH.codebook.json and PATH.release.json."""
    write(extract, path, file_format)
    Path(f"{path}.codebook.json").write_text(
        json.dumps(codebook_entries(extract), indent=2, ensure_ascii=False)
    )
    Path(f"{path}.release.json").write_text(
        json.dumps(
            {**release_document(release), "disclosure_control": extract.report},
            indent=2,
            ensure_ascii=False,
        )
    )


def pack(frame: pd.DataFrame) -> bytes:
    """Stored form of an approved extract: gzip CSV of its codes."""
    return gzip.compress(frame.to_csv(index=False).encode(), compresslevel=6)


def unpack(data: bytes, report: dict) -> Extract:
    """An approved extract as stored, ready to be written in any format."""
    frame = pd.read_csv(io.BytesIO(gzip.decompress(bytes(data))))
    names = [name for name in frame.columns if name != PERSON]
    return Extract(frame, [cb.BY_NAME[name] for name in names], report["levels"], report)


def bundle(extract: Extract, release: Release, file_format: str, name: str) -> bytes:
    """A zip for the portal: the data, the codebook (JSON and HTML) and the release notes."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(buffer, "w") as archive:
        data_path = Path(folder) / f"{name}.{file_format}"
        write_with_documentation(extract, release, data_path, file_format)
        for produced in sorted(Path(folder).iterdir()):
            archive.write(produced, produced.name)
        archive.writestr(
            f"{name}.codebook.html",
            render_to_string(
                "research/codebook_file.html",
                {
                    "entries": codebook_entries(extract),
                    "release": release_document(release),
                    "report": extract.report,
                },
            ),
        )
    return buffer.getvalue()
