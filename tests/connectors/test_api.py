"""The connectors API and the action endpoint: every route, bad input, tenant isolation, roles."""

from __future__ import annotations

import uuid

import pytest
from werkzeug import Response

from connectors.models import Connector, Health, OutboundMessage
from connectors.registry import PROVIDERS
from neonhub.core.models import Role
from runs.models import AgentRun, RunStep
from tests.conftest import ApiClient, _key
from tests.connectors.conftest import TOKEN

pytestmark = pytest.mark.django_db

CREDENTIALS = {"api_token": TOKEN, "account": "acct_main"}


@pytest.fixture
def admin_api(client, org):
    return ApiClient(client, _key(org, Role.ADMIN))


def create(api, server_url=None, **overrides):
    body = {
        "provider": "fake",
        "name": "Main",
        "mode": "live",
        "credentials": CREDENTIALS,
        "config": {"base_url": server_url} if server_url else {},
        **overrides,
    }
    return api.post("/connectors", body)


def error_fields(resp) -> set[str]:
    return {d["field"] for d in resp.json()["error"]["details"]}


# --- catalog ----------------------------------------------------------------------------------


def test_catalog_lists_every_provider_with_schemas_and_actions(api):
    resp = api.get("/connectors/catalog")
    assert resp.status_code == 200
    catalog = {p["slug"]: p for p in resp.json()}
    assert set(PROVIDERS) | {"fake"} <= set(catalog)
    fake = catalog["fake"]
    assert fake["secret_fields"] == ["api_token"]
    assert set(fake["credentials_schema"]["properties"]) == {"api_token", "account"}
    assert "base_url" in fake["config_schema"]["properties"]
    actions = {a["name"]: a for a in fake["actions"]}
    assert (actions["send"]["side_effect"], actions["send"]["safe_to_repeat"]) == (True, False)
    assert (actions["lookup"]["side_effect"], actions["lookup"]["safe_to_repeat"]) == (False, True)
    assert "to" in actions["send"]["input_schema"]["properties"]
    assert fake["budgets"] == [
        {"name": "sends_per_minute", "limit": 3, "per_seconds": 60, "actions": ["send"]}
    ]
    assert "auth_token" in catalog["twilio_sms"]["secret_fields"]


# --- create, read, edit, delete ---------------------------------------------------------------


def test_create_answers_masks_never_secrets(admin_api):
    resp = create(admin_api, "https://api.example.com")
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert data["credentials_set"] == {"account": "••••", "api_token": "tok_…5f60"}
    assert data["webhook_urls"] == {}
    assert (data["provider"], data["mode"], data["sandbox"], data["health"]) == (
        "fake",
        "live",
        False,
        "untested",
    )
    assert data["config"]["base_url"] == "https://api.example.com"
    assert data["links"]["self"] == f"/api/v1/connectors/{data['id']}"
    assert TOKEN not in resp.content.decode()


def test_list_and_detail(api, admin_api, other_api):
    created = create(admin_api).json()
    create(admin_api, name="Try", mode="sandbox", credentials={})
    listed = api.get("/connectors").json()
    assert [c["name"] for c in listed] == ["Main", "Try"]
    assert [c["name"] for c in api.get("/connectors", {"mode": "sandbox"}).json()] == ["Try"]
    assert api.get("/connectors", {"health": "needs_reconnect"}).json() == []
    assert api.get("/connectors", {"health": "bogus"}).status_code == 422
    assert api.get(f"/connectors/{created['id']}").json()["name"] == "Main"
    assert other_api.get("/connectors").json() == []


