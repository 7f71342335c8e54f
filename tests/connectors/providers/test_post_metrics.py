"""``post_metrics`` of Facebook Pages, Instagram, Reddit and YouTube: the exact requests, the
contract's names, only what the platform reports, and failures classified."""

from __future__ import annotations

import pytest
import responses

from connectors.base import POST_METRIC_NAMES, PostMetricsIn
from connectors.providers.facebook_page import FacebookPage
from connectors.providers.instagram import Instagram
from connectors.providers.linkedin import LinkedIn
from connectors.providers.reddit import Reddit
from connectors.providers.tiktok import TikTok
from connectors.providers.youtube import YouTube
from neonhub.core.errors import ConnectorAuth, ConnectorRejected, InvalidInput
from tests.connectors.providers import test_facebook_page as fbt
from tests.connectors.providers import test_instagram as igt
from tests.connectors.providers import test_reddit as rdt
from tests.connectors.providers import test_youtube as ytt
from tests.connectors.providers.messaging_helpers import fixture

q = responses.matchers.query_param_matcher


def test_every_social_provider_has_the_same_read_only_action():
    for cls in (FacebookPage, Instagram, Reddit, YouTube, LinkedIn, TikTok):
        act = cls.actions["post_metrics"]
        assert act.schema is PostMetricsIn
        assert act.safe_to_repeat and not act.side_effect


@responses.activate
def test_facebook_reads_insights_and_the_post_counts():
    responses.get(
        f"{fbt.GRAPH}/{fbt.POST_ID}/insights",
        json=fixture("facebook_page", "post_insights.json"),
        match=[
            q(
                {
                    "metric": "post_media_view,post_total_media_view_unique,post_clicks,"
                    "post_reactions_by_type_total"
                }
            )
        ],
    )
    responses.get(
        f"{fbt.GRAPH}/{fbt.POST_ID}",
        json=fixture("facebook_page", "post_counts.json"),
        match=[
            q({"fields": "shares,comments.summary(true).limit(0),reactions.summary(true).limit(0)"})
        ],
    )
    out = fbt.run(fbt.make(), "post_metrics", post_id=fbt.POST_ID).output
    assert out["post_id"] == fbt.POST_ID
    metrics = out["metrics"]
    assert metrics["views"] == 1842 and metrics["reach"] == 1310
    assert metrics["likes"] == 41 and metrics["reactions"] == 55
    assert metrics["comments"] == 18 and metrics["shares"] == 7
    assert "impressions" not in metrics  # retired by Meta: never filled in
    assert set(metrics) <= set(POST_METRIC_NAMES)
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {fbt.TOKEN}"


@responses.activate
def test_facebook_post_nobody_shared_has_zero_shares():
    responses.get(
        f"{fbt.GRAPH}/{fbt.POST_ID}/insights", json=fixture("facebook_page", "post_insights.json")
    )
    responses.get(
        f"{fbt.GRAPH}/{fbt.POST_ID}", json=fixture("facebook_page", "post_counts_no_shares.json")
    )
    metrics = fbt.run(fbt.make(), "post_metrics", post_id=fbt.POST_ID).output["metrics"]
    assert metrics["shares"] == 0 and metrics["comments"] == 0


@responses.activate
def test_facebook_expired_token_is_an_auth_failure():
    responses.get(
        f"{fbt.GRAPH}/{fbt.POST_ID}/insights",
        json=fixture("facebook_page", "error_190_expired.json"),
        status=400,
    )
    with pytest.raises(ConnectorAuth):
        fbt.run(fbt.make(), "post_metrics", post_id=fbt.POST_ID)
    assert len(responses.calls) == 1


def test_facebook_refuses_an_id_that_is_not_a_page_post():
    with pytest.raises(InvalidInput) as caught:
        fbt.run(fbt.make(), "post_metrics", post_id="t3_abc")
    assert caught.value.details[0]["field"] == "input.post_id"


@responses.activate
def test_instagram_asks_a_feed_post_for_feed_metrics():
    responses.get(
        f"{igt.GRAPH}/{igt.MEDIA}",
        json=fixture("instagram", "media_type_feed.json"),
        match=[q({"fields": "media_type,media_product_type"})],
    )
    responses.get(
        f"{igt.GRAPH}/{igt.MEDIA}/insights",
        json=fixture("instagram", "media_insights.json"),
        match=[q({"metric": "views,reach,likes,comments,shares,saved"})],
    )
    metrics = igt.run(igt.make(), "post_metrics", post_id=igt.MEDIA).output["metrics"]
    # Only what Instagram answered: comments and shares were not in its answer, so absent.
    assert metrics == {"reach": 1933, "views": 2874, "likes": 214, "saves": 31}


