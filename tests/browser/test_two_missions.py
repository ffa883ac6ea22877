"""One whole case across two missions, from registration to closure, in the browser.

DE-BER registers a Ukrainian person, screens her and its manager confirms her eligible.
DE-BER records a shelter, fills in the Assistance Interview Form (correcting an answer
the screening gave), records her consent to sharing and refers the case to UA-KYV, whose
manager accepts. DE-BER plans the return; only UA-KYV confirms the arrival, plans the
reintegration, records a follow-up visit and asks for the closure, which UA-KYV's manager
approves. Both missions' dashboards count the case, its shelter, its return and its
closure; their export names the person only when asked to. A third mission sees nothing.
"""

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from playwright.sync_api import Page, expect
from test_case_flow import card, days_ago, dd_after, register_case, select_mission, today
from test_screening import (
    answer,
    no_answer,
    save_and_continue,
    screening_panel,
    start_interview,
    tick,
)

ASSISTANCE_WIZARD_URL = re.compile(r"/cases/[0-9a-f-]{36}/assistance/interview/$")
ASSISTANCE_SUMMARY_URL = re.compile(r"/cases/[0-9a-f-]{36}/assistance/v1/$")
ASSISTANCE_STEPS = [
    "Health",
    "Legal situation",
    "Family situation and safety at home",
    "Education and skills",
    "The person's wishes",
    "Assistance plan",
]
GIVEN, FAMILY, BORN = "Тетяна", "Гнатюк-Оліфіренко", "1996-05-08"
IDENTIFIED_DAYS_AGO = 30


def at(page: Page, path: str) -> None:
    """The page is the case page (after a redirect, perhaps with an #anchor)."""
    expect(page).to_have_url(re.compile(re.escape(path) + r"(#[a-z]+)?$"))


def status(page: Page):
    return page.locator("h1 .status")


def form(page: Page):
    """The form of a one-form page (service, return, arrival, plan, visit, closure)."""
    return page.locator("main form.narrow")


def case_page(page: Page, path: str) -> Page:
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"[A-Z]{2}-[A-Z]{3}-"))
    return page


# Screening ---------------------------------------------------------------------------


def screen(page: Page, interviewed_on: str) -> None:
    """Fill in the nine steps of the screening form with two children, and submit it."""
    start_interview(page)
    answer(page, "Date of the interview").fill(interviewed_on)
    answer(page, "Place of the interview").fill("Counselling centre, Berlin-Mitte")
    answer(page, "Language of the interview").select_option(label="Ukrainian")
    answer(page, "Interpreter present").select_option(label="No")
    answer(page, "How the person came to the mission").select_option(label="Police")
    save_and_continue(page, 2)
    answer(page, "Consent to the interview").select_option(label="Given")
    answer(page, "Consent to the processing of their personal data").select_option(label="Given")
    answer(page, "Date consent was given").fill(interviewed_on)
    save_and_continue(page, 3)
    born = date.fromisoformat(BORN)
    on = date.fromisoformat(interviewed_on)
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    answer(page, "Age at the interview (estimated if the date of birth is unknown)").fill(str(age))
    answer(page, "Number of children").fill("2")
    answer(page, "Highest education").select_option(label="Upper secondary")
    save_and_continue(page, 4)
    answer(page, "Age at recruitment").fill(str(age - 1))
    answer(page, "Country of recruitment").select_option(value="UA")
    answer(page, "Method of recruitment").select_option(label="Job offer")
    answer(page, "Relationship to the recruiter").select_option(label="Friend")
    save_and_continue(page, 5)
    page.locator('[name="transit-route_0"]').select_option(value="UA")
    page.locator('[name="transit-route_1"]').select_option(value="PL")
    page.locator('[name="transit-route_2"]').select_option(value="DE")
    save_and_continue(page, 6)
    expect(answer(page, "Country or countries of exploitation")).to_have_values(["DE"])
    tick(page, "Type(s) of exploitation", "Forced labour")
    tick(page, "Means of control", "Debt bondage", "Withholds documents")
    save_and_continue(page, 7)
    answer(page, "How the person left").select_option(label="Escaped")
    save_and_continue(page, 8)
    for label in ("Needs medical care", "Needs shelter", "Safety risk to the person"):
        answer(page, label).select_option(label="Yes")
    no_answer(page, "Safety risk to the family").select_option(label="Unknown")
    answer(page, "Urgent assistance requested").select_option(label="No")
    save_and_continue(page, 9)
    expect(page.locator("#assessment #suggestion")).to_have_text("Victim of trafficking")
    answer(page, "Determination").select_option(label="Victim of trafficking")
    page.get_by_role("button", name="Submit the form").click()
    expect(page.locator(".messages li.success")).to_have_text(
        "Screening form submitted for the manager's confirmation."
    )


