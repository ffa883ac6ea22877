"""Tolerant reading: headers, dates, countries, codes, missing-value spellings, scripts."""

from datetime import date

import pytest

from transfer import columns as c
from transfer import parsing as p
from transfer.tests.conftest import csv_bytes, xlsx_bytes


@pytest.mark.parametrize(
    ("raw", "day_first", "expected"),
    [
        ("2019-05-03", True, date(2019, 5, 3)),
        ("2019-05-03", False, date(2019, 5, 3)),
        ("2019/5/3", True, date(2019, 5, 3)),
        ("03/05/2019", True, date(2019, 5, 3)),
        ("03/05/2019", False, date(2019, 3, 5)),
        ("3.5.2019", True, date(2019, 5, 3)),
        ("03-05-19", True, date(2019, 5, 3)),
        ("12/31/1999", False, date(1999, 12, 31)),
        ("3 May 2019", True, date(2019, 5, 3)),
        ("May 3, 2019", True, date(2019, 5, 3)),
        ("3-May-2019", False, date(2019, 5, 3)),
        ("3rd May 2019", True, date(2019, 5, 3)),
        ("20190503", True, date(2019, 5, 3)),
        (43588, True, date(2019, 5, 3)),  # Excel's serial number
        (43588.75, True, date(2019, 5, 3)),
        ("43588", True, date(2019, 5, 3)),
        ({"date": "2019-05-03"}, False, date(2019, 5, 3)),  # a date cell of an XLSX file
        ("  2019-05-03  ", True, date(2019, 5, 3)),
    ],
)
def test_dates_in_common_formats(raw, day_first, expected):
    assert p.parse_date(raw, day_first) == expected


@pytest.mark.parametrize("raw", ["31/02/2019", "2019-13-01", "00/00/0000", "yesterday", "1e5"])
def test_impossible_or_unreadable_dates_are_refused(raw):
    with pytest.raises(p.CellError):
        p.parse_date(raw, True)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("UA", "UA"),
        ("ua", "UA"),
        ("UKR", "UA"),
        ("804", "UA"),
        (804, "UA"),
        ("Ukraine", "UA"),
        (" ukraine ", "UA"),
        ("Germany", "DE"),
        ("Russia", "RU"),
        ("Moldova", "MD"),
        ("Viet Nam", "VN"),
    ],
)
def test_countries_by_name_or_iso_code(raw, code):
    assert p.parse_country(raw) == code


def test_unknown_country_is_refused():
    with pytest.raises(p.CellError):
        p.parse_country("Atlantis")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("unknown", "unknown"),
        (" Unknown ", "unknown"),
        ("-", "unknown"),
        ("?", "unknown"),
        ("n/a", "not_applicable"),
        ("N/A", "not_applicable"),
        ("not applicable", "not_applicable"),
        ("refused", "declined"),
        ("(declined)", "declined"),
        ("Olena", None),
    ],
)
def test_missing_value_spellings(raw, code):
    assert p.missing_code(raw) == code


def test_headers_in_any_order_case_and_spacing():
    rows = [
        {
            "  Registered On ": "2019-05-03",
            "Legacy Reference*": " A-1 ",
            "Family Name": "Коваль",
            "first-name": "Олена",
            "GENDER": "F",
            "Date identified": "02/05/2019",
            "Notes from old system": "x",
        }
    ]
    table = p.read_table(csv_bytes(rows))
    assert table.columns == [
        "registered_on",
        "legacy_reference",
        "family_names",
        "given_names",
        "sex",
        "identified_on",
        None,
    ]
    assert table.ignored == ["Notes from old system"]
    number, values = table.rows[0]
    assert number == 2 and values["family_names"] == "Коваль"


def test_semicolon_csv_and_utf16_are_read():
    rows = [
        {
            "legacy_reference": "A-1",
            "given_names": "Ана",
            "family_names": "Ли",
            "sex": "f",
            "identified_on": "1.2.2019",
            "registered_on": "1.2.2019",
        }
    ]
    semicolon = csv_bytes(rows).replace(b",", b";")
    assert p.read_table(semicolon).rows[0][1]["given_names"] == "Ана"
    utf16 = csv_bytes(rows).decode().encode("utf-16")
    assert p.read_table(utf16).rows[0][1]["family_names"] == "Ли"


def test_xlsx_dates_and_numbers_keep_their_meaning():
    rows = [
        {
            "legacy_reference": 1042,
            "given_names": "Ana",
            "family_names": "Li",
            "sex": "F",
            "identified_on": date(2019, 5, 2),
            "registered_on": 43588,
        }
    ]
    table = p.read_table(xlsx_bytes(rows))
    values = table.rows[0][1]
    assert values["identified_on"] == {"date": "2019-05-02"}
    assert p.parse_date(values["registered_on"]) == date(2019, 5, 3)
    assert p.text(values["legacy_reference"]) == "1042"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        ("legacy_reference,given_names\nA,Ольга\n".encode("cp1251"), "UTF-8"),
        (b"PK\x03\x04\x14\x00\x00\x00broken", "truncated"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls"),
        (b"given_names,family_names\nA,B\n", "legacy_reference"),
        (b"legacy_reference,Legacy Ref,given_names\n", "same thing"),
    ],
)
def test_unreadable_files_get_a_clear_reason(data, message):
    with pytest.raises(p.FileProblem, match=message):
        p.read_table(data)


def test_the_template_documents_every_column():
    names = c.headers()
    assert names[0] == "legacy_reference"
    assert "screening_determination" in names and "services" in names
    assert "given_names" not in c.headers(include_identifiers=False)
    assert c.coded_values(c.BY_NAME["sex"])[0][0] == "female"
