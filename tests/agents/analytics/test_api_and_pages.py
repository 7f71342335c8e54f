"""The posts API (scoped, paginated, 404 for another organization's ids), the pages, the run
page's numbers and the Social agent's report from the stored numbers."""

from __future__ import annotations

import pytest

from agents.analytics import services
from agents.analytics.models import CollectionStatus
from tests.agents.analytics.conftest import VIDEO_ID, published, sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def collected(org):
    post = published(sandbox(org, "youtube"), VIDEO_ID, url="https://www.youtube.com/watch?v=x")
    services.collections_collect_due()
    post.refresh_from_db()
    return post


def test_posts_list_and_detail_with_current_numbers(api, collected):
    page = api.get("/posts").json()
    assert [p["id"] for p in page["items"]] == [str(collected.pk)]
    item = page["items"][0]
    assert item["platform"] == "youtube" and item["metrics"] == {
        "views": 0.0,
        "likes": 0.0,
        "comments": 0.0,
    }
    assert all(type(v) is int for v in item["metrics"].values())  # counts read as counts
    assert item["metrics_collected_at"] and page["next_cursor"] is None
    detail = api.get(f"/posts/{collected.pk}").json()
    assert detail["provider_post_id"] == VIDEO_ID and detail["sandbox"] is True


def test_posts_list_is_paginated_and_filtered(api, org):
    connector = sandbox(org, "reddit")
    for i in range(3):
        published(connector, f"t3_abcd{i}", hours_ago=i)
    first = api.get("/posts", {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.get("/posts", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(rest["items"]) == 1
    assert api.get("/posts", {"platform": "facebook_page"}).json()["items"] == []
    assert api.get("/posts", {"cursor": "nonsense"}).status_code == 422


def test_post_metrics_series_has_every_checkpoint(api, collected):
    body = api.get(f"/posts/{collected.pk}/metrics").json()
    assert [c["checkpoint"] for c in body["collections"]] == [
        "1 hour",
        "24 hours",
        "7 days",
        "30 days",
    ]
    assert body["collections"][0]["status"] == "collected"
    assert body["collections"][1]["status"] == "due" and body["collections"][1]["metrics"] == {}


def test_channel_totals(api, collected):
    (channel,) = api.get("/posts/channels").json()
    assert channel == {
        "platform": "youtube",
        "posts": 1,
        "posts_with_numbers": 1,
        "metrics": {"views": 0.0, "likes": 0.0, "comments": 0.0},
    }


def test_another_organizations_post_is_404(other_api, collected):
    assert other_api.get(f"/posts/{collected.pk}").status_code == 404
    assert other_api.get(f"/posts/{collected.pk}/metrics").status_code == 404
    assert other_api.get("/posts").json()["items"] == []
    assert other_api.get("/posts/channels").json() == []


def test_a_key_without_the_analytics_scope_is_refused(client, org, collected):
    from neonhub.core.services import api_key_create
    from tests.conftest import ApiClient

    token = api_key_create(
        organization=org, name="runs only", role="member", scopes=["runs:read"]
    ).token
    answer = ApiClient(client, token).get("/posts")
    assert answer.status_code == 403 and "analytics:read" in answer.content.decode()


def test_openapi_types_the_posts_api(api):
    schema = api.get("/openapi.json").json()
    op = schema["paths"]["/api/v1/posts/{post_id}/metrics"]["get"]
    assert op["x-neonhub-scope"] == "analytics:read"
    assert "PostMetricsOut" in str(op["responses"]["200"])


def test_analytics_page_shows_channels_and_posts_in_words(owner_client, collected):
    page = owner_client.get("/analytics/").content.decode()
    assert "YouTube" in page and "Views 0" in page and "sandbox" in page
    assert f"/analytics/posts/{collected.pk}/" in page


def test_post_page_shows_each_checkpoint_and_a_chart(owner_client, collected):
    page = owner_client.get(f"/analytics/posts/{collected.pk}/").content.decode()
    assert "1 hour" in page and "30 days" in page and "Collected" in page
    assert "<svg" in page and "Views after publishing" in page
    assert "1 call to YouTube" in page  # each reading's calls are on the record


def test_post_page_of_another_organization_is_404(client, other_org, collected):
    from tests.factories import MembershipFactory

    client.force_login(MembershipFactory(organization=other_org, role="owner").user)
    assert client.get(f"/analytics/posts/{collected.pk}/").status_code == 404
    assert VIDEO_ID not in client.get("/analytics/").content.decode()


def test_skipped_collection_reason_is_on_the_post_page(owner_client, org):
    post = published(sandbox(org, "twilio_sms"), "SM0123456789abcdef0123456789abcdef")
    services.collections_collect_due()
    assert post.collections.get(hours_after=1).status == CollectionStatus.SKIPPED
    page = owner_client.get(f"/analytics/posts/{post.pk}/").content.decode()
    assert "cannot report post metrics" in page


def test_publish_run_page_shows_its_posts_numbers(run_intent, owner_client, org):
    sandbox(org, "reddit")
    run = run_intent(
        "social",
        "publish",
        {"text": "Chairs are back.", "platforms": ["reddit"], "reddit": {"subreddit": "gardening"}},
    )
    detail = owner_client.get(f"/runs/{run.pk}/").content.decode()
    assert f"/analytics/runs/{run.pk}/posts/" in detail
    fragment = owner_client.get(f"/analytics/runs/{run.pk}/posts/").content.decode()
    assert "Reddit" in fragment and "Not read yet" in fragment and "next reading" in fragment


def test_social_report_says_so_without_data(run_intent):
    run = run_intent("social", "analytics", {"days": 7})
    assert run.status == "completed", run.error_context
    assert run.output["posts"] == 0 and run.output["totals"] == {}
    assert run.output["message"] == "No posts were published in the last 7 days"


def test_social_report_sums_the_stored_numbers(run_intent, org, collected):
    published(sandbox(org, "reddit"), "t3_abcd1")  # published, nothing read yet
    run = run_intent("social", "analytics", {})
    out = run.output
    assert out["posts"] == 2 and out["postsWithNumbers"] == 1
    assert out["platforms"]["youtube"]["metrics"] == {"views": 0, "likes": 0, "comments": 0}
    assert out["platforms"]["reddit"] == {"posts": 1, "postsWithNumbers": 0, "metrics": {}}
    assert out["message"] == "1 of 2 posts published in the last 30 days have numbers"


def test_social_report_reads_as_words_on_its_run_page(run_intent, owner_client, collected):
    run = run_intent("social", "analytics", {})
    page = owner_client.get(f"/runs/{run.pk}/").content.decode()
    assert "What the posts achieved" in page
    assert "1 of 1 posts published in the last 30 days have numbers" in page
    assert "YouTube" in page and "Views 0" in page