def test_health_shows_expiring_tokens(admin_api):
    from datetime import timedelta

    from django.utils import timezone

    soon = (timezone.now() + timedelta(days=2)).isoformat()
    data = create(admin_api, token_expires_at=soon).json()
    assert data["health"] == "expiring"
    assert admin_api.get("/connectors", {"health": "expiring"}).json()[0]["id"] == data["id"]
    assert admin_api.get("/connectors", {"health": "healthy"}).json() == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"provider": "carrier_pigeon"}, "provider"),
        ({"credentials": {"api_token": TOKEN}}, "credentials.account"),
        ({"credentials": {"api_token": 12345678, "account": "acct_x"}}, "credentials.api_token"),
        ({"credentials": {**CREDENTIALS, "extra": "x"}}, "credentials.extra"),
        ({"config": {"region": "mars"}}, "config.region"),
        ({"mode": "staging"}, "mode"),
        ({"name": ""}, "name"),
        ({"credentials": "token"}, "credentials"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_create_input_is_422_naming_the_field(admin_api, body, field):
    resp = create(admin_api, **body)
    assert resp.status_code == 422, resp.content
    assert resp.json()["error"]["code"] == "INVALID_INPUT"
    assert field in error_fields(resp)
    assert not Connector.objects.exists()


def test_private_base_url_is_refused(admin_api, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    resp = create(admin_api, "http://192.168.0.10:8080")
    assert resp.status_code == 422
    assert error_fields(resp) == {"config.base_url"}


def test_a_new_address_needs_the_secrets_in_the_same_patch(admin_api):
    data = create(admin_api, "https://api.fake.example").json()
    resp = admin_api.patch(
        f"/connectors/{data['id']}", {"config": {"base_url": "https://x.example"}}
    )
    assert resp.status_code == 422
    assert error_fields(resp) == {"credentials.api_token"}
    assert "entered again" in resp.json()["error"]["message"]
    resp = admin_api.patch(
        f"/connectors/{data['id']}",
        {
            "config": {"base_url": "https://x.example"},
            "credentials": {"api_token": "tok_again_123"},
        },
    )
    assert resp.status_code == 200
    assert resp.json()["config"]["base_url"] == "https://x.example"


def test_duplicate_name_is_409(admin_api):
    create(admin_api)
    resp = create(admin_api)
    assert resp.status_code == 409
    assert error_fields(resp) == {"name"}


def test_patch_merges_and_switching_to_live_needs_credentials(admin_api):
    data = create(admin_api, name="Try", mode="sandbox", credentials={}).json()
    resp = admin_api.patch(f"/connectors/{data['id']}", {"mode": "live"})
    assert resp.status_code == 422
    assert error_fields(resp) == {"credentials.api_token", "credentials.account"}
    resp = admin_api.patch(
        f"/connectors/{data['id']}",
        {"mode": "live", "credentials": CREDENTIALS, "config": {"sender": "Acme"}, "name": "Real"},
    )
    assert resp.status_code == 200, resp.content
    out = resp.json()
    assert (out["mode"], out["name"], out["config"]["sender"]) == ("live", "Real", "Acme")
    assert out["credentials_set"]["api_token"] == "tok_…5f60"
    resp = admin_api.patch(
        f"/connectors/{data['id']}", {"enabled": False, "token_expires_at": None}
    )
    assert resp.json()["enabled"] is False
    assert admin_api.patch(f"/connectors/{data['id']}", {"bogus": 1}).status_code == 422
    assert admin_api.patch(f"/connectors/{data['id']}", {"name": None}).json()["name"] == "Real"


def test_delete(admin_api):
    data = create(admin_api).json()
    assert admin_api.delete(f"/connectors/{data['id']}").status_code == 204
    assert admin_api.get(f"/connectors/{data['id']}").status_code == 404


# --- roles and tenancy ------------------------------------------------------------------------


def test_only_owners_and_admins_manage_connectors(api, viewer_api, admin_api):
    assert create(api).status_code == 403  # a member
    assert create(viewer_api).status_code == 403
    data = create(admin_api).json()
    for client in (api, viewer_api):
        assert client.patch(f"/connectors/{data['id']}", {"name": "x"}).status_code == 403
        assert client.delete(f"/connectors/{data['id']}").status_code == 403
    assert viewer_api.get(f"/connectors/{data['id']}").status_code == 200
    assert viewer_api.post(f"/connectors/{data['id']}/test").status_code == 403
    assert (
        viewer_api.post(
            f"/connectors/{data['id']}/actions/lookup", {"input": {"id": "1"}}
        ).status_code
        == 403
    )


def test_foreign_and_unknown_ids_are_404(api, other_org, make_connector):
    foreign = make_connector(organization=other_org)
    for connector_id in (foreign.pk, uuid.uuid4()):
        assert api.get(f"/connectors/{connector_id}").status_code == 404
        assert api.post(f"/connectors/{connector_id}/test").status_code == 404
        resp = api.post(f"/connectors/{connector_id}/actions/lookup", {"input": {"id": "1"}})
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "NOT_FOUND"
    assert not AgentRun.objects.exists()


def test_a_malformed_id_in_the_path_is_422_naming_it(api):
    for resp in (
        api.get("/connectors/not-a-uuid"),
        api.post("/connectors/not-a-uuid/actions/lookup", {"input": {"id": "1"}}),
    ):
        assert resp.status_code == 422
        assert resp.json()["error"]["details"][0]["field"] == "connector_id"
    assert not AgentRun.objects.exists()


def test_foreign_ids_cannot_be_changed_or_deleted(client, org, other_org, make_connector):
    foreign = make_connector(organization=other_org)
    owner_api = ApiClient(client, _key(org, Role.OWNER))
    assert owner_api.patch(f"/connectors/{foreign.pk}", {"name": "mine"}).status_code == 404
    assert owner_api.delete(f"/connectors/{foreign.pk}").status_code == 404
    assert Connector.objects.get(pk=foreign.pk).name == "Main"


# --- test connection --------------------------------------------------------------------------


def test_test_endpoint_heals_or_marks(api, httpserver, live):
    httpserver.expect_request("/me").respond_with_json(
        {"error": {"code": "bad", "message": "revoked"}}, status=401
    )
    data = api.post(f"/connectors/{live.pk}/test").json()
    assert (
        data["ok"] is False
        and data["message"] == "Fake: revoked"
        and data["health"] == "needs_reconnect"
    )
    httpserver.clear()
    httpserver.expect_request("/me").respond_with_json({"account": "acct_main"})
    data = api.post(f"/connectors/{live.pk}/test").json()
    assert (data["ok"], data["health"]) == (True, "healthy")
    assert data["last_tested_at"]


# --- actions as runs --------------------------------------------------------------------------


def test_action_runs_as_a_recorded_one_step_run(api, httpserver, live):
    httpserver.expect_request("/messages", method="POST").respond_with_json(
        {"id": "msg_9", "status": "queued", "price": "0.02"}
    )
    resp = api.post(
        f"/connectors/{live.pk}/actions/send", {"input": {"to": "+14155550100", "text": "Hello"}}
    )
    assert resp.status_code == 200, resp.content
    data = resp.json()
    assert data["status"] == "completed" and data["error"] is None
    assert data["output"]["output"] == {"id": "msg_9", "status": "queued", "to": "+14155550100"}
    assert data["output"]["provider_id"] == "msg_9" and data["output"]["sandbox"] is False
    run = AgentRun.objects.get(pk=data["run_id"])
    assert (run.agent, run.intent, run.trigger, str(run.cost)) == (
        "connector",
        "action",
        "api",
        "0.020000",
    )
    (step,) = RunStep.objects.filter(run=run)
    assert (step.provider, step.action, step.kind, step.http_status, step.status) == (
        "fake",
        "send",
        "call",
        200,
        "completed",
    )
    assert step.duration_ms is not None
    row = OutboundMessage.objects.get()
    assert row.run_id == run.id and row.status == "sent"
    assert resp["Location"] == f"/api/v1/runs/{run.id}"


def test_action_with_idempotency_key_replays_the_first_run(api, httpserver, live):
    seen = []
    httpserver.expect_request("/messages", method="POST").respond_with_handler(
        lambda r: seen.append(r) or Response('{"id": "m1", "status": "sent"}', 200)
    )
    body = {"input": {"to": "+14155550100", "text": "Hello"}}
    first = api.post(
        f"/connectors/{live.pk}/actions/send", body, headers={"Idempotency-Key": "a-1"}
    )
    again = api.post(
        f"/connectors/{live.pk}/actions/send", body, headers={"Idempotency-Key": "a-1"}
    )
    assert (
        first.json()["run_id"] == again.json()["run_id"] and again["Idempotent-Replayed"] == "true"
    )
    assert len(seen) == 1
    assert (
        api.post(
            f"/connectors/{live.pk}/actions/send", body, headers={"Idempotency-Key": "k" * 256}
        ).status_code
        == 422
    )


def test_failed_action_answers_the_run_with_its_error(api, httpserver, live):
    httpserver.expect_request("/messages/m1").respond_with_json(
        {"error": {"code": "x", "message": "no such message"}}, status=404
    )
    data = api.post(f"/connectors/{live.pk}/actions/lookup", {"input": {"id": "m1"}}).json()
    assert data["status"] == "failed"
    assert data["error"] == {"code": "CONNECTOR_REJECTED", "message": "Fake: no such message"}
    run = AgentRun.objects.get(pk=data["run_id"])
    assert run.error_context["provider"] == "fake" and run.error_context["http_status"] == 404


def test_sandbox_action_answers_without_the_network(api, make_connector):
    connector = make_connector(mode="sandbox", credentials={})
    data = api.post(
        f"/connectors/{connector.pk}/actions/send", {"input": {"to": "+14155550100", "text": "Hi"}}
    ).json()
    assert data["status"] == "completed" and data["output"]["sandbox"] is True
    step = RunStep.objects.get(run_id=data["run_id"])
    assert step.detail["sandbox"] is True
    assert OutboundMessage.objects.get().sandbox is True


@pytest.mark.parametrize(
    "action, body, field",
    [
        ("fly", {"input": {}}, "action"),
        ("send", {"input": {"to": "12", "text": "x"}}, "input.to"),
        ("send", {"input": {"text": "x"}}, "input.to"),
        ("send", {"input": "text"}, "input"),
        ("send", {"inputs": {}}, "inputs"),
    ],
)
def test_bad_action_input_is_422_and_creates_no_run(api, live, action, body, field):
    resp = api.post(f"/connectors/{live.pk}/actions/{action}", body)
    assert resp.status_code == 422, resp.content
    assert field in error_fields(resp)
    assert not AgentRun.objects.exists()


def test_connector_needing_reconnect_fails_the_run_without_calling_out(api, live):
    from connectors.services import connector_mark

    connector_mark(connector=live, health=Health.NEEDS_RECONNECT, error="token revoked")
    data = api.post(f"/connectors/{live.pk}/actions/lookup", {"input": {"id": "1"}}).json()
    assert data["status"] == "failed" and data["error"]["code"] == "CONNECTOR_AUTH"
    assert "token revoked" in data["error"]["message"]


def test_action_endpoint_waits_for_a_worker_that_took_the_run(api, live, monkeypatch):
    """If a worker claims the run first, the request answers the worker's result."""
    from agents import api as agents_api
    from agents import executor

    real = executor.execute_run

    def worker_first(run_id):
        real(run_id)  # the "worker"
        return real(run_id)  # the request's own attempt finds nothing to claim

    monkeypatch.setattr(agents_api.executor, "execute_run", worker_first)
    connector = live
    from connectors.services import connector_update

    connector_update(connector=connector, mode="sandbox")
    data = api.post(f"/connectors/{connector.pk}/actions/lookup", {"input": {"id": "1"}}).json()
    assert data["status"] == "completed"
