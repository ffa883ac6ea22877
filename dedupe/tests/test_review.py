"""Deduplication in the product: matching on registration, review, decisions, refusals."""

import csv
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from casework import services as case_services
from casework.models import AuditEvent, Case, MissionRole, OrgRole
from casework.services import PersonData
from casework.tests.factories import MissionFactory, UserFactory, staff
from dedupe import selectors, services
from dedupe.models import Decision, MatchCandidate, MatchKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    berlin = MissionFactory(code="DE-BER", country="DE")
    kyiv = MissionFactory(code="UA-KYV", country="UA")
    return {
        "berlin": berlin,
        "kyiv": kyiv,
        "berlin_worker": staff(berlin),
        "berlin_manager": staff(berlin, MissionRole.MANAGER),
        "kyiv_worker": staff(kyiv),
        "kyiv_manager": staff(kyiv, MissionRole.MANAGER),
    }


def _register(actor, mission, given, family, born, registered_on=date(2025, 3, 2), **person):
    """Register a Ukrainian woman; ``person``: further PersonData fields."""
    return case_services.case_register(
        actor=actor,
        registering_mission=mission,
        destination_mission=mission,
        source_mission=None,
        country_of_exploitation="DE",
        identified_on=registered_on,
        registered_on=registered_on,
        person=PersonData(
            given_names=given,
            family_names=family,
            sex="female",
            date_of_birth=born,
            citizenship="UA",
            **person,
        ),
    )


@pytest.fixture
def twins(world):
    first = _register(
        world["berlin_worker"], world["berlin"], "Olena", "Shevchenko", date(1994, 3, 7)
    )
    second = _register(
        world["kyiv_worker"], world["kyiv"], "Олена", "Шевченко", date(1994, 7, 3), date(2025, 6, 1)
    )
    return first, second


def test_registration_finds_the_other_missions_record_and_keys_are_blind(world, twins):
    first, second = twins
    candidate = MatchCandidate.objects.get()
    assert {candidate.person_a_id, candidate.person_b_id} == {first.person_id, second.person_id}
    assert candidate.probability >= services.REVIEW_THRESHOLD
    assert candidate.explanation["dob"]["level"] == 1  # day and month swapped
    digests = MatchKey.objects.values_list("digest", flat=True)
    assert digests and all(len(d) == 64 and "shevchenko" not in d for d in digests)


def test_the_caseworker_is_told_without_seeing_the_other_missions_identifiers(world, twins):
    first, second = twins
    client = Client()
    client.force_login(world["kyiv_worker"])
    page = client.get(reverse("case_detail", args=[second.public_id])).content.decode()
    assert "may already be registered by mission DE-BER" in page
    assert first.case_number not in page
    assert "Olena" not in page and "1994-03-07" not in page


def test_caseworkers_and_other_missions_cannot_review(world, twins):
    candidate = MatchCandidate.objects.get()
    worker = Client()
    worker.force_login(world["berlin_worker"])
    assert worker.get(reverse("dedupe_queue")).status_code == 403
    outsider = Client()
    outsider.force_login(staff(MissionFactory(code="IT-ROM"), MissionRole.MANAGER))
    assert outsider.get(reverse("dedupe_pair", args=[candidate.pk])).status_code == 404
    assert (
        outsider.post(
            reverse("dedupe_decide", args=[candidate.pk]), {"decision": "different"}
        ).status_code
        == 404
    )
    researcher = Client()
    researcher.force_login(UserFactory(username="r", org_role=OrgRole.RESEARCHER))
    assert researcher.get(reverse("dedupe_queue")).status_code == 403
    candidate.refresh_from_db()
    assert candidate.decision == Decision.PENDING


def test_identifiers_only_for_who_may_see_both_records(world, twins):
    candidate = MatchCandidate.objects.get()
    manager = Client()
    manager.force_login(world["berlin_manager"])
    page = manager.get(reverse("dedupe_pair", args=[candidate.pk])).content.decode()
    assert "Date of birth" in page and "Олена" not in page and "Olena" not in page
    dpo = Client()
    dpo.force_login(UserFactory(username="dpo", org_role=OrgRole.DPO))
    page = dpo.get(reverse("dedupe_pair", args=[candidate.pk])).content.decode()
    assert "Olena" in page and "Олена" in page
    assert AuditEvent.objects.filter(
        action="person.identifiers_viewed", detail__via="dedupe"
    ).exists()


