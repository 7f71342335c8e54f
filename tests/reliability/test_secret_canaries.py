"""Secrets never come back out: connectors whose secrets are unique canary strings are used,
fail against providers that echo the secrets back, and then everything a person or a log
reader could see is searched for the canaries: every GET route of the API, every page, the
admin, the captured logs, every row of every table, and the SQLite files themselves.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from django.contrib import admin
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from werkzeug import Request, Response

from connectors.models import Connector
from connectors.services import connector_create
from neonhub.api import api as ninja_api
from runs.models import AgentRun
from tests.isolation import FOREIGN_OBJECTS, PLAIN_VALUES, PUBLIC_PREFIXES
from tests.reliability.conftest import TWILIO_SID, Plan, TwilioServer

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]
PARAM = re.compile(r"\{(\w+)\}|<(?:\w+:)?(\w+)>")


def canary(label: str) -> str:
    return f"canary-{label}-{uuid.uuid4().hex[:16]}"


def echo(request: Request) -> Response:
    """A careless provider: its error repeats what it was sent, credentials included."""
    seen = {"authorization": request.headers.get("Authorization", "")}
    kind, _, value = seen["authorization"].partition(" ")
    if kind == "Basic":
        seen["basic"] = base64.b64decode(value).decode(errors="replace")
    seen["form"] = dict(parse_qsl(request.get_data(as_text=True)))
    message = f"invalid credentials: {json.dumps(seen)}"
    return Response(
        json.dumps({"error": {"message": message, "type": "invalid_request_error"}}),
        status=401,
        content_type="application/json",
    )


@pytest.fixture
def echoing_twilio():
    server = TwilioServer(plan=Plan(echo_secret=True)).start()
    yield server
    server.stop()


@pytest.fixture
def canaries(org, httpserver, echoing_twilio):
    httpserver.expect_request(re.compile(".*")).respond_with_handler(echo)
    base = httpserver.url_for("").rstrip("/")
    secrets = {
        "twilio": canary("twilio"),
        "openai": canary("openai"),
        "reddit-secret": canary("reddit-secret"),
        "reddit-password": canary("reddit-password"),
        "smtp": canary("smtp"),
    }
    made = [
        connector_create(
            organization=org,
            provider="twilio_sms",
            name="Twilio",
            mode="live",
            credentials={"account_sid": TWILIO_SID, "auth_token": secrets["twilio"]},
            config={"from_number": "+15005550006", "base_url": echoing_twilio.url},
        ),
        connector_create(
            organization=org,
            provider="openai_compatible",
            name="LLM",
            mode="live",
            credentials={"api_key": secrets["openai"]},
            config={"base_url": base},
        ),
        connector_create(
            organization=org,
            provider="reddit",
            name="Reddit",
            mode="live",
            credentials={
                "client_id": "p-jcoLKBynTLew",
                "client_secret": secrets["reddit-secret"],
                "username": "acme_bot",
                "password": secrets["reddit-password"],
            },
            config={
                "user_agent": "web:com.acme.neonhub:v1.0 (by /u/acme_bot)",
                "base_url": base,
                "auth_base_url": base,
            },
        ),
        connector_create(
            organization=org,
            provider="smtp_email",
            name="Mail",
            mode="sandbox",
            credentials={"username": "mailer", "password": secrets["smtp"]},
            config={"host": "smtp.example.com", "from_address": "news@example.com"},
        ),
    ]
    return made, list(secrets.values())


def test_no_secret_appears_in_the_api_pages_admin_logs_or_database(
    org, canaries, api, owner_client, staff_client, caplog
):
    caplog.set_level(logging.DEBUG)
    connectors, secrets = canaries
    twilio, llm, reddit, _ = connectors
    exercised = _exercise(api, twilio, llm, reddit)

    seen: dict[str, str] = {}
    for path in _api_get_paths(org):
        seen[path] = _body(api.get(path.removeprefix("/api/v1")))
    seen.update(_pages(owner_client, org))
    seen.update(_admin_pages(staff_client))
    seen["logs"] = caplog.text
    seen.update(_table_rows())
    seen.update(_database_files())

    hits = [(where, s) for where, text in seen.items() for s in secrets if s in text]
    assert hits == [], hits[:10]
    # The crawl did reach what it had to: the runs that used the connectors and their answers.
    assert exercised >= 4 and any(str(twilio.pk) in where for where in seen), (
        "the crawl missed the connectors"
    )
    assert len(seen) > 40, sorted(seen)


def _exercise(api, twilio, llm, reddit) -> int:
    """Call each live connector, then test it; every provider answers with the secret echoed
    (the calls first: a failed test marks the connector for reconnection, which stops calls)."""
    calls = [
        (twilio, "send_sms", {"to": "+14155550100", "body": "Hello"}),
        (llm, "chat", {"messages": [{"role": "user", "content": "Hi"}]}),
        (reddit, "submit_post", {"subreddit": "test", "title": "Hi", "text": "Hello"}),
    ]
    for connector, action, data in calls:
        resp = api.post(f"/connectors/{connector.pk}/actions/{action}", {"input": data})
        assert resp.status_code in (200, 202), (action, resp.status_code, resp.content[:300])
    resp = api.post(
        "/runs",
        {
            "agent": "messaging",
            "intent": "send-sms",
            "payload": {"to": "+14155550101", "body": "Hi"},
        },
    )
    assert resp.status_code == 202, resp.content
    for connector in (twilio, llm, reddit):
        assert api.post(f"/connectors/{connector.pk}/test").status_code == 200
    return AgentRun.objects.filter(status="failed").count()


def _ids(org) -> dict[str, list[str]]:
    """Real ids of this organization for every URL parameter (made if there are none yet)."""
    ids = {name: [str(make(org))] for name, make in FOREIGN_OBJECTS.items()}
    ids["run_id"] = [
        str(pk) for pk in AgentRun.objects.filter(organization=org).values_list("pk", flat=True)
    ]
    ids["connector_id"] = [
        str(pk) for pk in Connector.objects.filter(organization=org).values_list("pk", flat=True)
    ]
    return ids


def _expand(path: str, ids: dict[str, list[str]]) -> list[str]:
    match = PARAM.search(path)
    if match is None:
        return [path]
    name = match.group(1) or match.group(2)
    values = [PLAIN_VALUES[name]] if name in PLAIN_VALUES else ids[name]
    return [
        url
        for value in values
        for url in _expand(path[: match.start()] + value + path[match.end() :], ids)
    ]


def _api_get_paths(org) -> list[str]:
    ids = _ids(org)
    paths = []
    for prefix, router in ninja_api._routers:
        for path, path_view in router.path_operations.items():
            full = (prefix.rstrip("/") + "/" + path.lstrip("/")).rstrip("/") if path else prefix
            if any("GET" in op.methods for op in path_view.operations):
                paths += _expand("/api/v1/" + full.lstrip("/"), ids)
    return sorted(set(paths))


def _page_paths(patterns=None, prefix="") -> list[str]:
    found = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        text = prefix + str(pattern.pattern)
        if text.startswith(("admin/", "api/", "static/", "logout/", *PUBLIC_PREFIXES)):
            continue
        if isinstance(pattern, URLResolver):
            found += _page_paths(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern):
            found.append("/" + text.lstrip("^").rstrip("$"))
    return found


def _pages(client, org) -> dict[str, str]:
    ids = _ids(org)
    pages = {}
    for path in _page_paths():
        for url in _expand(path, ids):
            resp = client.get(url)
            if resp.status_code == 200:
                pages[url] = _body(resp)
    return pages


def _admin_pages(client) -> dict[str, str]:
    pages = {}
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        pages[url] = _body(client.get(url))
        for pk in model_admin.get_queryset(None).values_list("pk", flat=True)[:20]:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk])
            pages[change] = _body(client.get(change))
    return pages


def _body(resp) -> str:
    if getattr(resp, "streaming", False):
        return b"".join(resp.streaming_content).decode(errors="replace")
    return resp.content.decode(errors="replace")


def _table_rows() -> dict[str, str]:
    rows = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows[f"table {table}"] = "\n".join(
                " ".join(_text(value) for value in row) for row in cursor.fetchall()
            )
    return rows


def _text(value) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def _database_files() -> dict[str, str]:
    if connection.vendor != "sqlite":
        return {}
    main = Path(connection.settings_dict["NAME"])
    files = [main, main.with_name(main.name + "-wal")]
    return {f"file {p.name}": p.read_bytes().decode("latin-1") for p in files if p.exists()}
