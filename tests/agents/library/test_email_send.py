"""EmailAgent send: through a real SMTP server (aiosmtpd on 127.0.0.1) and the outbox."""

from __future__ import annotations

import pytest

from agents.audience.unsubscribe import unsubscribe_target, unsubscribe_token
from connectors.models import OutboundMessage, Suppression
from connectors.services import connector_create
from connectors.suppressions import suppression_add
from neonhub.core.errors import InvalidInput
from runs.models import AgentRun
from tests.connectors.providers.smtp_server import Mailbox, plain_smtp_connector, smtp_server
from tests.helpers import run_until_failed

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox():
    return Mailbox()


@pytest.fixture
def smtp(org, mailbox):
    with smtp_server(mailbox, mode="none", auth=False) as controller:
        plain_smtp_connector(org, controller.port, from_name="Acme")
        yield controller


def payload(**extra):
    return {
        "subject": "Hello {{first_name|friend}}",
        "body": "Hi {{first_name|there}}, your plan is {{plan}}.",
        "variables": {"plan": "Pro"},
        "recipients": [
            {"email": "Ann@Example.org", "variables": {"first_name": "Ann"}},
            "bob@example.org",
        ],
        **extra,
    }


def test_send_delivers_rendered_messages_with_one_click_unsubscribe(
    run_intent, smtp, mailbox, org, client, settings
):
    settings.NEONHUB_PUBLIC_URL = "https://hub.example.com"
    run = run_intent("email", "send", payload(html="<p>Hi {{first_name|there}} &amp; {{plan}}</p>"))
    assert run.status == "completed", run.error_context
    out = run.output
    assert (
        out["sent"] == 2
        and out["skipped"] == []
        and out["failed"] == []
        and out["sandbox"] is False
    )
    assert {m["email"] for m in out["messages"]} == {"ann@example.org", "bob@example.org"}
    assert [m["rcpt_tos"] for m in mailbox.messages] == [["ann@example.org"], ["bob@example.org"]]
    first = mailbox.messages[0]["message"]
    assert first["Subject"] == "Hello Ann"
    text = first.get_body(("plain",)).get_content()
    assert (
        text.startswith("Hi Ann, your plan is Pro.")
        and "To stop receiving these emails: http" in text
    )
    assert "Unsubscribe</a>" in first.get_body(("html",)).get_content()
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = first["List-Unsubscribe"].strip("<>")
    assert link in text and mailbox.messages[1]["message"]["Subject"] == "Hello friend"
    # The link is a one-click POST that suppresses this address, and only this one.
    token = link.rstrip("/").rsplit("/", 1)[-1]
    target = unsubscribe_target(token)
    assert target.address == "ann@example.org" and target.channel == "email"
    assert link.startswith("https://hub.example.com/unsubscribe/")
    response = client.post(
        link.removeprefix("https://hub.example.com"), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert list(Suppression.objects.values_list("address", "source")) == [
        ("ann@example.org", "unsubscribe_link")
    ]
    assert OutboundMessage.objects.filter(run_id=run.id, status="sent").count() == 2
    assert run.metrics["sent"] == 2


def test_suppressed_addresses_are_skipped_and_reported(run_intent, smtp, mailbox, org):
    suppression_add(organization=org, channel="email", address="BOB@example.org", source="staff")
    run = run_intent("email", "send", payload())
    assert run.output["sent"] == 1 and run.output["skipped"] == [
        {"email": "bob@example.org", "reason": "suppressed"}
    ]
    assert [m["rcpt_tos"] for m in mailbox.messages] == [["ann@example.org"]]
    assert run.metrics["skipped"] == 1


def test_a_reexecuted_run_sends_nothing_twice(run_intent, smtp, mailbox):
    from agents import executor
    from runs.models import AgentRun

    run = run_intent("email", "send", payload())
    assert len(mailbox.messages) == 2
    # Put the finished run back in the queue as a redelivered task would find it after a crash.
    AgentRun.objects.filter(pk=run.pk).update(status="queued", attempt=1)
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert run.status == "completed" and run.output["sent"] == 2
    assert len(mailbox.messages) == 2


def test_a_missing_placeholder_fails_before_anything_is_sent(run_intent, smtp, mailbox):
    # Checked when the run is asked for (the intent's preflight): no run, nothing sent.
    with pytest.raises(InvalidInput) as refused:
        run_intent(
            "email",
            "send",
            {
                "subject": "Hi",
                "body": "Code {{code}}",
                "recipients": ["a@example.org", "b@example.org"],
                "variables": {},
            },
        )
    assert {d["field"] for d in refused.value.details} == {
        "payload.recipients.0.variables.code",
        "payload.recipients.1.variables.code",
    }
    assert mailbox.messages == [] and not AgentRun.objects.exists()


def test_a_refused_recipient_is_reported_and_the_others_still_go(run_intent, smtp, mailbox):
    mailbox.rcpt_replies["<bob@example.org>"] = "550 5.1.1 User unknown"
    mailbox.rcpt_replies["bob@example.org"] = "550 5.1.1 User unknown"
    run = run_intent("email", "send", payload())
    assert run.status == "completed"
    assert run.output["sent"] == 1 and [f["email"] for f in run.output["failed"]] == [
        "bob@example.org"
    ]


def test_send_without_an_smtp_connector_is_refused_before_a_run_exists(run_intent):
    with pytest.raises(InvalidInput) as refused:
        run_intent("email", "send", payload())
    assert refused.value.details == [
        {
            "field": "connector",
            "message": "There is no SMTP email connector to send email: add one under Connectors.",
        }
    ]
    assert not AgentRun.objects.exists()


def test_send_with_a_sandbox_connector_records_the_outbox(run_intent, org):
    connector_create(
        organization=org,
        provider="smtp_email",
        name="sandbox",
        mode="sandbox",
        config={"host": "smtp.example.com", "from_address": "news@acme.example"},
    )
    run = run_intent("email", "send", payload())
    assert run.status == "completed", run.error_context
    assert run.output["sandbox"] is True and run.output["sent"] == 2
    assert OutboundMessage.objects.filter(run_id=run.id, sandbox=True).count() == 2


@pytest.mark.parametrize(
    "recipients,field",
    [
        ([], "payload.recipients"),
        (["not-an-address"], "payload.recipients.0.email"),
        ([{"email": "a@example.org", "extra": 1}], "payload.recipients.0.extra"),
    ],
)
def test_send_bad_recipients_are_refused_at_the_api(api, recipients, field):
    response = api.post(
        "/runs",
        {
            "agent": "email",
            "intent": "send",
            "payload": {"subject": "s", "body": "b", "recipients": recipients},
        },
    )
    assert response.status_code == 422
    assert field in [d["field"] for d in response.json()["error"]["details"]]


def test_unsubscribe_page_confirms_on_get_and_refuses_bad_tokens(client, org):
    token = unsubscribe_token(organization_id=org.id, channel="email", address="carol@example.org")
    page = client.get(f"/unsubscribe/{token}/")
    assert (
        page.status_code == 200
        and b"ca\xe2\x80\xa6@example.org" in page.content
        and b"Acme" in page.content
    )
    assert not Suppression.objects.exists()
    assert client.get(f"/unsubscribe/{token}x/").status_code == 404
    assert client.post("/unsubscribe/garbage/").status_code == 404
    forged = unsubscribe_token(
        organization_id="00000000-0000-0000-0000-000000000000",
        channel="email",
        address="carol@example.org",
    )
    assert client.post(f"/unsubscribe/{forged}/").status_code == 404
    bad_address = unsubscribe_token(organization_id=org.id, channel="email", address="nope")
    assert client.post(f"/unsubscribe/{bad_address}/").status_code == 404
    assert client.put(f"/unsubscribe/{token}/").status_code == 405
    assert client.post(f"/unsubscribe/{token}/").status_code == 200
    assert client.post(f"/unsubscribe/{token}/").status_code == 200  # twice is fine
    assert Suppression.objects.get().address == "carol@example.org"


def test_recipients_blocked_by_policy_are_skipped_with_the_reason(run_intent, smtp, mailbox, org):
    org.settings = {"require_consent": ["email"]}
    org.save()
    run = run_intent("email", "send", payload())
    assert run.status == "completed" and run.output["sent"] == 0
    assert [s["reason"] for s in run.output["skipped"]] == ["consent", "consent"]
    assert mailbox.messages == []


def test_a_persons_retry_never_sends_twice(run_intent, run_now, smtp, mailbox, api, client, owner):
    from runs.models import AgentRun

    three = {
        "subject": "Hi",
        "body": "Hello {{email}}",
        "recipients": ["a@example.org", "b@example.org", "c@example.org"],
    }
    mailbox.rcpt_replies["c@example.org"] = "450 4.2.1 Mailbox busy, try again later"
    failed = run_until_failed(run_intent("email", "send", three))
    assert failed.status == "failed" and failed.error_code == "CONNECTOR_UNAVAILABLE"
    assert sorted(m["rcpt_tos"][0] for m in mailbox.messages) == ["a@example.org", "b@example.org"]

    mailbox.rcpt_replies.clear()  # c's server accepts mail again
    response = run_now(api.post, f"/runs/{failed.id}/retry")
    assert response.status_code == 202, response.content
    retry = AgentRun.objects.get(pk=response.json()["id"])
    assert retry.status == "completed", retry.error_context
    assert retry.lineage_id == failed.id and retry.parent_id == failed.id
    # The server received exactly one copy for each address; c's arrived on the Retry.
    assert sorted(m["rcpt_tos"][0] for m in mailbox.messages) == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    by_email = {m["email"]: m for m in retry.output["messages"]}
    assert by_email["a@example.org"]["alreadySentInRun"] == str(failed.id)
    assert by_email["b@example.org"]["alreadySentInRun"] == str(failed.id)
    assert "alreadySentInRun" not in by_email["c@example.org"]
    rows = {r.target: r for r in OutboundMessage.objects.all()}
    assert len(rows) == 3 and all(r.status == "sent" for r in rows.values())
    assert rows["c@example.org"].run_id == retry.id and rows["a@example.org"].run_id == failed.id

    # The API says it, step by step ...
    detail = api.get(f"/runs/{retry.id}").json()
    assert detail["lineage_id"] == str(failed.id)
    replayed = [s for s in detail["steps"] if s["already_sent_in_run"]]
    assert sorted(s["detail"]["target"] for s in replayed) == ["a@example.org", "b@example.org"]
    assert {s["already_sent_in_run"] for s in replayed} == {str(failed.id)}
    # ... and so does the run page.
    client.force_login(owner)
    page = client.get(f"/runs/{retry.id}/").content.decode()
    assert page.count(f'already sent in run <a href="/runs/{failed.id}/"') == 2


def test_a_batch_items_run_retried_by_hand_sends_nothing_twice(
    run_intent, run_now, smtp, mailbox, api
):
    import uuid

    from runs.models import AgentRun

    two = {"subject": "Hi", "body": "Hello", "recipients": ["a@example.org", "b@example.org"]}
    mailbox.rcpt_replies["b@example.org"] = "451 4.3.0 Try again later"
    item = run_until_failed(run_intent("email", "send", two, batch_id=uuid.uuid4()))
    assert item.status == "failed" and [m["rcpt_tos"] for m in mailbox.messages] == [
        ["a@example.org"]
    ]
    mailbox.rcpt_replies.clear()
    retry = AgentRun.objects.get(pk=run_now(api.post, f"/runs/{item.id}/retry").json()["id"])
    assert retry.status == "completed" and retry.lineage_id == item.id
    assert [m["rcpt_tos"] for m in mailbox.messages] == [["a@example.org"], ["b@example.org"]]
