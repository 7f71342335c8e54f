"""Pre-run checks: what can be known before a run exists answers 422 naming the field, and
no run is created (POST /api/v1/runs, the start page, batches alike)."""

from __future__ import annotations

import pytest

from connectors.models import Connector, Health, Mode
from connectors.registry import get_provider_class
from connectors.services import connector_create, placeholders
from runs.models import AgentRun

pytestmark = pytest.mark.django_db

POST = {"text": "Spring is here. Come and see.", "imageUrl": "https://cdn.example.com/a.jpg"}


def connector(org, provider, name=None, **fields):
    cls = get_provider_class(provider)
    made = connector_create(
        organization=org,
        provider=provider,
        name=name or provider,
        mode="sandbox",
        credentials=placeholders(cls.Credentials),
        config=placeholders(cls.Config),
    )
    if fields:
        Connector.objects.filter(pk=made.pk).update(**fields)
    return made


def refused(api, agent, intent, payload) -> list[dict]:
    resp = api.post("/runs", {"agent": agent, "intent": intent, "payload": payload})
    assert resp.status_code == 422, resp.content
    assert resp.json()["error"]["code"] == "INVALID_INPUT"
    assert not AgentRun.objects.exists()
    return resp.json()["error"]["details"]


def test_a_private_url_is_refused_before_the_run(api, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    assert refused(api, "seo", "seo-audit", {"url": "http://10.0.0.7/admin"}) == [
        {
            "field": "payload.url",
            "message": "URL points to a private or local address; use a public one.",
        }
    ]


def test_private_media_is_refused_before_the_run(api, org, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    connector(org, "instagram")
    details = refused(
        api,
        "social",
        "publish",
        {"text": "Hi", "platforms": ["instagram"], "imageUrl": "http://localhost/a.jpg"},
    )
    assert details == [
        {
            "field": "payload.imageUrl",
            "message": "Image URL points to a private or local address; use a public one.",
        }
    ]


@pytest.mark.parametrize(
    "platform, change, field, message",
    [
        (
            "instagram",
            {"imageUrl": None},
            "payload.imageUrl",
            "Instagram posts need an image or video at a public URL",
        ),
        ("youtube", {}, "payload.videoUrl", "YouTube needs a video URL"),
        ("reddit", {}, "payload.reddit.subreddit", "Reddit needs a subreddit"),
        (
            "instagram",
            {"hashtags": [f"t{i}" for i in range(28)], "text": "#a #b #c"},
            "payload.hashtags",
            "Instagram allows at most 30 hashtags in a caption",
        ),
    ],
)
def test_media_and_platform_limits_are_checked_for_every_chosen_platform(
    api, org, platform, change, field, message
):
    connector(org, "facebook_page")
    connector(org, platform)
    payload = {**POST, "platforms": ["facebook", platform], **change}
    assert refused(api, "social", "publish", payload) == [{"field": field, "message": message}]


def test_a_platform_without_a_connector_is_named(api, org):
    connector(org, "facebook_page")
    details = refused(api, "social", "publish", {**POST, "platforms": ["Facebook", "ig"]})
    assert details == [
        {
            "field": "payload.platforms",
            "message": "There is no Instagram connector to publish to it: add one under Connectors.",
        }
    ]


def test_email_send_without_an_smtp_connector_is_refused(api):
    payload = {"subject": "Hi", "body": "Text", "recipients": ["a@example.com"]}
    assert refused(api, "email", "send", payload) == [
        {
            "field": "connector",
            "message": "There is no SMTP email connector to send email: add one under Connectors.",
        }
    ]


@pytest.mark.parametrize(
    "fields, message",
    [
        (
            {"mode": Mode.LIVE, "health": Health.NEEDS_RECONNECT},
            "The Twilio SMS connector “US” needs reconnecting: open it under Connectors and connect it again.",
        ),
        (
            {"mode": Mode.LIVE, "health": Health.DISABLED},
            "The Twilio SMS connector “US” was disabled by the provider: open it under Connectors to see why.",
        ),
        (
            {"enabled": False},
            "The Twilio SMS connector “US” is switched off: switch it on under Connectors.",
        ),
    ],
)
def test_a_connector_that_cannot_send_is_named_with_what_to_do(api, org, fields, message):
    connector(org, "twilio_sms", name="US", **fields)
    details = refused(api, "messaging", "send-sms", {"to": "+14155550100", "body": "Hi"})
    assert details == [{"field": "payload.connector", "message": message}]


def test_a_sandbox_or_rate_limited_connector_passes(api, org):
    connector(org, "twilio_sms", name="US", health=Health.NEEDS_RECONNECT)  # sandbox: usable
    resp = api.post(
        "/runs",
        {
            "agent": "messaging",
            "intent": "send-sms",
            "payload": {"to": "+14155550100", "body": "Hi"},
        },
    )
    assert resp.status_code == 202
    Connector.objects.update(mode=Mode.LIVE, health=Health.RATE_LIMITED)  # it only waits
    resp = api.post(
        "/runs",
        {
            "agent": "messaging",
            "intent": "send-sms",
            "payload": {"to": "+14155550101", "body": "Hi"},
        },
    )
    assert resp.status_code == 202


def test_every_problem_is_reported_at_once(api, org, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    details = refused(
        api,
        "social",
        "publish",
        {"text": "Hi", "platforms": ["youtube", "reddit"], "videoUrl": "http://127.0.0.1/v.mp4"},
    )
    assert [d["field"] for d in details] == [
        "payload.videoUrl",
        "payload.platforms",  # no YouTube connector
        "payload.reddit.subreddit",
        "payload.platforms",  # no Reddit connector
    ]


def test_an_idempotent_replay_answers_the_first_run_without_checking_again(api, org):
    sms = connector(org, "twilio_sms", name="US")
    body = {
        "agent": "messaging",
        "intent": "send-sms",
        "payload": {"to": "+14155550100", "body": "Hi"},
    }
    first = api.post("/runs", body, headers={"Idempotency-Key": "k1"})
    sms.delete()
    again = api.post("/runs", body, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]


def test_an_email_placeholder_without_a_value_is_refused_before_anything_is_sent(api, org):
    connector(org, "smtp_email")
    payload = {
        "subject": "Hi {{first_name}}",
        "body": "Your code: {{code}}. Bye {{first_name|friend}}.",
        "recipients": [
            "a@example.com",
            {"email": "b@example.com", "variables": {"first_name": "B", "code": 7}},
        ],
    }
    assert refused(api, "email", "send", payload) == [
        {
            "field": "payload.recipients.0.variables.code",
            "message": "No value for {{code}}, {{first_name}} for a@example.com: give it under "
            "Variables, or a default in the text like {{code|there}}.",
        }
    ]
    payload["variables"] = {"first_name": "there", "code": 0}
    assert (
        api.post("/runs", {"agent": "email", "intent": "send", "payload": payload}).status_code
        == 202
    )
