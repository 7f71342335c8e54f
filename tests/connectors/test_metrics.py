"""/metrics: connector calls by provider, action, mode and outcome; the open outbox."""

from __future__ import annotations

import pytest

from connectors import services
from connectors.models import OutboxStatus
from neonhub.core.errors import ConnectorAuth, InvalidInput
from tests.connectors.test_services import error, serve
from tests.factories import OutboundMessageFactory
from tests.helpers import sample, scrape

pytestmark = pytest.mark.django_db

LOOKUP = {"provider": "fake", "action": "lookup", "mode": "live"}


def _grew(before, after, name, **labels):
    return sample(after, name, **labels) - sample(before, name, **labels)


def test_calls_are_counted_by_outcome_and_taxonomy_and_timed(client, live, httpserver, steps):
    serve(httpserver, "/messages/m1", {"id": "m1", "status": "delivered"})
    serve(httpserver, "/messages/m2", error(401, "bad_token", "token revoked"))
    before = scrape(client)
    services.connector_execute(connector=live, action="lookup", input={"id": "m1"}, recorder=steps)
    with pytest.raises(ConnectorAuth):
        services.connector_execute(
            connector=live, action="lookup", input={"id": "m2"}, recorder=steps
        )
    after = scrape(client)
    name = "neonhub_connector_requests_total"
    assert _grew(before, after, name, **LOOKUP, status="ok", error_code="") == 1
    assert _grew(before, after, name, **LOOKUP, status="error", error_code="CONNECTOR_AUTH") == 1
    assert _grew(before, after, "neonhub_connector_request_duration_seconds_count", **LOOKUP) == 2


def test_sandbox_sends_are_counted_as_sandbox(client, make_connector, steps):
    sandbox = make_connector(mode="sandbox")
    before = scrape(client)
    services.connector_execute(
        connector=sandbox,
        action="send",
        input={"to": "+14155550100", "text": "Hello"},
        recorder=steps,
    )
    after = scrape(client)
    labels = {"provider": "fake", "action": "send", "mode": "sandbox"}
    assert (
        _grew(
            before, after, "neonhub_connector_requests_total", **labels, status="ok", error_code=""
        )
        == 1
    )


def test_an_unknown_action_is_not_a_label(client, live, steps):
    with pytest.raises(InvalidInput):
        services.connector_execute(connector=live, action="drop-tables", input={}, recorder=steps)
    names = {labels for (name, labels) in scrape(client) if name.startswith("neonhub_connector")}
    assert not any(("action", "drop-tables") in labels for labels in names)


def test_invalid_input_for_a_known_action_is_counted_as_refused(client, live, steps):
    before = scrape(client)
    with pytest.raises(InvalidInput):
        services.connector_execute(connector=live, action="lookup", input={}, recorder=steps)
    after = scrape(client)
    labels = {**LOOKUP, "status": "error", "error_code": "INVALID_INPUT"}
    assert _grew(before, after, "neonhub_connector_requests_total", **labels) == 1


def test_the_open_outbox_is_counted_by_status_and_provider(client, org):
    OutboundMessageFactory.create_batch(2, organization=org, status=OutboxStatus.PENDING)
    OutboundMessageFactory(
        organization=org, provider="smtp_email", action="send_email", status=OutboxStatus.UNKNOWN
    )
    OutboundMessageFactory(organization=org, status=OutboxStatus.SENT)
    OutboundMessageFactory(organization=org, status=OutboxStatus.DELIVERED)
    got = scrape(client)
    assert sample(got, "neonhub_outbox_open_messages", status="pending") == 2
    assert sample(got, "neonhub_outbox_open_messages", status="unknown") == 1
    by_provider = "neonhub_outbox_open_messages_by_provider"
    assert sample(got, by_provider, status="pending", provider="twilio_sms") == 2
    assert sample(got, by_provider, status="unknown", provider="smtp_email") == 1
    assert not any(
        dict(labels).get("status") in ("sent", "delivered")
        for (name, labels) in got
        if name.startswith("neonhub_outbox")
    )


def test_an_empty_outbox_still_has_its_series(client, org):
    got = scrape(client)
    assert ("neonhub_outbox_open_messages", (("status", "unknown"),)) in got
    assert sample(got, "neonhub_metrics_collector_up", collector="outbox") == 1
