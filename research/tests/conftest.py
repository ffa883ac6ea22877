"""A small caseload, published: known identifiers, consents, deduplicated people."""

from datetime import date

import pytest

from casework.models import Consent, ConsentPurpose, MissionRole, OrgRole
from casework.tests.factories import (
    CaseFactory,
    MissionFactory,
    PersonFactory,
    UserFactory,
    give_consent,
    staff,
)
from dedupe.models import PersonCluster
from research import services

SECRETS = ("Oleksandra", "Bondarchuk", "FX7310442", "1987-11-23", "Kyiv, Khreshchatyk 1")
COUNTRIES = ["UA", "MD", "RO", "NG", "VN", "TH"]


def _case(**fields):
    if "registered_on" in fields:
        fields.setdefault("identified_on", fields["registered_on"])
    return CaseFactory(**fields)


@pytest.fixture
def people():
    return {
        "dpo": UserFactory(username="dpo", org_role=OrgRole.DPO),
        "researcher": UserFactory(username="researcher", org_role=OrgRole.RESEARCHER),
        "other_researcher": UserFactory(username="researcher2", org_role=OrgRole.RESEARCHER),
        "donor": UserFactory(username="donor", org_role=OrgRole.DONOR),
    }


@pytest.fixture
def caseload(people):
    """Cases with research consent, plus the special ones the tests look for."""
    berlin = MissionFactory(code="DE-BER", country="DE")
    kyiv = MissionFactory(code="UA-KYI", country="UA")
    manager = staff(berlin, MissionRole.MANAGER, "mgr.de-ber")
    known = PersonFactory(
        given_names="Oleksandra",
        family_names="Bondarchuk",
        date_of_birth=date(1987, 11, 23),
        birth_year=1987,
        document_number="FX7310442",
        address="Kyiv, Khreshchatyk 1",
        registered_by=berlin,
    )
    first = _case(
        person=known,
        registering_mission=berlin,
        source_mission=kyiv,
        case_number="DE-BER-2024-000777",
        registered_on=date(2024, 5, 2),
    )
    # The same woman registered again by the source mission: one person after review.
    again = PersonFactory(
        given_names="Олександра", family_names="Бондарчук", registered_by=kyiv, birth_year=1987
    )
    second = _case(person=again, registering_mission=kyiv, registered_on=date(2024, 6, 1))
    PersonCluster.objects.create(person=known, cluster=known.pk)
    PersonCluster.objects.create(person=again, cluster=known.pk)
    # Re-trafficked: one person, two cases years apart.
    returning = PersonFactory(registered_by=berlin, sex="male", birth_year=1990)
    early = _case(person=returning, registering_mission=berlin, registered_on=date(2019, 3, 1))
    late = _case(person=returning, registering_mission=berlin, registered_on=date(2023, 9, 9))
    consenting = [first, second, early, late]
    for index in range(60):
        consenting.append(
            _case(
                registering_mission=berlin,
                person=PersonFactory(
                    registered_by=berlin,
                    sex="female" if index % 3 else "male",
                    birth_year=1980 + index % 20,
                    citizenship=COUNTRIES[index % len(COUNTRIES)],
                ),
                registered_on=date(2020 + index % 5, 1 + index % 12, 1 + index % 27),
            )
        )
    for case in consenting:
        give_consent(case, ConsentPurpose.RESEARCH, by=manager)
    refused = _case(registering_mission=berlin)
    Consent.objects.create(
        case=refused,
        purpose=ConsentPurpose.RESEARCH,
        decision=Consent.Decision.REFUSED,
        decided_on=date(2025, 1, 12),
        recorded_by=manager,
    )
    withdrawn = _case(registering_mission=berlin)
    consent = give_consent(withdrawn, ConsentPurpose.RESEARCH, by=manager)
    consent.withdrawn_on = consent.decided_on
    consent.withdrawn_by = manager
    consent.save()
    no_answer = _case(registering_mission=berlin)
    give_consent(no_answer, ConsentPurpose.SHARING, by=manager)
    return {
        "first": first,
        "consenting": consenting,
        "excluded": [refused, withdrawn, no_answer],
        "manager": manager,
    }


@pytest.fixture
def release(people, caseload):
    draft = services.release_publish(actor=people["dpo"], as_of=date.today())
    return services.release_approve(actor=people["dpo"], release=draft)
