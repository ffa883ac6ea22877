"""Factories for the casework models; people and cases go through the services' rules."""

from datetime import date

import factory
from django.utils import timezone

from casework import blind_index
from casework.models import (
    Case,
    CaseStatus,
    Consent,
    ConsentPurpose,
    Membership,
    Mission,
    MissionRole,
    Person,
    User,
)


class MissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mission
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"M{n:02d}-X")
    name = factory.Sequence(lambda n: f"Mission {n}")
    country = factory.Iterator(["DE", "UA", "IT", "NG", "TH", "MD"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("Correct-horse-battery-9")


def staff(
    mission: Mission, role: str = MissionRole.CASEWORKER, username: str | None = None
) -> User:
    user = UserFactory(username=username or f"{role[:3]}.{mission.code.lower()}")
    Membership.objects.get_or_create(user=user, mission=mission, defaults={"role": role})
    return user


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    given_names = "Olena"
    family_names = factory.Sequence(lambda n: f"Shevchenko{n}")
    date_of_birth = date(1994, 3, 7)
    birth_year = 1994
    sex = "female"
    citizenship = "UA"
    document_type = "passport"
    document_number = factory.Sequence(lambda n: f"FX{n:07d}")
    registered_by = factory.SubFactory(MissionFactory)
    name_index = factory.LazyAttribute(
        lambda p: blind_index.name_index(p.given_names, p.family_names)
    )
    family_name_index = factory.LazyAttribute(
        lambda p: blind_index.family_name_index(p.family_names)
    )
    date_of_birth_index = factory.LazyAttribute(
        lambda p: blind_index.date_of_birth_index(p.date_of_birth)
    )


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    case_number = factory.Sequence(lambda n: f"T-2025-{n:06d}")
    registering_mission = factory.SubFactory(MissionFactory)
    destination_mission = factory.SelfAttribute("registering_mission")
    source_mission = None
    person = factory.SubFactory(
        PersonFactory, registered_by=factory.SelfAttribute("..registering_mission")
    )
    identified_on = date(2025, 1, 10)
    registered_on = date(2025, 1, 12)
    status = CaseStatus.REGISTERED
    created_by = factory.LazyAttribute(lambda c: UserFactory())


def give_consent(case: Case, purpose: str = ConsentPurpose.SHARING, by: User | None = None):
    return Consent.objects.create(
        case=case,
        purpose=purpose,
        decision=Consent.Decision.GIVEN,
        decided_on=timezone.localdate(),
        recorded_by=by or case.created_by,
    )