@responses.activate
def test_instagram_reel_reports_watch_time_in_seconds():
    reel = "17920238422030507"
    responses.get(f"{igt.GRAPH}/{reel}", json=fixture("instagram", "media_type_reels.json"))
    responses.get(
        f"{igt.GRAPH}/{reel}/insights",
        json=fixture("instagram", "reels_insights.json"),
        match=[
            q({"metric": "views,reach,likes,comments,shares,saved,ig_reels_video_view_total_time"})
        ],
    )
    metrics = igt.run(igt.make(), "post_metrics", post_id=reel).output["metrics"]
    assert metrics["watch_time_seconds"] == 52710.5
    assert metrics["saves"] == 120 and metrics["views"] == 10542


@responses.activate
def test_reddit_reads_upvotes_and_comments_from_api_info():
    responses.get(
        f"{rdt.API}/api/info",
        json=fixture("reddit", "info_post.json"),
        match=[q({"id": "t3_1h8x2kq", "raw_json": "1"})],
        headers=rdt.LIMITS,
    )
    provider = rdt.make(access_token=rdt.TOKEN, state=rdt.fresh_token_state())
    out = rdt.run(provider, "post_metrics", post_id="t3_1h8x2kq").output
    # No views (view_count is null), reach, shares or clicks: Reddit does not report them.
    assert out == {"post_id": "t3_1h8x2kq", "metrics": {"likes": 128, "comments": 23}}
    assert responses.calls[0].request.headers["User-Agent"] == rdt.UA


@responses.activate
def test_reddit_deleted_post_is_rejected():
    responses.get(f"{rdt.API}/api/info", json=fixture("reddit", "info_empty.json"))
    provider = rdt.make(access_token=rdt.TOKEN, state=rdt.fresh_token_state())
    with pytest.raises(ConnectorRejected) as caught:
        rdt.run(provider, "post_metrics", post_id="1h8x2kq")
    assert "not found" in caught.value.message


@responses.activate
def test_youtube_reads_video_statistics():
    responses.get(
        f"{ytt.API}/videos",
        json=fixture("youtube", "videos_list_statistics.json"),
        match=[q({"part": "statistics", "id": ytt.VIDEO_ID})],
    )
    out = ytt.run(ytt.make(), "post_metrics", post_id=ytt.VIDEO_ID).output
    assert out["metrics"] == {"views": 15234, "likes": 812, "comments": 97}


@responses.activate
def test_youtube_hidden_likes_stay_absent():
    responses.get(
        f"{ytt.API}/videos", json=fixture("youtube", "videos_list_statistics_hidden_likes.json")
    )
    metrics = ytt.run(ytt.make(), "post_metrics", post_id=ytt.VIDEO_ID).output["metrics"]
    assert "likes" not in metrics and "views" in metrics


@pytest.mark.parametrize(
    ("cls", "post_id"),
    [
        (FacebookPage, fbt.POST_ID),
        (Instagram, igt.MEDIA),
        (Reddit, "t3_1h8x2kq"),
        (YouTube, ytt.VIDEO_ID),
    ],
)
def test_sandbox_answers_zeros_under_contract_names(cls, post_id):
    provider = {
        FacebookPage: fbt.make,
        Instagram: igt.make,
        Reddit: lambda: rdt.make(access_token=rdt.TOKEN),
        YouTube: ytt.make,
    }[cls]()
    out = provider.sandbox("post_metrics", PostMetricsIn(post_id=post_id)).output
    assert out["post_id"] == post_id
    assert out["metrics"] and set(out["metrics"]) <= set(POST_METRIC_NAMES)
    assert set(out["metrics"].values()) == {0}


@responses.activate
def test_instagram_not_enough_viewers_is_no_numbers_yet_not_a_bad_token():
    responses.get(f"{igt.GRAPH}/{igt.MEDIA}", json=fixture("instagram", "media_type_feed.json"))
    responses.get(
        f"{igt.GRAPH}/{igt.MEDIA}/insights",
        json=fixture("instagram", "error_10_not_enough_viewers.json"),
        status=400,
    )
    out = igt.run(igt.make(), "post_metrics", post_id=igt.MEDIA).output
    assert out == {"post_id": igt.MEDIA, "metrics": {}}
