"""SocialAgent publish: per-platform adaptation, refusals before sending, outbox, scheduling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import OutboundMessage
from connectors.registry import get_provider_class
from connectors.services import connector_create, placeholders
from neonhub.core.errors import InvalidInput
from runs.models import AgentRun
from tests.helpers import run_until_failed

pytestmark = pytest.mark.django_db

PLATFORMS = ["facebook_page", "instagram", "reddit", "youtube"]


def sandbox(org, provider, name=None):
    cls = get_provider_class(provider)
    return connector_create(
        organization=org,
        provider=provider,
        name=name or f"{provider} sandbox",
        mode="sandbox",
        credentials=placeholders(cls.Credentials),
        config=placeholders(cls.Config),
    )


@pytest.fixture
def sandboxes(org):
    return {p: sandbox(org, p) for p in PLATFORMS}


POST = {
    "text": "We launched calmer release planning. Here is how it works for small teams.",
    "link": "https://acme.example/blog/calm-releases",
    "videoUrl": "https://cdn.acme.example/launch.mp4",
    "hashtags": ["launch", "#ReleasePlanning"],
    "platforms": PLATFORMS,
    "reddit": {"subreddit": "r/productmanagement"},
    "youtube": {"title": "Calm releases in 60 seconds"},
}


def test_publish_to_every_platform_through_sandbox_connectors(run_intent, sandboxes):
    run = run_intent("social", "publish", POST)
    assert run.status == "completed", run.error_context
    results = run.output["results"]
    assert run.output["status"] == "published" and set(results) == set(PLATFORMS)
    assert all(
        r["status"] == "published" and r["postId"] and r["sandbox"] for r in results.values()
    )
    assert (
        results["instagram"]["action"] == "publish_video"
        and results["youtube"]["action"] == "upload_video"
    )
    assert results["reddit"]["permalink"].startswith("https://www.reddit.com/r/")
    rows = {r.provider: r for r in OutboundMessage.objects.filter(run_id=run.id)}
    assert set(rows) == set(PLATFORMS) and all(
        r.sandbox and r.status == "sent" for r in rows.values()
    )
    assert rows["reddit"].target.endswith("productmanagement")
    assert run.metrics["published"] == 4 and run.metrics["failed"] == 0
    assert [s.name for s in run.steps.all()][0] == "adapt and check"


def test_publish_adapts_the_post_per_platform():
    from agents import publishing
    from agents.library.social import PublishIn

    data = PublishIn.model_validate({**POST, "text": "First sentence here. " + "word " * 7000})
    facebook = publishing.plan(data, "facebook_page")
    assert facebook.input["message"].endswith("#launch #releaseplanning")
    assert facebook.input["link"] == POST["link"]
    instagram = publishing.plan(data, "instagram")
    assert len(instagram.input["caption"]) <= 2200 and instagram.input["caption"].endswith(
        "#releaseplanning"
    )
    reddit = publishing.plan(data, "reddit")
    assert reddit.input == {
        "subreddit": "productmanagement",
        "title": "First sentence here.",
        "url": POST["link"],
    }
    youtube = publishing.plan(data, "youtube")
    assert youtube.input["title"] == "Calm releases in 60 seconds"
    assert len(youtube.input["description"]) <= 5000 and youtube.input["description"].endswith(
        POST["link"]
    )
    assert (
        youtube.input["tags"] == ["launch", "releaseplanning"]
        and youtube.input["privacy_status"] == "public"
    )
    story = publishing.plan(
        PublishIn.model_validate(
            {
                **POST,
                "videoUrl": None,
                "imageUrl": "https://cdn.acme.example/a.jpg",
                "instagram": {"story": True},
            }
        ),
        "instagram",
    )
    assert story.action == "publish_story" and story.input == {
        "image_url": "https://cdn.acme.example/a.jpg"
    }
    self_post = publishing.plan(
        PublishIn.model_validate({**POST, "link": None, "videoUrl": None}), "reddit"
    )
    assert self_post.input["text"] == POST["text"] and "url" not in self_post.input


@pytest.mark.parametrize(
    "change,field",
    [
        ({"platforms": ["instagram"], "videoUrl": None}, "payload.imageUrl"),
        ({"platforms": ["youtube"], "videoUrl": None}, "payload.videoUrl"),
        ({"platforms": ["reddit"], "reddit": None}, "payload.reddit.subreddit"),
        ({"platforms": ["youtube"], "youtube": {"title": "a <b> title"}}, "payload.youtube.title"),
        (
            {
                "platforms": ["instagram"],
                "hashtags": [f"tag{i}" for i in range(30)],
                "text": "#one",
            },
            "payload.hashtags",
        ),
    ],
)
def test_publish_refuses_what_a_platform_would_reject_before_sending_anything(
    run_intent, sandboxes, change, field
):
    # Checked when the run is asked for (Agent.preflight): no run is created.
    with pytest.raises(InvalidInput) as refused:
        run_intent(
            "social",
            "publish",
            {**POST, "platforms": ["facebook_page", *change.pop("platforms")], **change},
        )
    assert refused.value.details[0]["field"] == field
    assert not AgentRun.objects.exists() and not OutboundMessage.objects.exists()


def test_publish_refuses_private_media_urls(run_intent, sandboxes, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    with pytest.raises(InvalidInput) as refused:
        run_intent(
            "social",
            "publish",
            {**POST, "platforms": ["youtube"], "videoUrl": "http://127.0.0.1/v.mp4"},
        )
    assert refused.value.details == [
        {
            "field": "payload.videoUrl",
            "message": "Video URL points to a private or local address; use a public one.",
        }
    ]
    assert not AgentRun.objects.exists()


def test_publish_is_refused_naming_the_missing_connector_before_a_run_exists(run_intent, org):
    sandbox(org, "facebook_page")
    with pytest.raises(InvalidInput) as refused:
        run_intent(
            "social",
            "publish",
            {**POST, "platforms": ["facebook_page", "reddit"], "reddit": {"subreddit": "acme"}},
        )
    assert refused.value.details == [
        {
            "field": "payload.platforms",
            "message": "There is no Reddit connector to publish to it: add one under Connectors.",
        }
    ]
    assert not AgentRun.objects.exists() and not OutboundMessage.objects.exists()


def test_publish_picks_a_named_connector(run_intent, org):
    sandbox(org, "facebook_page", name="Main page")
    sandbox(org, "facebook_page", name="Other page")
    run = run_intent(
        "social",
        "publish",
        {
            "text": "Hi",
            "platforms": ["facebook_page"],
            "connectors": {"facebook_page": "Main page"},
        },
    )
    assert OutboundMessage.objects.get(run_id=run.id).connector.name == "Main page"


def test_a_reexecuted_publish_posts_nothing_twice(run_intent, sandboxes):
    from agents import executor
    from runs.models import AgentRun

    run = run_intent("social", "publish", POST)
    first = run.output["results"]
    AgentRun.objects.filter(pk=run.pk).update(status="queued", attempt=1)
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert OutboundMessage.objects.count() == 4
    assert {p: r["postId"] for p, r in run.output["results"].items()} == {
        p: r["postId"] for p, r in first.items()
    }


def test_publish_later_schedules_a_child_run_due_at_that_time(run_intent, sandboxes, org):
    from django_q.models import Schedule

    from agents import executor
    from runs.models import AgentRun

    when = timezone.now() + timedelta(hours=2)
    run = run_intent("social", "publish", {**POST, "publishAt": when.isoformat()})
    assert run.status == "completed" and run.output["status"] == "scheduled"
    child = AgentRun.objects.get(pk=run.output["scheduledRunId"])
    assert child.parent_id == run.id and child.trigger == "schedule" and child.status == "queued"
    assert abs((child.next_attempt_at - when).total_seconds()) < 1
    assert Schedule.objects.filter(
        func="agents.tasks.execute_run", args=repr(str(child.id))
    ).exists()
    assert not OutboundMessage.objects.exists()
    executor.execute_run(child.id)  # not due yet: nothing happens
    assert AgentRun.objects.get(pk=child.pk).status == "queued"
    AgentRun.objects.filter(pk=child.pk).update(next_attempt_at=timezone.now())
    AgentRun.objects.filter(pk=child.pk).update(
        input={**child.input, "publishAt": timezone.now().isoformat()}
    )
    executor.execute_run(child.id)
    child.refresh_from_db()
    assert child.status == "completed" and child.output["status"] == "published"
    assert OutboundMessage.objects.filter(run_id=child.id).count() == 4


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"text": "x", "platforms": []}, "payload.platforms"),
        ({"text": "x", "platforms": ["myspace"]}, "payload.platforms.0"),
        (
            {"text": "x", "platforms": ["reddit"], "publishAt": "2030-01-01T10:00:00"},
            "payload.publishAt",
        ),
        ({"text": "x", "platforms": ["reddit"], "link": "ftp://x"}, "payload"),
        (
            {"text": "x", "platforms": ["reddit"], "reddit": {"subreddit": "a b"}},
            "payload.reddit.subreddit",
        ),
    ],
)
def test_publish_bad_input_at_the_api(api, payload, field):
    response = api.post("/runs", {"agent": "social", "intent": "publish", "payload": payload})
    assert response.status_code == 422
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert any(f.startswith(field) for f in fields), fields


FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[2] / "fixtures" / "facebook_page"


@pytest.fixture
def live_facebook(org, httpserver):
    return connector_create(
        organization=org,
        provider="facebook_page",
        name="Live page",
        mode="live",
        credentials={"page_access_token": "EAAB-page-token-123"},
        config={"page_id": "104563452346", "base_url": httpserver.url_for("").rstrip("/")},
    )


def test_publish_live_to_facebook_sends_the_graph_request(run_intent, live_facebook, httpserver):
    import json

    httpserver.expect_oneshot_request("/v26.0/104563452346/feed", method="POST").respond_with_data(
        (FIXTURES / "post_created.json").read_text(), content_type="application/json"
    )
    httpserver.expect_request("/v26.0/104563452346_122104567890123456").respond_with_data(
        (FIXTURES / "post_permalink.json").read_text(), content_type="application/json"
    )
    run = run_intent(
        "social",
        "publish",
        {
            "text": "Hello from the launch team",
            "platforms": ["facebook_page"],
            "hashtags": ["launch"],
            "link": "https://acme.example/launch",
        },
    )
    assert run.status == "completed", run.error_context
    result = run.output["results"]["facebook_page"]
    assert result == {
        "status": "published",
        "postId": "104563452346_122104567890123456",
        "permalink": "https://www.facebook.com/104563452346/posts/122104567890123456",
        "action": "create_post",
        "sandbox": False,
    }
    feed = next(req for req, _ in httpserver.log if req.path.endswith("/feed"))
    assert feed.form["message"] == "Hello from the launch team\n\n#launch"
    assert feed.form["link"] == "https://acme.example/launch"
    assert "EAAB-page-token-123" not in json.dumps(run.output)
    assert run.steps.filter(kind="call", provider="facebook_page").exists()


def test_a_platform_refusal_is_reported_while_the_others_publish(
    run_intent, live_facebook, httpserver, org
):
    sandbox(org, "reddit")
    httpserver.expect_request("/v26.0/104563452346/feed", method="POST").respond_with_data(
        (FIXTURES / "error_368_blocked.json").read_text(),
        status=400,
        content_type="application/json",
    )
    run = run_intent(
        "social",
        "publish",
        {
            "text": "Hello",
            "platforms": ["facebook_page", "reddit"],
            "reddit": {"subreddit": "test"},
        },
    )
    assert run.status == "completed", run.error_context
    assert run.output["status"] == "partial"
    facebook = run.output["results"]["facebook_page"]
    assert (
        facebook["status"] == "failed"
        and facebook["code"] == "CONNECTOR_REJECTED"
        and facebook["providerCode"].startswith("368")
    )
    assert run.output["results"]["reddit"]["status"] == "published"
    assert run.metrics["failed"] == 1


def test_an_unknown_outcome_is_reported_not_repeated(run_intent, live_facebook, httpserver):
    from connectors.models import OutboundMessage as Row

    httpserver.expect_oneshot_request("/v26.0/104563452346/feed", method="POST").respond_with_data(
        (FIXTURES / "post_created.json").read_text(), content_type="application/json"
    )
    run = run_intent("social", "publish", {"text": "Hello", "platforms": ["facebook_page"]})
    Row.objects.filter(run_id=run.id).update(status="unknown")
    from agents import executor
    from runs.models import AgentRun

    AgentRun.objects.filter(pk=run.pk).update(status="queued", attempt=1)
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert (
        run.output["status"] == "failed"
        and run.output["results"]["facebook_page"]["status"] == "unknown"
    )
    assert len([r for r, _ in httpserver.log if r.path.endswith("/feed")]) == 1


def test_a_persons_retry_of_a_multi_platform_publish_posts_nothing_twice(
    run_intent, run_now, live_facebook, httpserver, org, api
):
    from runs.models import AgentRun

    sandbox(org, "reddit")
    httpserver.expect_request("/v26.0/104563452346/feed", method="POST").respond_with_data(
        '{"error": {"message": "Service temporarily unavailable", "code": 2}}',
        status=503,
        content_type="application/json",
    )
    post = {
        "text": "Hello",
        "platforms": ["reddit", "facebook_page"],
        "reddit": {"subreddit": "test"},
    }
    failed = run_until_failed(run_intent("social", "publish", post))
    assert failed.status == "failed" and failed.error_code == "CONNECTOR_UNAVAILABLE"
    assert OutboundMessage.objects.get(provider="reddit").run_id == failed.id

    httpserver.clear()  # Facebook is back
    httpserver.expect_oneshot_request("/v26.0/104563452346/feed", method="POST").respond_with_data(
        (FIXTURES / "post_created.json").read_text(), content_type="application/json"
    )
    httpserver.expect_request("/v26.0/104563452346_122104567890123456").respond_with_data(
        (FIXTURES / "post_permalink.json").read_text(), content_type="application/json"
    )
    retry = AgentRun.objects.get(pk=run_now(api.post, f"/runs/{failed.id}/retry").json()["id"])
    assert retry.status == "completed" and retry.output["status"] == "published"
    results = retry.output["results"]
    assert results["reddit"]["alreadySentInRun"] == str(failed.id)
    assert "alreadySentInRun" not in results["facebook_page"]
    assert len([r for r, _ in httpserver.log if r.path.endswith("/feed")]) == 1
    rows = {r.provider: r for r in OutboundMessage.objects.all()}
    assert len(rows) == 2 and all(r.status == "sent" for r in rows.values())
    assert rows["facebook_page"].run_id == retry.id and rows["reddit"].run_id == failed.id
    (replayed,) = retry.steps.filter(provider="reddit")
    assert replayed.detail["already_sent_in_run"] == str(failed.id)
