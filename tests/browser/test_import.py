"""A mission manager brings in a spreadsheet: upload, preview row by row, confirm."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CSV = (
    "Legacy Reference,Given names,FAMILY NAMES,Gender,date of birth,Nationality,"
    "Date identified,registered_on,screening_determination,services\n"
    "OLD-1, Оксана ,Мельник,F,07/03/1994,Ukraine,02/05/2019,03/05/2019,victim,"
    "shelter|delivered|2019-05-03||\n"
    "OLD-2,Amina,Diallo,f,1990-01-31,SN,2019-06-01,2019-06-02,,\n"
    "OLD-3,Broken,Row,robot,31/02/1990,Atlantis,2019-06-01,2019-06-02,,\n"
)


def test_upload_preview_confirm(signed_in, tmp_path):
    path = tmp_path / "legacy cases.csv"
    path.write_text(CSV, encoding="utf-8")
    manager = signed_in("mgr.de-ber")
    manager.locator(".topbar nav").get_by_role("link", name="Import and export").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Import a caseload")
    expect(manager.get_by_role("link", name="XLSX template")).to_be_visible()
    option = manager.locator("#id_mission option", has_text=re.compile(r"^DE-BER · "))
    manager.locator("#id_mission").select_option(value=option.get_attribute("value"))
    manager.get_by_label("Spreadsheet (CSV or XLSX)").set_input_files(str(path))
    manager.get_by_label("day/month/year (3 May 2019)").check()
    manager.get_by_role("button", name="Preview the import").click()

    expect(manager.get_by_role("heading", level=1)).to_have_text("Import preview · DE-BER")
    expect(manager.locator("main")).to_contain_text("Nothing has been written yet.")
    expect(manager.locator('[data-count="created"]')).to_have_text("2")
    expect(manager.locator('[data-count="error"]')).to_have_text("1")
    errors = manager.locator("#import-errors tbody tr")
    expect(errors.filter(has_text="sex")).to_contain_text("robot")
    expect(errors.filter(has_text="date_of_birth")).to_contain_text("not a valid calendar date")
    expect(errors.filter(has_text="citizenship")).to_contain_text("Atlantis")
    expect(manager.locator('#import-rows tr[data-outcome="created"]')).to_have_count(2)

    manager.get_by_role("button", name="Confirm the import").click()
    expect(manager.locator(".messages li.success")).to_have_text(
        "Import done: 2 created, 0 updated, 0 unchanged, 1 with errors."
    )
    expect(manager.get_by_role("heading", level=1)).to_have_text("Import result · DE-BER")

    # The imported cases are in the mission's list; the names are Oksana's own script.
    manager.locator(".topbar nav").get_by_role("link", name="Cases").click()
    expect(manager.get_by_role("link", name=re.compile(r"DE-BER-2019-\d{6}"))).to_have_count(2)
    manager.get_by_role("link", name="DE-BER-2019-000001").click()  # the file's first row
    expect(manager.locator("main")).to_contain_text("Мельник")
    expect(manager.locator("main")).to_contain_text("Оксана")

    # Importing the same file again creates nothing.
    manager.locator(".topbar nav").get_by_role("link", name="Import and export").click()
    manager.locator("#id_mission").select_option(value=option.get_attribute("value"))
    manager.get_by_label("Spreadsheet (CSV or XLSX)").set_input_files(str(path))
    manager.get_by_label("day/month/year (3 May 2019)").check()
    manager.get_by_role("button", name="Preview the import").click()
    expect(manager.locator('[data-count="created"]')).to_have_text("0")
    expect(manager.locator('[data-count="skipped"]')).to_have_text("2")
    manager.get_by_role("button", name="Cancel").click()
    expect(manager.locator(".messages li.info")).to_have_text(
        "Import cancelled; nothing was imported."
    )
