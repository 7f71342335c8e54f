"""A run's cost is the sum of its steps' costs and agrees with its outbox; a sandbox run spends
nothing and shows what it would have cost, apart."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import responses

from connectors.models import OutboundMessage
from connectors.services import connector_create
from tests.agents.conftest import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.django_db

TWILIO = Path(__file__).resolve().parents[2] / "fixtures" / "twilio"
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
SMS = {"to": "+14155550123", "body": "Your order has shipped"}


def test_a_sandbox_sms_run_costs_nothing_and_shows_what_it_would_cost(run_intent, twilio_sms):
    run = run_intent("messaging", "send-sms", SMS)
    assert run.status == "completed", run.error_context
    row = OutboundMessage.objects.get(run_id=run.id)
    (call,) = [s for s in run.steps.all() if s.kind == "call"]
    price = Decimal(call.detail["would_cost"])
    assert price > 0
    # Nothing spent anywhere: the run, its step, its outbox row and its answer agree.
    assert run.cost == call.cost == row.cost == 0
    assert run.output["cost"] == "0"
    # What it would have cost, the same figure everywhere, labelled as such.
    assert run.would_cost == row.would_cost == Decimal(run.output["wouldCost"]) == price


def test_a_live_sms_run_costs_the_sum_of_its_steps_as_the_outbox_records(run_intent, org):
    connector_create(
        organization=org,
        provider="twilio_sms",
        name="Live number",
        mode="live",
        credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
        config={"from_number": "+15005550006"},
    )
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.POST,
            MESSAGES,
            body=(TWILIO / "message_created.json").read_text(),
            status=201,
            content_type="application/json",
        )
        run = run_intent("messaging", "send-sms", SMS)
    assert run.status == "completed", run.error_context
    row = OutboundMessage.objects.get(run_id=run.id)
    steps_cost = sum((s.cost for s in run.steps.all()), Decimal("0"))
    assert run.cost == steps_cost == row.cost == Decimal(run.output["cost"]) > 0
    assert run.would_cost == 0 and row.would_cost is None and "wouldCost" not in run.output


def test_the_metric_duration_is_the_runs_duration(run_intent):
    run = run_intent("support", "triage", {"content": "How do I add a teammate?"})
    assert run.metrics["durationMs"] == run.duration_ms
    assert run.duration_ms == int((run.finished_at - run.started_at).total_seconds() * 1000)


def test_the_run_page_and_its_outbox_label_the_sandbox_price(run_intent, twilio_sms, owner_client):
    run = run_intent("messaging", "send-sms", SMS)
    price = f"${run.would_cost:.4f}"
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert f"would cost {price}" in page
    outbox = owner_client.get(f"/runs/{run.id}/outbox/").content.decode()
    assert f"would cost {price}" in outbox and "Sandbox: nothing was spent" in outbox
