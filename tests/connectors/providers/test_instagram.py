from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
import responses
from django.test import override_settings
from django.utils import timezone
from pydantic import ValidationError
from werkzeug import Response

from connectors.providers.instagram import PENDING_KEY, PUBLISH_ACTIONS, Instagram
from connectors.providers.meta_common import DEFAULT_API_VERSION
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    OutcomeUnknown,
)
from tests.connectors.providers.messaging_helpers import fixture, short_timeouts, wait_for_log

IG = "17841405822304914"
CONTAINER = "17889455560051444"
MEDIA = "17920238422030506"
TOKEN = "EAAGigtoken0123456789abcdef"
GRAPH = f"https://graph.facebook.com/{DEFAULT_API_VERSION}"
IMAGE = "https://cdn.acme.example/posts/latte-art.jpg"
VIDEO = "https://cdn.acme.example/reels/pour-over.mp4"
q = responses.matchers.query_param_matcher
form = responses.matchers.urlencoded_params_matcher


def make(recorder=None, base_url=None, state=None):
    return Instagram(
        credentials=Instagram.Credentials(access_token=TOKEN),
        config=Instagram.Config(ig_user_id=IG, base_url=base_url),
        recorder=recorder,
        state=state,
    )


def run(provider, action, **data):
    return provider.run_action(action, Instagram.actions[action].schema(**data))


def ig(name):
    return fixture("instagram", name)


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(Instagram, "poll_interval", 0.0)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def add_quota(mocked, name="publishing_limit.json"):
    mocked.add(
        responses.GET,
        f"{GRAPH}/{IG}/content_publishing_limit",
        json=ig(name),
        match=[q({"fields": "quota_usage,config"})],
    )


def add_container(mocked, params):
    mocked.add(
        responses.POST,
        f"{GRAPH}/{IG}/media",
        json=ig("container_created.json"),
        match=[form(params)],
    )


def add_status(mocked, *names):
    for name in names:
        mocked.add(
            responses.GET,
            f"{GRAPH}/{CONTAINER}",
            json=ig(name),
            match=[q({"fields": "status_code,status"})],
        )


def add_publish(mocked):
    mocked.add(
        responses.POST,
        f"{GRAPH}/{IG}/media_publish",
        json=ig("media_published.json"),
        match=[form({"creation_id": CONTAINER})],
    )
    mocked.add(
        responses.GET,
        f"{GRAPH}/{MEDIA}",
        json=ig("media_permalink.json"),
        match=[q({"fields": "permalink"})],
    )


# --- the exact requests ----------------------------------------------------------------------


def test_publish_image_creates_a_container_waits_and_publishes(mocked, recorder):
    expected = ig("request_create_image_container.json")
    add_quota(mocked)
    add_container(mocked, expected["form"])
    add_status(mocked, "container_finished.json")
    add_publish(mocked)
    provider = make(recorder)

    result = run(
        provider,
        "publish_image",
        image_url=expected["form"]["image_url"],
        caption=expected["form"]["caption"],
        alt_text=expected["form"]["alt_text"],
    )

    create = mocked.calls[1].request
    assert (create.method, create.url) == (expected["method"], expected["url"])
    assert create.headers["Authorization"] == expected["headers"]["Authorization"]
    assert dict(parse_qsl(create.body)) == expected["form"]
    publish = mocked.calls[3].request
    assert (publish.method, publish.url) == (
        ig("request_media_publish.json")["method"],
        ig("request_media_publish.json")["url"],
    )
    assert all(call.request.url.startswith("https://graph.facebook.com/") for call in mocked.calls)
    assert result.provider_id == MEDIA
    assert result.output == {
        "media_id": MEDIA,
        "container_id": CONTAINER,
        "permalink": "https://www.instagram.com/p/DCz3kQ9xYz1/",
    }
    assert [s.name for s in recorder.steps] == [
        "instagram.publishing_limit",
        "instagram.create_container",
        "instagram.container_status",
        "instagram.media_publish",
        "instagram.permalink",
    ]
    assert provider.state[PENDING_KEY] == {}


