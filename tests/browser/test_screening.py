"""The Screening Interview Form as caseworkers and managers fill it in, in the browser.

A DE-BER caseworker registers a case and starts the interview from the case page, fills
it in step by step, goes back to correct an answer, leaves mid-way, signs out; the draft
waits in the database for whoever resumes it. The caseworker signs back in, resumes in a
tablet-sized window, finishes and submits; DE-BER's manager confirms the determination
and the case becomes eligible. A second test runs the first step in French.

Three more tests keep the wizard readable: the step navigation's contrast, the
assessment step on a tablet, and accessible names for the route and checkbox lists.
"""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from test_case_flow import TABLET, card, days_ago, dd_after, register_case, today

from casework.demo import DEMO_PASSWORD

WIZARD_URL = re.compile(r"/cases/[0-9a-f-]{36}/screening/interview/$")
SUMMARY_URL = re.compile(r"/cases/[0-9a-f-]{36}/screening/v1/$")
STEPS = [
    "Interview",
    "Consent",
    "Profile",
    "Recruitment",
    "Transit",
    "Exploitation",
    "Exit",
    "Immediate needs and risks",
    "Assessment",
]


def age_on(born: str, on: str) -> int:
    b, o = date.fromisoformat(born), date.fromisoformat(on)
    return o.year - b.year - ((o.month, o.day) < (b.month, b.day))


def question(page: Page, label: str):
    """The row of one question: its answer field and its "or no answer" select."""
    title = page.locator(".field:not(.missing) > label, fieldset.field > legend").filter(
        has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")
    )
    return page.locator("form.wizard .question").filter(has=title)


def answer(page: Page, label: str):
    """The answer field of a question, found by its label."""
    return page.locator("form.wizard").get_by_label(label, exact=True)


def no_answer(page: Page, label: str, text: str = "or no answer"):
    """The question's "or no answer" select, whose accessible name repeats the question."""
    return question(page, label).get_by_label(f"{text}: {label}", exact=True)


def tick(page: Page, label: str, *options: str) -> None:
    """Check boxes of a multiple-choice question, found by their labels."""
    row = question(page, label)
    for option in options:
        row.get_by_label(option, exact=True).check()


def expect_step(page: Page, number: int) -> None:
    expect(page).to_have_url(WIZARD_URL)
    expect(page.locator("form.wizard > fieldset > legend")).to_have_text(
        f"Step {number} of {len(STEPS)}: {STEPS[number - 1]}"
    )
    expect(page.locator("nav.steps [aria-current=step]")).to_have_text(
        f"{number}. {STEPS[number - 1]}"
    )


def save_and_continue(page: Page, next_step: int) -> None:
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".question.has-error")).to_have_count(0)
    expect_step(page, next_step)


def go_to_step(page: Page, number: int) -> None:
    """Jump with the step navigation above the form."""
    page.locator("nav.steps").get_by_role("button", name=f"{number}. {STEPS[number - 1]}").click()
    expect_step(page, number)


def screening_panel(page: Page):
    return card(page, "Screening interview")


def sign_out(page: Page) -> None:
    page.locator(".topbar").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator(".topbar .who")).to_have_count(0)


def sign_in_here(page: Page, username: str) -> None:
    """Sign in again on a page already open, through the login form."""
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".topbar .who")).to_have_text(username)


