"""Every delivery that did not start a run is recorded with its reason, redacted and bounded."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from agents.automation import services
from agents.automation.inbound import excerpt_redact
from agents.automation.models import DeliveryStatus, WebhookDelivery
from runs.models import AgentRun

pytestmark = pytest.mark.django_db


def _generic_trigger(org, **kwargs):
    return services.trigger_create(
        organization=org,
        name=f"generic {uuid.uuid4().hex[:6]}",
        source="generic",
        agent="support",
        intent="triage",
        **kwargs,
    )


def _url(trigger):
    return reverse("hooks:generic", args=[trigger.pk])


def test_a_signed_payload_that_cannot_start_a_run_answers_422_naming_the_field(hooks, org):
    trigger, secret = _generic_trigger(org, mapping={"content": "text"})
    resp = hooks.generic(_url(trigger), {"body": "no text field"}, secret)
    assert resp.status_code == 422
    answer = resp.json()
    assert answer["status"] == "failed" and answer["error"]["code"] == "INVALID_INPUT"
    assert "content" in answer["error"]["message"].lower()
    assert any(d["field"].endswith("content") for d in answer["error"]["details"])
    row = WebhookDelivery.objects.get(pk=answer["delivery_id"])
    assert (row.status, row.http_status, row.trigger_id) == ("failed", 422, trigger.pk)
    assert "no text field" in row.body_excerpt
    assert not AgentRun.objects.exists()


def test_the_senders_retry_starts_the_run_once_the_mapping_is_fixed(hooks, org):
    trigger, secret = _generic_trigger(org, mapping={"content": "text"})
    body = {"message": "Checkout is down"}
    assert hooks.generic(_url(trigger), body, secret, event_id="evt-1").status_code == 422
    services.trigger_update(trigger=trigger, mapping={"content": "message"})
    retry = hooks.generic(_url(trigger), body, secret, event_id="evt-1")
    assert retry.status_code == 202 and retry.json()["status"] == "accepted"
    assert AgentRun.objects.get().input == {"content": "Checkout is down"}
    again = hooks.generic(_url(trigger), body, secret, event_id="evt-1")
    assert again.json()["status"] == "duplicate"


def test_refused_and_malformed_deliveries_are_recorded_with_their_reasons(hooks, org, client):
    trigger, secret = _generic_trigger(org)
    assert hooks.generic(_url(trigger), {"content": "x"}, "whsec_Zm9yZ2Vk").status_code == 403
    assert hooks.generic(_url(trigger), b"not json", secret).status_code == 400
    unknown = reverse("hooks:generic", args=[uuid.uuid4()])
    assert client.post(unknown, data=b"{}", content_type="application/json").status_code == 404
    rows = {r.http_status: r for r in WebhookDelivery.objects.all()}
    assert rows[403].trigger_id == trigger.pk and rows[403].status == DeliveryStatus.REJECTED
    assert rows[400].trigger_id == trigger.pk and rows[400].reason
    assert rows[400].body_excerpt == "not json"
    assert rows[404].organization_id is None and rows[404].reason == "Unknown trigger"


def test_excerpts_keep_no_secret(hooks, org):
    trigger, secret = _generic_trigger(org, mapping={"content": "text"})
    body = {"note": f"leaked {secret}", "password": "hunter2hunter2", "nested": {"api_key": "k"}}
    hooks.generic(_url(trigger), body, secret)
    excerpt = WebhookDelivery.objects.get().body_excerpt
    assert secret not in excerpt and "hunter2" not in excerpt and '"k"' not in excerpt
    assert excerpt.count("[redacted]") == 3


def test_redaction_covers_form_bodies_and_cut_values():
    assert excerpt_redact("From=%2B1555&token=abc123&Body=hi") == (
        "From=%2B1555&token=[redacted]&Body=hi"
    )
    assert excerpt_redact('{"client_secret": "abcdef') == '{"client_secret": "[redacted]"'
    assert excerpt_redact("Authorization: Bearer abcdefgh12345678zz") == (
        "Authorization: Bearer [redacted]"
    )


def test_refused_deliveries_are_bounded_per_organization(hooks, org, settings):
    settings.NEONHUB_WEBHOOK_REFUSED_KEEP = 3
    trigger, secret = _generic_trigger(org)
    for _ in range(6):
        hooks.generic(_url(trigger), {"content": "x"}, "whsec_Zm9yZ2Vk")
    hooks.generic(_url(trigger), {"content": "ok"}, secret)
    assert WebhookDelivery.objects.filter(status="rejected").count() == 3
    assert WebhookDelivery.objects.filter(status="accepted").count() == 1
    for _ in range(5):
        hooks.client.post(
            reverse("hooks:generic", args=[uuid.uuid4()]),
            data=b"{}",
            content_type="application/json",
        )
    assert WebhookDelivery.objects.filter(organization__isnull=True).count() == 3
    assert WebhookDelivery.objects.filter(organization=org, status="rejected").count() == 3


def test_the_api_answers_the_redacted_payload_even_of_older_rows(api, org):
    WebhookDelivery.objects.create(
        organization=org,
        source="generic",
        status="failed",
        http_status=202,
        body_excerpt='{"password": "from-before-redaction", "text": "hi"}',
    )
    [row] = api.get("/triggers/deliveries").json()["items"]
    assert row["body_excerpt"] == '{"password": "[redacted]", "text": "hi"}'