def test_publish_video_is_a_reel_and_waits_for_processing(mocked):
    add_quota(mocked)
    add_container(
        mocked,
        {
            "media_type": "REELS",
            "video_url": VIDEO,
            "share_to_feed": "true",
            "caption": "Pour-over in 60 seconds",
            "cover_url": IMAGE,
            "thumb_offset": "1500",
        },
    )
    add_status(
        mocked,
        "container_in_progress.json",
        "container_in_progress.json",
        "container_finished.json",
    )
    add_publish(mocked)

    result = run(
        make(),
        "publish_video",
        video_url=VIDEO,
        caption="Pour-over in 60 seconds",
        cover_url=IMAGE,
        thumb_offset_ms=1500,
    )

    assert result.output["media_id"] == MEDIA


@pytest.mark.parametrize(
    ("data", "params"),
    [
        ({"image_url": IMAGE}, {"media_type": "STORIES", "image_url": IMAGE}),
        ({"video_url": VIDEO}, {"media_type": "STORIES", "video_url": VIDEO}),
    ],
)
def test_publish_story_uses_the_stories_media_type(mocked, data, params):
    add_quota(mocked)
    add_container(mocked, params)
    add_status(mocked, "container_finished.json")
    add_publish(mocked)

    assert run(make(), "publish_story", **data).provider_id == MEDIA


def test_media_insights_asks_for_current_metrics(mocked):
    mocked.add(
        responses.GET,
        f"{GRAPH}/{MEDIA}/insights",
        json=ig("media_insights.json"),
        match=[
            q({"metric": "views,reach,likes,saved"}),
            responses.matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"}),
        ],
    )

    result = run(
        make(), "get_media_insights", media_id=MEDIA, metrics=["views", "reach", "likes", "saved"]
    )

    assert result.output == {
        "media_id": MEDIA,
        "metrics": {"views": 2874, "reach": 1933, "likes": 214, "saved": 31},
    }


@pytest.mark.parametrize("metric", ["impressions", "plays", "video_views", "clips_replays_count"])
def test_retired_media_metrics_are_refused_naming_the_metrics_field(metric):
    with pytest.raises(ValidationError) as caught:
        Instagram.actions["get_media_insights"].schema(media_id=MEDIA, metrics=["views", metric])
    assert caught.value.errors()[0]["loc"] == ("metrics",)


# --- waiting for the container, across attempts ----------------------------------------------------


def test_a_container_still_processing_is_kept_for_the_next_attempt(mocked, monkeypatch):
    monkeypatch.setattr(Instagram, "poll_attempts", 2)
    add_quota(mocked)
    add_container(mocked, {"media_type": "REELS", "video_url": VIDEO, "share_to_feed": "true"})
    add_status(mocked, "container_in_progress.json", "container_in_progress.json")
    state = {}

    with pytest.raises(ConnectorUnavailable) as caught:
        run(make(state=state), "publish_video", video_url=VIDEO)

    assert (caught.value.provider_code, caught.value.retry_after) == ("IN_PROGRESS", 30.0)
    assert caught.value.transient
    assert [entry["id"] for entry in state[PENDING_KEY].values()] == [CONTAINER]

    # The retry reuses the container: no quota check, no second container.
    mocked.reset()
    add_status(mocked, "container_finished.json")
    add_publish(mocked)
    result = run(make(state=state), "publish_video", video_url=VIDEO)

    assert result.output["container_id"] == CONTAINER
    assert state[PENDING_KEY] == {}
    assert [c.request.method for c in mocked.calls] == ["GET", "POST", "GET"]


