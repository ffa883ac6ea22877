"""Reading an uploaded spreadsheet into rows, and each cell into a typed value.

Plain Python rather than django-import-export's widgets: a template row spans six models
(person, case, screening version, services, reintegration plan, visits) and tolerant
parsing (day-first dates, Excel serial numbers, country names, missing-value spellings)
needs the column's kind and the whole row, which its per-field widgets do not see.
"""

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf.locale import LANG_INFO
from django.utils import translation
from django.utils.translation import gettext as _
from django_countries import countries
from openpyxl import load_workbook

from transfer import columns as c

EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's 1900 leap-year bug kept)
MAX_ROWS = 200_000


class FileProblem(Exception):
    """The file as a whole cannot be read: nothing in it is imported."""


class CellError(Exception):
    """One cell's value cannot be used; the message says why."""


@dataclass
class Table:
    headers: list[str]  # the file's own header cells, as written
    columns: list[str | None]  # the template column each file column maps to (None: ignored)
    rows: list[tuple[int, dict]]  # (row number in the file, {column: raw value})
    ignored: list[str]


# Missing-value spellings -------------------------------------------------------------

MISSING_SPELLINGS = {
    "unknown": "unknown",
    "(unknown)": "unknown",
    "unk": "unknown",
    "?": "unknown",
    "-": "unknown",
    "--": "unknown",
    "—": "unknown",
    "–": "unknown",
    "not known": "unknown",
    "don't know": "unknown",
    "dk": "unknown",
    "n/a": "not_applicable",
    "na": "not_applicable",
    "n.a.": "not_applicable",
    "not applicable": "not_applicable",
    "not_applicable": "not_applicable",
    "(not applicable)": "not_applicable",
    "declined": "declined",
    "(declined)": "declined",
    "refused": "declined",
    "declined to answer": "declined",
}
EXPORTED_MISSING = {
    "unknown": "(unknown)",
    "declined": "(declined)",
    "not_applicable": "(not applicable)",
}


def missing_code(raw) -> str | None:
    if isinstance(raw, str):
        return MISSING_SPELLINGS.get(" ".join(raw.split()).casefold())
    return None


# Reading the file --------------------------------------------------------------------


def header_key(text) -> str:
    """Normalise a header: case, spaces, punctuation and a required-marker star ignored."""
    text = unicodedata.normalize("NFKC", str(text or "")).strip().casefold().rstrip("*").strip()
    text = re.sub(r"[^\w]+", "_", text).strip("_")
    return c.ALIASES.get(text, text)


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FileProblem(
            _(
                "The file is not in UTF-8 (an unreadable byte on line %(line)d). Save it "
                "again as “CSV UTF-8” (Excel) or with the UTF-8 encoding, or upload the "
                "XLSX file itself."
            )
            % {"line": line}
        ) from error


def _csv_rows(data: bytes):
    text = _decode(data)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0] or sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text, newline=""), dialect)
    except csv.Error as error:
        raise FileProblem(_("The CSV file is malformed: %(error)s") % {"error": error}) from error


def _xlsx_rows(data: bytes):
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        names = workbook.sheetnames
        sheet = workbook["cases"] if "cases" in names else workbook[names[0]]
        yield from sheet.iter_rows(values_only=True)
        workbook.close()
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as error:
        raise FileProblem(
            _(
                "The XLSX file cannot be read (it may be truncated or damaged). Open it in "
                "your spreadsheet program, save it again and upload it once more."
            )
        ) from error


