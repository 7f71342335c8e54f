"""The triggers, schedules, contacts, contact-lists and batches API."""

from __future__ import annotations

import uuid

import pytest

from agents.automation.models import Batch, RecurringSchedule, Trigger, WebhookDelivery
from neonhub.api import api as neonhub_api
from runs.models import AgentRun
from tests.factories import (
    BatchFactory,
    BatchItemFactory,
    ConnectorFactory,
    ContactFactory,
    TriggerFactory,
)
from tests.helpers import api_upload

pytestmark = pytest.mark.django_db


# --- triggers -------------------------------------------------------------------------------


def test_create_a_generic_trigger_shows_its_secret_once(api):
    resp = api.post(
        "/triggers",
        {
            "name": "Signups",
            "source": "generic",
            "agent": "support",
            "intent": "triage",
            "mapping": {"content": "message"},
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["secret"].startswith("whsec_") and body["secret_set"].startswith("whse")
    assert body["webhook_url"] == f"https://hub.example.com/hooks/generic/{body['id']}"
    detail = api.get(f"/triggers/{body['id']}").json()
    assert "secret" not in detail and detail["secret_set"] == body["secret_set"]
    assert body["secret"] not in str(api.get("/triggers").content)
    assert "webhook-signature" in body["signing"] and "signing" not in detail


def test_trigger_sources_are_listed_from_the_providers(api):
    sources = {s["source"]: s for s in api.get("/triggers/sources").json()}
    assert sources["twilio_sms.inbound"] == {
        "source": "twilio_sms.inbound",
        "label": "Twilio SMS: inbound message",
        "provider": "twilio_sms",
    }
    assert sources["shopify.checkouts/update"]["provider"] == "shopify"
    assert sources["fake_hooks.ping"]["provider"] == "fake_hooks"  # a test-only provider
    assert sources["generic"]["provider"] is None


def test_a_provider_trigger_points_at_its_connectors_url(api, twilio_sms):
    resp = api.post(
        "/triggers",
        {
            "name": "SMS replies",
            "source": "twilio_sms.inbound",
            "connector_id": str(twilio_sms.pk),
            "agent": "support",
            "intent": "reply",
        },
    )
    body = resp.json()
    assert (
        body["webhook_url"].endswith(f"/hooks/twilio/{twilio_sms.pk}/inbound")
        and body["secret"] is None
    )
    any_connector = api.post(
        "/triggers",
        {"name": "Any", "source": "twilio_sms.inbound", "agent": "support", "intent": "reply"},
    ).json()
    assert any_connector["webhook_url"] is None


@pytest.mark.parametrize(
    "data, field",
    [
        ({"source": "carrier_pigeon"}, "source"),
        ({"agent": "nobody"}, "agent"),
        ({"intent": "dance"}, "intent"),
        ({"mapping": {"content": ""}}, "mapping.content"),
        ({"extra": 1}, "extra"),
    ],
)
def test_trigger_input_errors_name_the_field(api, data, field):
    base = {"name": "T", "source": "generic", "agent": "support", "intent": "triage"}
    resp = api.post("/triggers", {**base, **data})
    assert resp.status_code == 422, resp.content
    assert field in [d["field"] for d in resp.json()["error"]["details"]]


def test_a_connector_of_the_wrong_provider_or_organization_is_refused(api, facebook, other_org):
    base = {"name": "T", "source": "twilio_sms.inbound", "agent": "support", "intent": "reply"}
    resp = api.post("/triggers", {**base, "connector_id": str(facebook.pk)})
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "connector_id"
    foreign = ConnectorFactory(organization=other_org, provider="twilio_sms")
    assert api.post("/triggers", {**base, "connector_id": str(foreign.pk)}).status_code == 404


def test_update_rotate_deliveries_and_delete(api, hooks):
    created = api.post(
        "/triggers", {"name": "T", "source": "generic", "agent": "support", "intent": "triage"}
    ).json()
    tid = created["id"]
    assert (
        api.patch(f"/triggers/{tid}", {"enabled": False, "name": "Renamed"}).json()["enabled"]
        is False
    )
    assert api.patch(f"/triggers/{tid}", {"intent": "nope"}).status_code == 422
    assert (
        api.post(
            "/triggers",
            {"name": "Renamed", "source": "generic", "agent": "support", "intent": "triage"},
        ).status_code
        == 409
    )
    rotated = api.post(f"/triggers/{tid}/rotate-secret").json()
    secret = rotated["secret"]
    assert "Standard Webhooks" in rotated["signing"]
    hooks.generic(f"/hooks/generic/{tid}", {"content": "x"}, secret)
    hooks.generic(f"/hooks/generic/{tid}", {"content": "x"}, "whsec_d3Jvbmc=")
    deliveries = api.get(f"/triggers/{tid}/deliveries").json()["items"]
    assert {d["status"] for d in deliveries} == {"ignored", "rejected"}
    rejected = api.get("/triggers/deliveries", {"status": "rejected"}).json()["items"]
    assert len(rejected) == 1 and rejected[0]["reason"] == "signature does not match"
    assert api.delete(f"/triggers/{tid}").status_code == 204
    assert not Trigger.objects.exists() and WebhookDelivery.objects.count() == 2


def _walk(api, path: str, **params) -> list[dict]:
    """Every item of a paged list, following next_cursor; each page holds at most ``limit``."""
    items, cursor = [], None
    while True:
        page = api.get(path, {**params, **({"cursor": cursor} if cursor else {})}).json()
        assert len(page["items"]) <= params["limit"]
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def _forged(hooks, trigger, count: int) -> None:
    for _ in range(count):
        hooks.generic(f"/hooks/generic/{trigger.pk}", {"content": "x"}, "whsec_d3Jvbmc=")


@pytest.mark.parametrize("path", ["/triggers/deliveries", "/triggers/{id}/deliveries"])
def test_deliveries_are_paged_newest_first_with_a_cursor(api, org, other_org, hooks, path):
    trigger = TriggerFactory(organization=org)
    _forged(hooks, trigger, 5)
    _forged(hooks, TriggerFactory(organization=other_org), 1)
    first = api.get(path.format(id=trigger.pk), {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    items = _walk(api, path.format(id=trigger.pk), limit=2, status="rejected")
    expected = WebhookDelivery.objects.filter(organization=org).order_by("-created_at", "-id")
    assert [d["id"] for d in items] == [str(d.pk) for d in expected]


@pytest.mark.parametrize(
    "path", ["/triggers/deliveries", "/triggers/{id}/deliveries", "/batches", "/batches/{id}/items"]
)
def test_a_mangled_cursor_answers_422_naming_it(api, org, path):
    parent = TriggerFactory if path.startswith("/triggers") else BatchFactory
    resp = api.get(path.format(id=parent(organization=org).pk), {"cursor": "bm9wZQ"})
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "cursor"


def test_rotating_a_provider_triggers_secret_is_refused(api, twilio_sms):
    tid = api.post(
        "/triggers",
        {"name": "T", "source": "twilio_sms.inbound", "agent": "support", "intent": "reply"},
    ).json()["id"]
    assert api.post(f"/triggers/{tid}/rotate-secret").status_code == 422


def test_viewers_read_but_do_not_write(api, viewer_api):
    tid = api.post(
        "/triggers", {"name": "T", "source": "generic", "agent": "support", "intent": "triage"}
    ).json()["id"]
    assert viewer_api.get("/triggers").status_code == 200
    assert (
        viewer_api.post(
            "/triggers", {"name": "V", "source": "generic", "agent": "support", "intent": "triage"}
        ).status_code
        == 403
    )
    assert viewer_api.delete(f"/triggers/{tid}").status_code == 403
    assert (
        viewer_api.post(
            "/schedules",
            {
                "name": "S",
                "agent": "support",
                "intent": "triage",
                "payload": {"content": "x"},
                "cron": "0 9 * * 2",
            },
        ).status_code
        == 403
    )
    assert viewer_api.post("/contacts", {"phone": "+14155550100"}).status_code == 403
    assert (
        viewer_api.post(
            "/batches", {"agent": "support", "intent": "triage", "items": [{}]}
        ).status_code
        == 403
    )


# --- schedules ------------------------------------------------------------------------------


def test_schedule_lifecycle_with_the_next_five_times(api, org):
    preview = api.post("/schedules/preview", {"cron": "0 9 * * 2"}).json()
    assert preview["timezone"] == org.timezone and len(preview["times"]) == 5
    resp = api.post(
        "/schedules",
        {
            "name": "Tuesday post",
            "agent": "support",
            "intent": "triage",
            "payload": {"content": "Weekly"},
            "cron": "0 9 * * 2",
            "timezone": "Europe/Berlin",
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["timezone"] == "Europe/Berlin" and len(body["next_runs"]) == 5
    assert body["next_runs"][0].endswith(("+01:00", "+02:00"))
    sid = body["id"]
    paused = api.post(f"/schedules/{sid}/pause").json()
    assert paused["paused"] and paused["next_runs"] == [] and paused["next_run_at"] is None
    assert api.post(f"/schedules/{sid}/resume").json()["next_run_at"]
    changed = api.patch(
        f"/schedules/{sid}", {"cron": None, "interval_minutes": 30, "name": "Half hourly"}
    ).json()
    assert changed["kind"] == "interval" and changed["name"] == "Half hourly"
    assert (
        api.patch(f"/schedules/{sid}", {"timezone": "Asia/Tokyo"}).json()["timezone"]
        == "Asia/Tokyo"
    )
    assert api.get(f"/schedules/{sid}").json()["last_run_status"] is None
    assert len(api.get("/schedules").json()) == 1
    assert api.delete(f"/schedules/{sid}").status_code == 204
    assert not RecurringSchedule.objects.exists()


def test_schedule_errors(api):
    assert (
        api.post("/schedules/preview", {"cron": "every tuesday"}).json()["error"]["details"][0][
            "field"
        ]
        == "cron"
    )
    assert (
        api.post("/schedules/preview", {"cron": "0 9 * * 2", "timezone": "Moon/Base"}).status_code
        == 422
    )
    resp = api.post(
        "/schedules",
        {"name": "S", "agent": "support", "intent": "triage", "payload": {}, "cron": "0 9 * * 2"},
    )
    assert (
        resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "payload.content"
    )


# --- batches --------------------------------------------------------------------------------


def test_start_a_batch_from_a_json_list_and_follow_its_progress(
    api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        resp = api.post(
            "/batches",
            {
                "name": "Tickets",
                "agent": "support",
                "intent": "triage",
                "items": [{"content": "Checkout is down"}, {"content": "Invoice question"}],
            },
        )
    assert resp.status_code == 202, resp.content
    bid = resp.json()["id"]
    batch = api.get(f"/batches/{bid}").json()
    assert batch["status"] == "completed"
    assert {k: batch["progress"][k] for k in ("total", "done", "failed", "remaining")} == {
        "total": 2,
        "done": 2,
        "failed": 0,
        "remaining": 0,
    }
    items = api.get(f"/batches/{bid}/items").json()
    assert [i["index"] for i in items["items"]] == [0, 1] and items["next_cursor"] is None
    assert items["items"][0]["run_status"] == "completed"
    assert api.get("/batches").json()["items"][0]["id"] == bid


def test_batches_are_paged_newest_first_with_a_cursor(api, org, other_org):
    ours = BatchFactory.create_batch(5, organization=org)
    BatchFactory(organization=other_org)
    items = _walk(api, "/batches", limit=2)
    expected = sorted(ours, key=lambda b: (b.created_at, b.pk), reverse=True)
    assert [b["id"] for b in items] == [str(b.pk) for b in expected]


def test_batch_items_are_paged_in_input_order_with_a_cursor(api, org):
    batch = BatchFactory(organization=org)
    for index in (3, 0, 4, 1, 2):
        BatchItemFactory(batch=batch, index=index, status="failed" if index % 2 else "queued")
    BatchItemFactory(batch=BatchFactory(organization=org), index=5)
    path = f"/batches/{batch.pk}/items"
    assert [i["index"] for i in _walk(api, path, limit=2)] == [0, 1, 2, 3, 4]
    assert [i["index"] for i in _walk(api, path, limit=1, status="failed")] == [1, 3]


def test_after_still_pages_batch_items_for_one_release_and_is_marked_deprecated(api, org):
    batch = BatchFactory(organization=org)
    for index in range(4):
        BatchItemFactory(batch=batch, index=index)
    page = api.get(f"/batches/{batch.pk}/items", {"after": 0, "limit": 2}).json()
    assert [i["index"] for i in page["items"]] == [1, 2]
    rest = api.get(f"/batches/{batch.pk}/items", {"after": 0, "cursor": page["next_cursor"]})
    assert [i["index"] for i in rest.json()["items"]] == [3]
    params = neonhub_api.get_openapi_schema()["paths"]["/api/v1/batches/{batch_id}/items"]["get"][
        "parameters"
    ]
    assert next(p for p in params if p["name"] == "after")["deprecated"] is True


def test_another_organizations_batch_items_and_trigger_deliveries_are_404(api, other_org):
    batch = BatchFactory(organization=other_org)
    trigger = TriggerFactory(organization=other_org)
    assert api.get(f"/batches/{batch.pk}/items").status_code == 404
    assert api.get(f"/triggers/{trigger.pk}/deliveries").status_code == 404


def test_batch_from_a_csv_upload_with_a_column_mapping(
    api, twilio_sms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        resp = api_upload(
            api,
            "/batches/upload",
            "Mobile,Name\n+14155550100,Ada\n",
            agent="messaging",
            intent="send-sms",
            name="Launch",
            mapping='{"to": "Mobile", "variables.name": "Name"}',
            defaults='{"body": "Hi {{name}}"}',
        )
    assert resp.status_code == 202, resp.content
    assert resp.json()["source"] == "csv"
    run = AgentRun.objects.get()
    assert run.status == "completed" and run.output["to"] == "+14155550100"


def test_batch_upload_errors(api):
    resp = api_upload(
        api, "/batches/upload", "a\n1\n", agent="support", intent="triage", mapping="[1]"
    )
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "mapping"
    resp = api_upload(
        api, "/batches/upload", "a\n1\n", agent="support", intent="triage", defaults="not json"
    )
    assert resp.json()["error"]["details"][0]["field"] == "defaults"
    assert (
        api.client.post(
            "/api/v1/batches/upload",
            data={"agent": "support", "intent": "triage"},
            headers=api.headers,
        ).status_code
        == 422
    )


def test_batch_over_a_contact_list_and_its_controls(api, org, settings):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 1
    ConnectorFactory(organization=org, provider="twilio_sms")  # the SMS go out through it
    contacts_list = api.post("/contact-lists", {"name": "All"}).json()["id"]
    people = ContactFactory.create_batch(3, organization=org)
    api.post(
        f"/contact-lists/{contacts_list}/members", {"contact_ids": [str(p.pk) for p in people]}
    )
    resp = api.post(
        "/batches",
        {
            "agent": "messaging",
            "intent": "send-sms",
            "contact_list_id": contacts_list,
            "defaults": {"body": "Hello"},
        },
    )
    assert resp.status_code == 202, resp.content
    bid = resp.json()["id"]
    assert api.post(f"/batches/{bid}/pause").json()["status"] == "paused"
    assert api.post(f"/batches/{bid}/pause").status_code == 409
    assert api.post(f"/batches/{bid}/resume").json()["status"] == "running"
    assert api.post(f"/batches/{bid}/cancel").json()["status"] == "cancelled"
    assert Batch.objects.get().pause_reason == "Cancelled by a person"


def test_a_batch_whose_first_input_would_be_refused_is_not_created(api, org):
    resp = api.post(
        "/batches",
        {
            "agent": "email",
            "intent": "send",
            "items": [{"subject": "s", "body": "b", "recipients": ["a@b.co"]}],
        },
    )
    assert resp.status_code == 422
    assert resp.json()["error"]["details"] == [
        {
            "field": "connector",
            "message": "There is no SMTP email connector to send email: add one under Connectors.",
        }
    ]
    assert not Batch.objects.exists() and not AgentRun.objects.exists()


def test_batch_needs_exactly_one_source(api, org):
    base = {"agent": "support", "intent": "triage"}
    assert api.post("/batches", base).status_code == 422
    both = {**base, "items": [{"content": "x"}], "contact_list_id": str(uuid.uuid4())}
    assert api.post("/batches", both).json()["error"]["details"][0]["field"] == "items"
    assert api.post("/batches", {**base, "contact_list_id": str(uuid.uuid4())}).status_code == 404
