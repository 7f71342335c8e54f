"""A recognisable secret goes in once and never comes out: not in any API answer, admin page,
log line, run record, nor in plain text anywhere in the database."""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import traceback
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from werkzeug import Response

from connectors.models import Connector
from connectors.secrets import scrub, scrub_error
from neonhub.core.errors import ConnectorUnavailable
from neonhub.core.models import Role
from runs.models import AgentRun, RunStep
from tests.conftest import ApiClient, _key


@pytest.fixture
def canary() -> str:
    # The middle is what must never leak; a mask may show the first and last four characters.
    return f"tok_CANARY{secrets.token_hex(8)}MIDDLE{secrets.token_hex(4)}_9f3e"


def middle(secret: str) -> str:
    return secret[4:-4]


def database_text() -> str:
    """Every row of every table, as text."""
    chunks = []
    for model in apps.get_models():
        for row in model._default_manager.all().values():
            chunks.append(json.dumps(row, default=str))
    return "\n".join(chunks)


def database_files() -> list[Path]:
    if connection.vendor != "sqlite":
        return []
    name = Path(connection.settings_dict["NAME"])
    return [p for p in (name, Path(f"{name}-wal"), Path(f"{name}-journal")) if p.exists()]


@pytest.mark.django_db(transaction=True)
def test_a_stored_secret_appears_nowhere(client, admin_client, org, httpserver, caplog, canary):
    caplog.set_level(logging.DEBUG)
    second = canary.replace("CANARY", "CANARY2")
    answers: list[str] = []

    def keep(response):
        text = response.content.decode()
        answers.append(text)
        return response

    admin_api = ApiClient(client, _key(org, Role.ADMIN))
    base_url = httpserver.url_for("").rstrip("/")
    # The provider's server echoes the token in an error, as careless APIs do.
    httpserver.expect_request("/messages", method="POST").respond_with_json(
        {"id": "msg_1", "status": "queued"}
    )
    httpserver.expect_request("/messages/bad").respond_with_response(
        Response(
            json.dumps({"error": {"code": "E1", "message": f"token {canary} not allowed"}}), 400
        )
    )
    httpserver.expect_request("/messages/bad2").respond_with_response(
        Response(
            json.dumps({"error": {"code": "E1", "message": f"token {second} not allowed"}}), 400
        )
    )
    httpserver.expect_request("/me").respond_with_response(
        Response(json.dumps({"error": {"code": "E2", "message": f"bad token {canary}"}}), 401)
    )

    created = keep(
        admin_api.post(
            "/connectors",
            {
                "provider": "fake",
                "name": "Main",
                "mode": "live",
                "config": {"base_url": base_url},
                "credentials": {"api_token": canary, "account": "acct_main"},
            },
        )
    )
    assert created.status_code == 201
    connector_id = created.json()["id"]
    assert created.json()["credentials_set"]["api_token"] == f"{canary[:4]}…{canary[-4:]}"
    keep(admin_api.get("/connectors"))
    keep(admin_api.get(f"/connectors/{connector_id}"))
    keep(admin_api.get("/connectors/catalog"))
    sent = keep(
        admin_api.post(
            f"/connectors/{connector_id}/actions/send",
            {"input": {"to": "+14155550100", "text": "hello"}},
        )
    )
    failed = keep(
        admin_api.post(f"/connectors/{connector_id}/actions/lookup", {"input": {"id": "bad"}})
    )
    assert failed.json()["status"] == "failed"
    for run_id in (sent.json()["run_id"], failed.json()["run_id"]):
        keep(admin_api.get(f"/runs/{run_id}"))
    keep(admin_api.get("/runs"))
    keep(admin_api.post(f"/connectors/{connector_id}/test"))
    patched = keep(
        admin_api.patch(f"/connectors/{connector_id}", {"credentials": {"api_token": second}})
    )
    assert patched.status_code == 200
    again = keep(
        admin_api.post(f"/connectors/{connector_id}/actions/lookup", {"input": {"id": "bad2"}})
    )
    keep(admin_api.get(f"/runs/{again.json()['run_id']}"))

    pages = [
        reverse("admin:connectors_connector_changelist"),
        reverse("admin:connectors_connector_change", args=[connector_id]),
        reverse("admin:connectors_connector_history", args=[connector_id]),
        reverse("admin:connectors_outboundmessage_changelist"),
        reverse("admin:runs_agentrun_changelist"),
        reverse("admin:connectors_connector_add") + "?provider=fake",
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        keep(response)
    # Saving the admin form again (secrets left blank) must not echo them either.
    change = admin_client.post(
        reverse("admin:connectors_connector_change", args=[connector_id]),
        {
            "name": "Main",
            "mode": "live",
            "enabled": "on",
            "token_expires_at": "",
            "cred__api_token": "",
            "cred__account": "",
            "conf__base_url": base_url,
            "conf__sender": "NeonHub",
            "conf__region": "us",
        },
        follow=True,
    )
    keep(change)

    logs = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    stored = database_text()
    for secret in (canary, second):
        for name, text in (
            ("API answers and pages", "\n".join(answers)),
            ("logs", logs),
            ("database", stored),
        ):
            assert middle(secret) not in text, f"the secret leaked into {name}"
        for path in database_files():
            assert middle(secret).encode() not in path.read_bytes(), (
                f"the secret is in plain text in {path.name}"
            )
    assert "[redacted]" in stored  # the echoed token was scrubbed, not just left out by luck


# --- a secret echoed back in its encoded forms ------------------------------------------------

SID = "AC3f2a9e0d5b7c41e8a6d9f0b1c2e3d4a5"


def _echo_authorization(request):
    """A careless provider (or a proxy in front of it) quoting the Authorization header it got,
    as it came, without its padding, decoded and percent-encoded, in a 4xx Twilio error body."""
    header = request.headers["Authorization"]
    encoded = header.split(" ", 1)[1]
    pair = base64.b64decode(encoded).decode()
    if request.path.endswith(f"/Accounts/{SID}.json"):  # the connection test
        echoed = f"unexpected Authorization: {header}"
    elif request.method == "POST":  # send_sms
        echoed = f"unexpected credentials {encoded.rstrip('=')} ({quote(header, safe='')})"
    else:  # get_message
        echoed = f"unexpected login {quote(pair, safe='')} / {quote_plus(pair.split(':', 1)[1])}"
    body = {"code": 21211, "message": echoed, "more_info": "", "status": 400}
    return Response(json.dumps(body), status=400, content_type="application/json")


@pytest.mark.django_db(transaction=True)
def test_a_secret_echoed_back_encoded_reaches_no_record(client, org, httpserver, caplog):
    caplog.set_level(logging.DEBUG)
    # "+", "/" and "=" encode differently in percent-encoding; the pair's base64 has padding.
    token = f"tk+{secrets.token_hex(6)}/CANARY{secrets.token_hex(6)}=9f3e"
    pair = f"{SID}:{token}"
    basic = base64.b64encode(pair.encode()).decode()
    assert basic.endswith("=")
    httpserver.expect_request(re.compile("/2010-04-01/.*")).respond_with_handler(
        _echo_authorization
    )
    admin_api = ApiClient(client, _key(org, Role.ADMIN))
    created = admin_api.post(
        "/connectors",
        {
            "provider": "twilio_sms",
            "name": "Twilio",
            "config": {
                "base_url": httpserver.url_for("").rstrip("/"),
                "from_number": "+14155550100",
            },
            "credentials": {"account_sid": SID, "auth_token": token},
        },
    )
    assert created.status_code == 201, created.content
    connector_id = created.json()["id"]
    answers = []
    tested = admin_api.post(f"/connectors/{connector_id}/test")
    answers += [
        tested.content.decode(),
        admin_api.get(f"/connectors/{connector_id}").content.decode(),
    ]
    assert tested.json()["ok"] is False
    for action, data in (
        ("send_sms", {"to": "+14155550123", "body": "Hello"}),
        ("get_message", {"sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f"}),
    ):
        done = admin_api.post(f"/connectors/{connector_id}/actions/{action}", {"input": data})
        assert done.json()["status"] == "failed", done.content
        assert done.json()["error"]["code"] == "CONNECTOR_REJECTED"
        run = admin_api.get(f"/runs/{done.json()['run_id']}")
        answers += [done.content.decode(), run.content.decode()]
    assert len(httpserver.log) == 3

    connector = Connector.objects.get(pk=connector_id)
    runs = list(AgentRun.objects.filter(organization=org))
    steps = list(RunStep.objects.filter(run__in=runs))
    assert len(runs) == 2 and steps
    records = {
        "the connector's last error": connector.last_error,
        "the test message": tested.json()["message"],
        "the runs' errors": json.dumps(
            [[r.error_message, r.error_context] for r in runs], default=str
        ),
        "the steps": json.dumps([[s.error, s.detail] for s in steps], default=str),
        "API answers": "\n".join(answers),
        "logs": "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records),
        "the database": database_text(),
    }
    forms = {
        "the token": token,
        "the token's middle": middle(token),
        "the token percent-encoded": quote(token, safe=""),
        "the token form-encoded": quote_plus(token),
        "the Basic pair": basic,
        "the Basic pair without padding": basic.rstrip("="),
        "the end of the Basic pair (the token's part)": basic.rstrip("=")[-24:],
        "the Basic pair percent-encoded": quote(basic, safe=""),
        "the decoded pair percent-encoded": quote(pair, safe=""),
    }
    for where, text in records.items():
        for what, form in forms.items():
            assert form not in text, f"{what} reached {where}"
    assert "[redacted]" in connector.last_error  # echoed, and scrubbed: not left out by luck


def test_credential_headers_and_quoted_authorization_values_are_never_kept():
    detail = {"headers": {"Authorization": "Basic QUMxMjM6c2VjcmV0", "Accept": "json"}}
    assert scrub(detail, []) == {"headers": {"Authorization": "[redacted]", "Accept": "json"}}
    # A token we do not hold (renewed during the call) is hidden when quoted with its scheme.
    text = "proxy said: Authorization: Bearer ya29.a0AfB_byC3x9Zq1 was refused"
    assert scrub(text, []) == "proxy said: Authorization: Bearer [redacted] was refused"
    assert scrub("Basic authentication failed", []) == "Basic authentication failed"


def test_a_secret_cut_short_at_the_end_of_a_message_is_hidden():
    token = "sk-live-4f9a2c7e1b3d5f60aa"
    message = f"Twilio: bad key {token}"[:-6]
    assert scrub(message, [token]) == "Twilio: bad key [redacted]"


def test_the_errors_an_error_was_raised_from_are_scrubbed_too():
    token = "sk-live-4f9a2c7e1b3d5f60aa"
    try:
        try:
            raise ValueError(f"the proxy refused {token}")
        except ValueError as inner:
            raise ConnectorUnavailable("unavailable") from inner
    except ConnectorUnavailable as exc:
        error = exc
    scrub_error(error, [token])
    assert token not in "".join(traceback.format_exception(error))  # the run's stack
