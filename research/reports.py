"""Trend tables and donor reports, built on published (protected) tables.

A trend table counts by year of registration against one variable; its chart draws each
category's published counts as a line, with a gap wherever a count is withheld, so that
a chart never shows what the table withholds. A report is a set of such tables for a
period and a scope, published by the DPO as HTML, PDF, CSV and XLSX, each table with its
documentation.
"""

import io
import re
from dataclasses import dataclass
from html import escape

import pandas as pd
from django.template.loader import render_to_string
from django.utils import timezone

from research import codebook as cb
from research import regions, sdc, tables
from research.models import Programme, PublishedTable, Release, Report

YEAR = "year_registered"
_PALETTE = ["#0b5cad", "#b36b00", "#1e7b34", "#8a2be2", "#c0392b", "#16a085", "#7f8c8d"]
_FONT = 'font-family="Helvetica, Arial, sans-serif" font-size="11"'

# The tables a donor report may hold: (key, title, column variable, unit).
REPORT_TABLES = [
    ("persons_by_sex", "Persons assisted by year and sex", "sex", "persons"),
    ("persons_by_age", "Persons assisted by year and age band", "age_band", "persons"),
    (
        "persons_by_majority",
        "Persons by year, minor or adult",
        "majority_at_registration",
        "persons",
    ),
    ("persons_by_citizenship", "Persons by year and citizenship", "citizenship", "persons"),
    (
        "cases_by_exploitation",
        "Cases by year and type of exploitation",
        "exploitation_type",
        "cases",
    ),
    (
        "cases_by_country",
        "Cases by year and country of exploitation",
        "country_of_exploitation",
        "cases",
    ),
    ("cases_returned", "Cases by year: returned home", "returned", "cases"),
    ("cases_re_trafficked", "Cases by year: re-trafficked persons", "re_trafficked", "cases"),
]
REPORT_TABLE_KEYS = {key: (title, column, unit) for key, title, column, unit in REPORT_TABLES}


@dataclass
class Trend:
    stored: PublishedTable
    title: str
    years: list[str]
    series: dict[str, list[int | None]]  # category -> count per year (None: withheld)
    rows: list[dict]  # the table's cells, for display
    note: str

    @property
    def chart(self) -> str:
        return line_chart(self.years, self.series, self.title)

    @property
    def table_rows(self) -> list[dict]:
        """Years down, categories across, then the totals line (None: withheld)."""
        column = self.stored.definition["cols"]
        lookup = {(r[YEAR], r[column]): r["count"] for r in self.rows}
        return [
            {"year": year, "values": [lookup.get((year, c)) for c in [*self.series, sdc.TOTAL]]}
            for year in [*self.years, sdc.TOTAL]
        ]


def definition(column: str, unit: str, method: str, threshold: int, where=None):
    return tables.Definition.make([YEAR], column, where or {}, unit, method, threshold)


def trend(stored: PublishedTable, title: str) -> Trend:
    """The table's public cells arranged by year, for the chart and the display."""
    rows = tables.cells(stored)
    column = stored.definition["cols"]
    years = sorted({r[YEAR] for r in rows if r[YEAR] != sdc.TOTAL and r[YEAR].isdigit()})
    categories = []
    for r in rows:
        label = r[column]
        if label != sdc.TOTAL and label not in categories:
            categories.append(label)
    lookup = {(r[YEAR], r[column]): r["count"] for r in rows}
    series = {c: [lookup.get((y, c)) for y in years] for c in categories if c}
    return Trend(stored, title, years, series, rows, tables.footnote(stored, stored.release))


