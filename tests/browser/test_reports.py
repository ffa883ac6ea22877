"""Donor reports in the browser: defined and published by the DPO, read and downloaded by a donor.

The DPO publishes and approves a release, defines a report (two trend tables, cell
suppression, 2015 to 2026, the whole organisation) and checks the draft, which a donor
cannot see yet; then publishes it. The donor reads it (a chart and a table for each
table, no count from 1 to 9 and no trace of why a count is withheld) and downloads it as
HTML, PDF, CSV and XLSX through the page's links; each file is read back and agrees with
the page. The DPO's view of a table stays closed to the donor, and so does the form.

Like `test_research`, this needs a caseload with research consent, so the module has a
server of its own, on a database of its own seeded with `seed_demo --cases 300 --seed 1`.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from test_case_flow import dd_after, today
from test_research import SEED, SEED_CASES, SHOWN_COUNT, publish_and_approve, subnav, success

from conftest import E2EServer, seeded_server

pytestmark = pytest.mark.browser

TITLE = "Assistance to trafficked persons 2015-2026"
INTRODUCTION = "Persons assisted and cases by type of exploitation, for our donors."
TABLES = ["Persons assisted by year and sex", "Cases by year and type of exploitation"]
FORMATS = ["HTML", "PDF", "CSV", "XLSX"]
WITHHELD = "x"
REPORT_URL = re.compile(r"/research/reports/(\d+)/$")


@pytest.fixture(scope="module")
def e2e_server(chromium_path, tmp_path_factory) -> Iterator[E2EServer]:
    """This module's own server and database, seeded with a caseload."""
    with seeded_server("casework_e2e_reports", tmp_path_factory, SEED_CASES, SEED) as server:
        yield server


