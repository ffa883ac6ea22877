import hashlib
from datetime import date

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.management import CommandError, call_command
from django.db import connection
from encrypted_model_fields import fields as encrypted_fields

from casework import blind_index, keys, selectors, services
from casework.models import MissionRole, Person
from casework.services import PersonData
from casework.tests.factories import MissionFactory, staff

pytestmark = pytest.mark.django_db

PLAINTEXTS = ["Катерина", "Zhelezniak", "AB9931770", "1991-08-14", "14.08.1991", "+380671112233"]


def _register(actor, mission):
    case = services.case_register(
        actor=actor,
        registering_mission=mission,
        destination_mission=mission,
        source_mission=None,
        country_of_exploitation="DE",
        identified_on=date(2025, 2, 1),
        registered_on=date(2025, 2, 3),
        person=PersonData(
            given_names="Катерина",
            family_names="Zhelezniak",
            sex="female",
            date_of_birth=date(1991, 8, 14),
            document_type="passport",
            document_number="AB9931770",
            phone="+380671112233",
            notes="Met at the shelter; sister lives in Lviv.",
        ),
    )
    services.case_transition(
        actor=staff(mission, MissionRole.MANAGER),
        case=case,
        to_status="under_screening",
        expected_version=1,
        note="Katerina Zhelezniak agreed to the interview",
    )
    return case


def _raw_dump() -> str:
    """Every value of every casework table, read with plain SQL."""
    dumped = []
    tables = [t for t in connection.introspection.table_names() if t.startswith("casework_")]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dumped.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(dumped)


def test_raw_sql_shows_no_identifier_in_any_table():
    mission = MissionFactory(code="DE-BER")
    _register(staff(mission), mission)
    dump = _raw_dump()
    for plaintext in [*PLAINTEXTS, "sister lives in Lviv", "Katerina Zhelezniak agreed"]:
        assert plaintext not in dump


def test_blind_index_is_keyed_not_a_plain_hash(settings):
    normalised = blind_index.normalise_name("Zhelezniak Катерина")
    assert (
        blind_index.name_index("Катерина", "Zhelezniak")
        != hashlib.sha256(normalised.encode()).hexdigest()
    )
    other_key = blind_index.name_index("Катерина", "Zhelezniak", key="another-key-" * 4)
    assert other_key != blind_index.name_index("Катерина", "Zhelezniak")


def test_exact_search_ignores_case_accents_order_and_spacing():
    mission = MissionFactory(code="DE-BER")
    worker = staff(mission)
    case = _register(worker, mission)
    for query in ("zhelezniak  КАТЕРИНА", "Zhéleznïak-Катерина", "Zhelezniak"):
        assert list(selectors.case_search_by_identifiers(worker, name=query)) == [case]
    by_birth = selectors.case_search_by_identifiers(worker, date_of_birth=date(1991, 8, 14))
    assert list(by_birth) == [case]
    assert not selectors.case_search_by_identifiers(worker, name="Katerina")
    assert not selectors.case_search_by_identifiers(worker, date_of_birth=date(1991, 8, 15))


@pytest.fixture
def rotated_keys(settings, monkeypatch):
    """Configure a new first key with the current one kept for reading, as an operator would."""
    old = settings.FIELD_ENCRYPTION_KEY[0]
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [new, old]
    # The library builds its crypter once at import; a restarted process would read the
    # new settings, which is what this reproduces.
    monkeypatch.setattr(encrypted_fields, "CRYPTER", encrypted_fields.get_crypter())
    return new, old


def _raw_tokens() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT given_names, family_names, document_number FROM casework_person")
        return [token for row in cursor.fetchall() for token in row]


def test_rotation_re_encrypts_everything_under_the_new_key_without_loss(rotated_keys):
    mission = MissionFactory(code="DE-BER")
    case = _register(staff(mission), mission)
    new, old = rotated_keys
    # Written before the rotation, under the old key only.
    encrypted_fields.CRYPTER = MultiFernet([Fernet(old)])
    case.person.save()
    tokens = _raw_tokens()
    assert all(Fernet(old).decrypt(t.encode()) for t in tokens)
    encrypted_fields.CRYPTER = encrypted_fields.get_crypter()

    call_command("rotate_field_key", "--batch-size", "1")

    for token in _raw_tokens():
        Fernet(new).decrypt(token.encode())  # readable with the new key alone
        with pytest.raises(InvalidToken):
            Fernet(old).decrypt(token.encode())
    person = Person.objects.get(pk=case.person_id)
    assert (person.given_names, person.family_names, person.document_number) == (
        "Катерина",
        "Zhelezniak",
        "AB9931770",
    )
    assert person.date_of_birth == date(1991, 8, 14)
    assert case.events.get(kind="status_changed").note.startswith("Katerina Zhelezniak")


def test_rotation_stops_without_writing_when_a_key_is_missing(rotated_keys):
    mission = MissionFactory(code="DE-BER")
    case = _register(staff(mission), mission)
    stranger = Fernet(Fernet.generate_key())  # a key nobody configured
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE casework_person SET family_names = %s WHERE id = %s",
            [stranger.encrypt(b"Zhelezniak").decode(), case.person_id],
        )
    before = _raw_tokens()
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_field_key")
    assert _raw_tokens() == before


def test_blind_indexes_follow_a_new_blind_index_key(settings):
    mission = MissionFactory(code="DE-BER")
    worker = staff(mission)
    case = _register(worker, mission)
    settings.BLIND_INDEX_KEY = "a-fresh-blind-index-key-of-enough-length"
    assert not selectors.case_search_by_identifiers(worker, name="Zhelezniak")
    assert keys.rebuild_blind_indexes() == 1
    assert list(selectors.case_search_by_identifiers(worker, name="Zhelezniak")) == [case]
