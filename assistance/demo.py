"""Services, returns and reintegration for the demo caseload, following each case's path."""

import random
from datetime import timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from assistance.models import FollowUpVisit, ReintegrationPlan, ReturnMovement, ServiceRecord
from casework.demo import DEMO_TODAY
from casework.models import CaseStatus

S = CaseStatus
FIRST_SERVICES = ["shelter", "medical", "psychosocial", "legal", "travel_documents"]
LATER_SERVICES = [
    "reintegration_grant",
    "vocational_training",
    "job_placement",
    "micro_enterprise",
    "education",
    "family_tracing",
    "cash_or_material",
]


def _service(case, rng, kind, start, mission_id, delivered=True):
    start = min(start, DEMO_TODAY)
    end = min(start + timedelta(days=rng.randint(1, 60)), DEMO_TODAY)
    costly = rng.random() < 0.5
    by_mission = rng.random() < 0.7
    return ServiceRecord(
        case=case,
        service_type=kind,
        provider_mission_id=mission_id if by_mission else None,
        partner_name="" if by_mission else "Partner NGO",
        start_date=start,
        end_date=end if delivered else None,
        status="delivered" if delivered else "in_progress",
        cost=Decimal(rng.randint(50, 3000)) if costly else None,
        currency="EUR" if costly else "",
        recorded_by_id=case.created_by_id,
    )


def seed_assistance(plans, staff, rng: random.Random) -> None:
    services, movements, reintegration = [], [], []
    for case, path in plans:
        if S.ASSISTANCE not in path:
            continue
        start = case.registered_on + timedelta(days=rng.randint(1, 20))
        for kind in rng.sample(FIRST_SERVICES, rng.randint(1, 3)):
            services.append(
                _service(
                    case,
                    rng,
                    kind,
                    start,
                    case.destination_mission_id,
                    delivered=path[-1] != S.ASSISTANCE or rng.random() < 0.6,
                )
            )
        if S.RETURN_IN_PROGRESS not in path or case.source_mission_id is None:
            continue
        departure = min(
            start + timedelta(days=rng.randint(20, 200)), DEMO_TODAY + timedelta(days=20)
        )
        arrived = S.RETURNED in path
        if arrived:
            departure = min(departure, DEMO_TODAY - timedelta(days=5))
        arrival = departure + timedelta(days=rng.randint(0, 3)) if arrived else None
        movements.append(
            ReturnMovement(
                case=case,
                from_mission_id=case.destination_mission_id,
                to_mission_id=case.source_mission_id,
                status="arrived" if arrived else "planned",
                travel_document=rng.choice(["passport", "emergency", "laissez_passer"]),
                departure_date=departure,
                escort=rng.choice(["none", "staff", "staff", "medical"]),
                reception_arranged=True,
                planned_by_id=staff[case.destination_mission_id][0],
                arrival_date=arrival,
                confirmed_by_id=staff[case.source_mission_id][0] if arrived else None,
            )
        )
        if S.REINTEGRATION in path:
            reintegration.append((case, arrival))
    ServiceRecord.objects.bulk_create(services, batch_size=2000)
    ReturnMovement.objects.bulk_create(movements, batch_size=2000)
    _seed_reintegration(reintegration, staff, rng)


def _seed_reintegration(reintegration, staff, rng: random.Random) -> None:
    plans = ReintegrationPlan.objects.bulk_create(
        [
            ReintegrationPlan(
                case=case,
                mission_id=case.source_mission_id,
                return_date=arrival,
                economic_goals="Income from a small business",
                social_goals="Reconnect with family",
                psychosocial_goals="Counselling sessions",
                created_by_id=staff[case.source_mission_id][0],
            )
            for case, arrival in reintegration
        ],
        batch_size=2000,
    )
    visits, services = [], []
    for plan, (case, arrival) in zip(plans, reintegration, strict=True):
        baseline = rng.uniform(0.2, 0.5)
        for months in (3, 6, 12):
            due = arrival + relativedelta(months=months)
            visit = FollowUpVisit(plan=plan, due_on=due)
            if due <= DEMO_TODAY:
                if rng.random() < 0.1:
                    visit.status = "missed"
                else:
                    progress = baseline + months * rng.uniform(0.01, 0.04)
                    visit.status = "done"
                    visit.visited_on = due + timedelta(days=rng.randint(0, 10))
                    if visit.visited_on > DEMO_TODAY:
                        visit.visited_on = DEMO_TODAY
                    visit.recorded_by_id = staff[case.source_mission_id][0]
                    for dimension in ("economic", "social", "psychosocial"):
                        score = min(max(progress + rng.uniform(-0.1, 0.1), 0), 1)
                        setattr(visit, f"score_{dimension}", Decimal(f"{score:.2f}"))
            visits.append(visit)
        start = arrival + timedelta(days=rng.randint(1, 30))
        if start <= DEMO_TODAY:
            services.append(
                _service(case, rng, rng.choice(LATER_SERVICES), start, case.source_mission_id)
            )
    FollowUpVisit.objects.bulk_create(visits, batch_size=2000)
    ServiceRecord.objects.bulk_create(services, batch_size=2000)
