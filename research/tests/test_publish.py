"""Publishing: consent, deduplication, no identifier in the research database, immutability."""

from datetime import date

import pytest
from django.db import DatabaseError, connections, transaction

from casework.audit import Action
from casework.models import AuditEvent, Case
from research import codebook as cb
from research import services
from research.models import Release, ResearchRecord
from research.tests.conftest import SECRETS

pytestmark = pytest.mark.django_db(databases=["default", "research"])


def _research_values() -> list[str]:
    """Every value of every column of every table of the research database, as text."""
    connection = connections["research"]
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            values += [str(value) for row in cursor.fetchall() for value in row]
    return values


def test_no_identifier_reaches_the_research_database(release, caseload):
    values = _research_values()
    assert len(values) > 1000  # the scan did read the records
    cases = Case.objects.all()
    forbidden = [
        *SECRETS,
        *(c.case_number for c in cases),
        *(str(c.public_id) for c in cases),
        *(c.public_id.hex for c in cases),
    ]
    for secret in forbidden:
        assert not any(secret in value for value in values), secret
    # nor any casework table
    tables = connections["research"].introspection.table_names()
    assert tables and not [t for t in tables if not t.startswith(("research_", "django_"))]


def test_only_cases_with_research_consent_in_force_are_published(release, caseload):
    assert release.cases == len(caseload["consenting"])
    assert Case.objects.count() == len(caseload["consenting"]) + len(caseload["excluded"])
    assert "3 registered cases without that consent" in release.notes


def test_a_withdrawn_consent_excludes_the_case_from_later_releases(release, caseload, people):
    consent = caseload["first"].consents.get(purpose="research")
    consent.withdrawn_on = date.today()
    consent.withdrawn_by = caseload["manager"]
    consent.save()
    later = services.release_publish(actor=people["dpo"], as_of=date.today())
    assert later.cases == release.cases - 1
    # the release already approved is not changed by it
    assert ResearchRecord.objects.filter(release=release).count() == release.cases


def test_deduplicated_people_count_once_and_re_trafficking_is_two_episodes(release):
    records = ResearchRecord.objects.filter(release=release)
    assert release.persons == release.cases - 2  # one person registered twice, one re-trafficked
    twice = records.filter(cases_of_person=2).order_by("year_registered", "quarter_registered")
    assert twice.count() == 4
    persons = {}
    for record in twice:
        persons.setdefault(record.person, []).append((record.year_registered, record.episode))
    assert sorted(persons.values()) == [[(2019, 1), (2023, 2)], [(2024, 1), (2024, 2)]]
    assert records.filter(re_trafficked=1).count() == 2
    assert records.values("person").distinct().count() == release.persons


def test_research_person_ids_differ_between_releases(release, people):
    again = services.release_publish(actor=people["dpo"], as_of=date.today())
    first = set(ResearchRecord.objects.filter(release=release).values_list("person", flat=True))
    second = set(ResearchRecord.objects.filter(release=again).values_list("person", flat=True))
    assert len(first) == len(second) == release.persons
    assert not first & second


def test_codes_are_research_codes(release, caseload):
    record = ResearchRecord.objects.filter(release=release, cases_of_person=2, episode=1).get(
        year_registered=2024
    )
    assert record.citizenship == 804  # Ukraine, ISO 3166-1 numeric
    assert record.country_of_identification == 276  # Germany
    assert record.country_of_return == 804
    assert record.sex == 1
    # born 1987-11-23, registered 2024-05-02: 36, decided from the date of birth (30-38)
    assert record.age_band == 7 and record.majority_at_registration == cb.ADULT
    assert record.determination == cb.UNKNOWN  # no screening form
    assert record.quarter_registered == 2


def test_an_approved_release_is_immutable_in_the_database(release):
    with pytest.raises(DatabaseError), transaction.atomic(using="research"):
        Release.objects.filter(pk=release.pk).update(notes="changed")
    with pytest.raises(DatabaseError), transaction.atomic(using="research"):
        ResearchRecord.objects.filter(release=release).update(sex=2)
    with pytest.raises(DatabaseError), transaction.atomic(using="research"):
        ResearchRecord.objects.filter(release=release).delete()
    assert ResearchRecord.objects.filter(release=release, sex=2).count() < release.cases


def test_approval_checks_the_checksum_and_is_audited(people, caseload):
    draft = services.release_publish(actor=people["dpo"], as_of=date.today())
    assert services.release_checksum(draft) == draft.checksum
    with transaction.atomic(using="research"):
        ResearchRecord.objects.filter(release=draft).first().delete()
    with pytest.raises(Exception, match="no longer match"):
        services.release_approve(actor=people["dpo"], release=draft)
    assert AuditEvent.objects.filter(action=Action.RELEASE_PUBLISHED).count() == 1
    assert not Release.objects.get(pk=draft.pk).is_approved


def test_only_the_dpo_publishes(people, caseload):
    from django.core.exceptions import PermissionDenied

    for role in ("researcher", "donor"):
        with pytest.raises(PermissionDenied):
            services.release_publish(actor=people[role], as_of=date.today())
    with pytest.raises(PermissionDenied):
        services.release_publish(actor=caseload["manager"], as_of=date.today())
    assert not Release.objects.exists()


def test_a_correction_says_what_changed(release, people):
    with pytest.raises(Exception, match="correction"):
        services.release_publish(actor=people["dpo"], as_of=date.today(), corrects=release)
    fixed = services.release_publish(
        actor=people["dpo"],
        as_of=date.today(),
        corrects=release,
        change_note="Two screening forms corrected.",
    )
    assert fixed.corrects == release and fixed.number == release.number + 1


def test_publish_and_extract_commands(release, tmp_path, people):
    from django.core.management import call_command

    call_command("research_publish", "--as-of", date.today().isoformat(), "--approve")
    assert Release.objects.filter(status="approved").count() == 2
    out = tmp_path / "all.csv"
    call_command("research_extract", "--variables", "all", "--format", "csv", "--out", str(out))
    assert out.exists() and (tmp_path / "all.csv.codebook.json").exists()


def test_publish_command_refuses_bad_input(people):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("research_publish", "--as-of", "22/11/2026")
    with pytest.raises(CommandError, match="future"):
        call_command("research_publish", "--as-of", "2999-01-01")
    with pytest.raises(CommandError, match="data protection officer"):
        call_command("research_publish", "--as-of", "2025-01-01", "--by", "researcher")
    assert not Release.objects.exists()
