"""A run's input as labelled fields, and the names of downloaded files."""

from __future__ import annotations

import uuid

from runs.hooks import ResultText
from runs.readable import Field, download_name, input_fields, label_of


def test_field_names_read_as_words():
    assert label_of("primaryKeyword") == "Primary keyword"
    assert label_of("from_") == "From"
    assert label_of("content_sid") == "Content sid"
    assert label_of("publishAt") == "Publish at"


def test_input_values_read_as_text_and_only_deep_ones_as_json():
    fields = input_fields(
        {
            "topic": "Calm releases",
            "wordCount": 900,
            "includeHashtags": False,
            "secondaryKeywords": ["a", "b"],
            "outline": [],
            "callToAction": None,
            "reddit": {"subreddit": "r/pm", "flairId": None},
            "recipients": [{"email": "a@example.org"}],
        }
    )
    assert fields == [
        Field("Topic", "Calm releases"),
        Field("Word count", "900"),
        Field("Include hashtags", "No"),
        Field("Secondary keywords", "a, b"),
        Field("Outline", "—"),
        Field("Call to action", "—"),
        Field("Reddit", "Subreddit: r/pm\nFlair id: —"),
        Field("Recipients", '[{"email": "a@example.org"}]', code=True),
    ]


def test_a_time_with_its_offset_reads_in_the_pages_timezone(settings):
    from django.utils import timezone

    with timezone.override("Europe/Berlin"):
        (field,) = input_fields({"publishAt": "2026-12-08T09:00:00+00:00"})
        assert field.text == "Tue 8 Dec 2026, 10:00 CET"
        # Without an offset, or not a time at all: shown as typed.
        assert input_fields({"at": "2026-12-08T09:00"})[0].text == "2026-12-08T09:00"
        assert input_fields({"at": "2026-13-45T99:00:00Z"})[0].text == "2026-13-45T99:00:00Z"


def test_an_input_that_is_not_an_object_has_no_fields():
    assert input_fields(["a"]) == [] and input_fields(None) == [] and input_fields("x") == []


def test_download_names_come_from_the_title_and_the_run():
    run_id = uuid.UUID("1a2b3c4d-0000-0000-0000-000000000000")
    written = ResultText(title="Release planning: A Practical Guide!", text="x")
    assert download_name(written, run_id=run_id, fmt="md") == (
        "release-planning-a-practical-guide-1a2b3c4d.md"
    )
    assert download_name(ResultText(title="???", text="x"), run_id=run_id, fmt="html") == (
        "result-1a2b3c4d.html"
    )
