"""The built-in writer's promises: no sentence twice, the topic used grammatically, the keyword
at the density the SEO audit asks for, placeholders filled or reported."""

from __future__ import annotations

import itertools
import re

import pytest

from agents import writer
from agents.seo import audit
from agents.text import keyword_density, sentences, words

VOICE = writer.Voice(name="Acme", website="https://acme.example", slogan="Grow outside.")
NO_BRAND = writer.Voice()

TOPICS = [
    "How small garden centres can win spring shoppers",  # a "how" clause
    "How can small garden centres win spring shoppers?",  # a question
    "how to grow tomatoes in pots",  # a "how to" phrase
    "Should we open on Sundays",  # a question without its question mark
    "Spring shopping trends",  # a title-cased noun phrase
    "seasonal plant care",  # a lower-case noun phrase
    "Composting",  # one word
    "Our shop is moving to a new street.",  # a sentence
]
KEYWORDS = [
    "garden centre marketing",
    "spring promotions",
    "composting",
    "how to grow tomatoes",
    "local seo",
    "email marketing for small garden centres",
    "what is local seo",
]
TONES = ["professional", "casual", "friendly", "authoritative"]


def normal(sentence: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", sentence.lower()).split())


def repeated(text: str) -> list[str]:
    found = [normal(s) for s in sentences(text)]
    return sorted({s for s in found if s and found.count(s) > 1})


def make_article(topic, keyword, *, tone="professional", word_count=900, **kwargs):
    values = {
        "topic": topic,
        "keyword": keyword,
        "secondary": ["seasonal displays", "loyalty cards"],
        "outline": [],
        "tone": tone,
        "audience": "garden centre owners",
        "call_to_action": "",
        "word_count": word_count,
        "voice": VOICE,
        **kwargs,
    }
    return writer.article(**values)


# --- the request's words in a sentence ---------------------------------------------------------


@pytest.mark.parametrize(
    "text,kind,mentioned,title",
    [
        (
            "How small garden centres can win spring shoppers",
            "clause",
            "how small garden centres can win spring shoppers",
            "How small garden centres can win spring shoppers",
        ),
        ("how to compost", "clause", "how to compost", "How to compost"),
        ("How can we win?", "question", "“How can we win?”", "How can we win?"),
        ("What is SEO", "question", "“What is SEO?”", "What is SEO?"),
        ("Should we open on Sundays", "question", "“Should we open on Sundays?”", None),
        ("Spring shopping trends", "phrase", "“Spring shopping trends”", None),
        ("seasonal plant care", "phrase", "seasonal plant care", "Seasonal plant care"),
        ("SEO", "phrase", "SEO", "SEO"),
        ("Composting", "phrase", "“Composting”", "Composting"),
        ("iPhone repair", "phrase", "“iPhone repair”", "iPhone repair"),
    ],
)
def test_a_phrase_is_used_as_what_it_is(text, kind, mentioned, title):
    assert writer.phrase_kind(text) == kind
    assert writer.mention(text) == mentioned
    if title:
        assert writer.title_form(text) == title


# --- articles ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "topic,tone,keyword,word_count",
    [
        (topic, tone, KEYWORDS[i % len(KEYWORDS)], (300, 900, 1500)[i % 3])
        for i, (topic, tone) in enumerate(itertools.product(TOPICS, TONES))
    ],
)
def test_an_article_never_repeats_a_sentence(topic, tone, keyword, word_count):
    data = make_article(topic, keyword, tone=tone, word_count=word_count)
    body = writer.article_markdown(data)
    assert repeated(body) == []
    assert repeated(data["summary"] + " " + data["conclusion"]) == []
    assert "?:" not in body and "?”." not in body and "??" not in body


def test_an_article_on_the_testers_topic_reads_as_the_tester_asked():
    """The report: "how to put How small garden centres ... into practice", one sentence three
    times, density 11.7 %."""
    data = make_article(
        "How small garden centres can win spring shoppers", "garden centre marketing"
    )
    body = writer.article_markdown(data)
    assert "how to put" not in body.lower()
    assert "covers how small garden centres can win spring shoppers." in data["summary"]
    assert repeated(body) == []
    assert 0.5 <= keyword_density(body, "garden centre marketing") <= 3.0
    assert (
        data["title"] == "Garden centre marketing: How small garden centres can win spring shoppers"
    )


