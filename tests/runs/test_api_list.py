"""GET /api/v1/runs: typed names in any case, id prefixes, cursors both ways, one duration."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from runs.models import RunStatus
from tests.factories import AgentRunFactory

pytestmark = pytest.mark.django_db


def ids(resp) -> list[str]:
    return [r["id"] for r in resp.json()["items"]]


def test_agent_and_intent_filters_take_any_case(api, org):
    mine = AgentRunFactory(organization=org, agent="support", intent="macro-suggest")
    AgentRunFactory(organization=org, agent="support", intent="triage")
    AgentRunFactory(organization=org, agent="seo", intent="seo-audit")
    assert ids(api.get("/runs", {"agent": "Support", "intent": "Macro-Suggest"})) == [str(mine.id)]
    assert len(ids(api.get("/runs", {"agent": "SUPPORT"}))) == 2


def test_the_id_filter_takes_a_short_id_a_prefix_or_a_whole_id_in_the_organization(
    api, org, other_org
):
    a = AgentRunFactory(organization=org, id=uuid.UUID("3f2b1c4d" + "0" * 24))
    b = AgentRunFactory(organization=org, id=uuid.UUID("3f2b9999" + "0" * 24))
    AgentRunFactory(organization=other_org, id=uuid.UUID("3f2b1c4d" + "1" * 24))
    assert ids(api.get("/runs", {"id": "3f2b1c4d"})) == [str(a.id)]
    assert ids(api.get("/runs", {"id": str(a.id)})) == [str(a.id)]
    assert set(ids(api.get("/runs", {"id": "3F2B"}))) == {str(a.id), str(b.id)}
    for bad in ("3f2", "xyz12", "3f2b1c4d" * 5):
        resp = api.get("/runs", {"id": bad})
        assert resp.status_code == 422, bad
        assert "id" in resp.content.decode()


def test_prev_cursor_walks_back_and_old_fields_stay(api, org):
    now = timezone.now()
    for i in range(7):
        AgentRunFactory(organization=org, created_at=now - timedelta(seconds=i))
    page1 = api.get("/runs", {"limit": 3}).json()
    assert set(page1) == {"items", "next_cursor", "prev_cursor"} and page1["prev_cursor"] is None
    page2 = api.get("/runs", {"limit": 3, "cursor": page1["next_cursor"]}).json()
    assert page2["prev_cursor"] and page2["next_cursor"]
    back = api.get("/runs", {"limit": 3, "cursor": page2["prev_cursor"]}).json()
    assert [r["id"] for r in back["items"]] == [r["id"] for r in page1["items"]]
    assert back["prev_cursor"] is None and back["next_cursor"] == page1["next_cursor"]


def test_a_run_answers_its_duration_wait_cost_and_would_cost(api, org):
    queued = timezone.now() - timedelta(seconds=20)
    run = AgentRunFactory(
        organization=org,
        status=RunStatus.COMPLETED,
        queued_at=queued,
        started_at=queued + timedelta(seconds=5),
        finished_at=queued + timedelta(seconds=7),
        duration_ms=2000,
        would_cost=Decimal("0.0083"),
    )
    data = api.get(f"/runs/{run.id}").json()
    assert (data["duration_ms"], data["wait_ms"]) == (2000, 5000)
    assert Decimal(data["cost"]) == 0 and Decimal(data["would_cost"]) == Decimal("0.0083")
    (listed,) = api.get("/runs").json()["items"]
    assert (listed["duration_ms"], listed["wait_ms"]) == (2000, 5000)
