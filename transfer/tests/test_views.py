"""Upload → preview → confirm over HTTP, the template, the export, and every refusal."""

import io
import os
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from casework.models import AuditEvent, Case, MissionRole, OrgRole
from casework.tests.factories import MissionFactory, UserFactory, staff
from transfer import columns as c
from transfer import services
from transfer.models import ImportPreview
from transfer.tests.conftest import csv_bytes, row, table_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(berlin, kyiv, manager):
    other = MissionFactory(code="PL-WAW", country="PL")
    return {
        "berlin": berlin,
        "users": {
            "manager": manager,
            "caseworker": staff(berlin, MissionRole.CASEWORKER, username="cw.de-ber"),
            "other_manager": staff(other, MissionRole.MANAGER, username="mgr.pl-waw"),
            "researcher": UserFactory(username="researcher", org_role=OrgRole.RESEARCHER),
            "donor": UserFactory(username="donor", org_role=OrgRole.DONOR),
            "dpo": UserFactory(username="dpo", org_role=OrgRole.DPO),
            "anonymous": None,
        },
    }


def client_for(world, who) -> Client:
    client = Client()
    user = world["users"][who]
    if user is not None:
        client.force_login(user)
    return client


def upload(client, mission, data, name="cases.csv", **extra):
    payload = {
        "mission": mission.pk,
        "file": io.BytesIO(data),
        "date_order": "day_first",
        **extra,
    }
    payload["file"].name = name
    return client.post(reverse("transfer_upload"), payload)


def test_upload_preview_confirm(world):
    berlin = world["berlin"]
    client = client_for(world, "manager")
    page = client.get(reverse("transfer_upload"))
    assert page.status_code == 200 and b"Preview the import" in page.content
    data = csv_bytes([row("W-1", given_names="Олена"), row("W-2", sex="robot")])
    before = table_counts()
    response = upload(client, berlin, data)
    assert response.status_code == 302
    preview = ImportPreview.objects.get()
    with connection.cursor() as cursor:  # the parsed rows are stored encrypted
        cursor.execute("SELECT rows, report FROM transfer_importpreview")
        assert "Олена" not in "".join(cursor.fetchone())
    page = client.get(response["Location"])
    content = page.content.decode()
    assert 'data-count="created">1<' in content and 'data-count="error">1<' in content
    assert "robot" in content and "not one of the codes" in content
    assert not Case.objects.exists()
    counts = table_counts()
    assert counts.pop("transfer.ImportPreview") == 1
    before.pop("transfer.ImportPreview")
    assert counts == before  # the preview wrote nothing else

    done = client.post(reverse("transfer_confirm", args=[preview.pk]))
    assert done.status_code == 200
    assert "Import done: 1 created" in done.content.decode()
    assert Case.objects.get().legacy_reference == "W-1"
    assert not ImportPreview.objects.exists()  # the parsed rows are gone
    event = AuditEvent.objects.get(action=services.IMPORT_ACTION)
    assert event.detail["sha256"] == services.checksum(data) and event.detail["via"] == "web"
    assert event.detail["created"] == 1 and event.detail["error"] == 1
    # Confirming twice is impossible: the preview no longer exists.
    assert client.post(reverse("transfer_confirm", args=[preview.pk])).status_code == 404


def test_cancel_deletes_the_parsed_rows(world):
    client = client_for(world, "manager")
    upload(client, world["berlin"], csv_bytes([row("C-1")]))
    preview = ImportPreview.objects.get()
    response = client.post(reverse("transfer_cancel", args=[preview.pk]))
    assert response.status_code == 302
    assert not ImportPreview.objects.exists() and not Case.objects.exists()


def test_the_uploaded_file_is_not_kept(world, settings, tmp_path):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes to a temporary file
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    client = client_for(world, "manager")
    response = upload(client, world["berlin"], csv_bytes([row("T-1")]))
    assert response.status_code == 302
    assert os.listdir(tmp_path) == []


def test_an_unreadable_file_is_explained(world):
    client = client_for(world, "manager")
    response = upload(client, world["berlin"], b"legacy_reference,given_names\n")
    assert response.status_code == 200
    assert "Required columns are missing" in response.content.decode()
    assert not ImportPreview.objects.exists()


