import csv
import io

import pytest
from django.apps import apps
from openpyxl import Workbook

from casework.models import MissionRole
from casework.tests.factories import MissionFactory, staff


@pytest.fixture
def berlin():
    return MissionFactory(code="DE-BER", country="DE")


@pytest.fixture
def kyiv():
    return MissionFactory(code="UA-KYV", country="UA")


@pytest.fixture
def manager(berlin):
    return staff(berlin, MissionRole.MANAGER, username="mgr.de-ber")


def csv_bytes(rows: list[dict], headers: list[str] | None = None, encoding="utf-8") -> bytes:
    headers = headers or list(rows[0])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict], headers: list[str] | None = None) -> bytes:
    headers = headers or list(rows[0])
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("cases")
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def table_counts() -> dict[str, int]:
    """Rows in every table of the casework database (the research layer lives elsewhere)."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label != "research" and not model._meta.proxy
    }


def row(reference="BER-1", **values) -> dict:
    base = {
        "legacy_reference": reference,
        "given_names": "Olena",
        "family_names": f"Kovalenko{reference}",
        "sex": "female",
        "date_of_birth": "1994-03-07",
        "citizenship": "UA",
        "identified_on": "2019-05-02",
        "registered_on": "2019-05-03",
    }
    base.update(values)
    return base