def test_a_different_post_does_not_reuse_a_kept_container(mocked):
    state = {
        PENDING_KEY: {
            "someotherkey": {"id": "17800000000000000", "created_at": timezone.now().isoformat()}
        }
    }
    add_quota(mocked)
    add_container(mocked, {"image_url": IMAGE})
    add_status(mocked, "container_finished.json")
    add_publish(mocked)

    run(make(state=state), "publish_image", image_url=IMAGE)

    assert list(state[PENDING_KEY]) == ["someotherkey"]


def test_a_kept_container_older_than_a_day_is_not_reused(mocked, monkeypatch):
    monkeypatch.setattr(Instagram, "poll_attempts", 1)
    add_quota(mocked)
    add_container(mocked, {"image_url": IMAGE})
    add_status(mocked, "container_in_progress.json")
    state = {}
    with pytest.raises(ConnectorUnavailable):
        run(make(state=state), "publish_image", image_url=IMAGE)
    key = next(iter(state[PENDING_KEY]))
    state[PENDING_KEY][key]["created_at"] = (timezone.now() - timedelta(hours=25)).isoformat()

    mocked.reset()
    add_quota(mocked)
    add_container(mocked, {"image_url": IMAGE})
    add_status(mocked, "container_finished.json")
    add_publish(mocked)
    run(make(state=state), "publish_image", image_url=IMAGE)

    assert mocked.calls[1].request.url == f"{GRAPH}/{IG}/media"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("container_error.json", "2207026"),
        ("container_expired.json", "expired"),
        ("container_published.json", "already published"),
    ],
)
def test_a_failed_expired_or_published_container_is_rejected_and_forgotten(mocked, name, message):
    add_quota(mocked)
    add_container(mocked, {"image_url": IMAGE})
    add_status(mocked, name)
    state = {}

    with pytest.raises(ConnectorRejected, match=message) as caught:
        run(make(state=state), "publish_image", image_url=IMAGE)

    assert caught.value.provider_code == ig(name)["status_code"]
    assert state[PENDING_KEY] == {}


# --- the publishing limit ----------------------------------------------------------------------


def test_a_used_up_publishing_quota_stops_before_creating_a_container(mocked):
    add_quota(mocked, "publishing_limit_reached.json")

    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(), "publish_image", image_url=IMAGE)

    assert (caught.value.provider_code, caught.value.retry_after) == ("9/2207042", 3600.0)
    assert len(mocked.calls) == 1


def test_the_publish_limit_error_is_rate_limited_with_a_wait(mocked):
    add_quota(mocked)
    add_container(mocked, {"image_url": IMAGE})
    add_status(mocked, "container_finished.json")
    mocked.add(
        responses.POST,
        f"{GRAPH}/{IG}/media_publish",
        json=ig("error_9_publish_limit.json"),
        status=400,
    )

    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(), "publish_image", image_url=IMAGE)

    assert (caught.value.provider_code, caught.value.retry_after) == ("9/2207042", 3600.0)
    assert "maximum number of posts" in caught.value.message


def test_publish_actions_share_a_budget_of_fifty_a_day():
    budget = next(b for b in Instagram.budgets if b.name == "instagram_publishes")
    assert (budget.limit, budget.per_seconds, set(budget.actions)) == (
        50,
        86400,
        set(PUBLISH_ACTIONS),
    )
    assert "get_media_insights" not in budget.actions


# --- input ---------------------------------------------------------------------------------------


@override_settings(NEONHUB_ALLOW_PRIVATE_URLS=False)
def test_media_must_be_at_a_public_address(mocked):
    with pytest.raises(InvalidInput) as caught:
        run(make(), "publish_image", image_url="http://127.0.0.1:8000/media/latte.jpg")

    assert caught.value.details[0]["field"] == "input.image_url"
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("caption", "message"),
    [
        ("x" * 2201, "at most 2200"),
        (" ".join(f"#tag{i}" for i in range(31)), "30 hashtags"),
        (" ".join(f"@user{i}" for i in range(21)), "20 @mentions"),
    ],
)
def test_caption_limits_are_checked(caption, message):
    with pytest.raises(ValidationError, match=message) as caught:
        Instagram.actions["publish_image"].schema(image_url=IMAGE, caption=caption)
    assert caught.value.errors()[0]["loc"] == ("caption",)


