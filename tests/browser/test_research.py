"""The research portal in the browser: a release, counts, and a k-anonymous extract.

The DPO publishes a release of the consenting cases and approves it; the researcher reads
the portal's counts (no small count shown) and the codebook, and asks for an extract;
the DPO approves it with k = 11 and sees the disclosure-control report; the researcher
downloads the SPSS file and an independent check (pycanon) finds it 11-anonymous.
Caseworkers have no way into the portal, and the researcher none into the cases.

These tests need a caseload with research consent, which `seed_demo --cases 0` does not
give, and the session's shared server cannot get one without disturbing the other browser
tests: they count on an empty caseload (`test_case_flow` expects UA-KYV's manager to have
"No referral.", `test_dedupe` exactly one DE-BER/UA-KYV pair in the duplicates queue), and
`seed_demo` refuses to add cases to a database that already holds the demo staff (with
`--if-empty` it adds nothing). So this module overrides `e2e_server` with a server of its
own, on a database of its own seeded with `seed_demo --cases 300 --seed 1`, made by
conftest's own helpers. `new_page` and `signed_in` use it as is.
"""

import re
import zipfile
from collections.abc import Iterator

import pyreadstat
import pytest
from playwright.sync_api import Page, expect
from pycanon import anonymity
from test_case_flow import dd_after, today

from conftest import E2EServer, seeded_server

pytestmark = pytest.mark.browser

# With this seed some counts of the portal are small (few transgender persons): withheld.
SEED_CASES, SEED = 300, 1
K = 11
QUASI_IDENTIFIERS = ["sex", "age_band", "citizenship"]
VARIABLES = [*QUASI_IDENTIFIERS, "returned"]
THRESHOLD = 10  # the default disclosure policy's smallest published count
RELEASE_URL = re.compile(r"/research/releases/(\d+)/$")
EXTRACT_URL = re.compile(r"/research/extracts/(\d+)/$")
# A shown count: 0, at least the threshold, or withheld ("x", whatever its size); never 1 to 9.
SHOWN_COUNT = re.compile(r"^(0|[1-9]\d+|x)$")


@pytest.fixture(scope="module")
def e2e_server(chromium_path, tmp_path_factory) -> Iterator[E2EServer]:
    """This module's own server and database, seeded with a caseload."""
    with seeded_server("casework_e2e_research", tmp_path_factory, SEED_CASES, SEED) as server:
        yield server


def subnav(page: Page, name: str) -> None:
    page.locator("nav.subnav").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def success(page: Page):
    return page.locator(".messages li.success")


def publish_and_approve(dpo: Page, shots_dir) -> tuple[int, str]:
    """As the DPO: publish a release as of today, then approve it; return its number."""
    dpo.goto("/research/releases/")
    expect(dpo.get_by_role("heading", level=1)).to_have_text("Releases")
    expect(dpo.locator("main table tbody")).to_have_text("No release yet.")
    as_of = dpo.get_by_label("Cases registered up to", exact=True)
    expect(as_of).to_have_value(today().isoformat())  # proposed: today
    as_of.fill(today().isoformat())
    dpo.get_by_role("button", name="Publish a draft").click()

    expect(dpo).to_have_url(RELEASE_URL)
    number = int(RELEASE_URL.search(dpo.url)[1])
    expect(success(dpo)).to_have_text(
        f"Release {number} published as a draft; check it and approve it."
    )
    expect(dpo.get_by_role("heading", level=1)).to_have_text(f"Release {number}")
    expect(dd_after(dpo, "Status")).to_have_text("Draft: awaiting approval, provisional")
    sizes = dd_after(dpo, "Persons / cases").inner_text()
    persons, cases = (int(n) for n in re.fullmatch(r"(\d+) / (\d+)", sizes).groups())
    # About 85% of the seeded cases consented to research; a person may have two cases.
    assert 0.6 * SEED_CASES < cases < SEED_CASES, sizes
    assert 0.8 * cases < persons <= cases, sizes
    dpo.screenshot(path=str(shots_dir / "research_release_draft.png"), full_page=True)

    dpo.get_by_role("button", name="Approve this release").click()
    expect(dpo).to_have_url(RELEASE_URL)
    expect(success(dpo)).to_have_text("Release approved. It can no longer change.")
    expect(dd_after(dpo, "Status")).to_have_text("Approved, provisional")
    expect(dd_after(dpo, "Approved")).to_contain_text("(dpo)")
    expect(dpo.get_by_role("button", name="Approve this release")).to_have_count(0)
    dpo.screenshot(path=str(shots_dir / "research_release_approved.png"), full_page=True)
    return number, sizes


