"""POST /runs/{id}/approve and /runs/{id}/reject, and the approval in the run's answer."""

from __future__ import annotations

import pytest

from agents import services
from neonhub.core.models import AuditEvent, Role
from neonhub.core.services import api_key_create
from runs.models import RunApproval, RunStatus
from tests.conftest import ApiClient
from tests.factories import RunApprovalFactory
from tests.helpers import sandbox_connectors

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _connectors(org):
    """Runs that would send need a connector to be started at all (pre-run checks)."""
    sandbox_connectors(org)


POST = {
    "text": "Calmer releases, now for everyone.",
    "platforms": ["reddit"],
    "reddit": {"subreddit": "r/productmanagement"},
}


@pytest.fixture
def admin_api(client, org):
    return ApiClient(client, api_key_create(organization=org, name="ci", role=Role.ADMIN).token)


@pytest.fixture
def held(org):
    org.settings = {"approvals": {"social_platforms": ["reddit"]}}
    org.save()
    run, _ = services.run_start(organization=org, agent="social", intent="publish", payload=POST)
    return run


def test_a_held_run_is_answered_awaiting_approval_with_its_preview(admin_api, held):
    body = admin_api.get(f"/runs/{held.id}").json()
    assert body["status"] == "awaiting_approval"
    approval = body["approval"]
    assert approval["state"] == "pending" and approval["decided_by"] is None
    assert approval["reasons"] == ["Publishing to Reddit needs approval"]
    assert approval["preview"]["items"][0]["action"] == "submit_post"
    assert approval["expires_at"] > approval["requested_at"]
    assert body["links"]["approve"] == f"/api/v1/runs/{held.id}/approve"
    listed = admin_api.get("/runs", {"status": "awaiting_approval"}).json()["items"]
    assert [r["id"] for r in listed] == [str(held.id)] and listed[0]["approval"][
        "state"
    ] == "pending"


def test_starting_a_held_run_answers_202_awaiting_approval(admin_api, org):
    org.settings = {"approvals": {"social_platforms": ["reddit"]}}
    org.save()
    resp = admin_api.post("/runs", {"agent": "social", "intent": "publish", "payload": POST})
    assert resp.status_code == 202 and resp.json()["status"] == "awaiting_approval"


def test_approve_queues_the_run_and_records_the_key(admin_api, held):
    resp = admin_api.post(f"/runs/{held.id}/approve", {"note": "ok"})
    assert resp.status_code == 202, resp.json()
    body = resp.json()
    assert body["status"] in ("queued", "running", "completed", "failed")
    assert body["approval"]["state"] == "approved"
    assert body["approval"]["decided_by"] == "API key ci" and body["approval"]["note"] == "ok"
    assert admin_api.post(f"/runs/{held.id}/approve").status_code == 409


def test_approve_with_an_edited_payload_checks_it(admin_api, held):
    resp = admin_api.post(f"/runs/{held.id}/approve", {"payload": {**POST, "platforms": []}})
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "payload.platforms"
    resp = admin_api.post(f"/runs/{held.id}/approve", {"payload": {**POST, "text": "Shorter."}})
    assert resp.status_code == 202 and resp.json()["approval"]["edited"] is True


def test_reject_needs_a_note_and_cancels(admin_api, held):
    assert admin_api.post(f"/runs/{held.id}/reject", {}).status_code == 422
    resp = admin_api.post(f"/runs/{held.id}/reject", {"note": " "})
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "note"
    resp = admin_api.post(f"/runs/{held.id}/reject", {"note": "Off brand"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "cancelled" and body["error_code"] == "REJECTED"
    assert body["approval"]["state"] == "rejected" and body["approval"]["note"] == "Off brand"
    assert admin_api.post(f"/runs/{held.id}/reject", {"note": "again"}).status_code == 409


def test_a_run_not_awaiting_approval_is_409(admin_api, org, run_now):
    run, _ = run_now(
        services.run_start, organization=org, agent="testing", intent="echo", payload={"text": "a"}
    )
    assert admin_api.post(f"/runs/{run.id}/approve").status_code == 409


def test_members_and_viewers_may_not_decide(api, viewer_api, held):
    assert api.post(f"/runs/{held.id}/approve").status_code == 403
    assert viewer_api.post(f"/runs/{held.id}/reject", {"note": "no"}).status_code == 403
    held.refresh_from_db()
    assert held.status == RunStatus.AWAITING_APPROVAL


def test_another_organizations_run_is_404(admin_api):
    other = RunApprovalFactory()
    assert admin_api.post(f"/runs/{other.run_id}/approve").status_code == 404
    assert admin_api.post(f"/runs/{other.run_id}/reject", {"note": "x"}).status_code == 404
    assert RunApproval.objects.get(pk=other.pk).state == "pending"


def test_decisions_are_in_the_audit_log_with_the_key_that_made_them(admin_api, held, org):
    admin_api.post(f"/runs/{held.id}/approve", {"note": "ok", "payload": {**POST, "text": "Hi."}})
    event = AuditEvent.objects.get(organization=org, action="run.approve")
    assert event.actor.startswith("API key ci (")
    assert event.target_id == str(held.id)
    assert event.changes == {"note": "ok", "input": "edited before approval"}
    other, _ = services.run_start(organization=org, agent="social", intent="publish", payload=POST)
    admin_api.post(f"/runs/{other.id}/reject", {"note": "Off brand"})
    assert AuditEvent.objects.get(action="run.reject").changes == {"note": "Off brand"}
    # A refused decision changes nothing, so it records nothing.
    admin_api.post(f"/runs/{other.id}/reject", {"note": "again"})
    assert AuditEvent.objects.filter(action="run.reject").count() == 1