def define_report(dpo: Page, number: int) -> str:
    """As the DPO: fill in "Define a report"; return the draft's path."""
    dpo.goto("/research/reports/")
    expect(dpo.get_by_role("heading", level=1)).to_have_text("Reports")
    expect(dpo.locator("main table tbody")).to_have_text("No report has been published yet.")
    expect(dpo.get_by_role("heading", name="Define a report")).to_be_visible()
    form = dpo.locator("main form")
    form.get_by_label("Title", exact=True).fill(TITLE)
    form.get_by_label("Release", exact=True).select_option(
        label=f"Release {number} (as of {today().isoformat()})"
    )
    form.get_by_label("From year", exact=True).fill("2015")
    form.get_by_label("To year", exact=True).fill("2026")
    form.get_by_label("Scope", exact=True).select_option(label="Whole organisation")
    for title in TABLES:
        form.get_by_label(title, exact=True).check()
    form.get_by_label("Protection", exact=True).select_option(
        label="Cell suppression (exact counts; totals add up)"
    )
    form.get_by_label("Introduction", exact=True).fill(INTRODUCTION)
    form.get_by_role("button", name="Draft the report").click()

    expect(dpo).to_have_url(REPORT_URL)
    path = f"/research/reports/{REPORT_URL.search(dpo.url)[1]}/"
    expect(success(dpo)).to_have_text("Report drafted: check it, then publish it.")
    expect(dpo.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(dd_after(dpo, "Scope")).to_have_text("Whole organisation")
    expect(dd_after(dpo, "Period")).to_have_text("2015–2026")
    expect(dd_after(dpo, "Release")).to_have_text(
        f"{number} (cases registered up to {today().isoformat()}; provisional)"
    )
    expect(dpo.locator("#report-status")).to_have_text("Draft")
    expect(dpo.locator("main")).to_contain_text(INTRODUCTION)
    expect(dpo.locator("main")).to_contain_text(
        "2 tables. Publishing makes and protects them together with every table already "
        "published from the release, and shows the report to donors."
    )
    # No tables and nothing to download before publication.
    expect(dpo.locator("section.report-table")).to_have_count(0)
    expect(dpo.locator('a[href*="/download/"]')).to_have_count(0)
    return path


def draft_is_hidden_from(donor: Page, path: str) -> None:
    donor.goto("/research/reports/")
    expect(donor.locator("main table tbody")).to_have_text("No report has been published yet.")
    missing = donor.goto(path)
    assert missing.status == 404, missing.status
    missing = donor.goto(f"{path}download/pdf/")
    assert missing.status == 404, missing.status


def shown_tables(page: Page) -> dict[str, dict[tuple[str, str], str]]:
    """Each table of the report page: (year, category) -> the count shown ("x" if withheld)."""
    sections = page.locator("section.report-table")
    expect(sections.locator("h2")).to_have_text(TABLES)
    shown = {}
    for section in sections.all():
        title = section.locator("h2").inner_text()
        # A chart for each table, drawn by the server as SVG.
        expect(section.locator("figure.chart svg")).to_have_count(1)
        expect(section.locator("figure.chart figcaption")).to_have_text(title)
        table = section.locator("table.trend")
        headers = table.locator("thead th").all_inner_texts()
        assert headers[0] == "Year" and headers[-1] == "Total", headers
        rows = table.evaluate(
            "t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent.trim()))"
        )
        assert rows[-1][0] == "Total", rows
        years = [row[0] for row in rows[:-1]]
        assert years and all(2015 <= int(year) <= 2026 for year in years), years
        cells = {}
        for row in rows:
            assert len(row) == len(headers), (title, headers, row)
            for category, value in zip(headers[1:], row[1:], strict=True):
                cells[(row[0], category)] = value
        small = {cell: value for cell, value in cells.items() if not SHOWN_COUNT.match(value)}
        assert not small, (title, small)
        shown[title] = cells
    return shown


def download(page: Page, file_format: str, pk: str, tmp_path: Path) -> Path:
    links = page.locator("main p", has_text="Download:").get_by_role("link")
    with page.expect_download() as downloading:
        links.get_by_text(file_format, exact=True).click()
    name = downloading.value.suggested_filename
    assert name == f"report-{pk}.{file_format.lower()}", name
    path = tmp_path / name
    downloading.value.save_as(path)
    return path


def withheld_count(cells: dict) -> int:
    return list(cells.values()).count(WITHHELD)


def check_csv(path: Path, shown: dict) -> None:
    """One line per cell; a withheld count is empty, every other agrees with the page."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["table", "year", "category", "count"], list(frame.columns)
    assert sorted(set(frame["table"])) == sorted(TABLES), set(frame["table"])
    counts = frame["count"]
    small = frame[counts.str.fullmatch(r"[1-9]")]
    assert small.empty, small
    assert counts.str.fullmatch(r"|0|[1-9]\d+").all(), counts.unique()
    for title, cells in shown.items():
        part = frame[frame["table"] == title]
        in_file = {(r.year, r.category): r.count or WITHHELD for r in part.itertuples()}
        assert (part["count"] == "").sum() == withheld_count(cells), title
        assert {cell: in_file.get(cell) for cell in cells} == cells, title


def check_xlsx(path: Path, shown: dict) -> None:
    workbook = openpyxl.load_workbook(path, read_only=True)
    assert workbook.sheetnames == ["about", "table 1", "table 2"], workbook.sheetnames
    about = pd.read_excel(path, sheet_name="about")
    assert TITLE in about["about"].tolist(), about
    for number, (title, cells) in enumerate(shown.items(), start=1):
        sheet = workbook[f"table {number}"]
        assert sheet["A1"].value == title, sheet["A1"].value
        assert "withheld" in sheet["A2"].value, sheet["A2"].value
        frame = pd.read_excel(path, sheet_name=f"table {number}", skiprows=2)
        assert list(frame.columns)[0] == "year_registered", list(frame.columns)
        counts = frame["count"]
        assert counts.isna().sum() == withheld_count(cells), title
        present = counts.dropna()
        assert ((present == 0) | (present >= 10)).all(), present.tolist()
    workbook.close()


def check_pdf(path: Path) -> None:
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    assert TITLE in text, text[:500]
    assert "withheld" in text, text[:2000]
    for title in TABLES:
        assert title in text, title


def check_html(path: Path, shown: dict) -> None:
    html = path.read_text()
    assert f"<h1>{TITLE}</h1>" in html, html[:500]
    assert html.count("<svg") == len(TABLES), html.count("<svg")
    marks = html.count(f'<abbr title="withheld">{WITHHELD}</abbr>')
    assert marks == sum(withheld_count(cells) for cells in shown.values()), marks
    assert "secondary" not in html.lower()


def test_a_donor_report_drafted_published_read_and_downloaded(signed_in, shots_dir, tmp_path):
    dpo = signed_in("dpo")
    number, _sizes = publish_and_approve(dpo, shots_dir)
    path = define_report(dpo, number)
    pk = path.split("/")[-2]
    dpo.screenshot(path=str(shots_dir / "report_draft.png"), full_page=True)
    # Even the DPO cannot download a draft.
    dpo.goto(f"{path}download/csv/")
    expect(dpo).to_have_url(re.compile(re.escape(path) + "$"))
    expect(dpo.locator(".messages li.error")).to_have_text(
        "Publish the report before downloading it."
    )

    donor = signed_in("donor")
    expect(donor).to_have_url(re.compile(r"/research/$"))  # a donor's home: the portal
    draft_is_hidden_from(donor, path)

    # The DPO publishes it.
    dpo.get_by_role("button", name="Publish the report").click()
    expect(dpo).to_have_url(re.compile(re.escape(path) + "$"))
    expect(success(dpo)).to_have_text("Report published: donors can now read it.")
    expect(dpo.locator("#report-status")).to_have_text(re.compile(r"^Published, .+ \(dpo\)$"))
    expect(dpo.get_by_role("button", name="Publish the report")).to_have_count(0)

    # The donor finds it among the reports and reads it.
    donor.goto("/research/")
    subnav(donor, "Reports")
    expect(donor.get_by_role("heading", name="Define a report")).to_have_count(0)
    expect(donor.locator("main form")).to_have_count(0)
    listed = donor.locator("main table tbody tr")
    expect(listed).to_have_count(1)
    expect(listed.locator("td")).to_have_text(
        [TITLE, "Whole organisation", "2015–2026", str(number), "Published"]
    )
    listed.get_by_role("link", name=TITLE, exact=True).click()
    expect(donor).to_have_url(re.compile(re.escape(path) + "$"))
    expect(donor.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(donor.locator("#report-status")).to_have_text(re.compile(r"^Published, .+ \(dpo\)$"))
    expect(donor.locator("main")).to_contain_text(INTRODUCTION)
    expect(donor.get_by_role("button", name="Publish the report")).to_have_count(0)
    shown = shown_tables(donor)
    # The caseload has small groups: some counts are withheld, and none says why.
    assert sum(withheld_count(cells) for cells in shown.values()) > 0, shown
    main_text = donor.locator("main").inner_text()
    assert "secondary" not in main_text.lower(), main_text
    assert not donor.locator("main td.num", has_text=re.compile(r"^\s*s\s*$")).count()
    donor.screenshot(path=str(shots_dir / "report_published_donor.png"), full_page=True)

    links = donor.locator("main p", has_text="Download:").get_by_role("link")
    expect(links).to_have_text(FORMATS)
    check_html(download(donor, "HTML", pk, tmp_path), shown)
    check_pdf(download(donor, "PDF", pk, tmp_path))
    check_csv(download(donor, "CSV", pk, tmp_path), shown)
    check_xlsx(download(donor, "XLSX", pk, tmp_path), shown)

    # The DPO's view of a table (true counts, why withheld) stays closed to the donor.
    dpo.goto(f"/research/releases/{number}/tables/")
    first = dpo.locator("main table tbody tr").first.get_by_role("link")
    table_path = first.get_attribute("href")
    assert re.fullmatch(r"/research/tables/\d+/", table_path), table_path
    first.click()
    expect(dpo).to_have_url(re.compile(re.escape(table_path) + "$"))
    refused = donor.goto(table_path)
    assert refused.status == 403, refused.status
    expect(donor.get_by_role("heading", level=1)).to_have_text("Not allowed")
    # Nor can the donor define a report by posting the form by hand.
    donor.goto("/research/reports/")
    token = donor.locator('input[name="csrfmiddlewaretoken"]').first.input_value()
    posted = donor.request.post(
        "/research/reports/",
        form={"csrfmiddlewaretoken": token, "title": "Mine", "release": str(number)},
    )
    assert posted.status == 403, posted.status
