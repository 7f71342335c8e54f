"""The demo organization's sandbox connectors are enough to publish, send and reply."""

from __future__ import annotations

import pytest

from connectors.models import OutboundMessage
from connectors.services import demo_connectors_ensure
from tests.factories import KnowledgeArticleFactory

pytestmark = pytest.mark.django_db


def test_demo_sandbox_connectors_publish_send_and_reply(run_intent, org):
    demo_connectors_ensure(org)
    KnowledgeArticleFactory(
        organization=org,
        title="Shipping times",
        tags=["shipping", "delivery"],
        body="Orders ship within two working days. Delivery takes three to five days.",
    )
    publish = run_intent(
        "social",
        "publish",
        {
            "text": "Spring collection is here.",
            "imageUrl": "https://cdn.acme.example/spring.jpg",
            "videoUrl": "https://cdn.acme.example/spring.mp4",
            "platforms": ["facebook_page", "instagram", "reddit", "youtube"],
            "reddit": {"subreddit": "acme"},
        },
    )
    send = run_intent(
        "email",
        "send",
        {
            "subject": "Spring",
            "body": "Hi {{first_name|there}}",
            "recipients": ["a@example.org", "b@example.org"],
        },
    )
    reply = run_intent(
        "support", "reply", {"from": "+14155550123", "body": "How long does delivery take?"}
    )
    assert [r.status for r in (publish, send, reply)] == ["completed"] * 3, [
        publish.error_context,
        send.error_context,
        reply.error_context,
    ]
    assert publish.output["status"] == "published" and send.output["sent"] == 2
    assert reply.output["status"] == "answered" and reply.output["sandbox"] is True
    assert OutboundMessage.objects.filter(sandbox=True).count() == 4 + 2 + 1
    draft = run_intent(
        "content", "generate-draft", {"topic": "Spring care", "primaryKeyword": "plant care"}
    )
    assert draft.status == "completed" and "sandbox" in draft.output["fallback_reason"]
