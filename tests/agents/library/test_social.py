from __future__ import annotations

import pytest

from agents.library.social import hashtag_pack
from agents.writer import PLATFORM_LIMITS

pytestmark = pytest.mark.django_db


def test_hashtag_pack_follows_the_deterministic_rule(run_intent):
    run = run_intent(
        "social",
        "hashtag-pack",
        {
            "content": "Release planning for product teams #Launch-Day",
            "topic": "release management",
            "platform": "linkedin",
        },
    )
    assert run.output == {
        "jobId": str(run.id),
        "platform": "linkedin",
        "hashtags": [
            "#launch",
            "#release",
            "#management",
            "#planning",
            "#product",
            "#teams",
            "#day",
        ],
    }
    assert run.metrics["hashtagCount"] == 7 and run.metrics["platform"] == "linkedin"


def test_hashtag_pack_keeps_at_most_eight_and_falls_back_to_neonhub():
    many = hashtag_pack(
        content="alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike",
        topic=None,
    )
    assert many == [
        "#alpha",
        "#bravo",
        "#charlie",
        "#delta",
        "#echo",
        "#foxtrot",
        "#golf",
        "#hotel",
    ]
    assert hashtag_pack(content="a to be or it", topic=None) == ["#neonhub"]
    long = hashtag_pack(content="#" + "x" * 40, topic=None)
    assert long == ["#" + "x" * 32]


@pytest.mark.parametrize("platform", ["twitter", "linkedin", "facebook", "instagram"])
def test_generate_post_respects_platform_limits(run_intent, platform):
    content = "We shipped a calmer way to plan releases. " * 200
    run = run_intent(
        "social",
        "generate-post",
        {
            "content": content,
            "platform": platform,
            "includeHashtags": True,
            "hashtags": ["launch", "#Calm"],
            "callToAction": "Try it",
        },
    )
    out = run.output
    assert run.status == "completed"
    assert len(out["content"]) <= PLATFORM_LIMITS[platform][0]
    assert (
        out["hashtags"] == ["#launch", "#calm"]
        and out["estimatedReach"] is None
        and out["model"] == "builtin"
    )
    assert run.metrics == {
        **run.metrics,
        "platform": platform,
        "contentLength": len(out["content"]),
        "hashtagCount": 2,
    }


def test_generate_post_without_hashtags_by_default(run_intent):
    run = run_intent("social", "generate-post", {"content": "Hello world from the launch team."})
    assert "#" not in run.output["content"] and run.output["hashtags"] == []
    assert "Learn more" in run.output["content"]


def test_optimize_caption_tightens_and_moves_hashtags(run_intent):
    run = run_intent(
        "social",
        "optimize-caption",
        {
            "content": "#calm This is really just a very basic caption. It works. #launch",
            "platform": "instagram",
        },
    )
    assert run.output["content"] == "This is a basic caption.\nIt works.\n\n#calm #launch"
    assert run.output["hashtags"] == ["#calm", "#launch"]


@pytest.mark.parametrize(
    "intent,payload,field",
    [
        ("generate-post", {"content": "x", "platform": "myspace"}, "payload.platform"),
        ("generate-post", {"content": ""}, "payload.content"),
        ("optimize-caption", {"content": "x"}, "payload.platform"),
        ("hashtag-pack", {"topic": "x"}, "payload.content"),
    ],
)
def test_bad_input_names_the_field(api, intent, payload, field):
    response = api.post("/runs", {"agent": "social", "intent": intent, "payload": payload})
    assert response.status_code == 422
    assert field in [d["field"] for d in response.json()["error"]["details"]]