def read_portal(researcher: Page, number: int, sizes: str, shots_dir) -> None:
    """The overview: the latest release and its counts, none of them small."""
    researcher.goto("/research/")
    expect(researcher.get_by_role("heading", level=1)).to_have_text("Research portal")
    persons, cases = sizes.split(" / ")
    expect(researcher.locator("main")).to_contain_text(
        re.compile(
            rf"Latest release: {number}, cases registered up to .+: "
            rf"{persons} persons, {cases} cases\."
        )
    )
    expect(researcher.locator("main")).to_contain_text(
        f"Counts from 1 to {THRESHOLD} − 1 are withheld"
    )
    withheld = "x"
    tables = researcher.locator("section.counts")
    expect(tables.locator("h2")).to_have_text(
        [
            "Year of registration",
            "Sex/gender",
            "Citizenship",
            "Main type of exploitation (the first named)",
        ]
    )
    for table in tables.all():
        expect(table.locator("tfoot td")).to_have_text([persons, cases])
        cells = table.locator("tbody td.num").all_inner_texts()
        assert cells, table.inner_text()
        small = [cell for cell in cells if not SHOWN_COUNT.match(cell.strip())]
        assert not small, (table.locator("h2").inner_text(), cells)
        # A lone withheld count could be worked out from the total: never alone.
        for column in (0, 1):
            hidden = [
                row.locator("td.num").nth(column).inner_text()
                for row in table.locator("tbody tr").all()
            ].count(withheld)
            assert hidden != 1, (table.locator("h2").inner_text(), column, cells)
    # The caseload has small groups: some counts are withheld.
    expect(tables.locator("tbody td.num", has_text=withheld).first).to_be_visible()
    researcher.screenshot(path=str(shots_dir / "research_portal.png"), full_page=True)


def request_extract(researcher: Page, number: int) -> str:
    """Ask for an extract through the form; return the request page's path."""
    subnav(researcher, "Extracts")
    expect(researcher.locator("main table tbody")).to_have_text("No request yet.")
    form = researcher.locator("main form")
    form.get_by_label("Release", exact=True).select_option(
        label=f"Release {number} (as of {today().isoformat()})"
    )
    for name in VARIABLES:
        form.locator(f'input[name="variables"][value="{name}"]').check()
    form.get_by_label("Purpose of the research", exact=True).fill(
        "Who returns home: sex, age and citizenship of identified persons."
    )
    form.get_by_role("button", name="Send the request").click()

    expect(researcher).to_have_url(EXTRACT_URL)
    pk = int(EXTRACT_URL.search(researcher.url)[1])
    expect(success(researcher)).to_have_text("Request sent to the data protection officer.")
    expect(researcher.get_by_role("heading", level=1)).to_have_text(f"Extract request #{pk}")
    expect(researcher.locator("#extract-status")).to_have_text("Awaiting the DPO's decision")
    expect(dd_after(researcher, "Variables")).to_have_text(", ".join(VARIABLES))
    expect(dd_after(researcher, "k")).to_have_text(str(K))
    # Nothing to download, and nothing to decide, yet.
    expect(researcher.get_by_role("heading", name="Download")).to_have_count(0)
    expect(researcher.locator('a[href*="/download/"]')).to_have_count(0)
    expect(researcher.get_by_role("button", name="Record the decision")).to_have_count(0)
    return f"/research/extracts/{pk}/"