def test_template_downloads(world):
    client = client_for(world, "manager")
    xlsx = client.get(reverse("transfer_template"), {"format": "xlsx"})
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames == ["cases", "codes", "columns"]
    header = [cell.value for cell in next(workbook["cases"].iter_rows(max_row=1))]
    assert header == c.headers()
    csv = client.get(reverse("transfer_template"), {"format": "csv"})
    assert csv.content.decode("utf-8-sig").splitlines()[0] == ",".join(c.headers())
    # The example row is valid: importing the template creates its one case.
    report = services.import_file(
        actor=world["users"]["manager"], mission=world["berlin"], data=xlsx.content
    )
    assert report.counts["created"] == 1, report.errors


def test_export_is_audited_and_identifiers_follow_the_role(world):
    manager, berlin = world["users"]["manager"], world["berlin"]
    services.import_file(actor=manager, mission=berlin, data=csv_bytes([row("E-1")]))
    response = client_for(world, "manager").get(
        reverse("transfer_export"), {"mission": berlin.pk, "format": "csv"}
    )
    assert response.status_code == 200 and "Olena" in response.content.decode("utf-8")
    event = AuditEvent.objects.get(action=services.EXPORT_ACTION, actor=manager)
    assert event.detail["identifiers"] is True and event.mission == berlin
    # The DPO administers the mission but does not take identifiers away in a file.
    response = client_for(world, "dpo").get(
        reverse("transfer_export"), {"mission": berlin.pk, "format": "xlsx"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for line in sheet.iter_rows() for cell in line]
    assert "E-1" in values and "Olena" not in values
    assert AuditEvent.objects.get(action=services.EXPORT_ACTION, actor=world["users"]["dpo"])


# Refusals ------------------------------------------------------------------------------

REFUSED = ["caseworker", "other_manager", "researcher", "donor", "anonymous"]


def _requests(world, preview_id):
    berlin = world["berlin"]
    data = csv_bytes([row("R-1")])
    return {
        "upload_get": lambda c: c.get(reverse("transfer_upload")),
        "upload_post": lambda c: upload(c, berlin, data),
        "template": lambda c: c.get(reverse("transfer_template"), {"format": "csv"}),
        "export": lambda c: c.get(
            reverse("transfer_export"), {"mission": berlin.pk, "format": "csv"}
        ),
        "preview": lambda c: c.get(reverse("transfer_preview", args=[preview_id])),
        "confirm": lambda c: c.post(reverse("transfer_confirm", args=[preview_id])),
        "cancel": lambda c: c.post(reverse("transfer_cancel", args=[preview_id])),
    }


REQUESTS = ["upload_get", "upload_post", "template", "export", "preview", "confirm", "cancel"]


@pytest.mark.parametrize("who", REFUSED)
@pytest.mark.parametrize("what", REQUESTS)
def test_refusals(world, who, what):
    manager_client = client_for(world, "manager")
    upload(manager_client, world["berlin"], csv_bytes([row("P-1", given_names="Secretname")]))
    preview = ImportPreview.objects.get()
    client = client_for(world, who)  # signing in writes a session row; nothing else may change
    before = table_counts()
    response = _requests(world, preview.pk)[what](client)
    content = response.content.decode("utf-8", errors="replace")
    if who == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif who == "other_manager":
        # Holds the permission in their own mission only: Berlin's things do not exist.
        allowed_anyway = what in ("upload_get", "template")
        assert response.status_code == (200 if allowed_anyway else 404)
    else:
        assert response.status_code == 403
    assert table_counts() == before
    assert "Secretname" not in content and "P-1" not in content
    assert ImportPreview.objects.filter(pk=preview.pk).exists()


def test_a_manager_cannot_import_into_another_mission_through_the_form(world):
    client = client_for(world, "other_manager")
    response = upload(client, world["berlin"], csv_bytes([row("X-1")]))
    assert response.status_code == 404
    assert not ImportPreview.objects.exists() and not Case.objects.exists()


def test_an_unknown_preview_is_not_found(world):
    client = client_for(world, "manager")
    assert client.get(reverse("transfer_preview", args=[uuid.uuid4()])).status_code == 404


def test_nav_link_for_managers_only(world):
    page = client_for(world, "manager").get(reverse("transfer_upload"))
    assert reverse("transfer_upload").encode() in page.content
    case_list = client_for(world, "caseworker").get(reverse("case_list"))
    assert reverse("transfer_upload").encode() not in case_list.content
