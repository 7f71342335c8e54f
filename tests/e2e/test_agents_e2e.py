"""The side-effect intents end to end: a real qcluster worker, real sockets for the providers.

Providers are served on loopback (pytest-httpserver for the HTTP APIs, aiosmtpd for email),
the connectors are live and point at them through their ``base_url`` override.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django_q.conf import Conf

from agents.models import KnowledgeArticle
from connectors.models import OutboundMessage, Suppression
from connectors.services import connector_create
from runs.models import AgentRun, RunStatus
from tests.connectors.providers.smtp_server import Mailbox, smtp_server
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TWILIO_SID = "AC3f2a9e0d5b7c41e8a6d9f0b1c2e3d4a5"


@pytest.fixture
def broker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)


def fixture(path: str) -> str:
    return (FIXTURES / path).read_text()


def finished(api, run_id: str) -> dict:
    def done():
        body = api.get(f"/runs/{run_id}").json()
        return body if body["status"] in ("completed", "failed", "cancelled") else None

    return wait_for(done, timeout=90, interval=0.2)


def test_publish_end_to_end_to_facebook_and_reddit(broker, worker, api, org, httpserver):
    base = httpserver.url_for("").rstrip("/")
    connector_create(
        organization=org,
        provider="facebook_page",
        name="Page",
        mode="live",
        credentials={"page_access_token": "EAAB-e2e-token"},
        config={"page_id": "104563452346", "base_url": base},
    )
    connector_create(
        organization=org,
        provider="reddit",
        name="Reddit",
        mode="live",
        credentials={
            "client_id": "p-jcoLKBynTLew",
            "client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI",
            "username": "acme_bot",
            "password": "hunter2-e2e",
        },
        config={
            "user_agent": "web:com.acme.neonhub:v1.0 (by /u/acme_bot)",
            "base_url": base,
            "auth_base_url": base,
        },
    )
    httpserver.expect_request("/v26.0/104563452346/feed", method="POST").respond_with_data(
        fixture("facebook_page/post_created.json"), content_type="application/json"
    )
    httpserver.expect_request("/v26.0/104563452346_122104567890123456").respond_with_data(
        fixture("facebook_page/post_permalink.json"), content_type="application/json"
    )
    httpserver.expect_request("/api/v1/access_token", method="POST").respond_with_data(
        fixture("reddit/token.json"), content_type="application/json"
    )
    httpserver.expect_request("/api/submit", method="POST").respond_with_data(
        fixture("reddit/submit_ok.json"), content_type="application/json"
    )
    worker()
    response = api.post(
        "/runs",
        {
            "agent": "social",
            "intent": "publish",
            "payload": {
                "text": "Our new single origin is in. Huila, Colombia, washed.",
                "hashtags": ["coffee"],
                "platforms": ["facebook_page", "reddit"],
                "reddit": {"subreddit": "Coffee"},
            },
        },
    )
    assert response.status_code == 202
    run = finished(api, response.json()["id"])
    assert run["status"] == "completed", run
    results = run["output"]["results"]
    assert results["facebook_page"]["postId"] == "104563452346_122104567890123456"
    assert results["reddit"] == {
        "status": "published",
        "postId": "t3_1h2k3l4",
        "action": "submit_post",
        "permalink": "https://www.reddit.com/r/Coffee/comments/1h2k3l4/"
        "our_new_single_origin_is_in_huila_colombia/",
        "sandbox": False,
    }
    submit = next(req for req, _ in httpserver.log if req.path == "/api/submit")
    assert submit.form["sr"] == "Coffee" and submit.form["title"] == "Our new single origin is in."
    assert submit.form["kind"] == "self" and "#coffee" not in submit.form["text"]
    assert {s["provider"] for s in run["steps"] if s["kind"] == "call"} >= {
        "facebook_page",
        "reddit",
    }
    assert OutboundMessage.objects.filter(run_id=run["id"], status="sent").count() == 2


def test_send_end_to_end_and_a_worker_killed_mid_send_resumes_without_sending_twice(
    broker, worker, org, settings
):
    from agents import services

    settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT = 2
    mailbox = Mailbox(data_delay=1.2)
    recipients = [f"reader{i}@example.org" for i in range(5)]
    with smtp_server(mailbox, mode="none", auth=False) as server:
        connector_create(
            organization=org,
            provider="smtp_email",
            name="Mail",
            mode="live",
            credentials={},
            config={
                "host": "127.0.0.1",
                "port": server.port,
                "tls_mode": "none",
                "from_address": "news@acme.example",
            },
        )
        first = worker()
        run, _ = services.run_start(
            organization=org,
            agent="email",
            intent="send",
            payload={"subject": "Issue 12", "body": "Hello {{email}}", "recipients": recipients},
        )

        def in_the_middle_of_the_third():
            # The third send has started (its outbox row is claimed) and the server is still on it.
            return OutboundMessage.objects.filter(status="pending", target=recipients[2]).exists()

        wait_for(in_the_middle_of_the_third, timeout=60, interval=0.05)
        first.kill()
        assert AgentRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
        wait_for(lambda: services.runs_recover()["requeued"] == 1, timeout=20, interval=0.5)
        worker()
        wait_for(
            lambda: AgentRun.objects.get(pk=run.pk).status == RunStatus.COMPLETED,
            timeout=90,
            interval=0.2,
        )
    run.refresh_from_db()
    delivered = [m["rcpt_tos"][0] for m in mailbox.messages]
    assert len(delivered) == len(set(delivered))  # nobody got a message twice
    # Everyone got it, except perhaps the reader whose message was in flight when the worker died.
    assert set(recipients) - set(delivered) <= {recipients[2]}
    out = run.output
    # The message in flight when the worker died may have gone out: it is reported, not repeated.
    assert [u["email"] for u in out["unknown"]] == [recipients[2]]
    assert out["sent"] == 4 and run.attempt == 2
    rows = dict(OutboundMessage.objects.filter(run_id=run.id).values_list("target", "status"))
    assert rows[recipients[2]] == "unknown" and sum(1 for s in rows.values() if s == "sent") == 4


def test_reply_end_to_end_answers_an_sms_and_honours_stop(broker, worker, api, org, httpserver):
    connector_create(
        organization=org,
        provider="twilio_sms",
        name="SMS",
        mode="live",
        credentials={"account_sid": TWILIO_SID, "auth_token": "e2e-auth-token"},
        config={"from_number": "+14155550100", "base_url": httpserver.url_for("").rstrip("/")},
    )
    KnowledgeArticle.objects.create(
        organization=org,
        title="Opening hours",
        tags=["hours", "open"],
        body="We are open 9 to 5 on weekdays. On Saturdays we open at 10.",
    )
    httpserver.expect_request(
        f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json", method="POST"
    ).respond_with_data(
        fixture("twilio/message_created.json"), status=201, content_type="application/json"
    )
    worker()
    response = api.post(
        "/runs",
        {
            "agent": "support",
            "intent": "reply",
            "payload": {"from": "+14155550123", "body": "When are you open on Saturdays?"},
        },
    )
    run = finished(api, response.json()["id"])
    assert run["status"] == "completed", run
    assert run["output"]["status"] == "answered" and run["output"]["sent"] is True
    sent = parse_qs(httpserver.log[0][0].get_data(as_text=True))
    assert sent["To"] == ["+14155550123"] and sent["Body"][0].startswith("Hi! We are open 9 to 5")
    assert float(run["cost"]) > 0
    stop = finished(
        api,
        api.post(
            "/runs",
            {
                "agent": "support",
                "intent": "reply",
                "payload": {"from": "+14155550123", "body": "STOP"},
            },
        ).json()["id"],
    )
    assert stop["output"]["status"] == "opted_out"
    assert Suppression.objects.filter(channel="sms", address="+14155550123").exists()
    again = finished(
        api,
        api.post(
            "/runs",
            {
                "agent": "support",
                "intent": "reply",
                "payload": {"from": "+14155550123", "body": "Open Sunday?"},
            },
        ).json()["id"],
    )
    assert again["output"]["status"] == "suppressed"
    assert len(httpserver.log) == 1  # nothing more was sent to the number that opted out
    assert "e2e-auth-token" not in json.dumps([run, stop, again])
