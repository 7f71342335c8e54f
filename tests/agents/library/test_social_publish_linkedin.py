"""SocialAgent publish to LinkedIn: the plan, refusals before a run, sandbox, and a live post
through the LinkedIn provider against a loopback server (image upload included)."""

from __future__ import annotations

import json
import struct
import zlib

import pytest

from connectors.models import OutboundMessage
from connectors.registry import get_provider_class
from connectors.services import connector_create, placeholders
from neonhub.core.errors import InvalidInput
from runs.models import AgentRun

pytestmark = pytest.mark.django_db

TOKEN = "AQXlinkedin-live-token-42"
ORG = "urn:li:organization:2414183"
SHARE = "urn:li:share:7402154837462016000"
POST = {
    "text": "We launched calmer release planning (for small teams). Here is how it works.",
    "link": "https://acme.example/blog/calm-releases",
    "hashtags": ["launch", "#ReleasePlanning"],
    "platforms": ["LinkedIn"],
}


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00\xff\x00\x00\xff\x00\x00" * 2)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


@pytest.fixture
def linkedin_sandbox(org):
    cls = get_provider_class("linkedin")
    return connector_create(
        organization=org,
        provider="linkedin",
        name="LinkedIn sandbox",
        mode="sandbox",
        credentials=placeholders(cls.Credentials),
        config={"author_urn": ORG},
    )


@pytest.fixture
def live_linkedin(org, httpserver):
    return connector_create(
        organization=org,
        provider="linkedin",
        name="Acme on LinkedIn",
        mode="live",
        credentials={"access_token": TOKEN},
        config={"author_urn": ORG, "base_url": httpserver.url_for("").rstrip("/")},
    )


def test_the_plan_fits_linkedin():
    from agents import publishing
    from agents.library.social import PublishIn

    data = PublishIn.model_validate({**POST, "text": "First sentence here. " + "word " * 900})
    plan = publishing.plan(data, "linkedin")
    assert (plan.platform, plan.action) == ("linkedin", "create_post")
    assert len(plan.input["text"]) <= 3000
    assert plan.input["text"].endswith("#launch #releaseplanning")
    assert plan.input["link"] == POST["link"]
    assert plan.input["link_title"] == "First sentence here."
    assert plan.input["visibility"] == "PUBLIC" and "image_url" not in plan.input
    with_image = publishing.plan(
        PublishIn.model_validate(
            {
                **POST,
                "link": None,
                "imageUrl": "https://cdn.acme.example/a.png",
                "linkedin": {"visibility": "LOGGED_IN"},
            }
        ),
        "linkedin",
    )
    assert with_image.input == {
        "text": f"{POST['text']}\n\n#launch #releaseplanning",
        "visibility": "LOGGED_IN",
        "image_url": "https://cdn.acme.example/a.png",
    }


def test_publish_to_linkedin_through_a_sandbox_connector(run_intent, linkedin_sandbox):
    run = run_intent("social", "publish", POST)

    assert run.status == "completed", run.error_context
    result = run.output["results"]["linkedin"]
    assert result["status"] == "published" and result["sandbox"] is True
    assert result["postId"].startswith("urn:li:share:")
    assert result["permalink"] == f"https://www.linkedin.com/feed/update/{result['postId']}"
    row = OutboundMessage.objects.get(run_id=run.id)
    assert (row.provider, row.sandbox, row.target) == ("linkedin", True, f"LinkedIn {ORG}")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"linkedin": {"linkTitle": "x" * 201}}, "payload.linkedin.linkTitle"),
        ({"linkedin": {"visibility": "FRIENDS"}}, "payload.linkedin.visibility"),
    ],
)
def test_what_linkedin_would_refuse_is_refused_before_a_run(api, linkedin_sandbox, change, field):
    response = api.post(
        "/runs", {"agent": "social", "intent": "publish", "payload": {**POST, **change}}
    )
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]][0].startswith(field)
    assert not AgentRun.objects.exists()


def test_a_private_image_is_refused_before_a_run(run_intent, linkedin_sandbox, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    with pytest.raises(InvalidInput) as refused:
        run_intent("social", "publish", {**POST, "imageUrl": "http://127.0.0.1/a.png"})
    assert refused.value.details[0]["field"] == "payload.imageUrl"
    assert not AgentRun.objects.exists()


def test_publish_needs_a_linkedin_connector(run_intent, org):
    with pytest.raises(InvalidInput) as refused:
        run_intent("social", "publish", POST)
    assert refused.value.details == [
        {
            "field": "payload.platforms",
            "message": "There is no LinkedIn connector to publish to it: add one under Connectors.",
        }
    ]


def test_publish_live_to_linkedin_uploads_the_image_and_posts(
    run_intent, live_linkedin, httpserver, owner_client
):
    base = httpserver.url_for("").rstrip("/")
    image = _png()
    httpserver.expect_oneshot_request("/cdn/launch.png").respond_with_data(
        image, content_type="image/png"
    )
    httpserver.expect_oneshot_request("/rest/images", method="POST").respond_with_json(
        {
            "value": {
                "uploadUrlExpiresAt": 1796515200000,
                "uploadUrl": f"{base}/dms-uploads/D4E10AQ/uploaded-image/0",
                "image": "urn:li:image:D4E10AQ",
            }
        }
    )
    httpserver.expect_oneshot_request(
        "/dms-uploads/D4E10AQ/uploaded-image/0", method="PUT", data=image
    ).respond_with_data("", status=201)
    httpserver.expect_oneshot_request("/rest/posts", method="POST").respond_with_data(
        "", status=201, headers={"x-restli-id": SHARE}
    )

    run = run_intent("social", "publish", {**POST, "imageUrl": f"{base}/cdn/launch.png"})

    assert run.status == "completed", run.error_context
    assert run.output["results"]["linkedin"] == {
        "status": "published",
        "postId": SHARE,
        "permalink": f"https://www.linkedin.com/feed/update/{SHARE}",
        "action": "create_post",
        "sandbox": False,
    }
    posted = next(req for req, _ in httpserver.log if req.path == "/rest/posts")
    body = json.loads(posted.get_data())
    assert posted.headers["Authorization"] == f"Bearer {TOKEN}"
    assert posted.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert body["author"] == ORG and body["lifecycleState"] == "PUBLISHED"
    assert body["commentary"] == (
        "We launched calmer release planning \\(for small teams\\). Here is how it works."
        "\n\n#launch #releaseplanning"
    )
    assert body["content"] == {
        "article": {
            "source": POST["link"],
            "title": "We launched calmer release planning (for small teams).",
            "thumbnail": "urn:li:image:D4E10AQ",
        }
    }
    assert TOKEN not in json.dumps(run.output)
    assert OutboundMessage.objects.get(run_id=run.id).provider_id == SHARE
    # The run's page links to the post on LinkedIn.
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert f'href="https://www.linkedin.com/feed/update/{SHARE}"' in page
    assert "View the post on LinkedIn" in page
