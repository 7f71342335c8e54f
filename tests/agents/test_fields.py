"""Friendly names for choices, and pydantic's errors as sentences naming the field."""

from __future__ import annotations

import pytest

from agents.fields import choice_label, field_text, placement
from agents.library.social import GeneratePostIn, PublishIn
from agents.registry import get_agent
from neonhub.core.errors import InvalidInput


@pytest.mark.parametrize(
    "given, expected",
    [
        ("facebook", "facebook_page"),
        ("Facebook", "facebook_page"),
        ("FB", "facebook_page"),
        ("Facebook Page", "facebook_page"),
        ("facebook-page", "facebook_page"),
        ("ig", "instagram"),
        ("Insta", "instagram"),
        ("INSTAGRAM", "instagram"),
        ("yt", "youtube"),
        ("YouTube", "youtube"),
        (" reddit ", "reddit"),
    ],
)
def test_publish_targets_accept_friendly_names(given, expected):
    data = PublishIn.model_validate({"text": "Hi", "platforms": [given]})
    assert data.platforms == [expected]


def test_aliases_apply_to_the_connector_names_per_platform_too():
    data = PublishIn.model_validate(
        {"text": "Hi", "platforms": ["ig"], "connectors": {"Insta": "Shop"}}
    )
    assert data.connectors == {"instagram": "Shop"}


@pytest.mark.parametrize(
    "given, expected", [("X", "twitter"), ("fb", "facebook"), ("LinkedIn", "linkedin")]
)
def test_post_platforms_accept_friendly_names(given, expected):
    assert GeneratePostIn.model_validate({"content": "x", "platform": given}).platform == expected


def _refusal(agent: str, intent: str, payload: dict) -> list[dict]:
    with pytest.raises(InvalidInput) as refused:
        get_agent(agent).validate(intent, payload)
    return refused.value.details


def test_an_unknown_platform_is_a_sentence_with_the_choices():
    details = _refusal("social", "publish", {"text": "Hi", "platforms": ["myspace"]})
    assert details == [
        {
            "field": "payload.platforms.0",
            "message": "Platforms, item 1: “myspace” is not a choice; "
            "choose Facebook Page, Instagram, Reddit, YouTube, LinkedIn or TikTok.",
        }
    ]


@pytest.mark.parametrize(
    "agent, intent, payload, field, message",
    [
        ("social", "publish", {"text": "Hi"}, "payload.platforms", "Platforms is required."),
        (
            "social",
            "publish",
            {"text": "Hi", "platforms": []},
            "payload.platforms",
            "Platforms needs at least 1 item.",
        ),
        (
            "social",
            "publish",
            {"text": "Hi", "platforms": ["reddit"], "imageUrl": "ftp://x"},
            "payload.imageUrl",
            "Image URL must be a web address starting with http:// or https://.",
        ),
        (
            "social",
            "publish",
            {"text": "Hi", "platforms": ["reddit"], "publishAt": "tomorrow"},
            "payload.publishAt",
            "Publish at must be a date and time like 2026-01-31T09:00:00Z.",
        ),
        (
            "content",
            "generate-draft",
            {"topic": "", "primaryKeyword": "k"},
            "payload.topic",
            "Topic cannot be empty.",
        ),
        (
            "content",
            "generate-draft",
            {"topic": "t", "primaryKeyword": "k", "wordCount": 10},
            "payload.wordCount",
            "Length in words must be at least 300.",
        ),
        (
            "email",
            "send",
            {"subject": "s", "body": "b", "recipients": ["nope"]},
            "payload.recipients.0.email",
            "Recipients, item 1: Email: not a valid email address.",
        ),
        (
            "support",
            "triage",
            {"content": "x", "colour": "red"},
            "payload.colour",
            "Colour is not an input of this intent; remove it.",
        ),
    ],
)
def test_errors_are_sentences_naming_the_field(agent, intent, payload, field, message):
    details = _refusal(agent, intent, payload)
    assert {"field": field, "message": message} in details
    assert not any(": Input should be" in d["message"] for d in details)


def test_labels_and_placement_come_from_the_table():
    assert field_text("seo", "seo-audit", "url")[0] == "URL"
    assert field_text("email", "send", "html")[0] == "HTML body"
    assert field_text("x", "y", "someNewField") == ("Some new field", "")
    assert placement("social", "publish", "connectors") == "advanced"
    assert placement("content", "generate-draft", "createdById") == "hidden"
    assert placement("seo", "keyword-research", "seed") == ""  # a real input there
    assert placement("email", "generate-sequence", "seed") == "advanced"
    assert choice_label("facebook_page") == "Facebook Page" and choice_label("youtube") == "YouTube"
