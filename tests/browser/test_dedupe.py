"""The same person registered by two missions, in two scripts: noticed, reviewed, undone."""

import re

import pytest
from playwright.sync_api import expect
from test_case_flow import days_ago, register_case


@pytest.mark.browser
def test_a_cross_script_duplicate_is_noticed_reviewed_and_the_decision_undone(signed_in):
    berlin = signed_in("cw.de-ber")
    berlin_number, _berlin_path = register_case(
        berlin, given="Iryna", family="Polishchuk", born="1988-11-04", identified_on=days_ago(40)
    )

    # Kyiv registers her again, in Cyrillic, with day and month of birth swapped; the case
    # is Kyiv's and Warsaw's, not Berlin's.
    kyiv = signed_in("cw.ua-kyv")
    _number, kyiv_path = register_case(
        kyiv,
        given="Ірина",
        family="Поліщук",
        born="1988-04-11",
        identified_on=days_ago(10),
        destination="PL-WAW",
    )
    notice = kyiv.locator("#duplicates")
    expect(notice).to_contain_text(
        re.compile(
            r"This person may already be registered by mission DE-BER \(probability [01]\.\d\d\)"
        )
    )
    page_text = kyiv.locator("main").inner_text()
    assert "Iryna" not in page_text and "Polishchuk" not in page_text
    assert berlin_number not in page_text
    expect(notice).to_contain_text("A mission manager reviews it.")

    # Berlin's manager reviews the pair: why, without Kyiv's identifiers, then decides.
    manager = signed_in("mgr.de-ber")
    manager.locator(".topbar nav").get_by_role("link", name="Duplicates").click()
    row = manager.locator("tbody tr").filter(has_text="UA-KYV").filter(has_text="DE-BER")
    expect(row).to_have_count(1)
    row.get_by_role("link", name="Review").click()
    expect(manager.get_by_role("heading", level=1)).to_contain_text("Same person? Probability")
    dob_row = manager.locator("table.explanation tr").filter(has_text="Date of birth")
    expect(dob_row).to_contain_text("day and month swapped")
    expect(manager.locator("main")).to_contain_text(
        "Identifiers are shown only to those who may open the cases of both records."
    )
    assert "Ірина" not in manager.locator("main").inner_text()

    manager.get_by_role("button", name="Same person, new case (re-trafficked)").click()
    expect(manager.locator(".messages li.success")).to_have_text("Decision recorded.")
    expect(manager.locator("main")).to_contain_text(
        "Same person, new case (re-trafficked) — mgr.de-ber"
    )

    kyiv.goto(kyiv_path)
    expect(kyiv.locator("#duplicates")).to_contain_text(
        "Linked to 1 other record of the same person."
    )

    manager.get_by_role("button", name="Undo this decision").click()
    expect(manager.locator(".messages li.success")).to_have_text(
        "Decision undone; the pair is back in the queue."
    )
    expect(manager.get_by_role("button", name="Different people")).to_be_visible()
