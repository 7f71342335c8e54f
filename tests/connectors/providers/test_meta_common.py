"""The Meta app's webhook, shared by Facebook Page and Instagram: handshake, signature, comments."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from connectors.providers.facebook_page import FacebookPage
from connectors.providers.instagram import Instagram
from connectors.providers.meta_common import meta_signature, meta_valid
from connectors.webhooks import BodyMalformed, SignatureInvalid, WebhookRequest
from tests.connectors.providers.messaging_helpers import fixture

APP_SECRET = "meta-app-secret-7f1c2b9d"
VERIFY_TOKEN = "verify-me-please-42"
URL = "https://hub.example.com/hooks/meta/5b0c"


def page(**credentials):
    return FacebookPage(
        credentials=FacebookPage.Credentials(page_access_token="EAAB-page-0001", **credentials),
        config=FacebookPage.Config(page_id="1234567890"),
    )


def instagram():
    return Instagram(
        credentials=Instagram.Credentials(access_token="EAAB-ig-0001", app_secret=APP_SECRET),
        config=Instagram.Config(ig_user_id="17841400000000000"),
    )


def post(body: dict | bytes, *, secret: str = APP_SECRET, signature: str | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sig = meta_signature(secret, raw) if signature is None else signature
    headers = {"X-Hub-Signature-256": sig} if sig else {}
    return WebhookRequest("POST", "", URL, headers, {}, raw, "application/json")


def handshake(**query):
    return WebhookRequest("GET", "", URL, {}, query, b"")


def test_meta_signature_is_sha256_hex_of_the_raw_body():
    body = b'{"object":"page","entry":[]}'
    expected = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert meta_signature("app-secret", body) == expected
    assert meta_valid("app-secret", body, expected)
    assert not meta_valid("app-secret", body + b" ", expected)
    assert not meta_valid("", body, expected)
    assert not meta_valid("app-secret", body, "")


def test_the_handshake_echoes_the_challenge_only_for_the_right_token():
    provider = page(app_secret=APP_SECRET, webhook_verify_token=VERIFY_TOKEN)
    ok = handshake(
        **{"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
    )
    assert provider.webhook_challenge(ok).body == "42"
    wrong = handshake(**{"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    with pytest.raises(SignatureInvalid, match="verify_token"):
        provider.webhook_challenge(wrong)
    with pytest.raises(BodyMalformed, match="hub.mode=subscribe"):
        provider.webhook_challenge(handshake(**{"hub.mode": "unsubscribe"}))
    with pytest.raises(SignatureInvalid):  # no token configured: nothing can match
        instagram().webhook_challenge(ok)


def test_events_need_the_app_secret_and_its_signature():
    body = fixture("meta", "webhook_page_comment.json")
    page(app_secret=APP_SECRET).webhook_verify(post(body))
    with pytest.raises(SignatureInvalid, match="does not match"):
        page(app_secret=APP_SECRET).webhook_verify(post(body, secret="not-the-secret"))
    with pytest.raises(SignatureInvalid, match="missing"):
        page(app_secret=APP_SECRET).webhook_verify(post(body, signature=""))
    with pytest.raises(SignatureInvalid, match="app_secret"):
        page().webhook_verify(post(body))


def test_a_page_comment_is_an_event_and_reactions_are_left_out():
    parsed = page(app_secret=APP_SECRET).webhook_parse(
        post(fixture("meta", "webhook_page_comment.json"))
    )
    [event] = parsed.events
    assert (event.source, event.event_id) == ("facebook_page.comment", "9876543210_1122334455")
    assert event.data["platform"] == "facebook" and event.data["text"]
    assert parsed.answer.body == "EVENT_RECEIVED" and not parsed.ignored


def test_an_instagram_comment_is_an_event():
    [event] = (
        instagram().webhook_parse(post(fixture("meta", "webhook_instagram_comment.json"))).events
    )
    assert event.source == "instagram.comment"
    assert event.data["from_name"] == "ada.codes" and event.data["media_id"] == "17900000000000000"


def test_a_delivery_without_comments_says_so_and_a_malformed_one_is_refused():
    empty = {
        "object": "page",
        "entry": [{"id": "1", "changes": [{"field": "feed", "value": None}]}],
    }
    parsed = page().webhook_parse(post(empty))
    assert parsed.events == [] and parsed.ignored == "No new comments in this delivery"
    with pytest.raises(BodyMalformed):
        page().webhook_parse(post(b"[1, 2]"))
    with pytest.raises(BodyMalformed, match="entry"):
        page().webhook_parse(post({"object": "page", "entry": ["x"]}))


def test_both_answer_at_the_meta_path_with_a_comment_source():
    assert FacebookPage.webhook_urls("abc")["events"].endswith("/hooks/meta/abc")
    assert Instagram.webhook_prefix() == FacebookPage.webhook_prefix() == "meta"
    assert list(Instagram.webhook_sources()) == ["instagram.comment"]
    assert FacebookPage.webhook_sources()["facebook_page.comment"].label == (
        "Facebook Page: new comment"
    )