@pytest.mark.parametrize("topic", TOPICS)
def test_the_topic_is_a_title_or_a_fitting_mention_never_pasted_mid_sentence(topic):
    data = make_article(topic, "garden centre marketing")
    body = writer.article_markdown(data)
    mention = writer.mention(topic)
    assert mention in data["summary"]
    bare = " ".join(topic.split()).rstrip("?.")
    after_title = re.sub(r"“[^”]*”", "“…”", body.split("\n", 1)[1])
    if bare != mention:  # as typed, it would not fit: only its mention or quoted title
        assert bare not in after_title
    assert "??" not in body and "?." not in body and "?”." not in body and ".." not in body
    assert "?:" not in body


@pytest.mark.parametrize(
    "keyword,word_count",
    list(itertools.product(KEYWORDS, (300, 600, 900, 1500, 2500, 4000))),
)
def test_keyword_density_stays_in_the_audits_range_at_every_length(keyword, word_count):
    data = make_article(
        "How small garden centres can win spring shoppers", keyword, word_count=word_count
    )
    body = writer.article_markdown(data)
    low, high = audit.DENSITY_RANGE
    # The audit's own function, on the text the audit would see.
    assert low <= keyword_density(body, keyword) <= high


def test_the_writers_density_range_is_the_audits():
    assert writer.DENSITY_RANGE == audit.DENSITY_RANGE


def test_a_long_keyword_in_a_short_article_drops_optional_mentions_to_stay_in_range():
    keyword = "email marketing for small independent garden centres in the spring"
    data = make_article("Spring shopping trends", keyword, word_count=300)
    body = writer.article_markdown(data)
    assert keyword_density(body, keyword) <= 3.0
    assert keyword.lower() in data["title"].lower()  # the title always keeps it


def test_word_count_tracks_the_request_and_a_shortfall_is_said_not_padded():
    short = make_article("Spring shopping trends", "spring promotions", word_count=300)
    middle = make_article("Spring shopping trends", "spring promotions", word_count=900)
    long = make_article("Spring shopping trends", "spring promotions", word_count=4000)
    counts = [len(words(writer.article_markdown(a))) for a in (short, middle, long)]
    assert 280 <= counts[0] <= 500 and 800 <= counts[1] <= 1100
    assert "notes" not in short and "notes" not in middle
    assert counts[2] < 4000 and f"{counts[2]} of the 4000 words" in long["notes"][0]
    assert repeated(writer.article_markdown(long)) == []


def test_a_given_outline_is_used_and_duplicate_headings_written_once():
    data = make_article(
        "Spring shopping trends",
        "spring promotions",
        outline=["Pricing", "Why pricing matters", "pricing", "Measuring success"],
    )
    assert [s["heading"] for s in data["sections"]] == [
        "Pricing",
        "Why pricing matters",
        "Measuring success",
    ]
    assert repeated(writer.article_markdown(data)) == []


def test_an_outline_that_makes_the_density_impossible_is_said_not_hidden():
    keyword = "spring promotions"
    data = make_article(
        "Spring shopping trends",
        keyword,
        word_count=300,
        outline=[f"{keyword.capitalize()} part {n}" for n in range(1, 13)],
    )
    density = keyword_density(writer.article_markdown(data), keyword)
    assert density > 3.0
    assert data["notes"] == [
        f"The keyword's density is {density}%, outside the 0.5-3.0% the SEO audit asks for: "
        "the title and the given headings alone use it more often than that."
    ]
    assert "notes" not in make_article("Spring shopping trends", keyword, word_count=900)


def test_the_same_request_gives_the_same_article():
    assert make_article("Composting", "composting") == make_article("Composting", "composting")


# --- email -------------------------------------------------------------------------------------

BOILERPLATE = re.compile(
    r"^(Hi \{\{first_name\|there\}\},|.*: (https?://\S+|\{\{cta_url\}\})|The .*team|Grow outside\.)$"
)


def sequence(topic, *, tone="witty", length=10, voice=VOICE, **kwargs):
    return writer.email_sequence(
        topic=topic,
        audience="garden centre owners",
        tone=tone,
        objective="awareness",
        length=length,
        voice=voice,
        **kwargs,
    )


