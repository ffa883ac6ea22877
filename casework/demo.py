"""Deterministic demo caseload: missions, staff for every role, people and their cases.

Names come in several scripts with their transliterations; on purpose, some people are
registered twice by two missions and some come back years later as a new case, so that
deduplication has something to find.
"""

import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from casework import blind_index
from casework.audit import audit_record
from casework.models import (
    Case,
    CaseEvent,
    CaseNumberSequence,
    CaseStatus,
    ClosureReason,
    Consent,
    ConsentPurpose,
    DocumentType,
    Membership,
    Mission,
    MissionRole,
    OrgRole,
    Person,
    Referral,
    Sex,
    User,
)

DEMO_PASSWORD = "Demo-casework-2026"  # noqa: S105  (printed for demo logins only)
# A fixed "today" keeps the data identical for a seed whatever day it is generated.
DEMO_TODAY = date(2026, 6, 30)
FIRST_YEAR = 2015

MISSIONS = [
    ("UA-KYV", "Kyiv", "UA"),
    ("MD-CHI", "Chișinău", "MD"),
    ("NG-ABV", "Abuja", "NG"),
    ("VN-HAN", "Hanoi", "VN"),
    ("NP-KTM", "Kathmandu", "NP"),
    ("TH-BKK", "Bangkok", "TH"),
    ("DE-BER", "Berlin", "DE"),
    ("IT-ROM", "Rome", "IT"),
    ("AE-DXB", "Dubai", "AE"),
    ("PL-WAW", "Warsaw", "PL"),
]
ROUTES = {
    "UA-KYV": ["PL-WAW", "DE-BER", "IT-ROM"],
    "MD-CHI": ["IT-ROM", "DE-BER", "AE-DXB"],
    "NG-ABV": ["IT-ROM", "DE-BER", "AE-DXB"],
    "VN-HAN": ["TH-BKK", "DE-BER", "PL-WAW"],
    "NP-KTM": ["AE-DXB", "TH-BKK"],
}
MISSION_COUNTRY = {code: country for code, _city, country in MISSIONS}
LANGUAGE = {"UA-KYV": "uk", "MD-CHI": "ro", "NG-ABV": "en", "VN-HAN": "vi", "NP-KTM": "ne"}

# (as written at home, as transliterated by another mission)
NAMES = {
    "UA-KYV": {
        "female": [
            ("Олена", "Olena"),
            ("Ірина", "Iryna"),
            ("Оксана", "Oksana"),
            ("Наталія", "Nataliia"),
            ("Юлія", "Yuliia"),
        ],
        "male": [
            ("Андрій", "Andrii"),
            ("Олександр", "Oleksandr"),
            ("Сергій", "Serhii"),
            ("Дмитро", "Dmytro"),
        ],
        "family": [
            ("Шевченко", "Shevchenko"),
            ("Коваленко", "Kovalenko"),
            ("Бондаренко", "Bondarenko"),
            ("Ткаченко", "Tkachenko"),
            ("Кравчук", "Kravchuk"),
            ("Мельник", "Melnyk"),
        ],
    },
    "MD-CHI": {
        "female": [("Ana", "Анна"), ("Maria", "Мария"), ("Elena", "Елена"), ("Tatiana", "Татьяна")],
        "male": [("Ion", "Ион"), ("Vasile", "Василе"), ("Andrei", "Андрей")],
        "family": [
            ("Popescu", "Попеску"),
            ("Rusu", "Русу"),
            ("Ceban", "Чебан"),
            ("Țurcanu", "Цуркану"),
            ("Munteanu", "Мунтяну"),
        ],
    },
    "NG-ABV": {
        "female": [
            ("Adébáyọ̀", "Adebayo"),
            ("Chiamaka", "Chiamaka"),
            ("Ngozi", "Ngozi"),
            ("Blessing", "Blessing"),
            ("Ọlápẹ̀jú", "Olapeju"),
        ],
        "male": [("Chinedu", "Chinedu"), ("Oluwaṣẹun", "Oluwaseun"), ("Emeka", "Emeka")],
        "family": [
            ("Okafor", "Okafor"),
            ("Adéyẹmí", "Adeyemi"),
            ("Okonkwo", "Okonkwo"),
            ("Ògúnlẹ́yẹ", "Ogunleye"),
            ("Eze", "Eze"),
        ],
    },
    "VN-HAN": {
        "female": [
            ("Thị Lan", "Thi Lan"),
            ("Thị Hương", "Thi Huong"),
            ("Thu Trang", "Thu Trang"),
            ("Ngọc Ánh", "Ngoc Anh"),
        ],
        "male": [("Văn Minh", "Van Minh"), ("Đức Anh", "Duc Anh"), ("Quốc Bảo", "Quoc Bao")],
        "family": [
            ("Nguyễn", "Nguyen"),
            ("Trần", "Tran"),
            ("Lê", "Le"),
            ("Phạm", "Pham"),
            ("Hoàng", "Hoang"),
        ],
    },
    "NP-KTM": {
        "female": [("सीता", "Sita"), ("गीता", "Gita"), ("सरिता", "Sarita"), ("मीना", "Mina")],
        "male": [("राम", "Ram"), ("हरि", "Hari"), ("बिकास", "Bikash")],
        "family": [("श्रेष्ठ", "Shrestha"), ("तामाङ", "Tamang"), ("गुरुङ", "Gurung"), ("थापा", "Thapa")],
    },
}

