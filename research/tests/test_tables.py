"""Published tables: linked tables agree, differencing two releases reveals nothing, what
people see never tells primary from secondary, and exports carry no withheld count."""

import io
import json
from datetime import date

import numpy as np
import pandas as pd
import pypdf
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from scipy.optimize import linprog

from casework.models import ConsentPurpose
from casework.tests.factories import CaseFactory, PersonFactory, give_consent
from research import reports, sdc, services, tables
from research.models import PublishedTable, Report

pytestmark = pytest.mark.django_db(databases=["default", "research"])

YEAR_BY_SEX = tables.Definition.make(["year_registered"], "sex")
YEAR_BY_CITIZENSHIP = tables.Definition.make(["year_registered"], "citizenship")


def _public(stored: PublishedTable) -> list[dict]:
    return tables.cells(stored)


def test_the_same_cell_is_withheld_in_every_table_or_in_none(release):
    one = tables.publish_table(release, YEAR_BY_SEX)
    two = tables.publish_table(release, YEAR_BY_CITIZENSHIP)
    by_year = tables.publish_table(release, tables.Definition.make(["year_registered"]))
    shown = {}
    for stored in (one, two, by_year):
        table = tables.stored_table(stored)
        definition = tables.Definition.make(**stored.definition)
        for key, status in zip(tables.cell_keys(table, definition), stored.status, strict=True):
            shown.setdefault(key, set()).add(status == 0)
    shared = {key: seen for key, seen in shown.items() if len(seen) > 0}
    assert all(len(seen) == 1 for seen in shared.values())
    # the year margins are indeed shared by the three tables
    assert sum(1 for key in shown if len(key[1]) == 1 and key[1][0][0] == "year_registered") > 0


def test_a_table_is_stored_once_and_given_back_as_stored(release):
    first = tables.publish_table(release, YEAR_BY_SEX)
    again = tables.publish_table(release, YEAR_BY_SEX)
    assert first.pk == again.pk
    assert PublishedTable.objects.filter(key=YEAR_BY_SEX.key).count() == 1


def test_protection_is_deterministic(release):
    data, hierarchies = tables.microdata(release, YEAR_BY_CITIZENSHIP)
    patterns = [
        sdc.protect(
            sdc.build_table(data, ["year_registered"], "citizenship", hierarchies), 10
        ).status.tobytes()
        for _ in range(2)
    ]
    assert patterns[0] == patterns[1]


def _relations(stored: PublishedTable) -> np.ndarray:
    return tables.stored_table(stored).relations.toarray()


def _attacker_intervals(old: PublishedTable, new: PublishedTable) -> dict:
    """An independent attacker: both releases' published cells, their relations, and
    `new >= old` for every cell. Returns each withheld cell's [min, max]."""
    t_old, t_new = tables.stored_table(old), tables.stored_table(new)
    keys_old = tables.cell_keys(t_old, tables.Definition.make(**old.definition))
    keys_new = tables.cell_keys(t_new, tables.Definition.make(**new.definition))
    n_old, n_new = t_old.n_cells, t_new.n_cells
    n = n_old + n_new
    equalities = [np.hstack([row, np.zeros(n_new)]) for row in _relations(old)]
    equalities += [np.hstack([np.zeros(n_old), row]) for row in _relations(new)]
    inequalities = []
    where_new = {key: i for i, key in enumerate(keys_new)}
    for j, key in enumerate(keys_old):
        if key in where_new:
            row = np.zeros(n)
            row[j], row[n_old + where_new[key]] = 1, -1  # old - new <= 0
            inequalities.append(row)
    bounds = []
    for stored in (old, new):
        for status, value in zip(stored.status, stored.published, strict=True):
            bounds.append((value, value) if status == 0 else (0, None))
    withheld = [i for i in range(n_old) if old.status[i]] + [
        n_old + i for i in range(n_new) if new.status[i]
    ]
    intervals = {}
    for i in withheld:
        c = np.zeros(n)
        c[i] = 1
        low = linprog(
            c,
            A_ub=inequalities,
            b_ub=np.zeros(len(inequalities)),
            A_eq=equalities,
            b_eq=np.zeros(len(equalities)),
            bounds=bounds,
        )
        high = linprog(
            -c,
            A_ub=inequalities,
            b_ub=np.zeros(len(inequalities)),
            A_eq=equalities,
            b_eq=np.zeros(len(equalities)),
            bounds=bounds,
        )
        assert low.status == 0 and high.status in (0, 3)
        intervals[i] = (low.fun, np.inf if high.status == 3 else -high.fun)
    return intervals, n_old