def assert_fits_width(page: Page) -> None:
    overflow = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('main *')]
                .filter(el => el.getBoundingClientRect().right > width + 1)
                .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''));
            return {scroll: document.documentElement.scrollWidth, width, wide};
        }"""
    )
    assert overflow["scroll"] <= overflow["width"], overflow
    assert overflow["wide"] == [], overflow


def assert_pairs_side_by_side(page: Page) -> None:
    """Each question's "or no answer" select sits on the question's first line, at right."""
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('form.wizard .question')].map(row => {
            const answer = row.querySelector('.field:not(.missing)');
            const missing = row.querySelector('.field.missing');
            const a = answer.getBoundingClientRect();
            const m = missing && missing.getBoundingClientRect();
            return {label: answer.querySelector('label').textContent,
                    a: [a.left, a.top, a.right], m: m && [m.left, m.top, m.right]};
        })"""
    )
    for box in boxes:
        if box["m"] is None:
            continue
        a_left, a_top, a_right = box["a"]
        m_left, m_top, _m_right = box["m"]
        assert abs(m_top - a_top) < 2 and m_left >= a_right, box


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two computed CSS colours ("rgb(r, g, b)")."""

    def luminance(css: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", css)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def start_interview(page: Page) -> None:
    """From the case page: the panel, the screening overview, then the start button."""
    panel = screening_panel(page)
    expect(panel).to_contain_text("No screening interview yet.")
    panel.get_by_role("link", name="Screening details and history").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Screening Interview Form")
    expect(page.locator("main")).to_contain_text("No form submitted yet.")
    page.get_by_role("button", name="Start the screening interview").click()
    expect_step(page, 1)


@pytest.mark.browser
def test_interview_is_filled_resumed_submitted_and_confirmed(signed_in, shots_dir):
    born = "1994-03-17"
    identified_on = days_ago(30)
    interviewed_on = days_ago(3)
    recruited_on, started_on, ended_on, left_on = (
        days_ago(420),
        days_ago(380),
        days_ago(45),
        days_ago(44),
    )
    age_now, age_then = age_on(born, interviewed_on), age_on(born, recruited_on)

    berlin = signed_in("cw.de-ber")
    number, path = register_case(
        berlin,
        given="Ганна",
        family="Коваленко",
        born=born,
        identified_on=identified_on,
    )
    expect(berlin.locator("h1 .status")).to_have_text("Registered")
    start_interview(berlin)
    # Every section is listed; none visited yet. The first step has no "Back".
    expect(berlin.locator("nav.steps li")).to_have_text(
        [f"{n}. {title}" for n, title in enumerate(STEPS, 1)]
    )
    expect(berlin.get_by_role("button", name="Back")).to_have_count(0)

    # 1. Interview.
    answer(berlin, "Date of the interview").fill(interviewed_on)
    answer(berlin, "Place of the interview").fill("Counselling centre, Berlin-Mitte")
    answer(berlin, "Language of the interview").select_option(label="Ukrainian")
    answer(berlin, "Interpreter present").select_option(label="Yes")
    answer(berlin, "How the person came to the mission").select_option(label="Police")
    # A date of interview is always known: no "or no answer" for it.
    expect(question(berlin, "Date of the interview").locator(".missing")).to_have_count(0)
    expect(no_answer(berlin, "Referring organisation")).to_be_visible()
    save_and_continue(berlin, 2)

    # 2. Consent: recorded on the case as well.
    expect(berlin.locator("form.wizard .hint")).to_contain_text("Without the person's consent")
    answer(berlin, "Consent to the interview").select_option(label="Given")
    answer(berlin, "Consent to the processing of their personal data").select_option(label="Given")
    answer(berlin, "Date consent was given").fill(interviewed_on)
    save_and_continue(berlin, 3)
    expect(berlin.locator("nav.steps li.done")).to_have_count(2)

    # 3. Profile: what the case already knows is filled in.
    expect(answer(berlin, "Sex/gender")).to_have_value("female")
    expect(answer(berlin, "Date of birth")).to_have_value(born)
    expect(answer(berlin, "Citizenship")).to_have_value("UA")
    answer(berlin, "Age at the interview (estimated if the date of birth is unknown)").fill(
        str(age_now)
    )
    answer(berlin, "Marital status").select_option(label="Single")
    answer(berlin, "Number of children").fill("1")
    answer(berlin, "Highest education").select_option(label="Upper secondary")
    answer(berlin, "Languages spoken").select_option(label=["Russian", "Ukrainian"])
    no_answer(berlin, "Occupation before recruitment").select_option(label="Declined to answer")
    berlin.screenshot(path=str(shots_dir / "screening_step_profile.png"), full_page=True)
    assert_pairs_side_by_side(berlin)
    save_and_continue(berlin, 4)

    # 4. Recruitment.
    answer(berlin, "Date of recruitment").fill(recruited_on)
    answer(berlin, "Age at recruitment").fill(str(age_then))
    answer(berlin, "Country of recruitment").select_option(value="UA")
    answer(berlin, "Place of recruitment").fill("Bila Tserkva")
    answer(berlin, "Method of recruitment").select_option(label="Job offer")
    answer(berlin, "Relationship to the recruiter").select_option(label="Friend")
    answer(berlin, "What was promised").fill("Kitchen work in a restaurant, 1,500 EUR a month")
    answer(berlin, "Fees paid or debt incurred").select_option(label="Yes")
    answer(berlin, "Amount of fees or debt (USD)").fill("2000")
    save_and_continue(berlin, 5)

    # 5. Transit, half filled in, then "Back": what was typed on both pages is kept.
    # (The route's label is tied to none of its six boxes: found by their names.)
    berlin.locator('[name="transit-route_0"]').select_option(value="UA")
    berlin.get_by_role("button", name="Back").click()
    expect_step(berlin, 4)
    expect(answer(berlin, "Place of recruitment")).to_have_value("Bila Tserkva")
    expect(answer(berlin, "Amount of fees or debt (USD)")).to_have_value("2000")

    # Back to the profile with the step navigation, to correct the number of children.
    go_to_step(berlin, 3)
    expect(answer(berlin, "Number of children")).to_have_value("1")
    expect(answer(berlin, "Sex/gender")).to_have_value("female")
    answer(berlin, "Number of children").fill("2")
    save_and_continue(berlin, 4)
    save_and_continue(berlin, 5)
    expect(berlin.locator('[name="transit-route_0"]')).to_have_value("UA")
    berlin.locator('[name="transit-route_1"]').select_option(value="PL")
    berlin.locator('[name="transit-route_2"]').select_option(value="DE")
    tick(berlin, "Means of transport", "Bus or car")
    answer(berlin, "Documents used").select_option(label="Own documents")
    answer(berlin, "How borders were crossed").select_option(label="Regular")
    save_and_continue(berlin, 6)

    # 6. Exploitation, half filled in: the caseworker has to leave.
    expect(answer(berlin, "Country or countries of exploitation")).to_have_values(["DE"])
    answer(berlin, "Start of exploitation").fill(started_on)
    tick(berlin, "Type(s) of exploitation", "Forced labour")
    berlin.get_by_role("button", name="Save and leave").click()
    expect(berlin).to_have_url(re.compile(re.escape(path) + "$"))
    expect(berlin.locator(".messages li.success")).to_have_text(
        "Draft saved. Any caseworker of the mission can resume it."
    )
    expect(berlin.locator("h1 .status")).to_have_text("Under screening")
    expect(screening_panel(berlin)).to_contain_text(
        re.compile(r"Interview in progress, last saved by cw\.de-ber on \d{4}-\d{2}-\d{2} ")
    )
    consent_rows = card(berlin, "Consent").locator("tbody tr")
    expect(consent_rows.locator("td").nth(1)).to_have_text("Given")
    expect(consent_rows.locator("td").nth(2)).to_have_text(interviewed_on)
    sign_out(berlin)

    # The draft is in the database: the manager (caseworker rights too) sees it and opens it.
    manager = signed_in("mgr.de-ber")
    manager.goto(path)
    expect(screening_panel(manager)).to_contain_text("last saved by cw.de-ber")
    screening_panel(manager).get_by_role("link", name="Resume the interview").click()
    expect_step(manager, 6)
    expect(answer(manager, "Start of exploitation")).to_have_value(started_on)

    # The caseworker signs back in, in a narrower window, and resumes where they left.
    sign_in_here(berlin, "cw.de-ber")
    tablet = berlin
    tablet.set_viewport_size(TABLET)
    tablet.goto(path)
    screening_panel(tablet).get_by_role("link", name="Resume the interview").click()
    expect_step(tablet, 6)
    expect(tablet.locator("nav.steps li.done")).to_have_count(5)
    expect(answer(tablet, "Start of exploitation")).to_have_value(started_on)
    types = question(tablet, "Type(s) of exploitation")
    expect(types.get_by_label("Forced labour", exact=True)).to_be_checked()
    # The corrected number of children was kept.
    go_to_step(tablet, 3)
    expect(answer(tablet, "Number of children")).to_have_value("2")
    expect(no_answer(tablet, "Occupation before recruitment")).to_have_value("declined")
    assert_fits_width(tablet)
    tablet.screenshot(path=str(shots_dir / "screening_step_profile_tablet.png"), full_page=True)
    go_to_step(tablet, 6)
    expect(answer(tablet, "Start of exploitation")).to_have_value(started_on)

    # 6. Exploitation, finished.
    answer(tablet, "End of exploitation").fill(ended_on)
    answer(tablet, "Labour sector").select_option(label="Hospitality")
    answer(tablet, "Working hours per day").fill("14")
    answer(tablet, "Working days per week").fill("7")
    answer(tablet, "Who kept the earnings").select_option(label="The exploiter")
    tick(tablet, "Means of control", "Debt bondage", "Threats", "Withholds documents")
    assert_fits_width(tablet)
    tablet.screenshot(
        path=str(shots_dir / "screening_step_exploitation_tablet.png"), full_page=True
    )
    save_and_continue(tablet, 7)

    # The manager's page is stale now: their save is refused, nothing of it is kept.
    manager.get_by_role("button", name="Save and continue").click()
    expect(manager.locator(".messages li.error")).to_have_text(
        "Another caseworker saved this interview while you had it open. Your last page "
        "was not saved; the interview now shows their version."
    )
    expect_step(manager, 7)

    # 7. Exit, 8. Needs.
    answer(tablet, "How the person left").select_option(label="Escaped")
    answer(tablet, "Date of exit").fill(left_on)
    save_and_continue(tablet, 8)
    for label in ("Needs medical care", "Needs shelter", "Safety risk to the person"):
        answer(tablet, label).select_option(label="Yes")
    no_answer(tablet, "Safety risk to the family").select_option(label="Unknown")
    answer(tablet, "Urgent assistance requested").select_option(label="No")
    answer(tablet, "Notes on needs and risks").fill("Fears the recruiter knows her address")
    save_and_continue(tablet, 9)

    # 9. Assessment: what the answers show, and the suggested determination.
    assessment = tablet.locator("#assessment")
    expect(assessment.locator("dd")).to_have_text(["Met", "Met", "Met", "No"])
    expect(assessment.locator("#suggestion")).to_have_text("Victim of trafficking")
    expect(tablet.get_by_role("button", name="Save and continue")).to_have_count(0)
    tablet.screenshot(path=str(shots_dir / "screening_step_assessment_tablet.png"), full_page=True)
    answer(tablet, "Determination").select_option(label="Victim of trafficking")
    tablet.get_by_role("button", name="Submit the form").click()

    # The printable summary of version 1.
    expect(tablet).to_have_url(SUMMARY_URL)
    expect(tablet.locator(".messages li.success")).to_have_text(
        "Screening form submitted for the manager's confirmation."
    )
    expect(tablet.get_by_role("heading", level=1)).to_have_text(
        f"Screening Interview Form — {number}, version 1"
    )
    expect(dd_after(tablet, "Status")).to_have_text("Awaiting the manager's confirmation")
    expect(dd_after(tablet, "Interviewer")).to_have_text("cw.de-ber")
    expect(dd_after(tablet, "Number of children")).to_have_text("2")
    assert_fits_width(tablet)
    tablet.screenshot(path=str(shots_dir / "screening_summary_tablet.png"), full_page=True)
    # A caseworker cannot confirm.
    tablet.get_by_role("link", name="← Screening").click()
    expect(tablet.get_by_role("button", name="Confirm the determination")).to_have_count(0)
    expect(tablet.get_by_role("link", name="Resume the interview")).to_have_count(0)

    # The manager confirms the determination from the screening overview.
    manager.goto(path)
    expect(screening_panel(manager)).to_contain_text(
        "Version 1: Victim of trafficking — Awaiting the manager's confirmation."
    )
    screening_panel(manager).get_by_role("link", name="Screening details and history").click()
    expect(manager.get_by_role("heading", level=2, name="Current form: version 1")).to_be_visible()
    expect(dd_after(manager, "Determination")).to_have_text("Victim of trafficking")
    expect(dd_after(manager, "Suggested")).to_have_text("Victim of trafficking")
    manager.get_by_role("button", name="Confirm the determination").click()
    expect(manager.locator(".messages li.success")).to_have_text("Determination confirmed.")
    expect(dd_after(manager, "Status")).to_have_text("Confirmed")
    expect(manager.get_by_role("button", name="Confirm the determination")).to_have_count(0)
    versions = manager.locator("table tbody tr td")
    expect(versions.nth(0)).to_have_text("v1")
    expect(versions.nth(2)).to_have_text("cw.de-ber")
    expect(versions.nth(6)).to_have_text("mgr.de-ber")

    # "Read the form": every answer, missing codes told apart from blanks.
    manager.get_by_role("link", name="Read the form").click()
    expect(manager).to_have_url(SUMMARY_URL)
    expect(manager.get_by_role("button", name="Print")).to_be_visible()
    expect(dd_after(manager, "Status")).to_have_text(
        re.compile(rf"^Confirmed \(mgr\.de-ber, {today().isoformat()}\)$")
    )
    expect(dd_after(manager, "Suggested determination")).to_have_text("Victim of trafficking")
    expected = {
        "Date of the interview": interviewed_on,
        "Place of the interview": "Counselling centre, Berlin-Mitte",
        "Language of the interview": "Ukrainian",
        "How the person came to the mission": "Police",
        "Referring organisation": "—",
        "Consent to the interview": "Given",
        "Date of birth": born,
        "Citizenship": "Ukraine (UA)",
        "Number of children": "2",
        "Languages spoken": "Russian, Ukrainian",
        "Occupation before recruitment": "Declined to answer",
        "Place of recruitment": "Bila Tserkva",
        "What was promised": "Kitchen work in a restaurant, 1,500 EUR a month",
        "Amount of fees or debt (USD)": "2000",
        "Route (countries in the order crossed)": "Ukraine (UA) → Poland (PL) → Germany (DE)",
        "Means of transport": "Bus or car",
        "Country or countries of exploitation": "Germany (DE)",
        "Start of exploitation": started_on,
        "Means of control": "Debt bondage, Threats, Withholds documents",
        "How the person left": "Escaped",
        "Safety risk to the family": "Unknown",
        "Notes on needs and risks": "Fears the recruiter knows her address",
        "Determination": "Victim of trafficking",
    }
    sections = manager.locator("section.summary-section")
    expect(sections.locator("h2")).to_have_text([f"{n}. {t}" for n, t in enumerate(STEPS, 1)])
    for label, shown in expected.items():
        expect(sections.locator(f'dt:text-is("{label}") + dd')).to_have_text(shown)
    expect(sections.locator('dt:text-is("Safety risk to the family") + dd')).to_have_class(
        "answer-unknown"
    )
    expect(sections.locator('dt:text-is("Referring organisation") + dd')).to_have_class(
        "answer-blank"
    )
    assert_fits_width(manager)
    manager.screenshot(path=str(shots_dir / "screening_summary.png"), full_page=True)

    # The case page: eligible, and the timeline tells the story.
    manager.goto(path)
    expect(manager.locator("h1 .status")).to_have_text("Eligible")
    expect(screening_panel(manager)).to_contain_text(
        "Version 1: Victim of trafficking — Confirmed."
    )
    timeline = manager.locator(".timeline li")
    expect(timeline.locator("strong")).to_have_text(
        [
            "Registered",
            "Status changed",
            "Consent recorded",
            "Screening submitted",
            "Status changed",
            "Screening determination confirmed",
        ]
    )

    def event(kind: str):
        return timeline.filter(has=manager.locator("strong").get_by_text(kind, exact=True))

    expect(event("Screening submitted").locator(".meta")).to_have_text("cw.de-ber · DE-BER")
    expect(event("Screening submitted").locator(".note")).to_have_text("Victim of trafficking")
    confirmed = event("Screening determination confirmed")
    expect(confirmed.locator(".meta")).to_have_text("mgr.de-ber · DE-BER")
    expect(timeline.nth(4)).to_contain_text("Under screening → Eligible")
    expect(timeline.nth(4).locator(".note")).to_have_text("Screening determination confirmed.")


@pytest.mark.browser
def test_interview_in_french_refuses_a_future_date_beside_the_field(signed_in, shots_dir):
    berlin = signed_in("cw.de-ber")
    _number, path = register_case(
        berlin,
        given="Nadia",
        family="Moreau",
        born="1999-10-04",
        identified_on=days_ago(5),
        source="MD-CHI",
        citizenship="MD",
    )

    # The language selector of the top bar.
    switch = berlin.locator(".topbar form.language")
    switch.get_by_label("Language").select_option(label="FR")
    switch.get_by_role("button", name="Change").click()
    expect(berlin).to_have_url(re.compile(re.escape(path) + "$"))
    expect(berlin.locator("html")).to_have_attribute("lang", "fr")
    expect(berlin.locator(".topbar").get_by_role("button", name="Se déconnecter")).to_be_visible()

    panel = card(berlin, "Entretien d’identification")
    panel.get_by_role("link", name="Détails et historique de l’identification").click()
    berlin.get_by_role("button", name="Commencer l’entretien d’identification").click()
    expect(berlin).to_have_url(WIZARD_URL)
    expect(berlin.get_by_role("heading", level=1)).to_have_text(
        "Formulaire d’entretien d’identification"
    )
    expect(berlin.locator("form.wizard > fieldset > legend")).to_have_text(
        "Étape 1 sur 9 : Entretien"
    )
    expect(berlin.get_by_role("button", name="Enregistrer et continuer")).to_be_visible()
    expect(berlin.get_by_role("button", name="Enregistrer et quitter")).to_be_visible()

    in_a_week = date.fromordinal(today().toordinal() + 7).isoformat()
    answer(berlin, "Date de l’entretien").fill(in_a_week)
    answer(berlin, "Lieu de l’entretien").fill("Bureau de la mission")
    expect(no_answer(berlin, "Lieu de l’entretien", "ou pas de réponse")).to_be_visible()
    berlin.locator('[name="interview-interview_language"]').select_option(value="ro")
    berlin.locator('[name="interview-interpreter_present"]').select_option(value="no")
    berlin.locator('[name="interview-referral_source"]').select_option(value="ngo")
    with berlin.expect_response(lambda r: r.request.method == "POST") as posted:
        berlin.get_by_role("button", name="Enregistrer et continuer").click()
    assert posted.value.status == 200
    expect(berlin.locator("form.wizard > fieldset > legend")).to_have_text(
        "Étape 1 sur 9 : Entretien"
    )

    # One error, in French, beside the interview date.
    expect(berlin.locator(".question.has-error")).to_have_count(1)
    row = berlin.locator(".question.has-error")
    expect(row.locator(".field:not(.missing) > label")).to_have_text("Date de l’entretien")
    date_input = row.get_by_label("Date de l’entretien", exact=True)
    expect(date_input).to_have_value(in_a_week)
    expect(row.locator("p.error")).to_have_text(
        "La date de l’entretien ne peut pas se situer dans le futur."
    )
    expect(date_input).to_have_attribute("aria-invalid", "true")
    expect(berlin.locator("p.error")).to_have_count(1)
    berlin.screenshot(path=str(shots_dir / "screening_error_fr.png"), full_page=True)
    # What was typed is kept.
    expect(answer(berlin, "Lieu de l’entretien")).to_have_value("Bureau de la mission")

    # Corrected, the interview moves on to the consent step, still in French.
    date_input.fill(days_ago(1))
    berlin.get_by_role("button", name="Enregistrer et continuer").click()
    expect(berlin.locator("form.wizard > fieldset > legend")).to_have_text(
        "Étape 2 sur 9 : Consentement"
    )
    expect(berlin.get_by_role("button", name="Précédent")).to_be_visible()


def open_new_interview(signed_in, viewport: dict | None = None, **person) -> Page:
    """A DE-BER caseworker registers a case and opens its interview at the first step."""
    page = signed_in("cw.de-ber", viewport=viewport)
    defaults = {"given": "Ольга", "family": "Мельник", "born": "1988-01-20"}
    register_case(page, identified_on=days_ago(10), **(defaults | person))
    start_interview(page)
    return page


@pytest.mark.browser
def test_step_navigation_is_readable(signed_in):
    page = open_new_interview(signed_in, given="Світлана")
    background = page.locator("body").evaluate("e => getComputedStyle(e).backgroundColor")
    for button in page.locator("nav.steps button").all():
        colour = button.evaluate("e => getComputedStyle(e).color")
        assert contrast(colour, background) >= 4.5, (button.inner_text(), colour, background)


@pytest.mark.browser
def test_assessment_step_fits_a_tablet(signed_in, shots_dir):
    page = open_new_interview(signed_in, TABLET, given="Марія")
    go_to_step(page, 9)
    expect(page.locator("#assessment #suggestion")).to_be_visible()
    assert_fits_width(page)


@pytest.mark.browser
def test_route_and_checkbox_lists_are_labelled(signed_in):
    page = open_new_interview(signed_in, given="Оксана")
    go_to_step(page, 5)
    route = re.compile(r"^Route \(countries in the order crossed\), country \d$")
    expect(page.get_by_role("combobox", name=route)).to_have_count(6, timeout=1000)
    expect(page.get_by_role("group", name="Means of transport")).to_have_count(1, timeout=1000)