# Each status with the path that leads to it from registration.
_PATH = [
    CaseStatus.REGISTERED,
    CaseStatus.UNDER_SCREENING,
    CaseStatus.ELIGIBLE,
    CaseStatus.ASSISTANCE,
    CaseStatus.RETURN_IN_PROGRESS,
    CaseStatus.RETURNED,
    CaseStatus.REINTEGRATION,
]
STATUS_WEIGHTS = {
    CaseStatus.REGISTERED: 6,
    CaseStatus.UNDER_SCREENING: 8,
    CaseStatus.ELIGIBLE: 6,
    CaseStatus.NOT_ELIGIBLE: 6,
    CaseStatus.ASSISTANCE: 14,
    CaseStatus.RETURN_IN_PROGRESS: 6,
    CaseStatus.RETURNED: 8,
    CaseStatus.REINTEGRATION: 16,
    CaseStatus.CLOSED: 30,
}


def _path_to(status: str, rng: random.Random) -> list[str]:
    if status == CaseStatus.NOT_ELIGIBLE:
        return _PATH[:2] + [CaseStatus.NOT_ELIGIBLE]
    if status == CaseStatus.CLOSED:
        before = rng.choice(
            _PATH[:2] + [CaseStatus.NOT_ELIGIBLE] + _PATH[3:] + [CaseStatus.REINTEGRATION] * 4
        )
        return _path_to(before, rng) + [CaseStatus.CLOSED]
    return _PATH[: _PATH.index(status) + 1]


# Other apps add their part of a demo case (a screening form, services, ...) here.
DemoExtension = Callable[[list[tuple[Case, list[str]]], dict[int, list[int]], random.Random], None]
_EXTENSIONS: list[DemoExtension] = []


def register_demo_extension(extension: DemoExtension) -> None:
    """Add a function called with every batch of seeded cases and their status paths."""
    if extension not in _EXTENSIONS:
        _EXTENSIONS.append(extension)


@dataclass
class DemoResult:
    cases: int
    people: int
    registered_twice: int
    re_trafficked: int


def demo_present() -> bool:
    return Mission.objects.filter(code=MISSIONS[0][0]).exists()


