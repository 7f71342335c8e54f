from __future__ import annotations

import uuid

import pytest

from runs.models import AgentRun, RunStatus
from tests.factories import AgentRunFactory

pytestmark = pytest.mark.django_db


def start(api, payload=None, **kw):
    body = {
        "agent": "support",
        "intent": "triage",
        "payload": payload or {"content": "Site is down, urgent!"},
    }
    return api.post("/runs", body, **kw)


def test_start_run_answers_202_and_completes_with_steps(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = start(api)
    assert resp.status_code == 202, resp.content
    data = resp.json()
    assert data["status"] == "queued"
    assert data["links"]["self"] == f"/api/v1/runs/{data['id']}"
    detail = api.get(f"/runs/{data['id']}").json()
    assert detail["status"] == "completed"
    assert detail["output"]["priority"] == "urgent"
    assert detail["output"]["category"] == "technical"
    assert detail["metrics"]["priority"] == "urgent"
    assert [s["name"] for s in detail["steps"]] == ["classify"]
    assert detail["steps"][0]["status"] == "completed"
    assert detail["duration_ms"] is not None
    assert detail["attempt"] == 1


def test_agent_aliases_resolve(api):
    for alias in ("support", "support-agent", "SupportAgent"):
        resp = api.post("/runs", {"agent": alias, "intent": "triage", "payload": {"content": "hi"}})
        assert resp.status_code == 202
        assert resp.json()["agent"] == "support"


def test_unknown_agent_is_422_naming_the_field(api):
    resp = api.post("/runs", {"agent": "nope", "intent": "x", "payload": {}})
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["code"] == "AGENT_NOT_REGISTERED"
    assert err["details"][0]["field"] == "agent"
    assert AgentRun.objects.count() == 0


def test_unknown_intent_is_422(api):
    resp = api.post("/runs", {"agent": "support", "intent": "dance", "payload": {}})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "UNSUPPORTED_INTENT"


def test_invalid_payload_names_the_field(api):
    resp = api.post(
        "/runs",
        {"agent": "support", "intent": "triage", "payload": {"content": "", "channel": "fax"}},
    )
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["code"] == "INVALID_INPUT"
    fields = {d["field"] for d in err["details"]}
    assert {"payload.content", "payload.channel"} <= fields
    assert AgentRun.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"agent": 5, "intent": "triage", "payload": {}},
        {"agent": "support", "intent": "triage", "payload": "not an object"},
        {"intent": "triage"},
        {"agent": "support", "intent": "triage", "payload": {}, "extra": 1},
        [],
    ],
)
def test_wrong_types_are_422(api, body):
    resp = (
        api.client.post(
            "/api/v1/runs", data=body, content_type="application/json", headers=api.headers
        )
        if not isinstance(body, list)
        else api.client.post(
            "/api/v1/runs", data="[]", content_type="application/json", headers=api.headers
        )
    )
    assert resp.status_code == 422, resp.content
    assert resp.json()["error"]["code"] == "INVALID_INPUT"


