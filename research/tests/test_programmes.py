"""Donors' programmes: defined by the DPO alone, bad input refused with nothing changed,
and a report scoped to a programme counts the cases identified in its countries only."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from casework.audit import Action
from casework.models import AuditEvent, ConsentPurpose, MissionRole
from casework.tests.factories import (
    CaseFactory,
    MissionFactory,
    PersonFactory,
    give_consent,
    staff,
)
from research import codebook as cb
from research import reports, sdc, services
from research.models import Programme, Report, ResearchRecord
from research.router import RESEARCH_DB

pytestmark = pytest.mark.django_db(databases=["default", "research"])

YEARS = (2020, 2024)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _programme(people, name="Safe Return", donor="Nordic Fund", countries=("IT", "UA")):
    return services.programme_create(
        actor=people["dpo"], name=name, donor=donor, countries=list(countries)
    )


def _changes():
    """What a refused request must leave as it was."""
    return (
        Programme.objects.count(),
        Report.objects.count(),
        AuditEvent.objects.filter(action=Action.PROGRAMME_CREATED).count(),
    )


# ------------------------------------------------------------------ creating programmes


def test_the_dpo_creates_a_programme_and_it_is_audited(people):
    dpo = _client(people["dpo"])
    page = dpo.get(reverse("research_programmes"))
    assert page.status_code == 200 and b"No programme has been defined yet." in page.content
    response = dpo.post(
        reverse("research_programmes"),
        {"name": "  Safe   Return ", "donor": "Nordic Fund", "countries": "ua, it md;IT"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("research_programmes")
    programme = Programme.objects.get()
    assert programme.name == "Safe Return" and programme.donor == "Nordic Fund"
    assert programme.countries == ["IT", "MD", "UA"]
    assert programme.created_by_id == people["dpo"].pk and programme.created_by_name == "dpo"
    event = AuditEvent.objects.get(action=Action.PROGRAMME_CREATED)
    assert event.actor == people["dpo"]
    assert (event.object_type, event.object_id) == ("Programme", str(programme.pk))
    assert event.detail == {
        "name": "Safe Return",
        "donor": "Nordic Fund",
        "countries": ["IT", "MD", "UA"],
    }
    listed = dpo.get(reverse("research_programmes")).content.decode()
    assert "Programme Safe Return created." in listed
    assert "Safe Return" in listed and "IT, MD, UA" in listed
    # the report form offers it
    assert "Safe Return (Nordic Fund)" in dpo.get(reverse("research_reports")).content.decode()


def test_only_the_dpo_reaches_the_programme_pages(people, caseload):
    _programme(people)
    mission = caseload["manager"].memberships.get().mission
    refused = [
        people["researcher"],
        people["donor"],
        staff(mission, MissionRole.CASEWORKER, "cw.de-ber"),
        caseload["manager"],
    ]
    before = _changes()
    for user in refused:
        client = _client(user)
        assert client.get(reverse("research_programmes")).status_code == 403, user
        response = client.post(reverse("research_programmes"), {"name": "Mine", "countries": "DE"})
        assert response.status_code == 403, user
        nav = client.get(reverse("research_reports"))
        if nav.status_code == 200:  # researchers and donors: no link to the page
            assert reverse("research_programmes") not in nav.content.decode()
    assert _changes() == before
    anonymous = Client().get(reverse("research_programmes"))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    with pytest.raises(PermissionDenied):
        services.programme_create(actor=people["researcher"], name="Mine", countries=["DE"])


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Northern Route", "countries": "UA, ZZ, xx"}, "countries", "XX, ZZ"),
        ({"name": "Northern Route", "countries": "UKR"}, "countries", "Unknown country code"),
        ({"name": "Northern Route", "countries": " , ;"}, "countries", "at least one country"),
        ({"name": "Northern Route", "countries": ""}, "countries", "This field is required."),
        ({"name": "safe return", "countries": "UA"}, "name", "already exists"),
        ({"name": "Safe  Return ", "countries": "UA"}, "name", "already exists"),
        ({"name": "   ", "countries": "UA"}, "name", "This field is required."),
        ({"name": "x" * 101, "countries": "UA"}, "name", "at most 100 characters"),
    ],
)
def test_bad_programme_input_is_a_form_error_and_changes_nothing(people, data, field, message):
    existing = _programme(people)
    before = _changes()
    response = _client(people["dpo"]).post(reverse("research_programmes"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert _changes() == before
    assert list(Programme.objects.values_list("pk", flat=True)) == [existing.pk]


def test_the_service_refuses_bad_programmes_too(people):
    _programme(people)
    before = _changes()
    for name, countries in (
        ("Other", ["UA", "Atlantis"]),
        ("Other", []),
        ("", ["UA"]),
        ("SAFE RETURN", ["UA"]),
    ):
        with pytest.raises(ValidationError):
            services.programme_create(actor=people["dpo"], name=name, countries=countries)
    assert _changes() == before


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "", "countries": ["UA"]},
        {"name": "  ", "countries": ["UA"]},
        {"name": "Empty", "countries": []},
        {"name": "Not a list", "countries": {"UA": 1}},
        {"name": "Safe Return", "countries": ["MD"]},
    ],
)
def test_the_database_refuses_what_the_service_would(people, fields):
    _programme(people)
    with pytest.raises(IntegrityError), transaction.atomic(using=RESEARCH_DB):
        Programme.objects.create(created_by_id=1, created_by_name="someone", **fields)


# ------------------------------------------------------------- reports for a programme


@pytest.fixture
def spread(people, caseload):
    """Cases identified in Italy and the Netherlands besides Germany's and Ukraine's, and
    an approved release of them all."""
    rome = MissionFactory(code="IT-ROM", country="IT")
    hague = MissionFactory(code="NL-HAG", country="NL")
    added = {"IT": [], "NL": []}
    for mission, number in ((rome, 30), (hague, 14)):
        for index in range(number):
            on = date(2020 + index % 5, 1 + index % 12, 1 + index % 27)
            case = CaseFactory(
                registering_mission=mission,
                person=PersonFactory(
                    registered_by=mission,
                    sex="female" if index % 4 else "male",
                    birth_year=1975 + index % 25,
                ),
                identified_on=on,
                registered_on=on,
            )
            give_consent(case, ConsentPurpose.RESEARCH, by=caseload["manager"])
            added[mission.country].append(case)
    draft = services.release_publish(actor=people["dpo"], as_of=date.today())
    release = services.release_approve(actor=people["dpo"], release=draft)
    return {"release": release, **added}


def _report(people, release, *, programme=None, region=None, tables=None):
    report = services.report_create(
        actor=people["dpo"],
        title="Assistance 2020-2024",
        release=release,
        year_from=YEARS[0],
        year_to=YEARS[1],
        region=region,
        programme=programme,
        tables=tables or ["persons_by_sex", "cases_by_exploitation"],
        method="suppression",
    )
    return services.report_publish(actor=people["dpo"], report=report)


def _expected(release, alpha2: list[str] | None) -> dict:
    """Counts straight from the release's records: cases and persons by year, and in all."""
    records = ResearchRecord.objects.filter(
        release=release, year_registered__gte=YEARS[0], year_registered__lte=YEARS[1]
    )
    if alpha2 is not None:
        records = records.filter(
            country_of_identification__in=[cb.COUNTRY_CODES[c] for c in alpha2]
        )
    rows = list(records.order_by("person", "episode").values_list("person", "year_registered"))
    first_case = {}
    for person, year in rows:
        first_case.setdefault(person, year)
    counts = {"cases": {}, "persons": {}}
    for _person, year in rows:
        counts["cases"][str(year)] = counts["cases"].get(str(year), 0) + 1
    for year in first_case.values():
        counts["persons"][str(year)] = counts["persons"].get(str(year), 0) + 1
    for unit in counts:
        counts[unit][sdc.TOTAL] = sum(counts[unit].values())
    return counts