def create_staff() -> dict[str, list[str]]:
    """Create the missions and one account for every role; return the logins by role."""
    missions = {}
    for code, city, country in MISSIONS:
        missions[code], _created = Mission.objects.get_or_create(
            code=code, defaults={"name": f"{city} mission", "country": country}
        )
    password = make_password(DEMO_PASSWORD)
    logins = defaultdict(list)

    def account(username: str, **fields) -> User:
        user, created = User.objects.get_or_create(
            username=username, defaults={"password": password, **fields}
        )
        return user

    for code in missions:
        slug = code.lower()
        for role, prefix in ((MissionRole.CASEWORKER, "cw"), (MissionRole.MANAGER, "mgr")):
            user = account(f"{prefix}.{slug}")
            Membership.objects.get_or_create(
                user=user, mission=missions[code], defaults={"role": role}
            )
            logins[str(role.label)].append(user.username)
    for username, role in (
        ("researcher", OrgRole.RESEARCHER),
        ("donor", OrgRole.DONOR),
        ("dpo", OrgRole.DPO),
    ):
        account(username, org_role=role)
        logins[str(role.label)].append(username)
    account("admin", is_staff=True, is_superuser=True)
    logins["administrator"].append("admin")
    return dict(logins)


class _Builder:
    """Accumulates rows in memory and writes them in bulk."""

    def __init__(
        self, rng: random.Random, missions: dict[str, Mission], staff: dict[int, list[int]]
    ):
        self.rng = rng
        self.missions = missions
        self.staff = staff  # mission id -> [caseworker id, manager id]
        # Continue the numbering of cases already in the database.
        self.sequences: dict[tuple[int, int], int] = defaultdict(int)
        for mission_id, year, last in CaseNumberSequence.objects.values_list(
            "mission_id", "year", "last_value"
        ):
            self.sequences[(mission_id, year)] = last
        self.people: list[Person] = []
        self.cases: list[Case] = []
        self.case_plans: list[tuple[Case, list[str]]] = []

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def case_number(self, mission: Mission, year: int) -> str:
        self.sequences[(mission.pk, year)] += 1
        return f"{mission.code}-{year}-{self.sequences[(mission.pk, year)]:06d}"

    def person(
        self,
        source: str,
        registered_by: Mission,
        *,
        script: int,
        like: Person | None = None,
        shape: dict | None = None,
    ) -> Person:
        rng = self.rng
        shape = shape or {}
        sex = (
            shape.get("sex") or rng.choices([Sex.FEMALE, Sex.MALE, Sex.TRANSGENDER], [70, 28, 2])[0]
        )
        pool = NAMES[source]["male" if sex == Sex.MALE else "female"]
        given = shape.get("given") or rng.choice(pool)
        family = shape.get("family") or rng.choice(NAMES[source]["family"])
        if "born" in shape:
            born = shape["born"]
        else:
            born = (
                date(rng.randint(1965, 2010), rng.randint(1, 12), rng.randint(1, 28))
                if rng.random() < 0.8
                else None
            )
        birth_year = born.year if born else rng.randint(1970, 2008)
        person = Person(
            given_names=given[script],
            family_names=family[script],
            sex=sex,
            date_of_birth=born,
            birth_year=birth_year,
            birth_year_estimated=born is None,
            citizenship=MISSION_COUNTRY[source],
            preferred_language=LANGUAGE[source],
            place_of_birth=rng.choice(["", "", "village near the capital", "regional centre"]),
            document_type=rng.choice(["", DocumentType.PASSPORT, DocumentType.NATIONAL_ID]),
            phone=f"+{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(1000000, 9999999)}"
            if rng.random() < 0.4
            else "",
            registered_by=registered_by,
        )
        if person.document_type:
            person.document_number = f"{rng.choice('ABCEHKMP')}{rng.randint(10000000, 99999999)}"
        person.name_index = blind_index.name_index(person.given_names, person.family_names)
        person.family_name_index = blind_index.family_name_index(person.family_names)
        person.date_of_birth_index = blind_index.date_of_birth_index(born)
        person._shape = {"sex": sex, "given": given, "family": family, "born": born}
        self.people.append(person)
        return person

    def case(
        self,
        person: Person,
        *,
        source: str,
        destination: str,
        registering: str,
        registered_on: date,
        status: str,
    ) -> Case:
        rng = self.rng
        registering_mission = self.missions[registering]
        case = Case(
            public_id=self.uuid(),
            case_number=self.case_number(registering_mission, registered_on.year),
            person=person,
            registering_mission=registering_mission,
            destination_mission=self.missions[destination],
            source_mission=self.missions[source],
            country_of_exploitation=self.missions[destination].country,
            identified_on=registered_on - timedelta(days=rng.randint(0, 30)),
            registered_on=registered_on,
            status=status,
            closure_reason=rng.choice(
                [c for c in ClosureReason.values if c != "deceased"]
                + ["reintegration_completed"] * 5
            )
            if status == CaseStatus.CLOSED
            else "",
            created_by_id=self.staff[registering_mission.pk][0],
        )
        self.cases.append(case)
        self.case_plans.append((case, _path_to(status, rng)))
        return case