def test_malformed_json_is_400(api):
    resp = api.client.post(
        "/api/v1/runs", data="{not json", content_type="application/json", headers=api.headers
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "BAD_REQUEST"


def test_huge_body_is_413(api, settings):
    big = "x" * (settings.NEONHUB_MAX_BODY_BYTES + 10)
    resp = api.post("/runs", {"agent": "support", "intent": "triage", "payload": {"content": big}})
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_no_auth_is_401(client):
    resp = client.get("/api/v1/runs")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "UNAUTHENTICATED"


def test_revoked_and_expired_keys_are_refused(client, org):
    from datetime import timedelta

    from django.utils import timezone

    from neonhub.core.models import ApiKey
    from neonhub.core.services import api_key_create, api_key_revoke

    revoked = api_key_create(organization=org, name="r")
    api_key_revoke(api_key=revoked.api_key)
    expired = api_key_create(
        organization=org, name="e", expires_at=timezone.now() + timedelta(seconds=30)
    )
    # A key cannot be created already expired (422): let this one run out.
    ApiKey.objects.filter(pk=expired.api_key.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    for token in (revoked.token, expired.token, revoked.token + "x", "garbage"):
        assert (
            client.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )


def test_idempotency_key_returns_first_run_and_conflicts_on_other_body(api):
    first = start(api, headers={"Idempotency-Key": "abc-1"})
    again = start(api, headers={"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    other = start(api, {"content": "something else"}, headers={"Idempotency-Key": "abc-1"})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "CONFLICT"
    assert AgentRun.objects.count() == 1


def test_idempotency_key_too_long_is_422(api):
    resp = start(api, headers={"Idempotency-Key": "k" * 256})
    assert resp.status_code == 422


def test_viewer_cannot_start_or_cancel(viewer_api, org):
    assert start(viewer_api).status_code == 403
    run = AgentRunFactory(organization=org)
    assert viewer_api.post(f"/runs/{run.id}/cancel").status_code == 403
    assert viewer_api.get(f"/runs/{run.id}").status_code == 200


def test_list_filters_and_cursor(api, org):
    runs = [
        AgentRunFactory(organization=org, status=RunStatus.COMPLETED if i % 2 else RunStatus.FAILED)
        for i in range(7)
    ]
    AgentRunFactory()  # another organization's run never shows
    page1 = api.get("/runs", {"limit": 3}).json()
    assert len(page1["items"]) == 3 and page1["next_cursor"]
    page2 = api.get("/runs", {"limit": 3, "cursor": page1["next_cursor"]}).json()
    page3 = api.get("/runs", {"limit": 3, "cursor": page2["next_cursor"]}).json()
    ids = [r["id"] for p in (page1, page2, page3) for r in p["items"]]
    assert len(ids) == len(set(ids)) == 7
    assert page3["next_cursor"] is None
    assert set(ids) == {str(r.id) for r in runs}
    failed = api.get("/runs", {"status": "failed"}).json()["items"]
    assert {r["status"] for r in failed} == {"failed"} and len(failed) == 4


def test_list_bad_filters_are_422(api):
    for params in (
        {"status": "bogus"},
        {"limit": 0},
        {"limit": 101},
        {"created_after": "yesterday"},
        {"cursor": "%%%"},
        {"cursor": "bm90IGpzb24"},
        {"agent": "nope"},
    ):
        resp = api.get("/runs", params)
        assert resp.status_code == 422, (params, resp.content)


def test_list_date_filters(api, org):
    from datetime import timedelta

    from django.utils import timezone

    old = AgentRunFactory(organization=org, created_at=timezone.now() - timedelta(days=3))
    new = AgentRunFactory(organization=org)
    cutoff = (timezone.now() - timedelta(days=1)).isoformat()
    after = api.get("/runs", {"created_after": cutoff}).json()["items"]
    before = api.get("/runs", {"created_before": cutoff}).json()["items"]
    assert [r["id"] for r in after] == [str(new.id)]
    assert [r["id"] for r in before] == [str(old.id)]


def test_a_run_shows_its_origin_and_the_list_filters_by_it(api, org, other_org):
    batch_id, schedule_id, delivery_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    fed = AgentRunFactory(organization=org, trigger="batch", batch_id=batch_id)
    failed = AgentRunFactory(
        organization=org, trigger="batch", batch_id=batch_id, status=RunStatus.FAILED
    )
    scheduled = AgentRunFactory(organization=org, trigger="schedule", schedule_id=schedule_id)
    hooked = AgentRunFactory(organization=org, trigger="webhook", delivery_id=delivery_id)
    retry = AgentRunFactory(organization=org, trigger="retry", parent=failed)
    direct = AgentRunFactory(organization=org)
    AgentRunFactory(organization=other_org, trigger="batch", batch_id=batch_id)  # never shows

    by_id = {r["id"]: r for r in api.get("/runs", {"limit": 100}).json()["items"]}
    assert by_id[str(fed.id)]["batch_id"] == str(batch_id)
    assert by_id[str(fed.id)]["origin"] == {
        "kind": "batch",
        "id": str(batch_id),
        "api": f"/api/v1/batches/{batch_id}",
        "page": f"/batches/{batch_id}/",
    }
    assert by_id[str(scheduled.id)]["origin"]["page"] == f"/schedules/#schedule-{schedule_id}"
    assert by_id[str(hooked.id)]["origin"] == {
        "kind": "delivery",
        "id": str(delivery_id),
        "api": None,
        "page": "/triggers/",
    }
    assert by_id[str(retry.id)]["origin"]["api"] == f"/api/v1/runs/{failed.id}"
    assert by_id[str(direct.id)]["origin"] is None
    assert api.get(f"/runs/{hooked.id}").json()["origin"]["kind"] == "delivery"

    def ids(**params):
        return {r["id"] for r in api.get("/runs", params).json()["items"]}

    assert ids(batch_id=batch_id) == {str(fed.id), str(failed.id)}
    assert ids(batch_id=batch_id, status="failed") == {str(failed.id)}
    assert ids(schedule_id=schedule_id) == {str(scheduled.id)}
    assert ids(delivery_id=delivery_id) == {str(hooked.id)}
    assert ids(batch_id=uuid.uuid4()) == set()


@pytest.mark.parametrize("field", ["batch_id", "schedule_id", "delivery_id"])
def test_an_origin_filter_that_is_not_a_uuid_is_422_naming_it(api, field):
    resp = api.get("/runs", {field: "batch-7"})
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]


def test_openapi_lists_the_kinds_of_origin(client):
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    origin = schemas["RunOriginOut"]["properties"]["kind"]
    kind = schemas[origin["$ref"].rsplit("/", 1)[1]] if "$ref" in origin else origin
    assert kind["enum"] == ["batch", "schedule", "delivery", "parent"]


def test_foreign_and_unknown_ids_are_404(api, other_org):
    foreign = AgentRunFactory(organization=other_org)
    for path in (f"/runs/{foreign.id}", f"/runs/{uuid.uuid4()}"):
        resp = api.get(path)
        assert resp.status_code == 404
        assert resp.json()["error"]["code"] == "NOT_FOUND"
    assert api.post(f"/runs/{foreign.id}/cancel").status_code == 404
    assert api.post(f"/runs/{foreign.id}/retry").status_code == 404


def test_a_malformed_id_in_the_path_is_422_naming_it(api):
    resp = api.get("/runs/not-a-uuid")
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["run_id"]


def test_cancel_queued_run(api, org):
    run = AgentRunFactory(organization=org)
    resp = api.post(f"/runs/{run.id}/cancel")
    assert resp.status_code == 202
    assert resp.json()["status"] == "cancelled"
    assert api.post(f"/runs/{run.id}/cancel").status_code == 409


def test_retry_creates_linked_run(api, org, django_capture_on_commit_callbacks):
    run = AgentRunFactory(
        organization=org, status=RunStatus.FAILED, input={"content": "login broken"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        resp = api.post(f"/runs/{run.id}/retry")
    assert resp.status_code == 202
    new = api.get(f"/runs/{resp.json()['id']}").json()
    assert new["parent_id"] == str(run.id)
    assert new["trigger"] == "retry"
    assert new["status"] == "completed"
    assert api.get(f"/runs/{run.id}").json()["children"] == [new["id"]]


def test_a_retry_continues_the_lineage_and_lists_with_it(api, org, run_now):
    first = AgentRunFactory(organization=org, status=RunStatus.FAILED, input={"content": "x"})
    retry = run_now(api.post, f"/runs/{first.id}/retry").json()
    again = AgentRunFactory(organization=org, status=RunStatus.FAILED)  # another lineage
    assert retry["lineage_id"] == str(first.id) and retry["links"]["rerun"].endswith("/rerun")
    listed = api.get("/runs", {"lineage_id": str(first.id)}).json()["items"]
    assert [r["id"] for r in listed] == [retry["id"], str(first.id)]
    assert str(again.id) not in {r["id"] for r in listed}


def test_rerun_with_new_input_starts_a_new_lineage(api, org, run_now):
    first = AgentRunFactory(
        organization=org, status=RunStatus.COMPLETED, input={"content": "login broken"}
    )
    resp = run_now(
        api.post,
        f"/runs/{first.id}/rerun",
        {"payload": {"content": "password reset fails"}},
        headers={"Idempotency-Key": "rerun-1"},
    )
    assert resp.status_code == 202, resp.content
    new = api.get(f"/runs/{resp.json()['id']}").json()
    assert new["input"] == {"content": "password reset fails"} and new["status"] == "completed"
    assert new["lineage_id"] == new["id"] and new["parent_id"] == str(first.id)
    assert new["trigger"] == "api" and resp["Location"] == f"/api/v1/runs/{new['id']}"
    repeat = api.post(
        f"/runs/{first.id}/rerun",
        {"payload": {"content": "password reset fails"}},
        headers={"Idempotency-Key": "rerun-1"},
    )
    assert repeat.json()["id"] == new["id"] and repeat["Idempotent-Replayed"] == "true"


def test_rerun_refuses_bad_input_naming_the_field_and_foreign_or_active_runs(api, org, other_org):
    done = AgentRunFactory(organization=org, status=RunStatus.FAILED)
    resp = api.post(f"/runs/{done.id}/rerun", {"payload": {"content": ""}})
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["payload.content"]
    missing = api.post(f"/runs/{done.id}/rerun", {})
    assert missing.status_code == 422
    assert [d["field"] for d in missing.json()["error"]["details"]] == ["payload.content"]
    foreign = AgentRunFactory(organization=other_org, status=RunStatus.FAILED)
    assert api.post(f"/runs/{foreign.id}/rerun", {"payload": {"content": "x"}}).status_code == 404
    running = AgentRunFactory(organization=org, status=RunStatus.RUNNING)
    assert api.post(f"/runs/{running.id}/rerun", {"payload": {"content": "x"}}).status_code == 409
    assert AgentRun.objects.filter(parent__in=[done, running]).count() == 0


def test_retry_of_running_run_is_409(api, org):
    run = AgentRunFactory(organization=org, status=RunStatus.RUNNING)
    assert api.post(f"/runs/{run.id}/retry").status_code == 409


def test_stats(api, org):
    from django.utils import timezone

    from runs.rollups import rollups_rebuild

    for ms in (10, 20, 30, 40, 1000):
        AgentRunFactory(
            organization=org, status=RunStatus.COMPLETED, duration_ms=ms, finished_at=timezone.now()
        )
    AgentRunFactory(organization=org, status=RunStatus.FAILED, finished_at=timezone.now())
    AgentRunFactory(organization=org, status=RunStatus.QUEUED)
    AgentRunFactory(organization=org, status=RunStatus.AWAITING_APPROVAL)  # counted live
    AgentRunFactory()  # another organization's
    rollups_rebuild(organization=org)
    data = api.get("/runs/stats", {"window_hours": 24}).json()
    assert data["totals"] == {
        "queued": 1,
        "running": 0,
        "completed": 5,
        "failed": 1,
        "cancelled": 0,
        "awaiting_approval": 1,
        "scheduled": 0,
    }
    [support] = data["agents"]
    assert support["agent"] == "support" and support["completed"] == 5
    # Percentiles come from the rollups' log-spaced histogram: right to within a bucket.
    assert 20 <= support["p50_ms"] <= 45
    assert 700 <= support["p95_ms"] <= 2000
    assert api.get("/runs/stats", {"window_hours": 0}).status_code == 422


def test_agent_catalog_lists_intents_with_schemas(api):
    data = api.get("/agents").json()
    support = next(a for a in data if a["slug"] == "support")
    names = {i["name"] for i in support["intents"]}
    assert {"support", "triage", "macro-suggest"} <= names
    triage = next(i for i in support["intents"] if i["name"] == "triage")
    assert "content" in triage["input_schema"]["properties"]


def test_openapi_and_docs(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


def test_session_auth_uses_chosen_organization(client, owner, org):
    client.force_login(owner)
    resp = client.get("/api/v1/runs")
    assert resp.status_code == 200
    # Unsafe methods need the CSRF token with a session.
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.post("/api/v1/runs", data={}, content_type="application/json").status_code == 403


def test_failed_run_detail_keeps_the_stack_from_members(api, org, run_now, client):
    from agents import services
    from neonhub.core.models import Role
    from tests.factories import MembershipFactory

    run, _ = run_now(
        services.run_start,
        organization=org,
        agent="testing",
        intent="reject",
        payload={"text": "x"},
    )
    context = api.get(f"/runs/{run.id}").json()["error_context"]
    assert context["step"] == "call provider" and "stack" not in context
    assert AgentRun.objects.get(pk=run.id).error_context["stack"]  # still stored for staff
    staff = MembershipFactory(organization=org, role=Role.MEMBER).user
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)
    assert "Traceback" in client.get(f"/api/v1/runs/{run.id}").json()["error_context"]["stack"]