def _add_cases(caseload, sex: str, year: int, number: int = 3) -> None:
    for index in range(number):
        case = CaseFactory(
            registering_mission=caseload["first"].registering_mission,
            person=PersonFactory(sex=sex, birth_year=1990 + index),
            identified_on=date(year, 2, 1),
            registered_on=date(year, 2, 1),
        )
        give_consent(case, ConsentPurpose.RESEARCH, by=caseload["manager"])


def _next_release(people):
    later = services.release_publish(actor=people["dpo"], as_of=date.today())
    return services.release_approve(actor=people["dpo"], release=later)


def test_differencing_two_releases_narrows_no_withheld_cell(release, caseload, people):
    old = tables.publish_table(release, YEAR_BY_SEX)
    _add_cases(caseload, "female", 2021)  # the March table, then June's with three more cases
    new = tables.publish_table(_next_release(people), YEAR_BY_SEX)
    assert new.counts[0] == old.counts[0] + 3
    intervals, n_old = _attacker_intervals(old, new)
    assert intervals
    for i, (low, high) in intervals.items():
        stored, cell = (old, i) if i < n_old else (new, i - n_old)
        if stored.status[cell] == sdc.PRIMARY:
            assert high - low >= 10 - 1e-6, (stored.release.number, cell, low, high)


def test_a_table_that_differencing_would_break_is_not_released(release, caseload, people):
    before = tables.publish_table(release, tables.Definition.make(["sex"], None, {}, "persons"))
    assert "Transgender/non-conforming" not in before.dimensions[0]["labels"]
    # Three persons of a category that had none: any table by sex would pin them to 3 or
    # less, since the release's total (public) grew by 3.
    _add_cases(caseload, "transgender", 2021)
    later = _next_release(people)
    with pytest.raises(tables.TableError, match="comparing"):
        tables.publish_table(later, tables.Definition.make(["sex"], None, {}, "persons"))
    client = Client()
    client.force_login(people["researcher"])
    page = client.get(reverse("research_portal")).content.decode()
    assert "Not shown for this release" in page


def test_what_people_see_never_tells_primary_from_secondary(release, tmp_path):
    stored = tables.publish_table(release, YEAR_BY_SEX)
    assert {1, 2} <= set(stored.status)  # both kinds exist in this table
    path = tmp_path / "public.csv"
    tables.write(stored, path, "csv", for_dpo=False)
    frame = pd.read_csv(path, keep_default_na=False)
    assert set(frame["flag"]) == {"", "x"}
    assert (frame["flag"] == "x").sum() == sum(1 for s in stored.status if s)
    assert (frame.loc[frame["flag"] == "x", "count"] == "").all()
    dpo = tmp_path / "dpo.json"
    tables.write(stored, dpo, "json", for_dpo=True)
    document = json.loads(dpo.read_text())
    flags = {cell["flag"] for cell in document["cells"]}
    assert flags == {"", "x", "s"}
    assert all("interval" in cell for cell in document["cells"] if cell["flag"])


def _report(people, release, method="suppression"):
    report = services.report_create(
        actor=people["dpo"],
        title="Assistance 2019-2025",
        release=release,
        year_from=2019,
        year_to=2025,
        region=None,
        tables=["persons_by_sex", "cases_by_exploitation", "persons_by_citizenship"],
        method=method,
    )
    return services.report_publish(actor=people["dpo"], report=report)


def test_report_exports_carry_no_withheld_count(release, people):
    report = _report(people, release)
    assert report.status == Report.Status.PUBLISHED and report.tables.count() == 3
    trends = reports.report_trends(report)
    withheld = sum(1 for t in trends for r in t.rows if r["count"] is None)
    assert withheld > 0
    frame = pd.read_csv(io.BytesIO(reports.as_csv(report)))
    assert frame["count"].isna().sum() == withheld
    workbook = pd.read_excel(io.BytesIO(reports.as_xlsx(report)), sheet_name=None, skiprows=2)
    sheets = [s for name, s in workbook.items() if name.startswith("table")]
    assert sum(int(s["count"].isna().sum()) for s in sheets) == withheld
    text = "".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(reports.as_pdf(report))).pages
    )
    assert "Assistance 2019-2025" in text and "Counts from 1 to 9 are withheld" in text
    # every year row of the first table reads exactly as published, x for withheld
    first = trends[0]
    for row in first.table_rows:
        line = " ".join([row["year"], *("x" if v is None else str(v) for v in row["values"])])
        assert line in text, line


def test_the_rounding_method_says_so(release, people):
    report = _report(people, release, method="rounding")
    stored = report.tables.first()
    assert stored.definition["method"] == "rounding"
    assert all(v % 5 == 0 for v, s in zip(stored.published, stored.status, strict=True) if not s)
    assert "rounded to the nearest 5" in tables.footnote(stored, release)