def seed(
    *, cases: int, seed_value: int, progress: Callable[[int], None] | None = None
) -> DemoResult:
    """Generate about `cases` cases; the same seed always gives the same caseload."""
    rng = random.Random(seed_value)
    missions = {m.code: m for m in Mission.objects.filter(code__in=[c for c, _, _ in MISSIONS])}
    staff: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for membership in Membership.objects.filter(mission__in=missions.values()).select_related(
        "user"
    ):
        index = 0 if membership.role == MissionRole.CASEWORKER else 1
        staff[membership.mission_id][index] = membership.user_id
    builder = _Builder(rng, missions, staff)
    span = (DEMO_TODAY - date(FIRST_YEAR, 1, 1)).days
    registered_twice = re_trafficked = 0
    made = 0
    batch = 2000
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    while made < cases:
        source = rng.choice(list(ROUTES))
        destination = rng.choice(ROUTES[source])
        registering = destination if rng.random() < 0.8 else source
        registered_on = date(FIRST_YEAR, 1, 1) + timedelta(days=rng.randint(0, span - 400))
        person = builder.person(
            source, missions[registering], script=0 if registering == source else rng.randint(0, 1)
        )
        builder.case(
            person,
            source=source,
            destination=destination,
            registering=registering,
            registered_on=registered_on,
            status=rng.choices(statuses, weights)[0],
        )
        made += 1
        roll = rng.random()
        if roll < 0.05 and made < cases:
            # The other mission registers the same person again, in its own script,
            # sometimes with day and month of birth swapped.
            other = source if registering == destination else destination
            shape = dict(person._shape)
            born = shape["born"]
            if born and born.day <= 12 and rng.random() < 0.4:
                shape["born"] = date(born.year, born.day, born.month)
            twin = builder.person(
                source, missions[other], script=1 if other != source else 0, shape=shape
            )
            builder.case(
                twin,
                source=source,
                destination=destination,
                registering=other,
                registered_on=min(registered_on + timedelta(days=rng.randint(5, 200)), DEMO_TODAY),
                status=rng.choices(statuses, weights)[0],
            )
            registered_twice += 1
            made += 1
        elif roll < 0.08 and made < cases:
            # Re-trafficked: the same person, a new episode years later.
            later = registered_on + timedelta(days=rng.randint(400, 2500))
            if later <= DEMO_TODAY:
                builder.case(
                    person,
                    source=source,
                    destination=rng.choice(ROUTES[source]),
                    registering=registering,
                    registered_on=later,
                    status=rng.choices(statuses, weights)[0],
                )
                re_trafficked += 1
                made += 1
        if len(builder.cases) >= batch:
            _flush(builder)
            if progress:
                progress(made)
    _flush(builder)
    _save_sequences(builder)
    if progress:
        progress(made)
    return DemoResult(
        cases=made,
        people=Person.objects.count(),
        registered_twice=registered_twice,
        re_trafficked=re_trafficked,
    )