@pytest.mark.parametrize(
    "topic,tone,length",
    [
        (topic, tone, length)
        for (topic, tone), length in zip(
            itertools.product(
                TOPICS, ["witty", "professional", "casual", "friendly", "authoritative"]
            ),
            itertools.cycle(range(1, 11)),
            strict=False,
        )
    ],
)
def test_an_email_sequence_never_repeats_a_sentence(topic, tone, length):
    emails = sequence(topic, tone=tone, length=length)
    assert len(emails) == length
    written: list[str] = []
    for email in emails:
        assert repeated(email["body"]) == []
        written += [
            line for line in email["body"].splitlines() if line and not BOILERPLATE.match(line)
        ]
    assert repeated("\n".join(written)) == []  # nor across the sequence
    subjects = [normal(e["subject"]) for e in emails]
    assert len(set(subjects)) == len(subjects)
    text = "\n".join(e["subject"] + "\n" + e["body"] for e in emails)
    assert "??" not in text and "?." not in text and "?”." not in text


def test_email_subjects_end_with_the_topic_as_a_title():
    emails = sequence("how to grow tomatoes in pots", length=3)
    assert all(e["subject"].endswith(": How to grow tomatoes in pots") for e in emails)
    question = sequence("How can small garden centres win spring shoppers?", length=2)
    assert question[-1]["subject"].endswith("How can small garden centres win spring shoppers?")


def test_the_email_link_comes_from_the_input_then_the_brand_else_it_is_reported():
    given = sequence("Composting", length=2, cta_url="https://acme.example/compost")
    assert "Read the full guide: https://acme.example/compost" in given[0]["body"]
    brand = sequence("Composting", length=2)
    assert "Read the full guide: https://acme.example\n" in brand[0]["body"]
    bare = sequence("Composting", length=2, voice=NO_BRAND)
    assert "{{cta_url}}" in bare[0]["body"]
    found = writer.placeholders(*(e["body"] for e in bare))
    assert found == {"sendTime": ["first_name"], "unfilled": ["cta_url"]}
    assert writer.placeholders(*(e["body"] for e in brand)) == {
        "sendTime": ["first_name"],
        "unfilled": [],
    }


def test_placeholders_are_sorted_into_send_time_and_unfilled():
    text = "Hi {{first_name|there}} {{ company }}, {{offer_code}} {{unsubscribe_url}} {{deadline|soon}}"
    assert writer.placeholders(text) == {
        "sendTime": ["first_name", "company", "unsubscribe_url", "deadline"],
        "unfilled": ["offer_code"],
    }


# --- social ------------------------------------------------------------------------------------


@pytest.mark.parametrize("topic", TOPICS)
def test_a_post_asks_about_the_topic_in_a_sentence_that_fits_it(topic):
    post = writer.social_post(
        content="Our spring plants are in. Come and see them.",
        platform="linkedin",
        tone="engaging",
        hashtags=[],
        call_to_action="Visit us this weekend",
        topic=topic,
        include_hashtags=False,
    )["content"]
    assert "??" not in post and "Ever wondered about How" not in post
    assert repeated(post) == []


def test_a_post_drops_repeated_sentences_and_does_not_repeat_its_call_to_action():
    post = writer.social_post(
        content="New roses are in. New roses are in. Visit us this weekend.",
        platform="facebook",
        tone="professional",
        hashtags=[],
        call_to_action="Visit us this weekend",
        topic="brand",
        include_hashtags=False,
    )["content"]
    assert post == "New roses are in. Visit us this weekend."


def test_a_link_in_a_post_survives_the_repeat_check():
    post = writer.social_post(
        content="Read it at https://acme.example/roses today.",
        platform="facebook",
        tone="professional",
        hashtags=[],
        call_to_action="",
        topic="brand",
        include_hashtags=False,
    )["content"]
    assert post == "Read it at https://acme.example/roses today."


def test_the_generator_names_the_template_or_the_model():
    assert writer.generator("builtin") == {
        "kind": "template",
        "label": "Template text, no AI model",
    }
    assert writer.generator("gpt-4o-mini") == {"kind": "model", "label": "gpt-4o-mini"}