def confirm_screening(manager: Page, path: str) -> None:
    case_page(manager, path)
    screening_panel(manager).get_by_role("link", name="Screening details and history").click()
    manager.get_by_role("button", name="Confirm the determination").click()
    expect(manager.locator(".messages li.success")).to_have_text("Determination confirmed.")
    case_page(manager, path)
    expect(status(manager)).to_have_text("Eligible")


# Assistance --------------------------------------------------------------------------


def expect_assistance_step(page: Page, number: int) -> None:
    expect(page).to_have_url(ASSISTANCE_WIZARD_URL)
    title = ASSISTANCE_STEPS[number - 1]
    expect(page.locator("form.wizard > fieldset > legend")).to_have_text(
        f"Step {number} of {len(ASSISTANCE_STEPS)}: {title}"
    )
    expect(page.locator("nav.steps [aria-current=step]")).to_have_text(f"{number}. {title}")


def assistance_continue(page: Page, next_step: int) -> None:
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".question.has-error")).to_have_count(0)
    expect_assistance_step(page, next_step)


def record_shelter(page: Page, path: str, start: str, end: str) -> None:
    services = card(page, "Services")
    expect(services.locator("tbody")).to_have_text("No service recorded.")
    services.get_by_role("link", name="Record a service").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a service")
    fields = form(page)
    fields.get_by_label("Service", exact=True).select_option(label="Shelter or accommodation")
    fields.get_by_label("Status", exact=True).select_option(label="Delivered")
    select_mission(page, "id_provider_mission", "DE-BER")
    fields.get_by_label("Start", exact=True).fill(start)
    fields.get_by_label("End", exact=True).fill(end)
    fields.get_by_label("Cost", exact=True).fill("420")
    fields.get_by_label("Currency", exact=True).select_option(value="EUR")
    fields.get_by_role("button", name="Record").click()
    at(page, path)
    expect(page.locator(".messages li.success")).to_have_text("Service recorded.")
    expect(status(page)).to_have_text("Assistance")
    expect(card(page, "Services").locator("tbody td")).to_have_text(
        ["Shelter or accommodation", "DE-BER", start, end, "Delivered", "420.00 EUR", "Edit"]
    )