def test_donors_see_published_reports_only_and_never_the_dpo_view(release, people):
    draft = services.report_create(
        actor=people["dpo"],
        title="Draft",
        release=release,
        year_from=2020,
        year_to=2024,
        region=150,
        tables=["persons_by_sex"],
        method="suppression",
    )
    published = _report(people, release)
    donor = Client()
    donor.force_login(people["donor"])
    assert donor.get(reverse("research_report", args=[draft.pk])).status_code == 404
    assert donor.get(reverse("research_report_download", args=[draft.pk, "pdf"])).status_code == 404
    assert donor.get(reverse("research_report", args=[published.pk])).status_code == 200
    for fmt in ("html", "pdf", "csv", "xlsx"):
        response = donor.get(reverse("research_report_download", args=[published.pk, fmt]))
        assert response.status_code == 200 and response.content, fmt
    table = published.tables.first()
    assert donor.get(reverse("research_table", args=[table.pk])).status_code == 403
    assert donor.post(reverse("research_report_publish", args=[draft.pk])).status_code == 403
    page = donor.get(reverse("research_report", args=[published.pk])).content.decode()
    assert '">s<' not in page and "secondary" not in page.lower()


def test_trend_page_and_dpo_table_view(release, people):
    researcher = Client()
    researcher.force_login(people["researcher"])
    page = researcher.get(reverse("research_trends"), {"variable": "sex", "unit": "persons"})
    assert page.status_code == 200 and b"<svg" in page.content
    stored = PublishedTable.objects.get(
        key=reports.definition("sex", "persons", "suppression", 10).key
    )
    assert researcher.get(reverse("research_table", args=[stored.pk])).status_code == 403
    dpo = Client()
    dpo.force_login(people["dpo"])
    view = dpo.get(reverse("research_table", args=[stored.pk]))
    assert view.status_code == 200 and b"True count" in view.content


def test_research_table_command(release, tmp_path):
    out = tmp_path / "t.csv"
    call_command("research_table", "--rows", "year_registered", "--cols", "sex", "--out", str(out))
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame.columns) == ["year_registered", "sex", "count", "flag"]
    assert (frame.iloc[0][["year_registered", "sex"]] == "Total").all()
    assert set(frame["flag"]) <= {"", "x", "s"}
    with pytest.raises(CommandError, match="Unknown variable"):
        call_command("research_table", "--rows", "name", "--out", str(out))
    with pytest.raises(CommandError, match="empty"):
        call_command(
            "research_table", "--rows", "sex", "--where", "year_registered=1950", "--out", str(out)
        )


def test_sdc_table_command_on_a_csv_with_a_hierarchy(tmp_path):
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {
            "country": rng.choice(
                ["UA", "MD", "RO", "NG", "GH"], 400, p=[0.4, 0.3, 0.2, 0.07, 0.03]
            ),
            "sex": rng.choice(["F", "M", ""], 400, p=[0.7, 0.28, 0.02]),
        }
    )
    data.to_csv(tmp_path / "micro.csv", index=False)
    (tmp_path / "regions.csv").write_text(
        "code,parent\nUA,Europe\nMD,Europe\nRO,Europe\nNG,Africa\nGH,Africa\n"
    )

    def country_by_sex(out, *options):
        call_command(
            "sdc_table",
            "--input",
            str(tmp_path / "micro.csv"),
            "--rows",
            "country",
            "--cols",
            "sex",
            "--hierarchy",
            f"country={tmp_path / 'regions.csv'}",
            "--format",
            "json",
            "--out",
            str(out),
            *options,
        )
        return json.loads(out.read_text())

    out = tmp_path / "out.json"
    document = country_by_sex(out)
    labels = {cell["cell"]["country"] for cell in document["cells"]}
    assert {"Total", "Europe", "Africa", "UA", "GH"} <= labels
    assert any(cell["cell"]["sex"] == sdc.MISSING for cell in document["cells"])
    for cell in document["cells"]:
        if cell["flag"] == "x":
            low, high = cell["interval"]
            assert high is None or high - low >= 10
    # Exact intervals on request: the same pattern, no bracket anywhere.
    exact = country_by_sex(tmp_path / "exact.json", "--exact-audit")
    assert [c["flag"] for c in exact["cells"]] == [c["flag"] for c in document["cells"]]
    assert exact["audit"]["bracketed"] == 0
    assert not any("interval_exact" in cell for cell in exact["cells"])
    with pytest.raises(CommandError, match="no column"):
        call_command(
            "sdc_table", "--input", str(tmp_path / "micro.csv"), "--rows", "age", "--out", str(out)
        )