def _year_totals(stored, *, true: bool) -> dict:
    """A table's totals by year and its grand total: as counted (true) or as published
    (None: withheld)."""
    years = stored.dimensions[0]["labels"]
    columns = len(stored.dimensions[1]["labels"])
    values = stored.counts if true else stored.published
    return {
        year: values[row * columns] if true or not stored.status[row * columns] else None
        for row, year in enumerate(years)
    }


def test_a_programme_report_counts_the_cases_identified_in_its_countries_only(
    people, caseload, spread
):
    release = spread["release"]
    programme = _programme(people, countries=("IT", "UA"))
    scoped = _report(people, release, programme=programme)
    whole = _report(people, release)
    assert scoped.scope == {"programme": programme.pk, "countries": ["IT", "UA"]}
    assert scoped.scope_label == "Programme: Safe Return (Nordic Fund)"
    assert reports.scope_filter(scoped)["country_of_identification"] == [380, 804]

    expected = _expected(release, ["IT", "UA"])
    everyone = _expected(release, None)
    # Independently of the release: the consenting cases of the fixtures, by country.
    in_ukraine = [c for c in caseload["consenting"] if c.destination_mission.country == "UA"]
    assert len(in_ukraine) == 1
    assert expected["cases"][sdc.TOTAL] == len(spread["IT"]) + len(in_ukraine) == 31
    assert everyone["cases"][sdc.TOTAL] > expected["cases"][sdc.TOTAL] + len(spread["NL"])

    for report, counts in ((scoped, expected), (whole, everyone)):
        trends = {t.stored.definition["unit"]: t for t in reports.report_trends(report)}
        assert set(trends) == {"persons", "cases"}
        for unit, trend in trends.items():
            stored = trend.stored
            assert _year_totals(stored, true=True) == counts[unit], (report.scope_label, unit)
            shown = _year_totals(stored, true=False)
            for year, value in shown.items():
                if value is not None:  # exact counts wherever published (suppression)
                    assert value == counts[unit][year], (report.scope_label, unit, year)
            # and what the report shows is what was published
            assert {row["year"]: row["values"][-1] for row in trend.table_rows} == shown
        # the persons' grand total is large enough to be published
        persons = _year_totals(trends["persons"].stored, true=False)
        assert persons[sdc.TOTAL] == counts["persons"][sdc.TOTAL]
    assert expected["persons"][sdc.TOTAL] == 31  # 30 identified in Italy, 1 in Ukraine

    # the programme's table counts no case identified in Germany or the Netherlands
    scoped_cases = next(t for t in reports.report_trends(scoped) if "exploitation" in t.title)
    where = scoped_cases.stored.definition["where"]["country_of_identification"]
    assert where == [cb.COUNTRY_CODES["IT"], cb.COUNTRY_CODES["UA"]]


