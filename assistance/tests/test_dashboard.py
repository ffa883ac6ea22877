"""The dashboard's figures against counts made independently from the seeded caseload."""

import io
import statistics
from collections import Counter
from datetime import date, timedelta

import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistance.models import FollowUpVisit, ReturnMovement, ServiceRecord
from assistance.selectors import mission_dashboard
from casework import demo
from casework.models import AuditEvent, Case, Mission, Person, Referral, User

pytestmark = pytest.mark.django_db
SINCE, UNTIL = date(2018, 1, 1), date(2026, 11, 1)


@pytest.fixture
def seeded():
    demo.create_staff()
    demo.seed(cases=600, seed_value=11)
    return Mission.objects.get(code="UA-KYV")


def _involved_case_ids(mission):
    accepted = set(
        Referral.objects.filter(to_mission=mission, status="accepted").values_list(
            "case_id", flat=True
        )
    )
    return {
        case.pk
        for case in Case.objects.all()
        if mission.pk in (case.registering_mission_id, case.destination_mission_id)
        or case.pk in accepted
    }


def test_dashboard_counts_match_independent_counts(seeded):
    mission = seeded
    today = timezone.localdate()
    data = mission_dashboard(mission, since=SINCE, until=UNTIL, today=today)
    involved = _involved_case_ids(mission)
    statuses = Counter(Case.objects.get(pk=pk).status for pk in involved)
    assert {code: n for code, _label, n in data.by_status if n} == dict(statuses)
    assert data.total == len(involved) > 0

    assert data.awaiting_acceptance == sum(
        1 for r in Referral.objects.all() if r.to_mission_id == mission.pk and r.status == "pending"
    )
    planned = [
        m
        for m in ReturnMovement.objects.all()
        if mission.pk in (m.from_mission_id, m.to_mission_id) and m.status == "planned"
    ]
    assert data.returns_in_progress == len(planned)
    assert len(data.returns_overdue) == min(
        20, sum(1 for m in planned if m.departure_date + timedelta(days=3) < today)
    )
    scheduled = [
        v
        for v in FollowUpVisit.objects.select_related("plan")
        if v.plan.mission_id == mission.pk and v.status == "scheduled"
    ]
    assert data.follow_ups_overdue_count == sum(1 for v in scheduled if v.due_on < today)
    assert data.follow_ups_due == sum(
        1 for v in scheduled if today <= v.due_on <= today + timedelta(days=30)
    )

    delivered = Counter(
        s.service_type
        for s in ServiceRecord.objects.all()
        if s.case_id in involved
        and s.status == "delivered"
        and s.end_date
        and SINCE <= s.end_date <= UNTIL
    )
    assert {code: n for code, _label, n in data.services_by_type} == dict(delivered)
    assert sum(delivered.values()) > 0

    arrivals = [
        (m.arrival_date - m.case.identified_on).days
        for m in ReturnMovement.objects.select_related("case")
        if mission.pk in (m.from_mission_id, m.to_mission_id)
        and m.status == "arrived"
        and SINCE <= m.arrival_date <= UNTIL
    ]
    assert data.returns_counted == len(arrivals) > 0
    assert data.median_days_to_return == statistics.median(arrivals)

    done = [
        v
        for v in FollowUpVisit.objects.select_related("plan")
        if v.plan.mission_id == mission.pk and v.status == "done"
    ]
    for dimension, points in data.scores.items():
        for months, average in points:
            scores = [
                float(getattr(v, f"score_{dimension}"))
                for v in done
                if round((v.visited_on - v.plan.return_date).days / 30.44) == months
            ]
            assert average == round(sum(scores) / len(scores), 2)


def test_dashboard_query_count_does_not_grow_with_the_caseload(seeded):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        mission_dashboard(seeded, since=SINCE, until=UNTIL)
    demo.seed(cases=300, seed_value=12)
    with CaptureQueriesContext(connection) as larger:
        mission_dashboard(seeded, since=SINCE, until=UNTIL)
    assert len(small) == len(larger)


def _client(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_dashboard_page_renders_charts_and_tables(seeded):
    response = _client("mgr.ua-kyv").get(reverse("dashboard"))
    content = response.content.decode()
    assert response.status_code == 200
    assert content.count("<svg") == 3
    data = response.context["d"]
    for code, _label, n in data.by_status:
        assert f'data-status="{code}">{n}<' in content


def test_caseworkers_and_outsiders_have_no_dashboard(seeded):
    assert _client("cw.ua-kyv").get(reverse("dashboard")).status_code == 403
    assert _client("researcher").get(reverse("dashboard")).status_code == 403
    other = Mission.objects.get(code="TH-BKK")
    # A manager asking for another mission's figures gets their own mission instead.
    response = _client("mgr.ua-kyv").get(reverse("dashboard"), {"mission": other.pk})
    assert response.context["d"].mission.code == "UA-KYV"


def _export(username, mission, **params):
    return _client(username).get(
        reverse("dashboard_export"), {"mission": mission.pk, "format": "csv", **params}
    )


def _read_csv(response) -> pd.DataFrame:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)


def test_export_leaves_identifiers_out_unless_the_role_allows_them(seeded):
    mission = seeded
    involved = _involved_case_ids(mission)
    worker = _read_csv(_export("cw.ua-kyv", mission, include_identifiers="1"))
    assert "given_names" not in worker.columns and "date_of_birth" not in worker.columns
    assert len(worker) == len(involved)
    assert set(worker["case_number"]) == set(
        Case.objects.filter(pk__in=involved).values_list("case_number", flat=True)
    )
    flat = worker.to_csv()
    family_names = {p.family_names for p in Person.objects.all()}
    assert not any(name in flat for name in family_names)

    manager = _read_csv(_export("mgr.ua-kyv", mission, include_identifiers="1"))
    assert {"given_names", "family_names", "date_of_birth"} <= set(manager.columns)
    sample = Case.objects.filter(pk__in=involved).select_related("person").first()
    row = manager[manager["case_number"] == sample.case_number].iloc[0]
    assert row["family_names"] == sample.person.family_names
    exports = AuditEvent.objects.filter(action="data.exported").order_by("id")
    assert [e.detail["identifiers"] for e in exports] == [False, True]


def test_xlsx_export_reads_back_with_pandas(seeded):
    response = _client("mgr.ua-kyv").get(
        reverse("dashboard_export"), {"mission": seeded.pk, "format": "xlsx"}
    )
    assert response.status_code == 200
    frame = pd.read_excel(io.BytesIO(b"".join(response.streaming_content)), dtype=str)
    assert len(frame) == len(_involved_case_ids(seeded))
    assert "family_names" not in frame.columns


def test_export_of_another_mission_is_refused(seeded):
    other = Mission.objects.get(code="TH-BKK")
    assert _export("mgr.ua-kyv", other).status_code == 404
    assert _export("researcher", seeded).status_code == 403
    assert not AuditEvent.objects.filter(action="data.exported").exists()
