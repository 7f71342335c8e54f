"""JSON logs with the run's and the organization's ids, and error reports to Sentry, scrubbed."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport
from structlog.stdlib import ProcessorFormatter

from agents import executor, services
from connectors.execution import ConnectorSession
from connectors.services import connector_create
from neonhub import observability
from neonhub.core import logcontext
from neonhub.core.recording import NullRecorder
from tests.connectors.conftest import TOKEN

pytestmark = pytest.mark.django_db

EMAIL = "ana.lopez@example.com"
PHONE = "+14155550123"
BODY = "Hi Ana, your order 5521 ships tomorrow. Reply STOP to opt out."


@pytest.fixture
def lines():
    """What the configured log handler writes (settings.LOGGING), as parsed JSON objects."""
    formatter = next(
        h.formatter
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, ProcessorFormatter)
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_the_log_format_is_json_unless_asked_for_console(settings):
    assert settings.NEONHUB_LOG_FORMAT == "json"
    console = observability.log_formatter("console")["processors"][-1]
    assert type(console).__name__ == "ConsoleRenderer"


def test_a_runs_log_lines_carry_its_run_and_organization_ids(org, lines):
    run, _ = services.run_start(
        organization=org, agent="testing", intent="boom", payload={"text": "x"}
    )
    executor.execute_run(run.id)
    logging.getLogger("after").warning("after the run")
    got = lines()
    mine = [line for line in got if line.get("run_id") == str(run.id)]
    events = [line["event"] for line in mine]
    assert any("failed with an unexpected error" in e for e in events)
    assert "Run failed" in events
    for line in mine:
        assert line["organization_id"] == str(org.id)
        assert line["agent"] == "testing" and line["intent"] == "boom"
        assert line["timestamp"] and line["level"] and line["logger"]
    failed = next(line for line in mine if line["event"] == "Run failed")
    assert failed["error_code"] == "INTERNAL" and failed["status"] == "failed"
    unexpected = next(line for line in mine if "unexpected" in line["event"])
    assert "RuntimeError: unexpected: x" in unexpected["exception"]
    after = next(line for line in got if line["event"] == "after the run")
    assert "run_id" not in after and "organization_id" not in after


def test_an_api_requests_lines_carry_the_organization_id(org, api, lines):
    missing = uuid.uuid4()
    resp = api.get(f"/runs/{missing}", {"search": EMAIL})
    assert resp.status_code == 404
    line = next(line for line in lines() if line["logger"] == "django.request")
    assert line["organization_id"] == str(org.id)
    assert line["path"] == f"/api/v1/runs/{missing}" and line["method"] == "GET"
    assert line["request_id"] == resp["X-Request-ID"]
    assert EMAIL not in json.dumps(line)


def test_a_page_requests_lines_carry_the_organization_id(org, owner_client, lines):
    resp = owner_client.get(f"/runs/{uuid.uuid4()}/?q={EMAIL}", headers={"X-Request-ID": "lb-7"})
    assert resp.status_code == 404 and resp["X-Request-ID"] == "lb-7"
    line = next(line for line in lines() if line["logger"] == "django.request")
    assert line["organization_id"] == str(org.id) and line["request_id"] == "lb-7"
    assert EMAIL not in json.dumps(line)


def test_a_forged_request_id_is_replaced(client, lines):
    resp = client.get("/healthz", headers={"X-Request-ID": 'x" "level": "critical'})
    assert resp["X-Request-ID"] != 'x" "level": "critical' and len(resp["X-Request-ID"]) == 32


def test_secrets_never_appear_in_log_lines(org, lines):
    connector = connector_create(
        organization=org,
        provider="fake",
        name="Main",
        mode="live",
        credentials={"api_token": TOKEN, "account": "acct_main"},
        config={"base_url": "https://api.example.com"},
    )
    with logcontext.run_scope(run_id=uuid.uuid4(), organization_id=org.id):
        session = ConnectorSession(connector=connector, recorder=NullRecorder())
        session.provider  # built: its credentials are now secrets of this context
        log = logging.getLogger("connectors.example")
        log.warning("provider echoed %s", TOKEN)
        log.warning("calling https://api.example.com/me?access_token=%s", TOKEN)
        log.warning("sent Authorization: Bearer %s", TOKEN)
        try:
            raise ValueError(f"bad token {TOKEN}")
        except ValueError:
            log.exception("failed")
    text = json.dumps(lines())
    assert TOKEN not in text
    got = [line for line in lines() if line["logger"] == "connectors.example"]
    assert got[0]["event"] == "provider echoed [redacted]"
    assert got[1]["event"] == "calling https://api.example.com/me"
    assert "[redacted]" in got[3]["exception"]
    # Outside the run the secrets are forgotten (and nothing leaked into the next one).
    assert logcontext.secrets_in_scope() == []


# --- Sentry ---------------------------------------------------------------------------------


class CapturingTransport(Transport):
    """Keeps the envelopes Sentry would send."""

    envelopes: list = []

    def capture_envelope(self, envelope) -> None:
        CapturingTransport.envelopes.append(envelope)


@pytest.fixture
def sentry_events():
    """Sentry reporting to a transport that keeps the envelopes; ``_collected()`` reads them."""
    CapturingTransport.envelopes = []
    observability.sentry_init(dsn="https://public@sentry.example/1", transport=CapturingTransport)
    try:
        yield
    finally:
        sentry_sdk.init()  # no DSN: nothing more is reported by this test process


def _send_sms(to: str, body: str, token: str) -> None:
    raise RuntimeError(
        f"Provider refused the message to {to} ({EMAIL}): Authorization: Bearer {token}; "
        f"see https://graph.facebook.com/v19.0/me/messages?access_token={token}"
    )


def test_an_error_report_arrives_scrubbed_and_tagged(org, sentry_events):
    run_id = uuid.uuid4()
    connector_secret = "conn-secret-7f3a9c2e1b"
    with logcontext.run_scope(run_id=run_id, organization_id=org.id):
        logcontext.secrets_add([connector_secret])
        sentry_sdk.set_context("message", {"body": BODY, "to": PHONE})
        sentry_sdk.add_breadcrumb(
            category="http", message=f"POST /send?key={TOKEN}", data={"text": BODY}
        )
        try:
            _send_sms(PHONE, BODY, TOKEN + connector_secret)
        except RuntimeError:
            sentry_sdk.capture_exception()
        logging.getLogger("neonhub.test").error("send failed for %s: %s", EMAIL, connector_secret)
    sentry_sdk.flush()
    events = _collected()
    assert len(events) == 2
    text = json.dumps(events, default=str)
    for leaked in (TOKEN, connector_secret, EMAIL, PHONE, BODY, "5521 ships"):
        assert leaked not in text, leaked
    error = events[0]
    assert error["tags"]["run_id"] == str(run_id)
    assert error["tags"]["organization_id"] == str(org.id)
    assert error["exception"]["values"][0]["type"] == "RuntimeError"
    message = error["exception"]["values"][0]["value"]
    assert "[email]" in message and "[phone]" in message and "Bearer [redacted]" in message
    assert "https://graph.facebook.com/v19.0/me/messages" in message
    assert error["contexts"]["message"]["body"] == observability.BODY_REMOVED
    frames = error["exception"]["values"][0]["stacktrace"]["frames"]
    assert all("vars" not in frame for frame in frames)  # local variables are not sent
    logged = events[1]
    assert logged["tags"]["organization_id"] == str(org.id)
    assert "[email]" in json.dumps(logged["logentry"])


def _collected() -> list[dict]:
    return [e.get_event() for e in CapturingTransport.envelopes if e.get_event() is not None]


def test_a_worker_task_starts_with_an_empty_log_context():
    from django_q.signals import pre_execute

    logcontext.bind(organization_id="org-1")
    logcontext.secrets_add(["left-by-the-last-task"])
    pre_execute.send(sender="django_q", func=print, task={"sync": True})
    assert logcontext.secrets_in_scope() == ["left-by-the-last-task"]  # inline: the caller's
    pre_execute.send(sender="django_q", func=print, task={"id": "t1"})
    assert logcontext.secrets_in_scope() == []
    import structlog

    assert structlog.contextvars.get_contextvars() == {}


def test_a_request_error_report_is_tagged_with_the_organization_and_scrubbed(
    org, owner, client, sentry_events, monkeypatch
):
    from neonhub.core import views

    def broken(*args, **kwargs):
        raise RuntimeError(f"template failed for {EMAIL}")

    monkeypatch.setattr(views, "render", broken)  # the Settings page's view breaks
    client.raise_request_exception = False
    client.force_login(owner)
    resp = client.get(f"/settings/?q={EMAIL}", headers={"X-Request-ID": "req-9"})
    assert resp.status_code == 500
    sentry_sdk.flush()
    events = _collected()
    error = next(e for e in events if e.get("exception"))
    assert error["tags"]["organization_id"] == str(org.id)
    assert error["tags"]["request_id"] == "req-9"
    assert "q=" not in json.dumps(error["request"])
    assert EMAIL not in json.dumps(events, default=str)
    assert "sessionid" not in json.dumps(events, default=str)