def assistance_interview(page: Page, path: str, number: str) -> None:
    """Six steps; the answers the screening gave are there, one is corrected."""
    panel = card(page, "Assistance interview")
    panel.get_by_role("button", name="Start the assistance interview").click()
    expect_assistance_step(page, 1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Assistance Interview Form")
    expect(page.locator("nav.steps li")).to_have_text(
        [f"{n}. {title}" for n, title in enumerate(ASSISTANCE_STEPS, 1)]
    )
    # 1. Health: the screening said she needs medical care.
    expect(answer(page, "Needs medical care")).to_have_value("yes")
    answer(page, "Physical health").select_option(label="Minor problems")
    answer(page, "Mental health").select_option(label="Serious problems")
    tick(page, "Mental health conditions", "Anxiety")
    assistance_continue(page, 2)
    # 2. Legal situation.
    answer(page, "Identity documents").select_option(label="Documents held by the exploiter")
    answer(page, "Legal status in this country").select_option(label="Residence permit for victims")
    answer(page, "Willing to cooperate with law enforcement").select_option(label="Undecided")
    assistance_continue(page, 3)
    # 3. Family: two children at the screening; she has three.
    expect(answer(page, "Number of children")).to_have_value("2")
    expect(no_answer(page, "Safety risk to the family")).to_have_value("unknown")
    answer(page, "Number of children").fill("3")
    answer(page, "In contact with family").select_option(label="Yes")
    answer(page, "Safe to return home").select_option(label="Yes")
    assistance_continue(page, 4)
    # 4. Education.
    expect(answer(page, "Highest education")).to_have_value("upper_secondary")
    answer(page, "Literacy").select_option(label="Reads and writes")
    tick(page, "Skills", "Cooking", "Computer skills")
    assistance_continue(page, 5)
    # 5. Wishes: where she wants to live is asked, not taken from her citizenship.
    expect(answer(page, "Country where the person wants to live")).to_have_value("")
    answer(page, "Country where the person wants to live").select_option(value="UA")
    answer(page, "The person wishes to").select_option(label="Return home")
    assistance_continue(page, 6)
    # 6. The plan, and the form is submitted.
    tick(page, "Services planned", "Shelter or accommodation", "Return travel", "Medical")
    expect(page.get_by_role("button", name="Save and continue")).to_have_count(0)
    page.get_by_role("button", name="Submit the form").click()

    expect(page).to_have_url(ASSISTANCE_SUMMARY_URL)
    expect(page.locator(".messages li.success")).to_have_text("Assistance interview saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Assistance Interview Form — {number}, version 1"
    )
    expect(dd_after(page, "Interviewer")).to_have_text("cw.de-ber")
    corrected = card(page, "Corrected from the screening form")
    expect(corrected.locator("tbody tr")).to_have_count(1)
    expect(corrected.locator("tbody td")).to_have_text(["Number of children", "2", "3"])
    sections = page.locator("section.summary-section")
    expect(sections.locator("h2")).to_have_text(
        [f"{n}. {t}" for n, t in enumerate(ASSISTANCE_STEPS, 1)]
    )
    for label, shown in {
        "Needs medical care": "Yes",
        "Number of children": "3",
        "Safety risk to the family": "Unknown",
        "Country where the person wants to live": "Ukraine (UA)",
        "The person wishes to": "Return home",
    }.items():
        expect(sections.locator(f'dt:text-is("{label}") + dd')).to_have_text(shown)

    case_page(page, path)
    expect(card(page, "Assistance interview")).to_contain_text(
        f"Version 1, submitted {today().isoformat()}."
    )


def refer_to_kyiv(berlin: Page, kyiv_manager: Page, path: str, number: str) -> None:
    berlin.get_by_role("link", name="Record consent").click()
    berlin.get_by_label("Purpose", exact=True).select_option(label="Sharing with another mission")
    berlin.get_by_label("Given", exact=True).check()
    berlin.get_by_label("Date of decision", exact=True).fill(days_ago(2))
    berlin.get_by_role("button", name="Record").click()
    expect(berlin.locator(".messages li.success")).to_have_text("Consent recorded.")
    berlin.get_by_role("link", name="Refer to a mission").click()
    expect(berlin.locator("#id_to_mission option:checked")).to_have_text(re.compile(r"^UA-KYV · "))
    berlin.get_by_role("button", name="Send referral").click()
    expect(berlin.locator(".messages li.success")).to_have_text("Referral sent.")
    # Before the acceptance, DE-BER cannot plan the return yet.
    expect(card(berlin, "Return").get_by_role("link", name="Plan the return")).to_have_count(0)

    kyiv_manager.locator(".topbar nav").get_by_role("link", name="Referrals").click()
    referral = kyiv_manager.locator("table.referrals tbody tr", has_text=number)
    referral.get_by_role("button", name="Accept").click()
    at(kyiv_manager, path)
    expect(kyiv_manager.locator(".messages li.success")).to_have_text(
        "Referral accepted: the case is now shared with you."
    )


# Dashboard ---------------------------------------------------------------------------


def dashboard(page: Page) -> dict:
    """The figures of the manager's dashboard, for the default period."""
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Dashboard: "))

    def table(selector: str, attribute: str) -> dict:
        cells = page.locator(selector).all()
        return {cell.get_attribute(attribute): int(cell.inner_text()) for cell in cells}

    return {
        "total": int(page.locator("#tile-total").inner_text()),
        "status": table("#by-status td[data-status]", "data-status"),
        "services": table("#services-by-type td[data-type]", "data-type"),
        "returns": int(
            re.search(r"\((\d+) returns?\)", page.locator("#median-return").inner_text())[1]
        ),
        "closures": int(
            re.search(r"\((\d+) cases?\)", page.locator("#median-closure").inner_text())[1]
        ),
    }


def expect_counted(page: Page, before: dict, days_to_return: int) -> None:
    """The case is counted once, closed; its shelter, return and closure too."""
    after = dashboard(page)
    assert after["total"] == before["total"] + 1, (before, after)
    assert after["status"] == before["status"] | {"closed": before["status"]["closed"] + 1}
    expect(page.locator('#by-status td[data-status="closed"]')).to_have_text(
        str(before["status"]["closed"] + 1)
    )
    shelters = before["services"].get("shelter", 0) + 1
    assert after["services"].get("shelter") == shelters, (before, after)
    shelter_row = page.locator("#services-by-type tr", has=page.locator('[data-type="shelter"]'))
    expect(shelter_row.locator("td").first).to_have_text("Shelter or accommodation")
    assert after["returns"] == before["returns"] + 1, (before, after)
    assert after["closures"] == before["closures"] + 1, (before, after)
    if before["returns"] == 0:  # alone in the period: the median is this case's
        expect(page.locator("#median-return")).to_have_text(f"{days_to_return} (1 return)")
        expect(page.locator("#median-closure")).to_have_text("0 (1 case)")


def export_csv(page: Page, *, identifiers: bool) -> tuple[str, list[dict]]:
    export = page.locator("section.card").filter(
        has=page.get_by_role("heading", level=2, name="Export the mission's cases")
    )
    export.get_by_label("Format", exact=True).select_option(label="CSV")
    box = export.get_by_label("Include names, dates of birth and documents (audited)")
    box.set_checked(identifiers)
    with page.expect_download() as downloading:
        export.get_by_role("button", name="Export").click()
    download = downloading.value
    body = Path(download.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf"), body[:20]  # spreadsheets then read UTF-8
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    return download.suggested_filename, rows


def expect_export(page: Page, mission: str, number: str) -> None:
    name, rows = export_csv(page, identifiers=False)
    assert name == f"cases-{mission}-{today().isoformat()}.csv", name
    row = next(r for r in rows if r["case_number"] == number)
    assert "family_names" not in row and "given_names" not in row, row
    assert row["status"] == "closed" and row["closure_reason"] == "reintegration_completed", row
    assert row["return_status"] == "arrived" and row["arrival_date"] == today().isoformat()
    assert row["screening_determination"] == "victim", row
    assert row["birth_year"] == BORN[:4], row
    everything = "\n".join(",".join(r.values()) for r in rows)
    assert FAMILY not in everything and GIVEN not in everything and BORN not in everything

    _name, rows = export_csv(page, identifiers=True)
    row = next(r for r in rows if r["case_number"] == number)
    assert (row["given_names"], row["family_names"], row["date_of_birth"]) == (GIVEN, FAMILY, BORN)


# The story ---------------------------------------------------------------------------


@pytest.mark.browser
def test_one_case_from_registration_in_berlin_to_closure_in_kyiv(signed_in, shots_dir):
    identified_on = days_ago(IDENTIFIED_DAYS_AGO)
    berlin_manager = signed_in("mgr.de-ber")
    kyiv_manager = signed_in("mgr.ua-kyv")
    berlin_before, kyiv_before = dashboard(berlin_manager), dashboard(kyiv_manager)

    # 1. DE-BER registers and screens; its manager confirms: eligible.
    berlin = signed_in("cw.de-ber")
    number, path = register_case(
        berlin, given=GIVEN, family=FAMILY, born=BORN, identified_on=identified_on
    )
    screen(berlin, interviewed_on=days_ago(IDENTIFIED_DAYS_AGO - 2))
    confirm_screening(berlin_manager, path)

    # 2. A shelter, then the Assistance Interview Form: the case is under assistance.
    case_page(berlin, path)
    expect(status(berlin)).to_have_text("Eligible")
    shelter_start, shelter_end = days_ago(IDENTIFIED_DAYS_AGO - 1), days_ago(3)
    record_shelter(berlin, path, shelter_start, shelter_end)
    assistance_interview(berlin, path, number)

    # 3. Consent to sharing, referral to UA-KYV, accepted by its manager.
    refer_to_kyiv(berlin, kyiv_manager, path, number)

    # 4. DE-BER plans the return for today; only UA-KYV confirms the arrival.
    case_page(berlin, path)
    card(berlin, "Return").get_by_role("link", name="Plan the return").click()
    expect(berlin.get_by_role("heading", level=1)).to_have_text("Plan the return")
    plan = form(berlin)
    plan.get_by_label("Travel document", exact=True).select_option(
        label="Emergency travel document"
    )
    plan.get_by_label("Departure date", exact=True).fill(today().isoformat())
    plan.get_by_label("Escort", exact=True).select_option(label="Mission staff")
    plan.get_by_label("Reception by the source mission arranged", exact=True).check()
    plan.get_by_label("Reception arrangements", exact=True).fill("Met at Kyiv station.")
    plan.get_by_role("button", name="Plan the return").click()
    at(berlin, path)
    expect(berlin.locator(".messages li.success")).to_have_text(
        "Return planned; the source mission confirms the arrival."
    )
    expect(status(berlin)).to_have_text("Return in progress")
    movement = card(berlin, "Return").locator("tbody tr")
    expect(movement).to_have_count(1)
    expect(movement.locator("td").nth(6)).to_have_text("Planned")
    expect(movement.get_by_role("link", name="Confirm arrival")).to_have_count(0)
    expect(movement.get_by_role("link", name="Cancel")).to_have_count(1)

    kyiv = signed_in("cw.ua-kyv")
    case_page(kyiv, path)
    expect(status(kyiv)).to_have_text("Return in progress")
    movement = card(kyiv, "Return").locator("tbody tr")
    expect(movement.locator("td")).to_have_text(
        [
            "DE-BER",
            "UA-KYV",
            today().isoformat(),
            "Emergency travel document",
            "Mission staff",
            "yes",
            "Planned",
            "Confirm arrival",
        ]
    )
    expect(movement.get_by_role("link", name="Cancel")).to_have_count(0)
    arrival_url = movement.get_by_role("link", name="Confirm arrival").get_attribute("href")

    # DE-BER, sent to the arrival form by its address, does not even get the form.
    refused = berlin.goto(arrival_url)
    assert refused.status == 404, refused.status
    expect(berlin.get_by_role("heading", level=1)).to_have_text("Not found")
    case_page(berlin, path)
    expect(status(berlin)).to_have_text("Return in progress")

    movement.get_by_role("link", name="Confirm arrival").click()
    expect(kyiv.get_by_role("heading", level=1)).to_have_text("Confirm the arrival")
    expect(form(kyiv).get_by_label("Arrival date", exact=True)).to_have_value(today().isoformat())
    form(kyiv).get_by_role("button", name="Confirm").click()
    at(kyiv, path)
    expect(kyiv.locator(".messages li.success")).to_have_text("Arrival confirmed.")
    expect(status(kyiv)).to_have_text("Returned")
    expect(card(kyiv, "Return").locator("tbody td").nth(6)).to_have_text(
        f"Arrival confirmed ({today().isoformat()})"
    )
    case_page(berlin, path)
    expect(status(berlin)).to_have_text("Returned")
    expect(
        card(berlin, "Reintegration").get_by_role("link", name="Plan reintegration")
    ).to_have_count(0)

    # 5. UA-KYV plans reintegration: three visits, at 3, 6 and 12 months; one is made.
    card(kyiv, "Reintegration").get_by_role("link", name="Plan reintegration").click()
    expect(kyiv.get_by_role("heading", level=1)).to_have_text("Plan reintegration")
    plan = form(kyiv)
    expect(plan.get_by_label("Follow-up visits, months after return", exact=True)).to_have_value(
        "3, 6, 12"
    )
    plan.get_by_label("Economic goals", exact=True).fill("Find work as a cook in Kyiv.")
    plan.get_by_label("Social goals", exact=True).fill("Live with her sister; children at school.")
    plan.get_by_label("Psychosocial goals", exact=True).fill("Weekly counselling.")
    plan.get_by_role("button", name="Save the plan").click()
    at(kyiv, path)
    expect(kyiv.locator(".messages li.success")).to_have_text(
        "Reintegration plan saved, follow-up visits scheduled."
    )
    expect(status(kyiv)).to_have_text("Reintegration")
    reintegration = card(kyiv, "Reintegration")
    expect(dd_after(kyiv, "Returned on")).to_have_text(today().isoformat())
    visits = reintegration.locator("table.visits tbody tr")
    due = [(today() + relativedelta(months=m)).isoformat() for m in (3, 6, 12)]
    expect(visits).to_have_count(3)
    for row, due_on in zip(visits.all(), due, strict=True):
        expect(row.locator("td")).to_have_text([due_on, "Scheduled", "—", "—", "—", "—", "Record"])

    # The first visit is made early: allowed, as it is not before the return.
    visits.first.get_by_role("link", name="Record").click()
    expect(kyiv.get_by_role("heading", level=1)).to_have_text(f"Follow-up visit due {due[0]}")
    visit = form(kyiv)
    expect(visit.get_by_label("Visited on", exact=True)).to_have_value(today().isoformat())
    visit.get_by_label("The person's situation", exact=True).fill("Settled at her sister's.")
    visit.get_by_label("Economic score (0–1)", exact=True).fill("0.4")
    visit.get_by_label("Social score (0–1)", exact=True).fill("0.75")
    visit.get_by_label("Psychosocial score (0–1)", exact=True).fill("0.5")
    visit.get_by_role("button", name="Record the visit").click()
    at(kyiv, path)
    expect(kyiv.locator(".messages li.success")).to_have_text("Follow-up visit recorded.")
    expect(visits.first.locator("td")).to_have_text(
        [due[0], "Done", today().isoformat(), "0.40", "0.75", "0.50", ""]
    )
    expect(visits.nth(1).locator("td").nth(1)).to_have_text("Scheduled")
    kyiv.screenshot(path=str(shots_dir / "two_missions_case_reintegration.png"), full_page=True)

    # 6. UA-KYV asks for the closure; its manager approves.
    card(kyiv, "Closure").get_by_role("link", name="Request closure").click()
    expect(kyiv.get_by_role("heading", level=1)).to_have_text("Request the closure of the case")
    form(kyiv).get_by_label("Closure reason", exact=True).select_option(
        label="Reintegration completed"
    )
    form(kyiv).get_by_role("button", name="Request closure").click()
    expect(kyiv.locator(".messages li.success")).to_have_text(
        "Closure requested; a mission manager approves it."
    )
    closure = card(kyiv, "Closure")
    expect(closure).to_contain_text("Closure requested by cw.ua-kyv: Reintegration completed.")
    expect(closure.get_by_role("button", name="Approve and close")).to_have_count(0)

    case_page(kyiv_manager, path)
    card(kyiv_manager, "Closure").get_by_role("button", name="Approve and close").click()
    expect(kyiv_manager.locator(".messages li.success")).to_have_text("Case closed.")
    expect(status(kyiv_manager)).to_have_text("Closed")
    expect(dd_after(kyiv_manager, "Closure reason")).to_have_text("Reintegration completed")
    timeline = kyiv_manager.locator(".timeline li")
    expect(timeline.last).to_contain_text("Reintegration → Closed")
    expect(timeline.last.locator(".meta")).to_have_text("mgr.ua-kyv · UA-KYV")
    case_page(berlin, path)
    expect(status(berlin)).to_have_text("Closed")

    # A third mission's manager: a plain "Not found".
    rome = signed_in("mgr.it-rom")
    response = rome.goto(path)
    assert response.status == 404, response.status
    expect(rome.get_by_role("heading", level=1)).to_have_text("Not found")
    assert number not in rome.content() and FAMILY not in rome.content()

    # 7. Both dashboards count the case; the exports name the person only when asked.
    days_to_return = (today() - date.fromisoformat(identified_on)).days
    expect_counted(berlin_manager, berlin_before, days_to_return)
    expect_counted(kyiv_manager, kyiv_before, days_to_return)
    kyiv_manager.screenshot(
        path=str(shots_dir / "two_missions_dashboard_ua-kyv.png"), full_page=True
    )
    berlin_manager.screenshot(
        path=str(shots_dir / "two_missions_dashboard_de-ber.png"), full_page=True
    )
    expect_export(berlin_manager, "DE-BER", number)
    expect_export(kyiv_manager, "UA-KYV", number)