def test_same_case_merges_and_undo_gives_back_both_records(world, twins):
    first, second = twins
    candidate = MatchCandidate.objects.get()
    before = {c.pk: (c.case_number, c.status, c.person_id) for c in Case.objects.all()}
    services.match_decide(
        actor=world["kyiv_manager"], candidate=candidate, decision=Decision.SAME_CASE
    )
    second.refresh_from_db()
    assert second.merged_into_id == first.pk
    assert selectors.count_persons(Case.objects.all()) == 1
    # Both missions keep the surviving case.
    kyiv = Client()
    kyiv.force_login(world["kyiv_worker"])
    assert kyiv.get(reverse("case_detail", args=[first.public_id])).status_code == 200
    listed = kyiv.get(reverse("case_list")).context["page"].object_list
    assert [c.pk for c in listed] == [first.pk]
    services.match_undo(actor=world["kyiv_manager"], candidate=candidate)
    assert {c.pk: (c.case_number, c.status, c.person_id) for c in Case.objects.all()} == before
    assert Case.objects.filter(merged_into__isnull=False).count() == 0
    assert kyiv.get(reverse("case_detail", args=[first.public_id])).status_code == 404
    assert selectors.count_persons(Case.objects.all()) == 2


def test_re_trafficked_person_counts_once_with_two_cases(world, twins):
    candidate = MatchCandidate.objects.get()
    services.match_decide(
        actor=world["berlin_manager"], candidate=candidate, decision=Decision.NEW_CASE
    )
    cases = Case.objects.filter(merged_into__isnull=True)
    assert (cases.count(), selectors.count_persons(cases)) == (2, 1)


def test_different_people_are_never_proposed_again(world, twins):
    first, second = twins
    candidate = MatchCandidate.objects.get()
    services.match_decide(
        actor=world["berlin_manager"], candidate=candidate, decision=Decision.DIFFERENT
    )
    services.person_match(second.person)
    call_command("dedupe_run")
    candidate.refresh_from_db()
    assert candidate.decision == Decision.DIFFERENT
    assert MatchCandidate.objects.filter(decision=Decision.PENDING).count() == 0
    with pytest.raises(Exception):  # noqa: B017  (already decided)
        services.match_decide(
            actor=world["berlin_manager"], candidate=candidate, decision="new_case"
        )


def test_a_manager_of_neither_mission_cannot_decide(world, twins):
    candidate = MatchCandidate.objects.get()
    with pytest.raises(PermissionDenied):
        services.match_decide(
            actor=staff(MissionFactory(code="IT-ROM"), MissionRole.MANAGER),
            candidate=candidate,
            decision=Decision.DIFFERENT,
        )


def test_dedupe_link_reads_a_csv_and_writes_clusters(tmp_path):
    source = tmp_path / "people.csv"
    rows = [
        ("a1", "Olena", "Shevchenko", "1994-03-07", "", "F", "UA", "Bila Tserkva"),
        ("a2", "Олена", "Шевченко", "1994-03-07", "", "F", "UA", "Біла Церква"),
        ("a3", "Ngozi", "Okafor", "1990-01-01", "", "F", "NG", ""),
        ("a4", "Ngozi", "Okafor", "", "1990", "F", "", ""),
        ("a5", "Dmytro", "Melnyk", "1970-05-05", "", "M", "UA", ""),
    ]
    with open(source, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "id",
                "given_name",
                "family_name",
                "date_of_birth",
                "birth_year",
                "sex",
                "citizenship",
                "place_of_birth",
            ]
        )
        writer.writerows(rows)
    out = tmp_path / "clusters.csv"
    call_command("dedupe_link", "--input", str(source), "--out", str(out))
    with open(out, encoding="utf-8") as handle:
        clusters = {row["id"]: row["cluster"] for row in csv.DictReader(handle)}
    assert clusters["a1"] == clusters["a2"]
    assert clusters["a5"] not in (clusters["a1"], clusters["a3"])
    assert len(clusters) == 5