def test_release_counts_and_a_k_anonymous_extract(signed_in, shots_dir, tmp_path):
    dpo = signed_in("dpo")
    number, sizes = publish_and_approve(dpo, shots_dir)

    # The researcher: the portal's counts, the codebook, then an extract request.
    researcher = signed_in("researcher")
    expect(researcher).to_have_url(re.compile(r"/research/$"))  # their home page
    read_portal(researcher, number, sizes, shots_dir)
    subnav(researcher, "Codebook")
    sex = researcher.locator("table.codebook tr#var-sex")
    expect(sex.locator("td").nth(1)).to_have_text("Sex/gender")
    expect(researcher.locator("table.codebook tr#var-age_band")).to_have_count(1)
    researcher.screenshot(path=str(shots_dir / "research_codebook.png"))
    path = request_extract(researcher, number)
    pk = path.split("/")[-2]
    researcher.screenshot(path=str(shots_dir / "research_extract_requested.png"), full_page=True)
    # The download address, tried early, gives nothing either.
    researcher.goto(f"{path}download/sav/")
    expect(researcher).to_have_url(re.compile(re.escape(path) + "$"))
    expect(researcher.locator(".messages li.error")).to_have_text(
        "Only an approved extract can be downloaded."
    )

    # The DPO approves it with k = 11 and reads the disclosure-control report.
    dpo.goto("/research/extracts/")
    dpo.locator("main table tbody").get_by_role("link", name=f"#{pk}", exact=True).click()
    expect(dpo).to_have_url(re.compile(re.escape(path) + "$"))
    expect(dpo.locator("#extract-status")).to_have_text("Awaiting the DPO's decision")
    decision = dpo.locator("main form")
    decision.get_by_label("Approve", exact=True).check()
    decision.get_by_label("k", exact=True).fill(str(K))
    decision.get_by_role("button", name="Record the decision").click()
    expect(dpo).to_have_url(re.compile(re.escape(path) + "$"))
    expect(success(dpo)).to_have_text("Decision recorded.")
    expect(dpo.locator("#extract-status")).to_have_text("Approved")
    expect(dd_after(dpo, "Decided")).to_contain_text("dpo, ")
    report = dpo.locator("#extract-report li")
    expect(report.first).to_have_text(
        re.compile(
            r"^\d+ records; every combination of quasi-identifiers is shared by at least "
            r"(\d+) records\.$"
        )
    )
    first_line = report.first.inner_text()
    rows, k_achieved = (int(n) for n in re.findall(r"\d+", first_line))
    assert k_achieved >= K, first_line
    assert rows == int(sizes.split(" / ")[1]), (first_line, sizes)  # one row per case
    expect(report.nth(1)).to_have_text(re.compile(r"^Generalised: "))
    expect(report.nth(2)).to_have_text(re.compile(r"^Values suppressed: \d+"))
    expect(dpo.get_by_role("button", name="Record the decision")).to_have_count(0)
    dpo.screenshot(path=str(shots_dir / "research_extract_approved.png"), full_page=True)

    # The researcher downloads the SPSS file through the page's link.
    researcher.goto(path)
    expect(researcher.locator("#extract-status")).to_have_text("Approved")
    links = researcher.locator("main a.button")
    expect(links).to_have_text(["CSV", "SAV", "DTA"])
    with researcher.expect_download() as downloading:
        links.get_by_text("SAV", exact=True).click()
    download = downloading.value
    stem = f"extract-{pk}-release-{number}"
    assert download.suggested_filename == f"{stem}-sav.zip", download.suggested_filename
    with zipfile.ZipFile(download.path()) as archive:
        assert f"{stem}.sav" in archive.namelist(), archive.namelist()
        sav = archive.extract(f"{stem}.sav", tmp_path)
    # The missing-value codes (-96 suppressed, ...) kept as the values they are.
    frame, meta = pyreadstat.read_sav(sav, user_missing=True)
    assert list(frame.columns) == ["person_id", *VARIABLES], list(frame.columns)
    assert len(frame) == rows
    assert meta.column_names_to_labels["sex"] == "Sex/gender"
    assert anonymity.k_anonymity(frame, QUASI_IDENTIFIERS) >= K
    assert anonymity.k_anonymity(frame, QUASI_IDENTIFIERS) == k_achieved


def test_portal_and_cases_are_closed_to_each_others_roles(signed_in, shots_dir):
    caseworker = signed_in("cw.de-ber")
    expect(caseworker.locator(".topbar nav").get_by_role("link", name="Research")).to_have_count(0)
    refused = caseworker.goto("/research/")
    assert refused.status == 403, refused.status
    expect(caseworker.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(caseworker.locator("main")).to_contain_text(
        "Your role does not give access to this page."
    )
    caseworker.screenshot(path=str(shots_dir / "research_refused_caseworker.png"))

    researcher = signed_in("researcher")
    expect(researcher.locator(".topbar nav").get_by_role("link", name="Cases")).to_have_count(0)
    refused = researcher.goto("/cases/")
    assert refused.status == 403, refused.status
    expect(researcher.get_by_role("heading", level=1)).to_have_text("Not allowed")
