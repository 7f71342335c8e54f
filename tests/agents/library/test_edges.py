"""Edge cases of the helpers behind the agents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from agents import publishing, text
from agents.audience.unsubscribe import SALT, unsubscribe_target
from agents.library.social import PublishIn
from agents.models import ABTest, ContentDraft, KnowledgeArticle
from agents.seo import audit
from agents.writer import optimize_caption
from tests.factories import BrandFactory

pytestmark = pytest.mark.django_db


def test_models_name_themselves(org):
    brand = BrandFactory(organization=org, name="Acme")
    assert str(brand) == "Acme"
    assert str(ContentDraft(organization=org, title="T", topic="t", body="b")) == "T"
    assert str(KnowledgeArticle(organization=org, title="K", body="b")) == "K"
    assert str(ABTest(organization=org, name="N", campaign_label="c")) == "N"


def test_publish_options_reach_the_provider_input():
    data = PublishIn.model_validate(
        {
            "text": "Hello there.",
            "platforms": ["reddit", "youtube"],
            "videoUrl": "https://cdn.example.com/v.mp4",
            "reddit": {"subreddit": "test", "flairId": "abc", "title": "Own title"},
            "youtube": {"categoryId": "28", "privacyStatus": "unlisted"},
        }
    )
    assert publishing.plan(data, "reddit").input["flair_id"] == "abc"
    assert publishing.plan(data, "reddit").input["title"] == "Own title"
    video = publishing.plan(data, "youtube").input
    assert (
        video["category_id"] == "28"
        and video["privacy_status"] == "unlisted"
        and video["title"] == "Hello there."
    )


@pytest.mark.parametrize(
    "output,post_id,link",
    [
        (
            {"media_id": "1789", "permalink": "https://instagram.com/p/x"},
            "1789",
            "https://instagram.com/p/x",
        ),
        ({"video_id": "abc", "url": "https://youtu.be/abc"}, "abc", "https://youtu.be/abc"),
        (
            {"name": "t3_x", "permalink": "/r/test/comments/x/"},
            "t3_x",
            "https://www.reddit.com/r/test/comments/x/",
        ),
        ({}, "", ""),
    ],
)
def test_post_ids_and_permalinks_from_provider_outputs(output, post_id, link):
    assert publishing.post_id(output) == post_id and publishing.permalink(output) == link


def test_publish_at_more_than_a_year_ahead_is_refused():
    with pytest.raises(ValueError, match="one year"):
        PublishIn.model_validate(
            {
                "text": "x",
                "platforms": ["reddit"],
                "publishAt": (timezone.now() + timedelta(days=400)).isoformat(),
            }
        )


def test_text_helpers_edges():
    assert text.ease_label(10) == "very difficult" and text.ease_label(95) == "very easy"
    assert text.phrase_count("anything", "") == 0 and text.keyword_density("", "x") == 0.0
    assert text.readability("")["fleschReadingEase"] is None
    assert (
        text.syllables("table") == 2 and text.syllables("make") == 1 and text.syllables("the") == 1
    )
    assert (
        text.clip("short", 10) == "short"
        and text.clip("one two three four five", 12) == "one two..."
    )


def test_audit_small_defects():
    html = (
        "<html lang='en'><head><title>A</title><title>B</title><link rel='canonical' href='/x'></head>"
        "<body><h1>x</h1><p>"
        + "Notwithstanding extraordinarily complicated institutional considerations, "
        "administrative responsibilities necessitate comprehensive organizational documentation. "
        * 5
        + "</p><a href='#top'>top</a><a href='mailto:a@b.c'>mail</a></body></html>"
    )
    report = audit.audit_html(html)
    fixes = {i["check"]: i["priority"] for i in report["issues"]}
    assert report["title"]["count"] == 2 and "canonical" in fixes and fixes["readability"] == "low"
    assert report["links"]["internal"] == 0  # anchors and mailto links are not counted
    assert report["canonical"] == {
        "href": "/x",
        "count": 1,
        "absolute": False,
        "selfReferencing": False,
    }


def test_audit_counts_json_ld_graphs_and_lists():
    html = (
        '<script type="application/ld+json">{"@graph": [{"@type": "Organization"}, {"@type": ["WebPage"]}]}'
        '</script><script type="application/ld+json">[{"@type": "FAQPage"}, "junk"]</script>'
        '<div itemscope itemtype="https://schema.org/Product"></div>'
    )
    data = audit.audit_html(html)["structuredData"]
    assert data["types"] == ["FAQPage", "Organization", "WebPage"] and data["microdataTypes"] == [
        "Product"
    ]


def test_too_many_redirects_are_refused(run_intent, httpserver):
    httpserver.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": "/loop"}
    )
    run = run_intent("seo", "seo-audit", {"url": httpserver.url_for("/loop")})
    assert run.status == "failed" and "redirects too many times" in run.error_message


def test_unsubscribe_tokens_with_the_wrong_shape_are_refused():
    assert unsubscribe_target(signing.dumps(["not", "a", "dict"], salt=SALT)) is None
    assert unsubscribe_target(signing.dumps({"o": 1, "c": "email", "a": "x"}, salt=SALT)) is None


def test_long_captions_are_shortened_for_twitter():
    caption = optimize_caption(content="Word " * 200 + "#tag", platform="twitter")
    assert len(caption["content"]) <= 250 and caption["content"].endswith("#tag")