@transaction.atomic
def _flush(builder: _Builder) -> None:
    if not builder.cases:
        return
    rng = builder.rng
    Person.objects.bulk_create([p for p in builder.people if p.pk is None], batch_size=1000)
    for case in builder.cases:
        case.person_id = case.person.pk
    Case.objects.bulk_create(builder.cases, batch_size=1000)
    events, consents, referrals = [], [], []
    for case, path in builder.case_plans:
        worker, manager = builder.staff[case.registering_mission_id]
        day = case.registered_on
        at = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
        events.append(
            CaseEvent(
                case=case,
                actor_id=worker,
                mission_id=case.registering_mission_id,
                kind=CaseEvent.Kind.REGISTERED,
                to_status=path[0],
            )
        )
        for previous, status in zip(path, path[1:], strict=False):
            events.append(
                CaseEvent(
                    case=case,
                    actor_id=manager
                    if status in {"eligible", "not_eligible", "closed"}
                    else worker,
                    mission_id=case.registering_mission_id,
                    kind=CaseEvent.Kind.STATUS_CHANGED,
                    from_status=previous,
                    to_status=status,
                )
            )
        consents.append(
            Consent(
                case=case,
                purpose=ConsentPurpose.ASSISTANCE,
                decision="given",
                decided_on=day,
                recorded_by_id=worker,
            )
        )
        returning = CaseStatus.RETURN_IN_PROGRESS in path
        # A return needs the source mission on board: consent to share, accepted referral.
        shares = returning or rng.random() < 0.75
        consents.append(
            Consent(
                case=case,
                purpose=ConsentPurpose.SHARING,
                decision="given" if shares else "refused",
                decided_on=day,
                recorded_by_id=worker,
            )
        )
        research = rng.random()
        consents.append(
            Consent(
                case=case,
                purpose=ConsentPurpose.RESEARCH,
                decision="given" if research < 0.85 else "refused",
                decided_on=day,
                recorded_by_id=worker,
                withdrawn_on=day + timedelta(days=30)
                if research < 0.02 and day + timedelta(days=30) <= DEMO_TODAY
                else None,
                withdrawn_by_id=worker
                if research < 0.02 and day + timedelta(days=30) <= DEMO_TODAY
                else None,
            )
        )
        other = (
            case.source_mission_id
            if case.registering_mission_id == case.destination_mission_id
            else None
        )
        if shares and other and len(path) >= 3:
            decided = len(path) >= 4 or rng.random() < 0.5
            accepted = returning or (decided and rng.random() < 0.9)
            referrals.append(
                Referral(
                    case=case,
                    from_mission_id=case.registering_mission_id,
                    to_mission_id=other,
                    status=("accepted" if accepted else "declined") if decided else "pending",
                    requested_by_id=worker,
                    decided_by_id=builder.staff[other][1] if decided else None,
                    decided_at=at + timedelta(days=3) if decided else None,
                )
            )
    CaseEvent.objects.bulk_create(events, batch_size=2000)
    Consent.objects.bulk_create(consents, batch_size=2000)
    Referral.objects.bulk_create(referrals, batch_size=2000)
    for extend in _EXTENSIONS:
        extend(builder.case_plans, builder.staff, rng)
    builder.cases.clear()
    builder.case_plans.clear()
    builder.people = [p for p in builder.people if p.pk is None]


def _save_sequences(builder: _Builder) -> None:
    for (mission_id, year), last in builder.sequences.items():
        sequence, _created = CaseNumberSequence.objects.get_or_create(
            mission_id=mission_id, year=year
        )
        if sequence.last_value < last:
            sequence.last_value = last
            sequence.save(update_fields=["last_value"])


def record_seeding(result: DemoResult) -> None:
    audit_record(action="demo.seeded", detail={"cases": result.cases})
