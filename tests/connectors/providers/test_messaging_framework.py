"""The messaging providers inside the connector framework: outbox, health, suppression, sessions."""

from __future__ import annotations

import pytest
import responses

from connectors.execution import connector_session
from connectors.models import Health, OutboundMessage, OutboxStatus, Suppression
from connectors.services import connector_create, connector_execute, demo_connectors_ensure
from neonhub.core.errors import ConnectorAuth, ConnectorRejected
from tests.connectors.providers.messaging_helpers import fixture
from tests.connectors.providers.smtp_server import PASSWORD, USERNAME, Mailbox, smtp_server

SID = "AC3f2a9e0d5b7c41e8a6d9f0b1c2e3d4a5"
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"


@pytest.fixture
def twilio(org):
    return connector_create(
        organization=org,
        provider="twilio_sms",
        name="Main number",
        credentials={"account_sid": SID, "auth_token": "test-auth-token-9f3e"},
        config={"from_number": "+14155550100"},
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def send_sms(connector, recorder, key="run-1:sms"):
    return connector_execute(
        connector=connector,
        action="send_sms",
        recorder=recorder,
        idempotency_key=key,
        input={"to": "+14155550123", "body": "Your table is ready."},
    )


def test_a_sent_sms_is_recorded_once_in_the_outbox(twilio, mocked, recorder):
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "message_created.json"), status=201)

    first = send_sms(twilio, recorder)
    again = send_sms(twilio, recorder)  # a re-executed run: answered from the outbox

    assert len(mocked.calls) == 1
    assert again.provider_id == first.provider_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    row = OutboundMessage.objects.get(idempotency_key="run-1:sms")
    assert (row.status, row.target, row.provider_status, row.cost) == (
        OutboxStatus.SENT,
        "+14155550123",
        "queued",
        first.cost,
    )


def test_stop_reply_suppresses_the_number(twilio, mocked, recorder):
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "error_21610.json"), status=400)

    with pytest.raises(ConnectorRejected):
        send_sms(twilio, recorder)

    assert Suppression.objects.filter(
        organization=twilio.organization,
        channel="sms",
        address="+14155550123",
        source="provider_error",
    ).exists()
    twilio.refresh_from_db()
    # One recipient's opt-out says nothing about the account: its health is unchanged.
    assert twilio.health == Health.UNTESTED
    assert OutboundMessage.objects.get().status == OutboxStatus.FAILED


def test_unusable_sender_disables_and_bad_credentials_ask_for_reconnect(twilio, mocked, recorder):
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "error_21606.json"), status=400)
    with pytest.raises(ConnectorRejected):
        send_sms(twilio, recorder, key="a")
    twilio.refresh_from_db()
    assert twilio.health == Health.DISABLED

    mocked.replace(responses.POST, MESSAGES, json=fixture("twilio", "error_20003.json"), status=401)
    twilio.health = Health.HEALTHY
    twilio.save(update_fields=["health"])
    with pytest.raises(ConnectorAuth):
        send_sms(twilio, recorder, key="b")
    twilio.refresh_from_db()
    assert (twilio.health, twilio.last_error) == (
        Health.NEEDS_RECONNECT,
        "Twilio rejected the credentials (20003)",
    )


def test_one_smtp_connection_serves_a_session(org, recorder):
    mailbox = Mailbox()
    with smtp_server(mailbox, mode="none") as controller:
        connector = connector_create(
            organization=org,
            provider="smtp_email",
            name="Relay",
            credentials={"username": USERNAME, "password": PASSWORD},
            config={
                "host": "127.0.0.1",
                "port": controller.port,
                "tls_mode": "none",
                "from_address": "news@acme.example",
            },
        )
        with connector_session(connector=connector, recorder=recorder) as session:
            for n in range(3):
                session.execute(
                    action="send_email",
                    idempotency_key=f"run-2:{n}",
                    input={"to": f"reader{n}@example.org", "subject": "Hi", "text": "Hello"},
                )

    assert len(mailbox.messages) == 3
    assert len(mailbox.peers) == 1 and mailbox.logins == [USERNAME]


def test_demo_sandbox_connectors_answer_every_messaging_action(org, recorder):
    connectors = {c.provider: c for c in demo_connectors_ensure(org)}
    calls = [
        ("twilio_sms", "send_sms", {"to": "+14155550123", "body": "hi"}),
        ("twilio_sms", "get_message", {"sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f"}),
        ("twilio_whatsapp", "send_message", {"to": "+447400123456", "body": "hi"}),
        (
            "twilio_whatsapp",
            "send_template",
            {"to": "+447400123456", "content_sid": "HXb5b62575e6e4ff6129ad7c8efe1f983e"},
        ),
        ("smtp_email", "send_email", {"to": "ada@example.org", "subject": "Hi", "text": "Hello"}),
        (
            "openai_compatible",
            "chat",
            {"messages": [{"role": "user", "content": "Hi"}], "json_mode": True},
        ),
    ]
    for n, (provider, action, data) in enumerate(calls):
        result = connector_execute(
            connector=connectors[provider],
            action=action,
            input=data,
            recorder=recorder,
            idempotency_key=f"demo:{n}",
        )
        assert result.output["sandbox"] is True, (provider, action)
    assert all(step.detail.get("sandbox") for step in recorder.steps)
