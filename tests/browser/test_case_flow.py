"""A case's life across missions, as caseworkers and managers see it in the browser.

A DE-BER caseworker registers a Ukrainian person; nobody else sees the case until the
person consents to sharing, DE-BER refers it to UA-KYV and UA-KYV's manager accepts.
"""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

CASE_URL = re.compile(r"/cases/[0-9a-f-]{36}/$")
REGISTERED = re.compile(r"Case ([A-Z]{2}-[A-Z]{3}-\d{4}-\d{6}) registered\.")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TABLET = {"width": 800, "height": 1100}


def today() -> date:
    """The server's today: it runs with TIME_ZONE = "UTC"."""
    return datetime.now(UTC).date()


def days_ago(days: int) -> str:
    return (today() - timedelta(days=days)).isoformat()


def select_mission(page: Page, field_id: str, code: str) -> None:
    """Choose a mission in a select whose options read "CODE · City mission"."""
    option = page.locator(f"#{field_id} option", has_text=re.compile(rf"^{code} · "))
    expect(option).to_have_count(1)
    page.locator(f"#{field_id}").select_option(value=option.get_attribute("value"))


def selected_text(page: Page, field_id: str) -> str:
    return page.locator(f"#{field_id}").evaluate("s => s.options[s.selectedIndex].text")


def fill_case_form(
    page: Page,
    *,
    given: str,
    family: str,
    born: str,
    identified_on: str,
    destination: str = "DE-BER",
    source: str = "UA-KYV",
    citizenship: str = "UA",
    sex: str = "Female",
) -> None:
    page.locator(".topbar nav").get_by_role("link", name="Register a case").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a person and a case")
    select_mission(page, "id_destination_mission", destination)
    select_mission(page, "id_source_mission", source)
    page.get_by_label("Country of exploitation", exact=True).select_option(value="DE")
    page.get_by_label("Identified on", exact=True).fill(identified_on)
    page.get_by_label("Given names", exact=True).fill(given)
    page.get_by_label("Family names", exact=True).fill(family)
    page.get_by_label("Sex/gender", exact=True).select_option(label=sex)
    page.get_by_label("Date of birth", exact=True).fill(born)
    page.get_by_label("Citizenship", exact=True).select_option(value=citizenship)


def register_case(page: Page, **person_and_case) -> tuple[str, str]:
    """Register through the form; return the new case's number and the path of its page."""
    fill_case_form(page, **person_and_case)
    page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(CASE_URL)
    message = page.locator(".messages li.success")
    expect(message).to_have_text(REGISTERED)
    number = REGISTERED.search(message.inner_text()).group(1)
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    return number, "/cases/" + page.url.split("/cases/")[1]


def dd_after(page: Page, term: str):
    """The <dd> described by the <dt> with this exact text."""
    return page.locator(f'dt:text-is("{term}") + dd')


def card(page: Page, title: str):
    """The section of the case page under this heading."""
    return page.locator("section.card").filter(
        has=page.get_by_role("heading", level=2, name=title, exact=True)
    )


def filter_by_case_number(page: Page, number: str) -> None:
    page.goto("/cases/")
    filters = page.locator("form.filters")
    filters.get_by_label("Case number", exact=True).fill(number)
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"[?&]case_number={number}(&|$)"))


def search_person(page: Page, name: str, born: str = "") -> None:
    """Submit the "Find a person" form of the case list (a POST: nothing lands in the URL)."""
    page.goto("/cases/")
    search = page.locator("form.search")
    expect(search.locator("legend")).to_have_text("Find a person (exact match)")
    search.get_by_label("Full name or family name", exact=True).fill(name)
    if born:
        search.get_by_label("Date of birth", exact=True).fill(born)
    search.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a person")
    assert page.url.endswith("/cases/search/"), page.url


def case_link(page: Page, number: str):
    return page.locator("table.cases").get_by_role("link", name=number, exact=True)


def assert_case_hidden(page: Page, number: str, path: str, name: str) -> None:
    """The user's list, filter and search know nothing of the case; its URL is a plain 404."""
    filter_by_case_number(page, number)
    expect(page.locator("p.count")).to_have_text("0 cases")
    expect(page.locator("table.cases tbody")).to_have_text("No case matches.")

    search_person(page, name)
    expect(page.locator("p.count")).to_have_text("0 cases found")
    expect(case_link(page, number)).to_have_count(0)

    response = page.goto(path)
    assert response.status == 404, response.status
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.locator("main")).to_contain_text("you do not have access to it")
    content = page.content()
    assert number not in content
    for part in name.split():
        assert part not in content