def test_two_missions_link_their_encodings_without_exchanging_names(
    world, twins, tmp_path, monkeypatch
):
    monkeypatch.setenv("PPRL_SECRET", "shared between Berlin and Kyiv")
    berlin_file, kyiv_file = tmp_path / "berlin.jsonl", tmp_path / "kyiv.jsonl"
    call_command(
        "pprl_encode",
        "--mission",
        "DE-BER",
        "--secret-env",
        "PPRL_SECRET",
        "--out",
        str(berlin_file),
    )
    call_command(
        "pprl_encode", "--mission", "UA-KYV", "--secret-env", "PPRL_SECRET", "--out", str(kyiv_file)
    )
    content = berlin_file.read_text() + kyiv_file.read_text()
    assert "Olena" not in content and "Shevchenko" not in content and "1994" not in content
    links = tmp_path / "links.csv"
    call_command("pprl_match", "--a", str(berlin_file), "--b", str(kyiv_file), "--out", str(links))
    with open(links, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and float(rows[0]["dice"]) >= 0.75


def test_dedupe_link_saves_a_fitted_model_and_reuses_it(tmp_path):
    from dedupe.engine import synthetic

    records, _labels = synthetic.generate(1500, seed=3)
    source, more = tmp_path / "people.csv", tmp_path / "more.csv"
    for path, rows in ((source, records[:1400]), (more, records)):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=synthetic.CSV_FIELDS)
            writer.writeheader()
            writer.writerows(synthetic.csv_row(r) for r in rows)
    model = tmp_path / "model.json"
    out = tmp_path / "clusters.csv"
    call_command("dedupe_link", "--input", str(source), "--out", str(out), "--model", str(model))
    saved = model.read_text()
    assert '"prior"' in saved and '"name_frequency"' in saved
    # Reused as it is for a larger file: not refitted, not rewritten.
    call_command("dedupe_link", "--input", str(more), "--out", str(out), "--model", str(model))
    assert model.read_text() == saved
    call_command(
        "dedupe_link", "--input", str(more), "--out", str(out), "--model", str(model), "--refit"
    )
    assert model.read_text() != saved


def test_run_batch_reuses_the_stored_model_unless_asked_to_refit(world, twins, monkeypatch):
    from dedupe.engine import linkage
    from dedupe.models import LinkageModel

    monkeypatch.setattr(linkage, "MIN_RECORDS_TO_FIT", 2)
    stored = LinkageModel.objects.create(
        parameters={**linkage.DEFAULT_PARAMETERS, "prior": 0.0123}, people=2, pairs=1
    )
    result = services.run_batch()
    assert (result["refitted"], result["prior"]) == (False, 0.0123)
    assert LinkageModel.objects.count() == 1
    call_command("dedupe_run", "--refit")
    assert LinkageModel.objects.exclude(pk=stored.pk).count() == 1


def test_a_shared_document_number_finds_a_person_whatever_the_name(world):
    """The document number is a blocking key and compared: a registration under a name in
    another script with only an estimated age is still found, and nothing the pair holds
    (number, place, names) is stored with the candidate or its keys."""
    document = {"document_type": "passport", "document_number": "FE4471930"}
    first = _register(
        world["berlin_worker"],
        world["berlin"],
        "Iryna",
        "Melnyk",
        date(1990, 5, 17),
        place_of_birth="Kyiv",
        **document,
    )
    second = _register(
        world["kyiv_worker"],
        world["kyiv"],
        "Ирина",  # Russian spelling, not the Ukrainian "Ірина"
        "Мельничук",  # recorded under another family name
        None,
        date(2025, 6, 1),
        birth_year=1990,
        birth_year_estimated=True,
        place_of_birth="Київ",
        **document,
    )
    candidate = MatchCandidate.objects.get()
    assert {candidate.person_a_id, candidate.person_b_id} == {first.person_id, second.person_id}
    assert candidate.explanation["x:document_number"]["level"] == 0
    assert candidate.explanation["x:place_of_birth"]["level"] == 0  # the same place, two scripts
    stored = str(candidate.explanation) + "".join(MatchKey.objects.values_list("digest", flat=True))
    for identifier in ("FE4471930", "fe4471930", "Kyiv", "kyiv", "KF", "Melnyk"):
        assert identifier not in stored


def test_a_different_place_of_birth_counts_against_a_match(world):
    def register(actor, mission, place):
        return _register(
            actor, mission, "Olena", "Shevchenko", None, birth_year=1994, place_of_birth=place
        )

    register(world["berlin_worker"], world["berlin"], "Odesa")
    register(world["kyiv_worker"], world["kyiv"], "Одеса")
    same_place = MatchCandidate.objects.get().probability
    MatchCandidate.objects.all().delete()
    register(world["kyiv_worker"], world["kyiv"], "Чернівці")
    other_place = MatchCandidate.objects.filter(probability__gte=0).order_by("-id").first()
    assert other_place is None or other_place.probability < same_place
