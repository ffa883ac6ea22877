from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from assistance import services
from assistance.models import FollowUpVisit, ReturnMovement, ServiceRecord
from assistance.services import ReturnData, ServiceData
from casework import services as case_services
from casework.models import AuditEvent, CaseEvent, ClosureRequest, MissionRole
from casework.tests.factories import CaseFactory, MissionFactory, give_consent, staff

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def world():
    berlin = MissionFactory(code="DE-BER", country="DE")
    kyiv = MissionFactory(code="UA-KYV", country="UA")
    people = {
        "berlin": staff(berlin),
        "berlin_manager": staff(berlin, MissionRole.MANAGER),
        "kyiv": staff(kyiv),
        "kyiv_manager": staff(kyiv, MissionRole.MANAGER),
    }
    case = CaseFactory(
        registering_mission=berlin,
        source_mission=kyiv,
        status="eligible",
        identified_on=TODAY - timedelta(days=200),
        registered_on=TODAY - timedelta(days=199),
    )
    return {"berlin_mission": berlin, "kyiv_mission": kyiv, "case": case, **people}


def _accept_referral(world):
    case = world["case"]
    give_consent(case, by=world["berlin"])
    referral = case_services.referral_create(
        actor=world["berlin"], case=case, to_mission=world["kyiv_mission"]
    )
    case_services.referral_decide(actor=world["kyiv_manager"], referral=referral, accept=True)


def _service(**changes):
    values = dict(
        service_type="shelter",
        status="delivered",
        start_date=TODAY - timedelta(days=150),
        end_date=TODAY - timedelta(days=120),
        partner_name="Safe House e.V.",
        cost=Decimal("420.00"),
        currency="EUR",
    )
    values.update(changes)
    return ServiceData(**values)


def _return(**changes):
    values = dict(
        travel_document="emergency",
        departure_date=TODAY - timedelta(days=10),
        escort="staff",
        reception_arranged=True,
        route=("DE", "PL", "UA"),
    )
    values.update(changes)
    return ReturnData(**values)


def test_first_service_starts_assistance(world):
    case = world["case"]
    service = services.service_record(actor=world["berlin"], case=case, data=_service())
    case.refresh_from_db()
    assert case.status == "assistance"
    assert service.cost == Decimal("420.00")
    assert AuditEvent.objects.filter(action="service.recorded", case=case).count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_date": TODAY - timedelta(days=160)}, "end_date"),
        ({"start_date": TODAY + timedelta(days=3), "end_date": None}, "start_date"),
        ({"start_date": TODAY - timedelta(days=400)}, "start_date"),
        ({"partner_name": ""}, "partner_name"),
        ({"currency": ""}, "currency"),
    ],
)
def test_bad_services_are_refused_and_write_nothing(world, changes, field):
    with pytest.raises(ValidationError) as refused:
        services.service_record(actor=world["berlin"], case=world["case"], data=_service(**changes))
    assert field in refused.value.message_dict
    assert not ServiceRecord.objects.exists()
    world["case"].refresh_from_db()
    assert world["case"].status == "eligible"


def test_service_edit_is_refused_when_stale(world):
    service = services.service_record(actor=world["berlin"], case=world["case"], data=_service())
    services.service_update(
        actor=world["berlin"],
        service=service,
        expected_version=1,
        data=_service(status="delivered"),
    )
    with pytest.raises(ValidationError):
        services.service_update(
            actor=world["berlin_manager"],
            service=ServiceRecord.objects.get(pk=service.pk),
            expected_version=1,
            data=_service(cost=Decimal("1")),
        )
    assert ServiceRecord.objects.get(pk=service.pk).cost == Decimal("420.00")


def test_return_needs_the_source_missions_acceptance(world):
    services.service_record(actor=world["berlin"], case=world["case"], data=_service())
    with pytest.raises(ValidationError, match="accepted a referral"):
        services.return_plan(actor=world["berlin"], case=world["case"], data=_return())
    assert not ReturnMovement.objects.exists()


def _in_return(world):
    services.service_record(actor=world["berlin"], case=world["case"], data=_service())
    _accept_referral(world)
    return services.return_plan(actor=world["berlin"], case=world["case"], data=_return())


def test_return_arrival_and_reintegration_follow_the_lifecycle(world):
    movement = _in_return(world)
    case = world["case"]
    case.refresh_from_db()
    assert case.status == "return_in_progress"
    assert (movement.from_mission.code, movement.to_mission.code) == ("DE-BER", "UA-KYV")
    assert services.is_return_overdue(movement)  # departed ten days ago, not confirmed
    with pytest.raises(PermissionDenied):  # only the receiving mission confirms
        services.return_confirm_arrival(
            actor=world["berlin"], movement=movement, arrival_date=TODAY - timedelta(days=9)
        )
    services.return_confirm_arrival(
        actor=world["kyiv"], movement=movement, arrival_date=TODAY - timedelta(days=9)
    )
    case.refresh_from_db()
    assert case.status == "returned"
    plan = services.reintegration_plan(
        actor=world["kyiv"],
        case=case,
        economic_goals="Sewing business",
        social_goals="Back with her mother",
        psychosocial_goals="Weekly counselling",
        follow_up_months=(6, 3, 12),
    )
    case.refresh_from_db()
    assert case.status == "reintegration"
    due = list(plan.visits.values_list("due_on", flat=True))
    arrival = TODAY - timedelta(days=9)
    assert len(due) == 3 and due[0] > arrival and due == sorted(due)
    assert (due[0].month - arrival.month) % 12 == 3


