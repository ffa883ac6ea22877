"""A release in the layout of CTDC's global dataset, k-anonymised like any extract.

The Counter Trafficking Data Collaborative publishes one row per case with columns such
as `yearOfRegistration`, `gender`, `ageBroad`, `majorityStatus`, `citizenship`,
`CountryOfExploitation`, `meansOfControl…`, `typeOfExploit…`, `typeOfLabour…` and
`recruiterRelation…`, text codes, and -99 for missing. The extract is made k-anonymous
on the research variables first; a value that ended generalised keeps the label of its
level (a five-year period, a region), and every missing, declined, not-applicable or
suppressed value becomes CTDC's -99.
"""

import json
from pathlib import Path

import pandas as pd
import pyreadstat

from research import codebook as cb
from research import extracts
from research.models import Release

MISSING = -99
QUASI = (
    "year_registered",
    "sex",
    "age_band",
    "majority_at_registration",
    "majority_at_exploitation",
    "majority_at_recruitment",
    "citizenship",
    "country_of_exploitation",
)
GENDER = {1: "Female", 2: "Male", 3: "Transgender/NonConforming"}
EXPLOIT_FLAGS = {
    "isForcedLabour": "exploitation_forced_labour",
    "isSexualExploit": "exploitation_sexual",
    "isForcedMarriage": "exploitation_forced_marriage",
    "isOrganRemoval": "exploitation_organ_removal",
    "isSlaveryAndPractices": "exploitation_slavery",
}
OTHER_EXPLOITS = (
    "exploitation_begging",
    "exploitation_forced_criminality",
    "exploitation_other",
)
CONTROL = [cb.dummy_name("control", code) for code, _t in cb.screening_vocab.MEANS_OF_CONTROL]
EXPLOITATION = [
    cb.dummy_name("exploitation", code) for code, _t in cb.screening_vocab.EXPLOITATION_TYPE
]
VARIABLES = [*QUASI, *EXPLOITATION, "labour_sector", *CONTROL, "recruiter_relationship"]
RECRUITER = {
    "recruiterRelationIntimatePartner": "intimate_partner",
    "recruiterRelationFriend": "friend",
    "recruiterRelationFamily": "family",
    "recruiterRelationOther": "other",
}


def _ctdc_age(label: str) -> str:
    return label.replace("–", "--")


def _text(variable: cb.Variable, level: int, codes: pd.Series, base=None) -> pd.Series:
    """Codes to CTDC text: the label at the level reached, -99 when absent."""
    labels = variable.labels_at(level)
    if level == len(variable.levels) - 1 and level > 0:
        return pd.Series(MISSING, index=codes.index, dtype=object)
    mapped = codes.map(base) if level == 0 and base is not None else codes.map(labels)
    mapped = mapped.astype(object).where(codes >= 0, MISSING)
    return mapped.where(mapped.notna(), MISSING)


def _flag(codes: pd.Series) -> pd.Series:
    return codes.where(codes >= 0, MISSING).astype("int16")


def to_ctdc(extract: extracts.Extract) -> pd.DataFrame:
    frame, levels = extract.frame, extract.levels
    var = cb.BY_NAME
    out = pd.DataFrame(index=frame.index)
    out["Datasource"] = "Case Management"
    year = frame["year_registered"]
    out["yearOfRegistration"] = (
        year.where(year >= 0, MISSING)
        if levels["year_registered"] == 0
        else _text(var["year_registered"], levels["year_registered"], year)
    )
    out["gender"] = _text(var["sex"], levels["sex"], frame["sex"], GENDER)
    out["ageBroad"] = _text(var["age_band"], levels["age_band"], frame["age_band"]).map(
        lambda v: _ctdc_age(v) if isinstance(v, str) else v
    )
    for column, name in (
        ("majorityStatus", "majority_at_registration"),
        ("majorityStatusAtExploit", "majority_at_exploitation"),
        ("majorityEntry", "majority_at_recruitment"),
    ):
        out[column] = _text(var[name], levels[name], frame[name])
    for column, name in (
        ("citizenship", "citizenship"),
        ("CountryOfExploitation", "country_of_exploitation"),
    ):
        out[column] = _text(var[name], levels[name], frame[name], cb.ALPHA2_OF)
    for name in CONTROL:
        out[var[name].ctdc] = _flag(frame[name])
    out["meansOfControlNotSpecified"] = (frame[CONTROL] < 0).all(axis=1).astype("int16")
    for column, name in EXPLOIT_FLAGS.items():
        out[column] = _flag(frame[name])
    out["isForcedMilitary"] = MISSING  # not asked by the screening form
    other = frame[list(OTHER_EXPLOITS)]
    out["isOtherExploit"] = (
        (other == 1).any(axis=1).astype("int16").where((other >= 0).all(axis=1), MISSING)
    )
    out["isSexAndLabour"] = (
        ((frame["exploitation_sexual"] == 1) & (frame["exploitation_forced_labour"] == 1))
        .astype("int16")
        .where(frame["exploitation_sexual"] >= 0, MISSING)
    )
    labels = {name: str(var[name].label).split(": ", 1)[-1] for name in EXPLOITATION}
    out["typeOfExploitConcatenated"] = frame[EXPLOITATION].apply(
        lambda row: ";".join(labels[n] for n in EXPLOITATION if row[n] == 1) or MISSING, axis=1
    )
    sector = frame["labour_sector"]
    codes = var["labour_sector"].codes
    for code in codes:
        column = "typeOfLabour" + "".join(p.capitalize() for p in code.split("_"))
        out[column] = (sector == codes[code]).astype("int16").where(sector >= 0, MISSING)
    out["typeOfLabourNotSpecified"] = (sector < 0).astype("int16")
    relation = frame["recruiter_relationship"]
    codes = var["recruiter_relationship"].codes
    for column, code in RECRUITER.items():
        out[column] = (relation == codes[code]).astype("int16").where(relation >= 0, MISSING)
    out["recruiterRelationUnknown"] = (relation < 0).astype("int16")
    return out


def build(release: Release, filters: dict, *, k: int) -> extracts.Extract:
    extract = extracts.build(release, VARIABLES, filters, k=k)
    return extracts.Extract(to_ctdc(extract), extract.variables, extract.levels, extract.report)


def write(extract: extracts.Extract, release: Release, path: Path, file_format: str) -> None:
    frame = extract.frame
    if file_format == "csv":
        frame.to_csv(path, index=False)
    else:
        # Mixed text and -99 columns are written as text, as CTDC's own files have them.
        mixed = {c: frame[c].astype(str) for c in frame.columns if frame[c].dtype == object}
        table = frame.assign(**mixed)
        writer = pyreadstat.write_sav if file_format == "sav" else pyreadstat.write_dta
        writer(table, str(path), file_label="CTDC layout")
    entries = [
        {"name": column, "label": column, "role": _role(column), "value_labels": {"-99": "Missing"}}
        for column in frame.columns
    ]
    Path(f"{path}.codebook.json").write_text(json.dumps(entries, indent=2))
    Path(f"{path}.release.json").write_text(
        json.dumps(
            {**extracts.release_document(release), "disclosure_control": extract.report},
            indent=2,
        )
    )


_QUASI_COLUMNS = {
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "majorityStatus",
    "majorityStatusAtExploit",
    "majorityEntry",
    "citizenship",
    "CountryOfExploitation",
}


def _role(column: str) -> str:
    return cb.QUASI_IDENTIFIER if column in _QUASI_COLUMNS else cb.OTHER