def _plain(value):
    """A cell as JSON-friendly raw value: text, number, or an ISO date from a date cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return {"date": value.date().isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    return str(value)


def _is_blank(value) -> bool:
    return value == "" or (isinstance(value, str) and not value.strip())


def read_table(data: bytes) -> Table:
    """Read a CSV or XLSX file (told apart by content, not by name) into raw rows."""
    if not data or not data.strip(b"\x00\r\n\t \xef\xbb\xbf"):
        raise FileProblem(_("The file is empty."))
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(
            _("This is an old Excel (.xls) file. Save it as .xlsx or CSV UTF-8 and upload that.")
        )
    rows = _xlsx_rows(data) if data.startswith(b"PK\x03\x04") else _csv_rows(data)
    header_row = None
    for raw in rows:
        cells = [_plain(v) for v in raw]
        if any(not _is_blank(v) for v in cells):
            header_row = cells
            break
    if header_row is None:
        raise FileProblem(_("The file is empty."))
    headers = [str(h).strip() if not isinstance(h, dict) else h["date"] for h in header_row]
    mapped: list[str | None] = []
    seen: dict[str, str] = {}
    ignored = []
    for header in headers:
        key = header_key(header)
        if key in c.BY_NAME:
            if key in seen:
                raise FileProblem(
                    _("Two columns mean the same thing: “%(a)s” and “%(b)s”.")
                    % {"a": seen[key], "b": header}
                )
            seen[key] = header
            mapped.append(key)
        else:
            mapped.append(None)
            if header and key not in c.INFORMATIONAL:
                ignored.append(header)
    missing = [col.name for col in c.CASE_COLUMNS if col.required and col.name not in seen]
    if missing:
        raise FileProblem(
            _(
                "Required columns are missing: %(columns)s. Download the template to see "
                "the expected headers."
            )
            % {"columns": ", ".join(missing)}
        )
    table = Table(headers=headers, columns=mapped, rows=[], ignored=ignored)
    number = 1
    for raw in rows:
        number += 1
        cells = [_plain(v) for v in raw]
        if not any(not _is_blank(v) for v in cells):
            continue
        if len(table.rows) >= MAX_ROWS:
            raise FileProblem(
                _("The file has more than %(max)d rows; split it.") % {"max": MAX_ROWS}
            )
        values = {}
        for index, key in enumerate(mapped):
            if key is not None and index < len(cells):
                values[key] = cells[index]
        table.rows.append((number, values))
    if not table.rows:
        raise FileProblem(_("The file has the headers but no rows to import."))
    return table


# Cells ---------------------------------------------------------------------------------


def text(raw) -> str:
    if isinstance(raw, dict):
        return raw["date"]
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    value = unicodedata.normalize("NFC", str(raw)).strip()
    # An export keeps text a spreadsheet would run as a formula behind an apostrophe.
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        value = value[1:]
    return value


def _year(text_year: str) -> int:
    year = int(text_year)
    if len(text_year) == 2:
        pivot = date.today().year % 100
        year += 2000 if year <= pivot else 1900
    return year


MONTH_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%d %b %y", "%d %B %y")


def parse_date(raw, day_first: bool = True) -> date:
    if isinstance(raw, dict):
        return date.fromisoformat(raw["date"])
    if isinstance(raw, int | float) or (isinstance(raw, str) and re.fullmatch(r"\d{5}", raw)):
        serial = float(raw)
        if not 1 <= serial < 2958466:
            raise CellError(_("not a date"))
        return EXCEL_EPOCH + timedelta(days=int(serial))
    value = text(raw)
    if re.fullmatch(r"\d{8}", value):
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    try:
        match = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?", value)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})(?: .*)?", value)
        if match:
            first, second, year = int(match[1]), int(match[2]), _year(match[3])
            day, month = (first, second) if day_first else (second, first)
            return date(year, month, day)
        cleaned = re.sub(r"[,\-/.]+", " ", value)
        cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", " ".join(cleaned.split()))
        with translation.override("en"):
            for fmt in MONTH_FORMATS:
                try:
                    return datetime.strptime(cleaned, fmt).date()
                except ValueError:
                    continue
    except ValueError as error:
        raise CellError(_("not a valid calendar date")) from error
    raise CellError(_("not a date (write it as YYYY-MM-DD, e.g. 2019-05-02, or day/month/year)"))


def parse_integer(raw, low=None, high=None) -> int:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        value_text = text(raw).replace(" ", "")
        if not re.fullmatch(r"[-+]?\d+(\.0+)?", value_text):
            raise CellError(_("not a whole number"))
        value = int(float(value_text))
    if (low is not None and value < low) or (high is not None and value > high):
        raise CellError(_("must lie between %(low)s and %(high)s") % {"low": low, "high": high})
    return value


def parse_decimal(raw) -> Decimal:
    try:
        return Decimal(text(raw).replace(",", "."))
    except InvalidOperation as error:
        raise CellError(_("not a number")) from error


def _code_key(value: str) -> str:
    return re.sub(r"[\s\-/]+", "_", value.strip().casefold())


YES = {"yes", "y", "true", "1", "oui", "ja", "si", "sí", "да", "так"}
NO = {"no", "n", "false", "0", "non", "nein", "нет", "ні"}
SEX_SYNONYMS = {
    "f": "female",
    "w": "female",
    "woman": "female",
    "girl": "female",
    "m": "male",
    "man": "male",
    "boy": "male",
    "t": "transgender",
    "transgender": "transgender",
    "non_conforming": "transgender",
}


def parse_boolean(raw) -> bool:
    value = text(raw).casefold()
    if value in YES:
        return True
    if value in NO:
        return False
    raise CellError(_("not yes or no"))


def parse_choice(raw, choices: list, synonyms: dict | None = None) -> str:
    value = text(raw)
    key = _code_key(value)
    codes = {code for code, _label in choices}
    if key in codes:
        return key
    if synonyms and key in synonyms and synonyms[key] in codes:
        return synonyms[key]
    labels = {}
    with translation.override("en"):
        labels.update({_code_key(str(label)): code for code, label in choices})
    labels.update({_code_key(str(label)): code for code, label in choices})
    if key in labels:
        return labels[key]
    raise CellError(_("not one of the codes: %(codes)s") % {"codes": ", ".join(sorted(codes))})


def split_list(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]


COUNTRY_ALIASES = {
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "usa": "US",
    "united states": "US",
    "russia": "RU",
    "moldova": "MD",
    "vietnam": "VN",
    "syria": "SY",
    "iran": "IR",
    "laos": "LA",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "south korea": "KR",
    "north korea": "KP",
    "czech republic": "CZ",
    "ivory coast": "CI",
    "turkey": "TR",
    "türkiye": "TR",
    "kosovo": "XK",
}


def parse_country(raw) -> str:
    value = text(raw)
    if isinstance(raw, int | float):
        value = f"{int(raw):03d}"
    folded = " ".join(value.split()).casefold()
    if folded in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[folded]
    if len(value) in (2, 3):
        code = countries.alpha2(value.upper())
        if code:
            return code
    code = countries.by_name(value, language="en")
    if code:
        return code
    raise CellError(_("not a country name or ISO code"))


def parse_language(raw) -> str:
    value = text(raw).casefold()
    if len(value) == 2 and value in LANG_INFO:
        return value
    for code, info in LANG_INFO.items():
        if len(code) == 2 and value in (
            str(info.get("name", "")).casefold(),
            str(info.get("name_local", "")).casefold(),
        ):
            return code
    raise CellError(_("not a language name or ISO 639-1 code"))
