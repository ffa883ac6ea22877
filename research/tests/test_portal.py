"""The portal: who may do what, small counts withheld, bad input refused."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from casework.models import MissionRole
from casework.tests.factories import staff
from research import selectors, services
from research.models import ExtractRequest, Release

pytestmark = pytest.mark.django_db(databases=["default", "research"])


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pending(release, people):
    return services.extract_request(
        actor=people["researcher"],
        release=release,
        variables=["sex", "age_band"],
        filters=[],
        purpose="Age and sex of persons assisted",
    )


def _portal_urls(release, pending):
    return [
        reverse("research_portal"),
        reverse("research_codebook"),
        reverse("research_codebook_json"),
        reverse("research_releases"),
        reverse("research_release", args=[release.number]),
        reverse("research_extracts"),
        reverse("research_extract", args=[pending.pk]),
    ]


def test_casework_staff_cannot_reach_the_portal(release, pending, caseload):
    mission = caseload["manager"].memberships.get().mission
    for user in (caseload["manager"], staff(mission, MissionRole.CASEWORKER, "cw.de-ber")):
        client = _client(user)
        for url in _portal_urls(release, pending):
            assert client.get(url).status_code == 403, url
        assert client.post(reverse("research_publish"), {"as_of": "2025-01-01"}).status_code == 403


def test_anonymous_users_are_sent_to_the_login(release, pending):
    for url in _portal_urls(release, pending):
        response = Client().get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_researchers_cannot_reach_casework(people, caseload):
    client = _client(people["researcher"])
    case = caseload["first"]
    assert client.get(reverse("home")).url == reverse("research_portal")
    for name in ("case_list", "case_register", "dashboard", "dedupe_queue", "audit_log"):
        assert client.get(reverse(name)).status_code == 403, name
    response = client.get(reverse("case_detail", args=[case.public_id]))
    assert response.status_code in (403, 404)
    assert b"Bondarchuk" not in response.content


def test_the_portal_works_for_researchers_and_donors(release, pending, people):
    for role in ("researcher", "donor", "dpo"):
        client = _client(people[role])
        for url in _portal_urls(release, pending)[:5]:
            response = client.get(url)
            assert response.status_code == 200, (role, url)
            assert b"Bondarchuk" not in response.content and b"DE-BER-2024" not in response.content


def test_researchers_see_their_own_requests_only(release, pending, people):
    other = _client(people["other_researcher"])
    assert other.get(reverse("research_extract", args=[pending.pk])).status_code == 404
    url = reverse("research_extract_download", args=[pending.pk, "csv"])
    assert other.get(url).status_code == 404
    assert _client(people["donor"]).get(url).status_code == 404
    assert f"#{pending.pk}".encode() not in other.get(reverse("research_extracts")).content


def test_an_unapproved_extract_cannot_be_downloaded(pending, people):
    client = _client(people["researcher"])
    response = client.get(reverse("research_extract_download", args=[pending.pk, "sav"]))
    assert response.status_code == 302 and response.get("Content-Type") != "application/zip"


def test_researchers_cannot_decide_publish_or_set_the_policy(release, pending, people):
    client = _client(people["researcher"])
    url = reverse("research_extract", args=[pending.pk])
    client.post(url, {"decision": "approve", "k": 5})
    assert ExtractRequest.objects.get(pk=pending.pk).status == "pending"
    assert client.post(reverse("research_publish"), {"as_of": "2025-01-01"}).status_code == 403
    assert client.get(reverse("research_policy")).status_code == 403
    draft = services.release_publish(actor=people["dpo"], as_of=date.today())
    assert client.get(reverse("research_release", args=[draft.number])).status_code == 404
    url = reverse("research_release_approve", args=[draft.number])
    assert client.post(url).status_code == 403
    assert not Release.objects.get(pk=draft.pk).is_approved


def test_donors_cannot_request_extracts(release, people):
    client = _client(people["donor"])
    response = client.post(
        reverse("research_extracts"),
        {"release": release.pk, "variables": ["sex"], "purpose": "x"},
    )
    assert response.status_code == 403
    assert not ExtractRequest.objects.exists()


def test_the_whole_flow_through_the_pages(people, caseload):
    dpo = _client(people["dpo"])
    response = dpo.post(reverse("research_publish"), {"as_of": date.today().isoformat()})
    release = Release.objects.get()
    assert response.url == reverse("research_release", args=[release.number])
    dpo.post(reverse("research_release_approve", args=[release.number]))
    assert Release.objects.get().is_approved
    researcher = _client(people["researcher"])
    response = researcher.post(
        reverse("research_extracts"),
        {
            "release": release.pk,
            "variables": ["sex", "age_band", "citizenship", "returned"],
            "filters": "",
            "purpose": "Returns by citizenship",
        },
    )
    extract = ExtractRequest.objects.get()
    assert response.url == reverse("research_extract", args=[extract.pk])
    dpo.post(reverse("research_extract", args=[extract.pk]), {"decision": "approve", "k": 11})
    extract.refresh_from_db()
    assert extract.status == "approved" and extract.report["k_achieved"] >= 11
    download = researcher.get(reverse("research_extract_download", args=[extract.pk, "dta"]))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"


def test_bad_requests_get_a_message_not_an_error(release, people):
    client = _client(people["researcher"])
    url = reverse("research_extracts")
    for data, message in (
        ({"release": release.pk, "purpose": "x"}, b"This field is required"),
        (
            {"release": release.pk, "variables": ["sex"], "filters": "sex=female", "purpose": "x"},
            b"numeric code",
        ),
        (
            {"release": release.pk, "variables": ["sex"], "filters": "planet=3", "purpose": "x"},
            b"Unknown filter variable",
        ),
        (
            {"release": release.pk, "variables": ["sex"], "filters": "sex=7", "purpose": "x"},
            b"would be empty",
        ),
        ({"release": 999, "variables": ["sex"], "purpose": "x"}, b"Select a valid choice"),
    ):
        response = client.post(url, data)
        assert response.status_code == 200 and message in response.content, message
    assert not ExtractRequest.objects.exists()
    dpo = _client(people["dpo"])
    assert dpo.post(reverse("research_publish"), {"as_of": "not a date"}).status_code == 302
    assert dpo.post(reverse("research_policy"), {"k": 3, "threshold": 10}).status_code == 200
    assert selectors.current_policy().k == 11


def test_portal_counts_withhold_small_counts(release):
    for name in selectors.PORTAL_TABLES:
        table = selectors.portal_counts(release, name, threshold=10)
        for unit in ("cases", "persons"):
            shown = [row[unit] for row in table["rows"]]
            assert all(n is None or n == 0 or n >= 10 for n in shown), (name, shown)
            withheld = [row for row in table["rows"] if row[unit] is None]
            assert len(withheld) != 1
        assert table["total_cases"] == release.cases
        assert table["total_persons"] == release.persons


def test_the_portal_tables_are_published_with_the_release(release):
    assert release.tables.count() == 2 * len(selectors.PORTAL_TABLES)
    assert all(table.passed for table in release.tables.all())