def test_thirty_hashtags_are_fine():
    data = Instagram.actions["publish_video"].schema(
        video_url=VIDEO, caption=" ".join(f"#t{i}" for i in range(30))
    )
    assert data.caption.count("#") == 30


@pytest.mark.parametrize("data", [{}, {"image_url": IMAGE, "video_url": VIDEO}])
def test_a_story_takes_exactly_one_media(data):
    with pytest.raises(ValidationError, match="exactly one"):
        Instagram.actions["publish_story"].schema(**data)


def test_credentials_and_config_are_named():
    with pytest.raises(ValidationError) as caught:
        Instagram.Credentials()
    assert caught.value.errors()[0]["loc"] == ("access_token",)
    with pytest.raises(ValidationError) as caught:
        Instagram.Config(ig_user_id="@acmecoffee")
    assert caught.value.errors()[0]["loc"] == ("ig_user_id",)


# --- failures, retries and timeouts --------------------------------------------------------------


def test_insights_read_is_retried_after_a_503(httpserver, recorder):
    path = f"/{DEFAULT_API_VERSION}/{MEDIA}/insights"
    httpserver.expect_ordered_request(path).respond_with_data("unavailable", status=503)
    httpserver.expect_ordered_request(path).respond_with_json(ig("media_insights.json"))

    result = run(
        make(recorder, base_url=httpserver.url_for("").rstrip("/")),
        "get_media_insights",
        media_id=MEDIA,
    )

    assert result.output["metrics"]["views"] == 2874
    assert len(httpserver.log) == 2


def test_creating_a_container_is_not_repeated_after_a_503(httpserver):
    httpserver.expect_request(
        f"/{DEFAULT_API_VERSION}/{IG}/content_publishing_limit"
    ).respond_with_json(ig("publishing_limit.json"))
    httpserver.expect_request(
        f"/{DEFAULT_API_VERSION}/{IG}/media", method="POST"
    ).respond_with_data("unavailable", status=503)
    state = {}

    with pytest.raises(ConnectorUnavailable):
        run(
            make(base_url=httpserver.url_for("").rstrip("/"), state=state),
            "publish_image",
            image_url=IMAGE,
        )

    assert [entry[0].path for entry in httpserver.log] == [
        f"/{DEFAULT_API_VERSION}/{IG}/content_publishing_limit",
        f"/{DEFAULT_API_VERSION}/{IG}/media",
    ]
    assert not state.get(PENDING_KEY)


def _slow(seconds, payload):
    def handler(request):
        time.sleep(seconds)
        return Response(json.dumps(payload), content_type="application/json")

    return handler


def test_a_publish_timeout_is_an_unknown_outcome_and_not_repeated(httpserver, monkeypatch):
    short_timeouts(monkeypatch, Instagram)
    base = f"/{DEFAULT_API_VERSION}"
    httpserver.expect_request(f"{base}/{IG}/content_publishing_limit").respond_with_json(
        ig("publishing_limit.json")
    )
    httpserver.expect_request(f"{base}/{IG}/media", method="POST").respond_with_json(
        ig("container_created.json")
    )
    httpserver.expect_request(f"{base}/{CONTAINER}").respond_with_json(
        ig("container_finished.json")
    )
    httpserver.expect_request(f"{base}/{IG}/media_publish").respond_with_handler(
        _slow(0.8, ig("media_published.json"))
    )

    with pytest.raises(OutcomeUnknown):
        run(make(base_url=httpserver.url_for("").rstrip("/")), "publish_image", image_url=IMAGE)

    assert wait_for_log(httpserver, 4) == 4


