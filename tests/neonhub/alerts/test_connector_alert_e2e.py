"""Done when: an operator is told by email when a connector breaks and when it recovers.

Real parts: the connector calls a loopback Twilio (pytest-httpserver) whose answer turns from
"credentials rejected" to "active" and back, its health follows through the connector's own
test, the minute task judges the rule, and Django's SMTP backend delivers to a real SMTP server
(aiosmtpd) on loopback.
"""

from __future__ import annotations

import pytest

from connectors.models import Health
from connectors.services import connector_test
from neonhub.alerts import services, tasks
from neonhub.alerts.models import AlertDelivery, AlertRule
from tests.connectors.providers.messaging_helpers import fixture
from tests.connectors.providers.smtp_server import Mailbox, smtp_server
from tests.factories import TWILIO_SID, ConnectorFactory

pytestmark = [pytest.mark.django_db, pytest.mark.e2e]


@pytest.fixture
def mailbox(settings):
    box = Mailbox()
    with smtp_server(box, mode="none", auth=False) as controller:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = (
            False,
            "",
            "",
        )
        yield box


def _a_minute_passes():
    AlertRule.objects.update(evaluated_at=None)


def test_operator_is_emailed_when_a_connector_breaks_and_recovers(org, httpserver, mailbox):
    account = f"/2010-04-01/Accounts/{TWILIO_SID}.json"
    connector = ConnectorFactory(
        organization=org,
        name="Shop SMS",
        mode="live",
        config={"from_number": "+15005550006", "base_url": httpserver.url_for("").rstrip("/")},
    )
    destination, _ = services.destination_create(
        organization=org, name="Operator", kind="email", target="operator@acme.example"
    )
    services.rule_create(
        organization=org,
        name="Shop SMS connection",
        kind="connector_reconnect",
        connector_id=connector.pk,
        alert_level=1,
        destination_ids=[destination.pk],
    )
    httpserver.expect_request(account).respond_with_json(fixture("twilio", "account.json"))
    assert connector_test(connector=connector).ok
    assert tasks.alerts_tick() == {"evaluated": 1, "queued": 0, "sent": 0, "pruned": 0}

    # The credentials are revoked at Twilio: the connector's test says so, the alert fires.
    httpserver.clear()
    httpserver.expect_request(account).respond_with_json(
        fixture("twilio", "error_20003.json"), status=401
    )
    assert not connector_test(connector=connector).ok
    connector.refresh_from_db()
    assert connector.health == Health.NEEDS_RECONNECT
    _a_minute_passes()
    assert tasks.alerts_tick() == {"evaluated": 1, "queued": 1, "sent": 1, "pruned": 0}
    (broke,) = mailbox.messages
    assert broke["rcpt_tos"] == ["operator@acme.example"]
    assert broke["message"]["Subject"] == "[NeonHub] ALERT: Shop SMS connection"
    body = broke["message"].get_content()
    assert "Needs reconnecting: Shop SMS (needs reconnect)" in body and "ok → alert" in body

    # Still broken a minute later: no second email (no reminder interval set).
    _a_minute_passes()
    assert tasks.alerts_tick()["sent"] == 0

    # Reconnected: the test passes, the connector heals, the operator hears it recovered.
    httpserver.clear()
    httpserver.expect_request(account).respond_with_json(fixture("twilio", "account.json"))
    assert connector_test(connector=connector).ok
    _a_minute_passes()
    assert tasks.alerts_tick() == {"evaluated": 1, "queued": 1, "sent": 1, "pruned": 0}
    recovered = mailbox.messages[1]["message"]
    assert recovered["Subject"] == "[NeonHub] Recovered: Shop SMS connection"
    assert "alert → ok" in recovered.get_content()
    assert list(AlertDelivery.objects.order_by("created_at").values_list("event", "status")) == [
        ("breach", "sent"),
        ("recovery", "sent"),
    ]