def line_chart(years: list[str], series: dict[str, list[int | None]], title: str) -> str:
    """One line per category over the years; a withheld count leaves a gap in its line."""
    left, top, width, height = 44, 12, 420, 180
    values = [v for points in series.values() for v in points if v is not None]
    peak = max(values, default=1) or 1

    def x(index: int) -> float:
        return left + (width * index / max(len(years) - 1, 1))

    def y(value: int) -> float:
        return top + height * (1 - value / peak)

    body = [
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + height}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}" '
        'stroke="#888"/>',
    ]
    for tick in (0, peak // 2, peak):
        body.append(
            f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" {_FONT}>{tick}</text>'
        )
    step = max(1, len(years) // 10)
    for index, year in enumerate(years):
        if index % step == 0:
            body.append(
                f'<text x="{x(index):.1f}" y="{top + height + 14}" text-anchor="middle" '
                f"{_FONT}>{escape(year)}</text>"
            )
    shown = list(series.items())[: len(_PALETTE)]
    for number, (category, points) in enumerate(shown):
        colour = _PALETTE[number]
        run: list[str] = []
        for index, value in enumerate([*points, None]):
            if value is None:
                if len(run) > 1:
                    body.append(
                        f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                        'stroke-width="2"/>'
                    )
                run = []
                continue
            run.append(f"{x(index):.1f},{y(value):.1f}")
            body.append(
                f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="2.5" fill="{colour}"/>'
            )
        body.append(
            f'<rect x="{left + width + 12}" y="{top + number * 16}" width="10" height="10" '
            f'fill="{colour}"/><text x="{left + width + 26}" y="{top + number * 16 + 9}" '
            f"{_FONT}>{escape(str(category))[:28]}</text>"
        )
    total_width = left + width + 200
    total_height = top + height + 24
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total_width} {total_height}" '
        f'width="{total_width}" height="{total_height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


# ---------------------------------------------------------------------------- reports


def scope_filter(report: Report) -> dict:
    """The report's period and scope as table filters."""
    where = {YEAR: list(range(report.year_from, report.year_to + 1))}
    region = report.scope.get("region")
    if region:
        where["country_of_identification"] = [
            numeric
            for alpha2, numeric in cb.COUNTRY_CODES.items()
            if regions.SUBREGION_OF.get(alpha2) is not None and regions.region(alpha2) == region
        ]
    programme = report.scope.get("programme")
    if programme:
        # The countries as they were when the report was defined (copied into its scope).
        countries = report.scope.get("countries")
        if countries is None:
            countries = Programme.objects.get(pk=programme).countries
        where["country_of_identification"] = sorted(cb.COUNTRY_CODES[c] for c in countries)
    return where


def report_trends(report: Report) -> list[Trend]:
    """The report's tables (published with it), in the order defined."""
    stored = {t.key: t for t in report.tables.all()}
    trends = []
    for item in report.definitions:
        title, column, unit = REPORT_TABLE_KEYS[item["table"]]
        table_definition = definition(
            column, unit, item["method"], item["threshold"], scope_filter(report)
        )
        if table_definition.key in stored:
            trends.append(trend(stored[table_definition.key], title))
    return trends


def publish_report(report: Report, actor) -> Report:
    """Protect every table of the report together with all the release's tables, then
    publish; a table that cannot be protected stops the publication (TableError)."""
    made = []
    for item in report.definitions:
        _title, column, unit = REPORT_TABLE_KEYS[item["table"]]
        table_definition = definition(
            column, unit, item["method"], item["threshold"], scope_filter(report)
        )
        made.append(tables.publish_table(report.release, table_definition))
    report.tables.set(made)
    report.status = Report.Status.PUBLISHED
    report.published_by_id = actor.pk
    report.published_by_name = actor.get_username()
    report.published_at = timezone.now()
    report.save()
    return report


def documentation(report: Report) -> dict:
    release: Release = report.release
    return {
        "title": report.title,
        "scope": report.scope_label,
        "period": f"{report.year_from}–{report.year_to}",
        "release": release.number,
        "as_of": release.as_of.isoformat(),
        "status": "provisional" if release.provisional else "final",
        "published": report.published_at.isoformat() if report.published_at else "not yet",
        "definitions": (
            "A person is someone assisted who consented to anonymised research use; "
            "registrations of one person by two missions count once after deduplication. "
            "A case is one episode of assistance."
        ),
    }


def as_html(report: Report) -> str:
    return render_to_string(
        "research/report_file.html",
        {"report": report, "trends": report_trends(report), "doc": documentation(report)},
    )


def as_frame(report: Report) -> pd.DataFrame:
    frames = []
    for item in report_trends(report):
        frame = pd.DataFrame(item.rows)[[YEAR, item.stored.definition["cols"], "count"]]
        frame.columns = ["year", "category", "count"]
        frame.insert(0, "table", item.title)
        frame["count"] = frame["count"].astype("Int64")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def as_csv(report: Report) -> bytes:
    return as_frame(report).to_csv(index=False, lineterminator="\n").encode()


def as_xlsx(report: Report) -> bytes:
    buffer = io.BytesIO()
    doc = documentation(report)
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.DataFrame({"": list(doc), "about": list(doc.values())}).to_excel(
            writer, sheet_name="about", index=False
        )
        for number, item in enumerate(report_trends(report), start=1):
            frame = pd.DataFrame(item.rows)[[YEAR, item.stored.definition["cols"], "count"]]
            frame["count"] = frame["count"].astype("Int64")
            frame.to_excel(writer, sheet_name=f"table {number}", index=False, startrow=2)
            sheet = writer.sheets[f"table {number}"]
            sheet["A1"] = item.title
            sheet["A2"] = item.note
    return buffer.getvalue()


def as_pdf(report: Report) -> bytes:
    from fpdf import FPDF

    doc = documentation(report)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, _latin(report.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    for label, value in doc.items():
        if label != "title":
            pdf.multi_cell(
                0, 5, _latin(f"{label.capitalize()}: {value}"), new_x="LMARGIN", new_y="NEXT"
            )
    if report.introduction:
        pdf.ln(2)
        pdf.multi_cell(0, 5, _latin(report.introduction), new_x="LMARGIN", new_y="NEXT")
    for item in report_trends(report):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 6, _latin(item.title), new_x="LMARGIN", new_y="NEXT")
        chart = re.sub(r"<title>.*?</title>", "", item.chart)  # fpdf2 draws shapes and text only
        pdf.image(io.BytesIO(chart.encode()), w=180)
        pdf.set_font("Helvetica", size=8)
        pdf.multi_cell(0, 4, _latin(item.note), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        _pdf_table(pdf, item)
    return bytes(pdf.output())


def _pdf_table(pdf, item: Trend) -> None:
    categories = list(item.series)
    headers = ["Year", *categories, "Total"]
    totals = {
        r[YEAR]: r["count"] for r in item.rows if r[item.stored.definition["cols"]] == sdc.TOTAL
    }
    width = min(180 / len(headers), 30)
    pdf.set_font("Helvetica", "B", 7)
    for header in headers:
        pdf.cell(width, 5, _latin(str(header))[:18], border=1)
    pdf.ln()
    pdf.set_font("Helvetica", size=7)
    for index, year in enumerate([*item.years, sdc.TOTAL]):
        values = (
            [item.series[c][index] for c in categories]
            if year != sdc.TOTAL
            else [
                next(
                    (
                        r["count"]
                        for r in item.rows
                        if r[YEAR] == sdc.TOTAL and r[item.stored.definition["cols"]] == c
                    ),
                    None,
                )
                for c in categories
            ]
        )
        pdf.cell(width, 5, year, border=1)
        for value in [*values, totals.get(year)]:
            pdf.cell(width, 5, tables.WITHHELD if value is None else str(value), border=1)
        pdf.ln()


def _latin(text: str) -> str:
    """The PDF's core fonts cover Latin-1 only."""
    return text.replace("–", "-").replace("—", "-").encode("latin-1", "replace").decode("latin-1")