def test_an_insights_timeout_is_unavailable_after_the_retries(httpserver, monkeypatch):
    short_timeouts(monkeypatch, Instagram, timeout=(1.0, 0.2))
    httpserver.expect_request(f"/{DEFAULT_API_VERSION}/{MEDIA}/insights").respond_with_handler(
        _slow(0.3, ig("media_insights.json"))
    )

    with pytest.raises(ConnectorUnavailable):
        run(make(base_url=httpserver.url_for("").rstrip("/")), "get_media_insights", media_id=MEDIA)

    assert wait_for_log(httpserver, 3) == 3


def test_an_invalid_token_is_an_auth_error_after_one_call(mocked):
    mocked.add(
        responses.GET,
        f"{GRAPH}/{IG}/content_publishing_limit",
        json=ig("error_190_invalid_token.json"),
        status=400,
    )

    with pytest.raises(ConnectorAuth) as caught:
        run(make(), "publish_image", image_url=IMAGE)

    assert caught.value.provider_code == "190/458"
    assert "access token is expired, revoked or invalid" in caught.value.message
    assert len(mocked.calls) == 1


def test_an_image_instagram_cannot_take_is_rejected(mocked):
    add_quota(mocked)
    mocked.add(
        responses.POST,
        f"{GRAPH}/{IG}/media",
        json=ig("error_36000_image_too_large.json"),
        status=400,
    )

    with pytest.raises(ConnectorRejected, match="less than 8 MiB") as caught:
        run(make(), "publish_image", image_url=IMAGE)

    assert caught.value.provider_code == "36000/2207004"


def test_a_failed_permalink_read_does_not_fail_the_published_media(mocked):
    add_quota(mocked)
    add_container(mocked, {"image_url": IMAGE})
    add_status(mocked, "container_finished.json")
    mocked.add(responses.POST, f"{GRAPH}/{IG}/media_publish", json=ig("media_published.json"))
    mocked.add(
        responses.GET, f"{GRAPH}/{MEDIA}", json=ig("error_190_invalid_token.json"), status=400
    )

    result = run(make(), "publish_image", image_url=IMAGE)

    assert result.output["permalink"] is None
    assert result.provider_id == MEDIA


# --- connection test and sandbox ------------------------------------------------------------------


def test_connection_test_reads_the_account(mocked):
    mocked.add(
        responses.GET, f"{GRAPH}/{IG}", json=ig("user.json"), match=[q({"fields": "id,username"})]
    )

    result = make().test()

    assert result.ok and "@acmecoffee" in result.message


def test_connection_test_names_a_rejected_token_without_raising(mocked):
    mocked.add(responses.GET, f"{GRAPH}/{IG}", json=ig("error_190_invalid_token.json"), status=400)

    result = make().test()

    assert not result.ok and "access token" in result.message


def test_sandbox_answers_like_instagram_without_network(mocked):
    provider = make()
    image = provider.sandbox(
        "publish_image", Instagram.actions["publish_image"].schema(image_url=IMAGE)
    )
    story = provider.sandbox(
        "publish_story", Instagram.actions["publish_story"].schema(video_url=VIDEO)
    )
    insights = provider.sandbox(
        "get_media_insights",
        Instagram.actions["get_media_insights"].schema(media_id=MEDIA, metrics=["reach"]),
    )

    assert image.provider_id.isdigit() and image.output["permalink"].startswith(
        "https://www.instagram.com/p/"
    )
    assert story.output["permalink"].startswith("https://www.instagram.com/stories/")
    assert insights.output == {"media_id": MEDIA, "metrics": {"reach": 0}}
    assert len(mocked.calls) == 0


def test_outbox_target_names_the_account():
    data = Instagram.actions["publish_image"].schema(image_url=IMAGE)
    assert make().outbox_target("publish_image", data) == f"Instagram account {IG}"
