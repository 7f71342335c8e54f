"""A recognisable secret goes in once and never comes out: not in any API answer, admin page,
log line, run record, nor in plain text anywhere in the database."""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from werkzeug import Response

from neonhub.core.models import Role
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
