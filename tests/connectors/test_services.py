"""Connector services: create/edit validation, running actions, the outbox, sandbox mode and health."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from werkzeug import Response

from connectors import selectors, services, suppressions
from connectors.health import effective_health
from connectors.models import Connector, Health, OutboundMessage, OutboxStatus, Suppression
from connectors.runtime import credentials_load
from neonhub.core.errors import (
    Conflict,
    ConnectorAuth,
    ConnectorMissing,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    OutcomeUnknown,
)
from tests.connectors.conftest import TOKEN
from tests.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db

SENT = {"id": "msg_1", "status": "queued", "price": "0.0075"}


def serve(httpserver, path, *responses, method="GET"):
    seen: list = []
    queue = list(responses)

    def handler(request):
        seen.append(request)
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        return (
            item
            if isinstance(item, Response)
            else Response(json.dumps(item), 200, content_type="application/json")
        )

    httpserver.expect_request(path, method=method).respond_with_handler(handler)
    return seen


def error(status, code, message="refused", headers=None, **extra):
    return Response(
        json.dumps({"error": {"code": code, "message": message, **extra}}),
        status,
        content_type="application/json",
        headers=headers,
    )


def fields(exc_info) -> set[str]:
    return {d["field"] for d in exc_info.value.details}


# --- create and edit ------------------------------------------------------------------------


def test_create_encrypts_credentials_and_keeps_masks(make_connector):
    connector = make_connector("https://api.example.com")
    stored = Connector.objects.get(pk=connector.pk)
    assert TOKEN not in stored.credentials and stored.credentials.startswith("v1.")
    assert stored.credentials_masks == {"account": "••••", "api_token": "tok_…5f60"}
    assert credentials_load(connector=stored) == {"api_token": TOKEN, "account": "acct_main"}
    assert stored.config == {
        "base_url": "https://api.example.com",
        "sender": "NeonHub",
        "region": "us",
    }


@pytest.mark.parametrize(
    "credentials, config, expected",
    [
        ({}, {}, {"credentials.api_token", "credentials.account"}),
        ({"api_token": 12345678, "account": "acct_x"}, {}, {"credentials.api_token"}),
        ({"api_token": TOKEN, "account": "nope"}, {}, {"credentials.account"}),
        ({"api_token": TOKEN, "account": "acct_x", "bogus": "1"}, {}, {"credentials.bogus"}),
        ({"api_token": TOKEN, "account": "acct_x"}, {"region": "mars"}, {"config.region"}),
        ("a string", {}, {"credentials"}),
    ],
)
def test_live_connector_needs_valid_credentials_named_by_field(org, credentials, config, expected):
    with pytest.raises(InvalidInput) as err:
        services.connector_create(
            organization=org, provider="fake", name="x", credentials=credentials, config=config
        )
    assert fields(err) == expected
    assert not Connector.objects.exists()


def test_unknown_provider_and_mode_name_their_field(org):
    with pytest.raises(InvalidInput) as err:
        services.connector_create(organization=org, provider="carrier_pigeon", name="x")
    assert fields(err) == {"provider"}
    with pytest.raises(InvalidInput) as err:
        services.connector_create(organization=org, provider="fake", name="x", mode="staging")
    assert fields(err) == {"mode"}


def test_sandbox_connector_may_leave_fields_out_but_not_give_wrong_ones(org):
    connector = services.connector_create(
        organization=org, provider="fake", name="Try", mode="sandbox"
    )
    assert connector.credentials == "" and connector.credentials_masks == {}
    with pytest.raises(InvalidInput) as err:
        services.connector_create(
            organization=org,
            provider="fake",
            name="Try 2",
            mode="sandbox",
            credentials={"account": "wrong"},
        )
    assert fields(err) == {"credentials.account"}


def test_base_url_override_refuses_private_addresses(org, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    with pytest.raises(InvalidInput) as err:
        services.connector_create(
            organization=org,
            provider="fake",
            name="x",
            config={"base_url": "http://10.0.0.5"},
            credentials={"api_token": TOKEN, "account": "acct_x"},
        )
    assert fields(err) == {"config.base_url"}


def test_duplicate_name_for_a_provider_is_a_conflict(make_connector):
    make_connector(name="Main")
    with pytest.raises(Conflict) as err:
        make_connector(name="Main")
    assert fields(err) == {"name"}


def test_update_merges_credentials_and_config(make_connector):
    connector = make_connector("https://api.example.com")
    services.connector_update(
        connector=connector, credentials={"account": "acct_other"}, config={"base_url": None}
    )
    connector.refresh_from_db()
    assert credentials_load(connector=connector) == {"api_token": TOKEN, "account": "acct_other"}
    assert "base_url" not in connector.config


def test_going_live_without_real_credentials_is_refused(org):
    connector = services.connector_create(
        organization=org, provider="fake", name="Try", mode="sandbox"
    )
    with pytest.raises(InvalidInput) as err:
        services.connector_update(connector=connector, mode="live")
    assert fields(err) == {"credentials.api_token", "credentials.account"}
    services.connector_update(
        connector=connector, mode="live", credentials={"api_token": TOKEN, "account": "acct_real"}
    )
    connector.refresh_from_db()
    assert connector.mode == "live"


def test_new_credentials_clear_needs_reconnect(make_connector):
    connector = make_connector()
    services.connector_mark(
        connector=connector, health=Health.NEEDS_RECONNECT, error="token revoked"
    )
    services.connector_update(connector=connector, credentials={"api_token": "tok_new_0123456789"})
    connector.refresh_from_db()
    assert connector.health == Health.UNTESTED and connector.last_error == ""


def test_update_name_conflict_and_plain_fields(make_connector):
    make_connector(name="A")
    b = make_connector(name="B")
    with pytest.raises(Conflict):
        services.connector_update(connector=b, name="A")
    services.connector_update(connector=b, name="C", enabled=False)
    b.refresh_from_db()
    assert (b.name, b.enabled) == ("C", False)


def test_update_with_unreadable_credentials_starts_from_what_is_given(make_connector, settings):
    import base64
    import os

    connector = make_connector()
    settings.NEONHUB_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(os.urandom(32)).decode()]
    services.connector_update(
        connector=connector, credentials={"api_token": "tok_again_123456", "account": "acct_a"}
    )
    assert credentials_load(connector=connector)["api_token"] == "tok_again_123456"


def test_delete_keeps_the_outbox_record(make_connector, steps):
    connector = make_connector(mode="sandbox")
    services.connector_execute(
        connector=connector,
        action="send",
        input={"to": "+14155550100", "text": "hi"},
        recorder=steps,
        idempotency_key="k1",
    )
    services.connector_delete(connector=connector)
    row = OutboundMessage.objects.get()
    assert row.connector_id is None and row.status == OutboxStatus.SENT


# --- connector_for ----------------------------------------------------------------------------


def test_connector_for_prefers_the_most_recently_edited_enabled_one(org, make_connector):
    first = make_connector(name="First")
    second = make_connector(name="Second")
    assert selectors.connector_for(organization=org, provider="fake") == second
    services.connector_update(connector=first, config={"sender": "Edited"})
    assert selectors.connector_for(organization=org, provider="fake") == first
    services.connector_update(connector=first, enabled=False)
    assert selectors.connector_for(organization=org, provider="fake") == second
    assert selectors.connector_for(organization=org, provider="fake", name="Second") == second


def test_connector_for_names_the_missing_provider(org, other_org, make_connector):
    make_connector(organization=other_org)
    with pytest.raises(ConnectorMissing) as err:
        selectors.connector_for(organization=org, provider="fake")
    assert err.value.message == "No fake connector is set up for this organization"
    assert err.value.code == "CONNECTOR_MISSING"
    assert selectors.connector_for(organization=org, provider="fake", required=False) is None
    with pytest.raises(ConnectorMissing, match="named 'Nope'"):
        selectors.connector_for(organization=org, provider="fake", name="Nope")


def test_foreign_and_unknown_ids_are_not_found(org, other_org, make_connector):
    # Malformed ids never reach the selector: paths are typed, query strings use uuid_from.
    from neonhub.core.errors import NotFound

    foreign = make_connector(organization=other_org)
    for connector_id in (foreign.pk, uuid.uuid4()):
        with pytest.raises(NotFound):
            selectors.connector_get(organization=org, connector_id=connector_id)


def test_list_filters(org, make_connector):
    make_connector(name="L")
    sandbox = make_connector(name="S", mode="sandbox")
    assert list(selectors.connector_list(organization=org, mode="sandbox")) == [sandbox]
    assert len(selectors.connector_list(organization=org, provider="fake", health="untested")) == 2
    assert len(selectors.connector_list(organization=org, provider="fake", health="healthy")) == 0


# --- running actions --------------------------------------------------------------------------


def test_read_action_calls_out_records_the_step_and_marks_use(httpserver, live, steps):
    seen = serve(httpserver, "/messages/m1", {"id": "m1", "status": "delivered"})
    result = services.connector_execute(
        connector=live, action="lookup", input={"id": "m1"}, recorder=steps
    )
    assert result.output == {"id": "m1", "status": "delivered"}
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    (step,) = steps.steps
    assert (step.provider, step.action, step.kind, step.http_status) == (
        "fake",
        "lookup",
        "call",
        200,
    )
    live.refresh_from_db()
    assert live.last_used_at is not None


def test_unknown_action_and_bad_input_name_their_field(live, steps):
    with pytest.raises(InvalidInput) as err:
        services.connector_execute(connector=live, action="fly", input={}, recorder=steps)
    assert fields(err) == {"action"}
    with pytest.raises(InvalidInput) as err:
        services.connector_execute(
            connector=live, action="send", input={"to": "555", "text": ""}, recorder=steps
        )
    assert fields(err) == {"input.to", "input.text"}
    with pytest.raises(InvalidInput) as err:
        services.connector_execute(connector=live, action="send", input=["x"], recorder=steps)
    assert fields(err) == {"input"}
    assert steps.steps == []


def test_side_effect_is_recorded_in_the_outbox_and_never_repeated(httpserver, live, steps, org):
    seen = serve(httpserver, "/messages", SENT, method="POST")
    run_id, contact_id = uuid.uuid4(), uuid.uuid4()
    kwargs = dict(
        connector=live,
        action="send",
        input={"to": "+14155550100", "text": "Hello"},
        idempotency_key=f"{run_id}:sms:1",
        run_id=run_id,
        contact_id=contact_id,
    )
    first = services.connector_execute(recorder=steps, **kwargs)
    again = services.connector_execute(recorder=steps, **kwargs)
    assert len(seen) == 1
    assert (
        again.output == first.output
        and again.provider_id == "msg_1"
        and again.cost == Decimal("0.0075")
    )
    row = OutboundMessage.objects.get()
    assert (row.status, row.provider_id, row.provider_status, row.target) == (
        "sent",
        "msg_1",
        "queued",
        "+14155550100",
    )
    assert (row.run_id, row.contact_id, row.organization, row.sandbox) == (
        run_id,
        contact_id,
        org,
        False,
    )
    assert row.cost == Decimal("0.0075") and row.attempts == 1 and row.sent_at is not None
    assert steps.cost == Decimal("0.0075")  # the provider's measured cost, charged once
    assert selectors.outbox_for_run(organization=org, run_id=run_id) == [row]


def test_side_effect_without_a_key_is_keyed_by_run_action_and_input(httpserver, live, steps):
    seen = serve(httpserver, "/messages", SENT, method="POST")
    run_id = uuid.uuid4()
    for _ in range(2):
        services.connector_execute(
            connector=live,
            action="send",
            input={"to": "+14155550100", "text": "Hi"},
            recorder=steps,
            run_id=run_id,
        )
    assert len(seen) == 1
    services.connector_execute(
        connector=live,
        action="send",
        input={"to": "+14155550101", "text": "Hi"},
        recorder=steps,
        run_id=run_id,
    )
    assert len(seen) == 2


def test_side_effects_outside_a_run_are_each_sent(httpserver, live, steps):
    seen = serve(httpserver, "/messages", SENT, method="POST")
    for _ in range(2):
        services.connector_execute(
            connector=live,
            action="send",
            input={"to": "+14155550100", "text": "Hi"},
            recorder=steps,
        )
    assert len(seen) == 2 and OutboundMessage.objects.count() == 2


def test_timeout_after_sending_is_unknown_and_never_repeated_blindly(
    threaded_server, make_connector, steps, monkeypatch
):
    import time

    calls = []

    def slow(request):
        calls.append(1)
        time.sleep(0.5)
        return Response(json.dumps(SENT), 200)

    threaded_server.expect_request("/messages", method="POST").respond_with_handler(slow)
    connector = make_connector(threaded_server.url_for("").rstrip("/"))
    kwargs = dict(
        connector=connector,
        action="send",
        input={"to": "+14155550100", "text": "Hi"},
        recorder=steps,
        idempotency_key="k-unknown",
    )
    from tests.connectors.fake_provider import FakeProvider

    monkeypatch.setattr(FakeProvider, "timeout", (1.0, 0.2))
    with pytest.raises(OutcomeUnknown):
        services.connector_execute(**kwargs)
    row = OutboundMessage.objects.get()
    assert row.status == OutboxStatus.UNKNOWN and row.error_code == "TIMEOUT"
    with pytest.raises(OutcomeUnknown, match="a person must check"):
        services.connector_execute(**kwargs)
    assert len(calls) == 1


def test_a_send_interrupted_mid_call_is_treated_as_unknown(live, steps, org):
    OutboundMessageFactory(
        connector=live,
        action="send",
        idempotency_key="k-crash",
        attempts=1,
        attempted_at=timezone.now(),
    )
    with pytest.raises(OutcomeUnknown):
        services.connector_execute(
            connector=live,
            action="send",
            input={"to": "+14155550100", "text": "Hi"},
            recorder=steps,
            idempotency_key="k-crash",
        )
    assert OutboundMessage.objects.get().status == OutboxStatus.UNKNOWN
    assert steps.steps == []


def test_a_failed_send_is_tried_again_on_re_execution(httpserver, live, steps):
    seen = serve(httpserver, "/messages", error(503, "busy"), SENT, method="POST")
    kwargs = dict(
        connector=live,
        action="send",
        input={"to": "+14155550100", "text": "Hi"},
        recorder=steps,
        idempotency_key="k-retry",
    )
    with pytest.raises(ConnectorUnavailable):
        services.connector_execute(**kwargs)
    row = OutboundMessage.objects.get()
    assert (row.status, row.error_code) == ("failed", "CONNECTOR_UNAVAILABLE")
    services.connector_execute(**kwargs)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error) == ("sent", 2, "")
    assert len(seen) == 2  # a send is not retried inside the request; the run's retry sent it


def test_a_crash_in_the_provider_after_sending_marks_unknown(httpserver, live, steps):
    serve(httpserver, "/messages", {"unexpected": "shape"}, method="POST")
    with pytest.raises(KeyError):
        services.connector_execute(
            connector=live,
            action="send",
            input={"to": "+14155550100", "text": "Hi"},
            recorder=steps,
            idempotency_key="k-bug",
        )
    row = OutboundMessage.objects.get()
    assert row.status == OutboxStatus.UNKNOWN and "KeyError" in row.error


def test_provider_statuses_map_onto_the_outbox(httpserver, live, steps):
    serve(
        httpserver,
        "/messages",
        {"id": "a", "status": "delivered"},
        {"id": "b", "status": "failed"},
        method="POST",
    )
    for key in ("k-a", "k-b"):
        services.connector_execute(
            connector=live,
            action="send",
            input={"to": "+14155550100", "text": "x"},
            recorder=steps,
            idempotency_key=key,
        )
    assert dict(OutboundMessage.objects.values_list("provider_id", "status")) == {
        "a": "delivered",
        "b": "failed",
    }


def test_a_huge_response_is_summarised_in_the_outbox(httpserver, live, steps):
    serve(httpserver, "/messages", {"id": "a", "status": "x" * 20_000}, method="POST")
    services.connector_execute(
        connector=live,
        action="send",
        input={"to": "+14155550100", "text": "x"},
        recorder=steps,
        idempotency_key="big",
    )
    assert OutboundMessage.objects.get().response == {
        "truncated": True,
        "keys": ["id", "status", "to"],
    }


# --- sandbox ----------------------------------------------------------------------------------


def test_sandbox_answers_like_the_provider_without_the_network(make_connector, steps, org):
    connector = make_connector(mode="sandbox", credentials={})
    result = services.connector_execute(
        connector=connector,
        action="send",
        input={"to": "+14155550100", "text": "Hi"},
        recorder=steps,
        idempotency_key="sbx-1",
    )
    assert result.output["sandbox"] is True and result.provider_id == "sbx_1"
    row = OutboundMessage.objects.get()
    assert (row.status, row.sandbox, row.provider_id) == ("sent", True, "sbx_1")
    (step,) = steps.steps
    assert step.detail == {"sandbox": True, "would_cost": "0.01"}
    assert steps.cost == 0  # nothing was spent
    again = services.connector_execute(
        connector=connector,
        action="send",
        input={"to": "+14155550100", "text": "Hi"},
        recorder=steps,
        idempotency_key="sbx-1",
    )
    assert again.provider_id == "sbx_1" and OutboundMessage.objects.count() == 1
    # The repeat is answered from the outbox, and its step says so.
    assert len(steps.steps) == 2 and steps.steps[1].detail["outbox"] == "replayed"
    read = services.connector_execute(
        connector=connector, action="lookup", input={"id": "m9"}, recorder=steps
    )
    assert read.output == {"id": "m9", "status": "delivered", "sandbox": True}


def test_sandbox_without_an_answer_for_an_action_is_rejected(make_connector, steps, monkeypatch):
    from tests.connectors.fake_provider import FakeProvider

    def no_answer(self, action_name, data):
        raise NotImplementedError

    monkeypatch.setattr(FakeProvider, "sandbox", no_answer)
    connector = make_connector(mode="sandbox")
    with pytest.raises(ConnectorRejected, match="no sandbox answer"):
        services.connector_execute(
            connector=connector, action="lookup", input={"id": "1"}, recorder=steps
        )


# --- health -----------------------------------------------------------------------------------


def test_rejected_credentials_need_reconnecting_and_later_calls_are_refused(
    httpserver, live, steps
):
    seen = serve(httpserver, "/messages/m1", error(401, "bad_token", "token revoked"))
    with pytest.raises(ConnectorAuth):
        services.connector_execute(
            connector=live, action="lookup", input={"id": "m1"}, recorder=steps
        )
    live.refresh_from_db()
    assert live.health == Health.NEEDS_RECONNECT
    assert live.last_error == "Fake: token revoked" and live.last_error_at is not None
    with pytest.raises(ConnectorAuth, match="needs reconnecting"):
        services.connector_execute(
            connector=live, action="lookup", input={"id": "m1"}, recorder=steps
        )
    assert len(seen) == 1


def test_passing_test_heals_the_connector(httpserver, live):
    services.connector_mark(connector=live, health=Health.NEEDS_RECONNECT, error="token revoked")
    serve(httpserver, "/me", {"account": "acct_main"})
    result = services.connector_test(connector=live)
    assert result.ok and result.message == "Connected to acct_main"
    live.refresh_from_db()
    assert (live.health, live.last_error) == (Health.HEALTHY, "")
    assert live.last_tested_at is not None


def test_account_level_rejection_disables_the_connector(httpserver, live, steps):
    serve(
        httpserver,
        "/messages",
        error(400, "suspended", "account suspended", disable=True),
        method="POST",
    )
    with pytest.raises(ConnectorRejected):
        services.connector_execute(
            connector=live, action="send", input={"to": "+14155550100", "text": "x"}, recorder=steps
        )
    live.refresh_from_db()
    assert live.health == Health.DISABLED
    with pytest.raises(ConnectorRejected, match="is disabled: Fake: account suspended"):
        services.connector_execute(
            connector=live, action="lookup", input={"id": "1"}, recorder=steps
        )


def test_rate_limit_marks_the_connector_and_a_success_heals_it(httpserver, live, steps):
    # A long Retry-After is not slept inside the request: the run is rescheduled.
    serve(
        httpserver,
        "/messages/m1",
        error(429, "slow", headers={"Retry-After": "60"}),
        {"id": "m1", "status": "sent"},
    )
    from neonhub.core.errors import ConnectorRateLimited

    with pytest.raises(ConnectorRateLimited) as err:
        services.connector_execute(
            connector=live, action="lookup", input={"id": "m1"}, recorder=steps
        )
    assert err.value.retry_after == 60
    live.refresh_from_db()
    assert live.health == Health.RATE_LIMITED
    services.connector_execute(connector=live, action="lookup", input={"id": "m1"}, recorder=steps)
    live.refresh_from_db()
    assert live.health == Health.HEALTHY


def test_unavailable_keeps_health_but_records_the_error(httpserver, live, steps):
    serve(httpserver, "/messages/m1", error(500, "oops", "server error"))
    with pytest.raises(ConnectorUnavailable):
        services.connector_execute(
            connector=live, action="lookup", input={"id": "m1"}, recorder=steps
        )
    live.refresh_from_db()
    assert live.health == Health.UNTESTED and live.last_error == "Fake: server error"


def test_switched_off_connector_is_refused(live, steps):
    services.connector_update(connector=live, enabled=False)
    with pytest.raises(ConnectorRejected, match="switched off"):
        services.connector_execute(
            connector=live, action="lookup", input={"id": "1"}, recorder=steps
        )


def test_provider_error_can_suppress_an_address(httpserver, live, steps, org):
    serve(
        httpserver,
        "/messages",
        error(
            400, "21610", "unsubscribed", suppress={"channel": "sms", "address": "+1 415 555 0100"}
        ),
        method="POST",
    )
    with pytest.raises(ConnectorRejected):
        services.connector_execute(
            connector=live, action="send", input={"to": "+14155550100", "text": "x"}, recorder=steps
        )
    suppression = Suppression.objects.get()
    assert (suppression.channel, suppression.address, suppression.source) == (
        "sms",
        "+14155550100",
        "provider_error",
    )
    assert selectors.suppression_exists(organization=org, channel="sms", address="+14155550100")
    live.refresh_from_db()
    assert live.health == Health.UNTESTED  # one recipient's opt-out says nothing about the account


def test_an_invalid_suppress_address_is_ignored(httpserver, live, steps):
    serve(
        httpserver,
        "/messages",
        error(400, "x", "no", suppress={"channel": "sms", "address": "nonsense"}),
        method="POST",
    )
    with pytest.raises(ConnectorRejected):
        services.connector_execute(
            connector=live, action="send", input={"to": "+14155550100", "text": "x"}, recorder=steps
        )
    assert not Suppression.objects.exists()


def test_refreshed_credentials_and_state_are_persisted(httpserver, live, steps):
    expires = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    serve(
        httpserver,
        "/messages/m1",
        {
            "id": "m1",
            "status": "sent",
            "new_token": "tok_refreshed_987654321",
            "expires_at": expires.isoformat(),
        },
    )
    services.connector_execute(connector=live, action="lookup", input={"id": "m1"}, recorder=steps)
    stored = Connector.objects.get(pk=live.pk)
    assert credentials_load(connector=stored)["api_token"] == "tok_refreshed_987654321"
    assert stored.credentials_masks["api_token"] == "tok_…4321"
    assert stored.state["token_expires_at"] == expires.isoformat()
    assert stored.token_expires_at == expires
    assert effective_health(stored) == Health.EXPIRING


def test_secrets_in_provider_errors_are_scrubbed(httpserver, live, steps):
    serve(httpserver, "/messages/m1", error(400, "bad", f"token {TOKEN} is not allowed here"))
    with pytest.raises(ConnectorRejected) as err:
        services.connector_execute(
            connector=live, action="lookup", input={"id": "m1"}, recorder=steps
        )
    assert TOKEN not in err.value.message and TOKEN not in str(err.value)
    live.refresh_from_db()
    assert TOKEN not in live.last_error and "[redacted]" in live.last_error


# --- test connection --------------------------------------------------------------------------


def test_sandbox_test_passes_without_calling_out(make_connector):
    connector = make_connector(mode="sandbox")
    assert services.connector_test(connector=connector).ok


def test_failed_test_with_rejected_credentials_needs_reconnect(httpserver, live):
    serve(httpserver, "/me", error(401, "bad_token", "invalid token"))
    result = services.connector_test(connector=live)
    assert not result.ok and result.message == "Fake: invalid token"
    live.refresh_from_db()
    assert live.health == Health.NEEDS_RECONNECT and live.last_error == "Fake: invalid token"


def test_failed_test_that_cannot_connect_leaves_health_alone(make_connector):
    from tests.connectors.test_http import closed_port

    connector = make_connector(f"http://127.0.0.1:{closed_port()}")
    result = services.connector_test(connector=connector)
    assert not result.ok and "could not connect" in result.message
    connector.refresh_from_db()
    assert connector.health == Health.UNTESTED and connector.last_tested_at is not None


def test_test_never_raises(live, monkeypatch):
    from tests.connectors.fake_provider import FakeProvider

    monkeypatch.setattr(FakeProvider, "test", lambda self: 1 / 0)
    result = services.connector_test(connector=live)
    assert not result.ok and result.message == "Unexpected error (ZeroDivisionError)"


def test_test_with_unreadable_credentials_needs_reconnect(live, settings):
    import base64
    import os

    settings.NEONHUB_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(os.urandom(32)).decode()]
    result = services.connector_test(connector=live)
    assert not result.ok and "not in NEONHUB_ENCRYPTION_KEYS" in result.message
    live.refresh_from_db()
    assert live.health == Health.NEEDS_RECONNECT


def test_stored_credentials_that_no_longer_validate_need_reconnect(live, steps):
    from connectors.runtime import credentials_store

    credentials_store(live, {"api_token": "short"})
    live.save()
    with pytest.raises(ConnectorAuth) as err:
        services.connector_execute(
            connector=live, action="lookup", input={"id": "1"}, recorder=steps
        )
    assert "credentials.account" in err.value.message and "short" not in err.value.message


# --- suppressions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "channel, given, stored",
    [
        ("sms", "+1 (415) 555-0100", "+14155550100"),
        ("whatsapp", "whatsapp:+14155550100", "+14155550100"),
        ("sms", "0044 20 7946 0958", "+442079460958"),
        ("whatsapp", " whatsapp: +44 (0)20 7946 0958 ", "+442079460958"),
        ("sms", "+49 30 123456", "+4930123456"),
        ("email", "  Ann@Example.COM ", "ann@example.com"),
    ],
)
def test_suppression_addresses_are_normalized(org, channel, given, stored):
    suppressions.suppression_add(
        organization=org, channel=channel, address=given, reason="STOP", source="opt_out_keyword"
    )
    suppressions.suppression_add(
        organization=org, channel=channel, address=stored, reason="again", source="staff"
    )
    suppression = Suppression.objects.get()
    assert suppression.address == stored and suppression.reason == "STOP"
    assert selectors.suppression_exists(organization=org, channel=channel, address=given)
    assert suppressions.suppression_remove(organization=org, channel=channel, address=given)
    assert not suppressions.suppression_remove(organization=org, channel=channel, address=given)


@pytest.mark.parametrize(
    "channel, address, field",
    [
        ("sms", "555-0100", "address"),
        ("sms", "4155550100", "address"),  # no country code: never guessed
        ("sms", "+44 7700 900123", "address"),  # E.164 in form, in no range the UK assigns
        ("sms", "+1 415 555 0100 ext. 12", "address"),
        ("sms", "+1-800-FLOWERS", "address"),
        ("whatsapp", "call +14155550100", "address"),
        ("email", "not-an-email", "address"),
        ("fax", "+14155550100", "channel"),
    ],
)
def test_invalid_suppression_addresses_are_refused(org, channel, address, field):
    with pytest.raises(InvalidInput) as err:
        suppressions.suppression_add(
            organization=org, channel=channel, address=address, source="staff"
        )
    assert fields(err) == {field}
    assert not selectors.suppression_exists(organization=org, channel=channel, address=address)


def test_suppressions_are_per_organization(org, other_org):
    suppressions.suppression_add(
        organization=other_org, channel="email", address="a@b.co", source="bounce"
    )
    assert not selectors.suppression_exists(organization=org, channel="email", address="a@b.co")
    assert list(selectors.suppression_list(organization=other_org, channel="email"))


# --- demo -------------------------------------------------------------------------------------


def test_demo_creates_one_sandbox_connector_per_provider_once(org, monkeypatch):
    monkeypatch.setattr("connectors.registry.PROVIDERS", {})
    created = services.demo_connectors_ensure(org)
    assert [(c.provider, c.mode) for c in created] == [
        ("fake", "sandbox"),
        ("fake_hooks", "sandbox"),
    ]
    assert created[0].credentials_masks == {"api_token": "sand….com"}
    assert services.demo_connectors_ensure(org) == []
    assert Connector.objects.count() == 2


# --- credentials follow their address ---------------------------------------------------------


def test_changing_the_address_needs_the_secrets_entered_again(make_connector):
    connector = make_connector("https://api.fake.example")
    with pytest.raises(InvalidInput) as err:
        services.connector_update(
            connector=connector, config={"base_url": "https://collector.example"}
        )
    assert fields(err) == {"credentials.api_token"}
    assert "stored secrets do not follow a new address" in err.value.details[0]["message"]
    connector.refresh_from_db()
    assert connector.config["base_url"] == "https://api.fake.example"
    # A different override, even of the same domain, is another address.
    with pytest.raises(InvalidInput):
        services.connector_update(
            connector=connector, config={"base_url": "https://api.fake.example.evil.test"}
        )

    services.connector_update(
        connector=connector,
        config={"base_url": "https://collector.example"},
        credentials={"api_token": "tok_entered_again_1"},
    )
    connector.refresh_from_db()
    assert connector.config["base_url"] == "https://collector.example"
    assert credentials_load(connector=connector)["api_token"] == "tok_entered_again_1"


def test_an_unchanged_address_keeps_the_stored_secrets(make_connector):
    connector = make_connector("https://api.fake.example")
    services.connector_update(
        connector=connector, config={"base_url": "https://api.fake.example/", "sender": "Acme"}
    )
    connector.refresh_from_db()
    assert connector.config["sender"] == "Acme"
    assert credentials_load(connector=connector)["api_token"] == TOKEN
    # Back to the provider's own address: no one else's.
    services.connector_update(connector=connector, config={"base_url": None})
    connector.refresh_from_db()
    assert "base_url" not in connector.config
    assert credentials_load(connector=connector)["api_token"] == TOKEN


def test_a_new_smtp_host_needs_the_password_again(org):
    config = {"host": "smtp.acme.example", "from_address": "news@acme.example"}
    connector = services.connector_create(
        organization=org,
        provider="smtp_email",
        name="Relay",
        config=config,
        credentials={"username": "mailer", "password": "smtp-pass-7c1e"},
    )
    with pytest.raises(InvalidInput) as err:
        services.connector_update(connector=connector, config={"host": "smtp.attacker.example"})
    assert fields(err) == {"credentials.password"}


def test_tokens_a_provider_renews_are_dropped_not_asked_for_when_the_address_changes(org):
    connector = services.connector_create(
        organization=org,
        provider="reddit",
        name="Bot",
        config={"user_agent": "web:com.acme.neonhub:v1.4.2 (by /u/acme_bot)"},
        credentials={
            "client_id": "p-jcoLKBynTLew",
            "client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI",
            "username": "acme_bot",
            "password": "correct-horse-battery-staple",
            "access_token": "1234567890-AbCdEfGhIjKlMnOpQrStUvWxYz",
        },
    )
    with pytest.raises(InvalidInput) as err:
        services.connector_update(
            connector=connector, config={"auth_base_url": "https://tokens.example"}
        )
    assert fields(err) == {"credentials.client_secret", "credentials.password"}

    services.connector_update(
        connector=connector,
        config={"auth_base_url": "https://tokens.example"},
        credentials={"client_secret": "gko_new_secret_entered", "password": "new-horse-staple"},
    )
    stored = credentials_load(connector=Connector.objects.get(pk=connector.pk))
    assert "access_token" not in stored and stored["password"] == "new-horse-staple"
