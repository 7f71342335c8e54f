"""Forged and malformed webhook requests: 403 for a signature that does not verify, 400 for a
verified body that is malformed, never a 5xx, and no traceback in the log."""

from __future__ import annotations

import copy
import logging
import uuid

import pytest
from django.urls import reverse

from agents.automation import services
from agents.automation.models import WebhookDelivery
from tests.agents.conftest import fixture

pytestmark = pytest.mark.django_db

HUGE_TIMESTAMP = "9" * 4300


@pytest.fixture
def no_tracebacks(caplog):
    caplog.set_level(logging.WARNING)
    yield
    assert not [r for r in caplog.records if r.exc_info], "a forged request logged a traceback"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def _generic(org):
    trigger, secret = services.trigger_create(
        organization=org, name="Sender", source="generic", agent="support", intent="triage"
    )
    return reverse("hooks:generic", args=[trigger.pk]), secret


def _meta(connector):
    return reverse("hooks:provider", args=["meta", connector.pk])


def _twilio(connector):
    return reverse("hooks:provider-kind", args=["twilio", connector.pk, "inbound"])


def _shopify(connector):
    return reverse("hooks:provider", args=["shopify", connector.pk])


@pytest.mark.parametrize("signature", ["sïgnature", "签名", "\u00ff" * 64])
def test_non_ascii_signatures_answer_403(
    hooks, org, twilio_sms, facebook, shopify, no_tracebacks, signature
):
    params = fixture("twilio", "webhook_inbound_sms.json")
    body = fixture("meta", "webhook_page_comment.json")
    assert hooks.twilio(_twilio(twilio_sms), params, signature=signature).status_code == 403
    assert hooks.meta(_meta(facebook), body, signature=signature).status_code == 403
    assert hooks.shopify(_shopify(shopify), {"id": 1}, signature=signature).status_code == 403
    path, secret = _generic(org)
    forged = {
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": signature,
    }
    assert hooks.generic(path, {"a": 1}, secret, headers=forged).status_code == 403
    assert hooks.legacy(path, {"a": 1}, secret, header=signature).status_code == 403


def test_absurd_timestamps_answer_403(hooks, org, no_tracebacks):
    path, secret = _generic(org)
    signed = {
        "webhook-id": f"msg_{uuid.uuid4().hex}",
        "webhook-timestamp": HUGE_TIMESTAMP,
        "webhook-signature": "v1,c2lnbmF0dXJl",
    }
    assert hooks.generic(path, {"a": 1}, secret, headers=signed).status_code == 403
    legacy = f"t={HUGE_TIMESTAMP},v1={'0' * 64}"
    assert hooks.legacy(path, {"a": 1}, secret, header=legacy).status_code == 403
    assert WebhookDelivery.objects.filter(http_status=403).count() == 2


@pytest.mark.parametrize("sender", ["a string", ["a", "list"], 42])
def test_a_signed_meta_comment_whose_from_is_not_an_object_answers_400(
    hooks, org, facebook, no_tracebacks, sender
):
    services.trigger_create(
        organization=org,
        name="Comments",
        source="facebook_page.comment",
        agent="support",
        intent="triage",
        connector=facebook,
    )
    body = copy.deepcopy(fixture("meta", "webhook_page_comment.json"))
    body["entry"][0]["changes"][0]["value"]["from"] = sender
    resp = hooks.meta(_meta(facebook), body)
    assert resp.status_code == 400
    assert WebhookDelivery.objects.get().http_status == 400


@pytest.mark.parametrize(
    "value",
    [{"message": ["not", "text"]}, {"comment_id": {"id": 1}}, {"created_time": "soon"}],
)
def test_other_malformed_meta_fields_answer_400_not_5xx(hooks, org, facebook, no_tracebacks, value):
    services.trigger_create(
        organization=org,
        name="Comments",
        source="facebook_page.comment",
        agent="support",
        intent="triage",
        connector=facebook,
    )
    body = copy.deepcopy(fixture("meta", "webhook_page_comment.json"))
    body["entry"][0]["changes"][0]["value"].update(value)
    resp = hooks.meta(_meta(facebook), body)
    assert resp.status_code in (200, 400)