@pytest.mark.browser
def test_case_is_registered_found_and_shared_only_through_an_accepted_referral(
    signed_in, shots_dir
):
    name, born = "Олена Шевченко", "1994-03-17"
    identified_on, consented_on = days_ago(30), days_ago(7)

    # DE-BER registers the person and the case.
    berlin = signed_in("cw.de-ber")
    expect(berlin.get_by_role("heading", level=1)).to_have_text("Cases")
    fill_case_form(berlin, given="Олена", family="Шевченко", born=born, identified_on=identified_on)
    # One mission: it registers, and it is the default destination.
    assert selected_text(berlin, "id_registering_mission").startswith("DE-BER · ")
    registered_on = date.fromisoformat(
        berlin.get_by_label("Registered on", exact=True).input_value()
    )
    assert today() - timedelta(days=1) <= registered_on <= today()
    berlin.get_by_role("button", name="Register").click()
    expect(berlin).to_have_url(CASE_URL)
    message = berlin.locator(".messages li.success")
    expect(message).to_have_text(REGISTERED)
    number = REGISTERED.search(message.inner_text()).group(1)
    assert re.fullmatch(rf"DE-BER-{registered_on.year}-\d{{6}}", number), number
    path = "/cases/" + berlin.url.split("/cases/")[1]

    expect(berlin.get_by_role("heading", level=1)).to_contain_text(number)
    expect(berlin.locator("h1 .status")).to_have_text("Registered")
    expect(dd_after(berlin, "Name")).to_have_text(name)
    expect(dd_after(berlin, "Date of birth")).to_have_text(born)
    expect(dd_after(berlin, "Sex/gender")).to_have_text("Female")
    expect(dd_after(berlin, "Citizenship")).to_have_text("Ukraine")
    expect(dd_after(berlin, "Registering mission")).to_have_text(re.compile(r"^DE-BER · "))
    expect(dd_after(berlin, "Destination mission")).to_have_text(re.compile(r"^DE-BER · "))
    expect(dd_after(berlin, "Source mission")).to_have_text(re.compile(r"^UA-KYV · "))
    expect(dd_after(berlin, "Country of exploitation")).to_have_text("Germany")
    expect(dd_after(berlin, "Identified on")).to_have_text(identified_on)
    expect(berlin.locator(".timeline li strong")).to_have_text(["Registered"])

    # It is in DE-BER's list, by case number...
    filter_by_case_number(berlin, number)
    expect(berlin.locator("p.count")).to_have_text("1 case")
    row = berlin.locator("table.cases tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator('td[data-label="Status"]')).to_have_text("Registered")
    expect(row.locator('td[data-label="Destination"]')).to_have_text("DE-BER")
    expect(row.locator('td[data-label="Source"]')).to_have_text("UA-KYV")
    case_link(berlin, number).click()
    expect(berlin).to_have_url(re.compile(re.escape(path) + "$"))

    # ...and by the exact-name search, which folds case and accepts the family name alone.
    search_person(berlin, name)
    expect(berlin.locator("p.count")).to_have_text("1 case found")
    expect(case_link(berlin, number)).to_have_count(1)
    search_person(berlin, "  шевченко ", born=born)
    expect(berlin.locator("p.count")).to_have_text("1 case found")
    expect(case_link(berlin, number)).to_have_count(1)
    search_person(berlin, name, born="1994-03-18")
    expect(berlin.locator("p.count")).to_have_text("0 cases found")

    # Another mission, and the source mission before any referral, see nothing of it.
    rome = signed_in("cw.it-rom")
    assert_case_hidden(rome, number, path, name)
    rome.screenshot(path=str(shots_dir / "not_found.png"))
    kyiv = signed_in("cw.ua-kyv")
    assert_case_hidden(kyiv, number, path, name)
    kyiv_manager = signed_in("mgr.ua-kyv")
    kyiv_manager.locator(".topbar nav").get_by_role("link", name="Referrals").click()
    expect(kyiv_manager.locator("table.referrals tbody")).to_have_text("No referral.")

    # Without the person's consent to sharing, the referral is refused and nothing is sent.
    berlin.goto(path)
    berlin.get_by_role("link", name="Refer to a mission").click()
    berlin.get_by_role("button", name="Send referral").click()
    expect(berlin.locator(".alert")).to_contain_text(
        "The person has not consented to sharing their case with another mission."
    )
    berlin.goto(path)
    expect(card(berlin, "Referrals").locator("tbody")).to_have_text("Not referred.")

    # DE-BER records the consent to sharing...
    berlin.get_by_role("link", name="Record consent").click()
    expect(berlin.get_by_role("heading", level=1)).to_have_text(f"Record consent for {number}")
    berlin.get_by_label("Purpose", exact=True).select_option(label="Sharing with another mission")
    berlin.get_by_label("Given", exact=True).check()
    berlin.get_by_label("Date of decision", exact=True).fill(consented_on)
    berlin.get_by_role("button", name="Record").click()
    expect(berlin).to_have_url(re.compile(re.escape(path) + "$"))
    expect(berlin.locator(".messages li.success")).to_have_text("Consent recorded.")
    consent_rows = card(berlin, "Consent").locator("tbody tr")
    expect(consent_rows).to_have_count(1)
    expect(consent_rows.locator("td")).to_have_text(
        ["Sharing with another mission", "Given", consented_on, "—", "Record withdrawal"]
    )

    # ...and refers the case to the source mission, which the form proposes.
    berlin.get_by_role("link", name="Refer to a mission").click()
    expect(berlin.get_by_role("heading", level=1)).to_have_text(
        f"Refer {number} to another mission"
    )
    assert selected_text(berlin, "id_to_mission").startswith("UA-KYV · ")
    berlin.get_by_label("Note for the receiving mission", exact=True).fill(
        "Wishes to return to Kyiv."
    )
    berlin.get_by_role("button", name="Send referral").click()
    expect(berlin).to_have_url(re.compile(re.escape(path) + "$"))
    expect(berlin.locator(".messages li.success")).to_have_text("Referral sent.")
    referral_cells = card(berlin, "Referrals").locator("tbody td")
    expect(referral_cells).to_have_text(["DE-BER", "UA-KYV", "Pending", ISO_DATE, "—"])

    # A pending referral shares nothing yet.
    assert_case_hidden(kyiv, number, path, name)

    # UA-KYV's manager finds it among the referrals and accepts it.
    kyiv_manager.reload()
    referral = kyiv_manager.locator("table.referrals tbody tr", has_text=number)
    expect(referral).to_have_count(1)
    expect(referral.locator('td[data-label="From"]')).to_have_text("DE-BER")
    expect(referral.locator('td[data-label="To"]')).to_have_text("UA-KYV")
    expect(referral.locator('td[data-label="Note"]')).to_have_text("Wishes to return to Kyiv.")
    expect(referral.get_by_role("link", name=number)).to_have_count(0)  # not shared yet
    referral.get_by_role("button", name="Accept").click()
    expect(kyiv_manager).to_have_url(re.compile(re.escape(path) + "$"))
    expect(kyiv_manager.locator(".messages li.success")).to_have_text(
        "Referral accepted: the case is now shared with you."
    )
    kyiv_manager.locator(".topbar nav").get_by_role("link", name="Referrals").click()
    referral = kyiv_manager.locator("table.referrals tbody tr", has_text=number)
    expect(referral.locator('td[data-label="Status"]')).to_have_text("Accepted")
    expect(referral.get_by_role("link", name=number)).to_have_count(1)

    # Now UA-KYV's caseworker has the case in the list, in the search, and its page.
    filter_by_case_number(kyiv, number)
    expect(kyiv.locator("p.count")).to_have_text("1 case")
    search_person(kyiv, name)
    expect(kyiv.locator("p.count")).to_have_text("1 case found")
    case_link(kyiv, number).click()
    expect(kyiv).to_have_url(re.compile(re.escape(path) + "$"))
    expect(kyiv.get_by_role("heading", level=1)).to_contain_text(number)
    expect(dd_after(kyiv, "Name")).to_have_text(name)
    expect(dd_after(kyiv, "Date of birth")).to_have_text(born)
    referral_cells = card(kyiv, "Referrals").locator("tbody td")
    expect(referral_cells.nth(2)).to_have_text("Accepted")
    timeline = kyiv.locator(".timeline li")
    expect(timeline.locator("strong")).to_have_text(
        ["Registered", "Consent recorded", "Referred", "Referral accepted"]
    )
    expect(timeline.nth(1).locator(".note")).to_have_text("Sharing with another mission: Given")
    expect(timeline.nth(2).locator(".meta")).to_have_text("cw.de-ber · DE-BER")
    expect(timeline.nth(2).locator(".note")).to_have_text("UA-KYV")
    expect(timeline.nth(3).locator(".meta")).to_have_text("mgr.ua-kyv · UA-KYV")

    # The referral shared the case with UA-KYV only.
    assert_case_hidden(rome, number, path, name)


@pytest.mark.browser
def test_future_identification_date_is_refused_beside_the_field(signed_in, shots_dir):
    warsaw = signed_in("cw.pl-waw")
    before = warsaw.locator("p.count").inner_text()
    in_a_year = (today() + timedelta(days=400)).isoformat()
    fill_case_form(
        warsaw,
        given="Ірина",
        family="Бондаренко",
        born="1990-11-02",
        identified_on=in_a_year,
        destination="PL-WAW",
    )
    with warsaw.expect_response(lambda r: r.request.method == "POST") as posted:
        warsaw.get_by_role("button", name="Register").click()
    assert posted.value.status == 400
    expect(warsaw.get_by_role("heading", level=1)).to_have_text("Register a person and a case")
    expect(warsaw.locator(".messages")).to_have_count(0)

    # One error, shown in the identification date's own field.
    expect(warsaw.locator(".has-error")).to_have_count(1)
    field = warsaw.locator(".field.has-error")
    expect(field.locator("label")).to_have_text("Identified on")
    date_input = field.locator("#id_identified_on")
    expect(date_input).to_have_value(in_a_year)
    # Screen readers are told the field is wrong and read the message with it.
    expect(date_input).to_have_attribute("aria-invalid", "true")
    expect(date_input).to_have_attribute(
        "aria-describedby", re.compile(r"(^|\s)id_identified_on_error(\s|$)")
    )
    expect(field.locator("#id_identified_on_error")).to_have_text(
        "The identification date cannot be in the future."
    )
    expect(warsaw.locator("p.error")).to_have_count(1)
    field.scroll_into_view_if_needed()
    warsaw.screenshot(path=str(shots_dir / "case_register_error.png"))
    expect(warsaw.locator(".alert")).to_have_count(0)
    # What was typed is kept for the correction.
    expect(warsaw.get_by_label("Given names", exact=True)).to_have_value("Ірина")
    expect(warsaw.get_by_label("Family names", exact=True)).to_have_value("Бондаренко")
    assert selected_text(warsaw, "id_source_mission").startswith("UA-KYV · ")

    # Nothing was created.
    warsaw.goto("/cases/")
    expect(warsaw.locator("p.count")).to_have_text(before)
    search_person(warsaw, "Ірина Бондаренко")
    expect(warsaw.locator("p.count")).to_have_text("0 cases found")


def assert_fits_width(page: Page) -> None:
    overflow = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('main *')]
                .filter(el => el.getBoundingClientRect().right > width + 1)
                .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
            return {scroll: document.documentElement.scrollWidth, width, wide};
        }"""
    )
    assert overflow["scroll"] <= overflow["width"], overflow
    assert overflow["wide"] == [], overflow


@pytest.mark.browser
def test_case_pages_fit_a_tablet(signed_in, shots_dir):
    identified_on = days_ago(12)
    berlin = signed_in("cw.de-ber", viewport=TABLET)
    # The stylesheet is served by the application itself.
    assert berlin.locator(".topbar").evaluate("e => getComputedStyle(e).backgroundColor") == (
        "rgb(18, 50, 79)"
    )
    number, path = register_case(
        berlin,
        given="Thị Lan",
        family="Nguyễn",
        born="2001-07-09",
        identified_on=identified_on,
        source="VN-HAN",
        citizenship="VN",
    )
    berlin.get_by_role("link", name="Record consent").click()
    berlin.get_by_label("Purpose", exact=True).select_option(
        label="Assistance and processing of personal data"
    )
    berlin.get_by_label("Given", exact=True).check()
    berlin.get_by_label("Date of decision", exact=True).fill(identified_on)
    berlin.get_by_role("button", name="Record").click()
    expect(berlin.locator(".messages li.success")).to_have_text("Consent recorded.")

    berlin.goto(path)
    expect(dd_after(berlin, "Name")).to_have_text("Thị Lan Nguyễn")
    assert_fits_width(berlin)
    # Case and person side by side, both fully on screen; the actions are reachable.
    case_card, person_card = berlin.locator(".columns > .card").all()
    case_box, person_box = case_card.bounding_box(), person_card.bounding_box()
    assert case_box["y"] == person_box["y"], (case_box, person_box)
    assert case_box["x"] + case_box["width"] <= person_box["x"]
    for action in ("Edit", "Record consent", "Refer to a mission"):
        button = berlin.locator(".heading .actions").get_by_role("link", name=action)
        expect(button).to_be_in_viewport()
    berlin.screenshot(path=str(shots_dir / "case_detail_tablet.png"), full_page=True)

    filter_by_case_number(berlin, number)
    expect(case_link(berlin, number)).to_be_visible()
    assert_fits_width(berlin)
    berlin.screenshot(path=str(shots_dir / "case_list_tablet.png"), full_page=True)

    berlin.locator(".topbar nav").get_by_role("link", name="Register a case").click()
    assert_fits_width(berlin)
    berlin.screenshot(path=str(shots_dir / "case_register_tablet.png"), full_page=True)
