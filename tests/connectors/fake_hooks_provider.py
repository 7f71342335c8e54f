"""A test-only provider that calls us (registered in neonhub/test_settings.py).

It exists to prove that a provider which receives webhooks is one module and one registry
line: nothing else in the code names it, yet its events start trigger runs through the one
inbound view and its delivery reports update the outbox.  Its documented-style webhooks:

- ``POST /hooks/fake_hooks/<connector id>``: ``{"id", "type": "ping", "text"}``, signed in
  ``X-Fake-Signature`` (hex HMAC-SHA256 of the raw body, keyed by ``signing_secret``),
  answered ``{"ok": true}``; other types are ignored;
- ``POST /hooks/fake_hooks/<connector id>/status``: ``{"id", "status"}``, signed the same way,
  answered 204.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

from pydantic import Field, SecretStr

from connectors.base import CallResult, Provider, Schema, TestResult, action
from connectors.webhooks import (
    BodyMalformed,
    DeliveryReport,
    EventSource,
    InboundEvent,
    OutboxUpdate,
    SignatureInvalid,
    WebhookAnswer,
    WebhookParsed,
    WebhookRequest,
)

RANK = {"sent": 1, "delivered": 2, "failed": 2}


class Credentials(Schema):
    signing_secret: SecretStr = Field(min_length=8, description="Signs our webhooks")


class PingIn(Schema):
    text: str = Field(min_length=1, max_length=100)


class FakeHooksProvider(Provider):
    slug = "fake_hooks"
    label = "Fake Hooks"
    default_base_url = "https://fake-hooks.invalid"
    Credentials = Credentials
    demo_credentials = {"signing_secret": "demo-signing-secret"}
    webhook_routes = {"events": "", "status": "status"}
    webhook_events = {"ping": EventSource("ping received", {"content": "text"})}
    webhook_headers = ("X-Fake-Delivery",)
    webhook_signature_headers = ("X-Fake-Signature",)
    status_route = "status"

    @action("ping", PingIn, safe_to_repeat=True, description="Ask the service to ping us")
    def ping(self, data: PingIn) -> dict:
        return self.request("POST", "/ping", json={"text": data.text}).json()

    def sandbox(self, action_name: str, data: PingIn) -> CallResult:
        return CallResult(output={"id": uuid.uuid4().hex, "sandbox": True})

    def test(self) -> TestResult:
        return TestResult(True, "Nothing to check")

    def webhook_verify(self, request: WebhookRequest) -> None:
        expected = hmac.new(
            self.secret("signing_secret").encode(), request.body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Fake-Signature", "")):
            raise SignatureInvalid("X-Fake-Signature does not match")

    def webhook_parse(self, request: WebhookRequest) -> WebhookParsed:
        body = request.json()
        if not isinstance(body.get("id"), str):
            raise BodyMalformed("id is required")
        if request.kind == self.status_route:
            report = DeliveryReport(provider_id=body["id"], status=str(body.get("status")))
            return WebhookParsed(answer=WebhookAnswer(status=204), reports=[report])
        answer = WebhookAnswer(body=json.dumps({"ok": True}), content_type="application/json")
        if body.get("type") != "ping":
            return WebhookParsed(answer=answer, ignored=f"Type {body.get('type')} starts nothing")
        event = InboundEvent(source=f"{self.slug}.ping", event_id=body["id"], data=body)
        return WebhookParsed(answer=answer, events=[event])

    @classmethod
    def outbox_update(cls, *, current: str, report: DeliveryReport) -> OutboxUpdate | None:
        if RANK.get(report.status, 0) < RANK.get(current, 0):
            return None
        return OutboxUpdate(provider_status=report.status, status=report.status)