def test_arrival_before_departure_or_in_future_is_refused(world):
    movement = _in_return(world)
    for bad in (TODAY - timedelta(days=20), TODAY + timedelta(days=1)):
        with pytest.raises(ValidationError):
            services.return_confirm_arrival(
                actor=world["kyiv"], movement=movement, arrival_date=bad
            )
    movement.refresh_from_db()
    assert movement.status == "planned"


def test_cancelled_return_goes_back_to_assistance(world):
    movement = _in_return(world)
    with pytest.raises(PermissionDenied):
        services.return_cancel(actor=world["kyiv"], movement=movement)
    services.return_cancel(actor=world["berlin"], movement=movement, note="Flight cancelled")
    world["case"].refresh_from_db()
    assert world["case"].status == "assistance"
    services.return_plan(actor=world["berlin"], case=world["case"], data=_return())


def _in_reintegration(world):
    movement = _in_return(world)
    services.return_confirm_arrival(
        actor=world["kyiv"], movement=movement, arrival_date=TODAY - timedelta(days=9)
    )
    return services.reintegration_plan(
        actor=world["kyiv"],
        case=world["case"],
        economic_goals="a",
        social_goals="b",
        psychosocial_goals="c",
    )


def test_follow_up_scores_are_checked(world):
    plan = _in_reintegration(world)
    visit = plan.visits.first()
    FollowUpVisit.objects.filter(pk=visit.pk).update(due_on=TODAY - timedelta(days=1))
    with pytest.raises(ValidationError) as refused:
        services.follow_up_record(
            actor=world["kyiv"],
            visit=visit,
            visited_on=TODAY,
            situation="Working",
            scores={"economic": 1.2, "social": 0.5, "psychosocial": -0.1},
        )
    assert set(refused.value.message_dict) == {"score_economic", "score_psychosocial"}
    with pytest.raises(PermissionDenied):
        services.follow_up_record(
            actor=world["berlin"],
            visit=visit,
            visited_on=TODAY,
            situation="x",
            scores={"economic": 0.5, "social": 0.5, "psychosocial": 0.5},
        )
    recorded = services.follow_up_record(
        actor=world["kyiv"],
        visit=visit,
        visited_on=TODAY,
        situation="Runs a stall at the market",
        scores={"economic": 0.6, "social": 0.7, "psychosocial": 0.55},
    )
    assert (recorded.status, recorded.score_social) == ("done", Decimal("0.70"))


def test_missed_and_overdue_visits(world):
    plan = _in_reintegration(world)
    visit = plan.visits.first()
    with pytest.raises(ValidationError):
        services.follow_up_missed(actor=world["kyiv"], visit=visit)  # not yet due
    FollowUpVisit.objects.filter(pk=visit.pk).update(due_on=TODAY - timedelta(days=5))
    visit.refresh_from_db()
    assert services.is_visit_overdue(visit)
    services.follow_up_missed(actor=world["kyiv"], visit=visit)
    visit.refresh_from_db()
    assert visit.status == "missed" and not services.is_visit_overdue(visit)


def test_closure_needs_the_managers_approval(world):
    case = world["case"]
    request = case_services.closure_request(
        actor=world["berlin"], case=case, reason="lost_contact", note="Phone disconnected"
    )
    with pytest.raises(ValidationError):
        case_services.closure_request(actor=world["berlin"], case=case, reason="other")
    with pytest.raises(PermissionDenied):
        case_services.closure_decide(actor=world["berlin"], request=request, approve=True)
    case.refresh_from_db()
    assert case.status == "eligible"
    case_services.closure_decide(actor=world["berlin_manager"], request=request, approve=True)
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == ("closed", "lost_contact")
    assert ClosureRequest.objects.get().status == "approved"
    assert CaseEvent.objects.filter(case=case, kind="closure_requested").exists()


def test_rejected_closure_leaves_the_case_open(world):
    case = world["case"]
    request = case_services.closure_request(actor=world["berlin"], case=case, reason="other")
    case_services.closure_decide(
        actor=world["berlin_manager"], request=request, approve=False, note="Visit first"
    )
    case.refresh_from_db()
    assert case.status == "eligible"


def test_unrelated_mission_can_do_nothing(world):
    outsider = staff(MissionFactory(code="IT-ROM"), MissionRole.MANAGER)
    with pytest.raises(PermissionDenied):
        services.service_record(actor=outsider, case=world["case"], data=_service())
    with pytest.raises(PermissionDenied):
        case_services.closure_request(actor=outsider, case=world["case"], reason="other")
    assert not ServiceRecord.objects.exists()
    world["case"].refresh_from_db()
    assert world["case"].status == "eligible"


def test_closing_a_case_cancels_its_scheduled_visits(world):
    plan = _in_reintegration(world)
    request = case_services.closure_request(
        actor=world["kyiv"], case=world["case"], reason="reintegration_completed"
    )
    case_services.closure_decide(actor=world["kyiv_manager"], request=request, approve=True)
    assert set(plan.visits.values_list("status", flat=True)) == {"cancelled"}
    with pytest.raises(ValidationError):
        services.follow_up_schedule(actor=world["kyiv"], plan=plan, due_on=TODAY)