def test_the_scope_label_is_in_the_published_report(people, spread):
    programme = _programme(people, countries=("IT",))
    report = _report(people, spread["release"], programme=programme, tables=["persons_by_sex"])
    label = "Programme: Safe Return (Nordic Fund)"
    assert reports.documentation(report)["scope"] == label
    assert label in reports.as_html(report)
    donor = _client(people["donor"])
    download = donor.get(reverse("research_report_download", args=[report.pk, "html"]))
    assert download.status_code == 200 and label in download.content.decode()
    assert label in donor.get(reverse("research_report", args=[report.pk])).content.decode()
    assert label in donor.get(reverse("research_reports")).content.decode()
    # without a donor, the name alone
    unnamed = _programme(people, name="Border Desk", donor="", countries=("IT",))
    draft = services.report_create(
        actor=people["dpo"],
        title="Border desk",
        release=spread["release"],
        year_from=2020,
        year_to=2024,
        region=None,
        programme=unnamed,
        tables=["persons_by_sex"],
        method="suppression",
    )
    assert draft.scope_label == "Programme: Border Desk"


def test_the_report_form_takes_a_programme_but_not_with_a_region(people, spread):
    programme = _programme(people)
    dpo = _client(people["dpo"])
    data = {
        "title": "For the Nordic Fund",
        "release": spread["release"].pk,
        "year_from": 2020,
        "year_to": 2024,
        "tables": ["persons_by_sex"],
        "method": "suppression",
    }
    before = _changes()
    both = dpo.post(reverse("research_reports"), {**data, "region": 150, "programme": programme.pk})
    assert both.status_code == 200
    assert "Scope the report to a region or to a programme, not both." in both.content.decode()
    unknown = dpo.post(reverse("research_reports"), {**data, "programme": programme.pk + 99})
    assert unknown.status_code == 200 and unknown.context["form"].errors["programme"]
    assert _changes() == before
    with pytest.raises(ValidationError, match="not both"):
        services.report_create(
            actor=people["dpo"],
            **{**data, "release": spread["release"]},
            region=150,
            programme=programme,
        )
    assert _changes() == before

    made = dpo.post(reverse("research_reports"), {**data, "programme": programme.pk})
    report = Report.objects.get()
    assert made.status_code == 302
    assert made["Location"] == reverse("research_report", args=[report.pk])
    assert report.scope == {"programme": programme.pk, "countries": ["IT", "UA"]}
    assert report.scope_label == "Programme: Safe Return (Nordic Fund)"
    # a region alone still works as before
    dpo.post(reverse("research_reports"), {**data, "region": 150})
    assert Report.objects.latest("id").scope == {"region": 150}


def test_a_report_keeps_the_countries_it_was_defined_with(people, spread):
    """The countries are copied into the report's scope: its tables stay the same."""
    programme = _programme(people, countries=("IT",))
    report = _report(people, spread["release"], programme=programme, tables=["persons_by_sex"])
    Programme.objects.filter(pk=programme.pk).update(countries=["IT", "NL"])
    assert reports.scope_filter(report)["country_of_identification"] == [380]
    assert len(reports.report_trends(report)) == 1
