from __future__ import annotations

import pytest

from agents.library.content import fit_between, meta_tags, quality_score, summarize_text
from agents.models import ContentDraft

pytestmark = pytest.mark.django_db

DRAFT = {
    "topic": "Planning product launches",
    "primaryKeyword": "launch plan",
    "secondaryKeywords": ["release checklist"],
    "wordCount": 600,
    "audience": "product marketers",
}


def test_generate_draft_stores_a_draft_with_meta_schema_quality_and_insights(
    run_intent, brand, org
):
    run = run_intent(
        "content", "generate-draft", {**DRAFT, "brandId": "acme", "callToAction": "Book a call"}
    )
    assert run.status == "completed", run.error_context
    out = run.output
    draft = ContentDraft.objects.get(pk=out["draftId"])
    assert draft.organization == org and draft.brand == brand and draft.status == "generated"
    assert draft.run_id == run.id and draft.body == out["body"] and draft.model == "builtin"
    assert out["body"].startswith(f"# {out['title']}\n") and "## Conclusion" in out["body"]
    assert "**Book a call**" in out["body"]
    meta = out["meta"]
    assert 50 <= len(meta["title"]) <= 60 and "launch plan" in meta["title"].lower()
    assert 150 <= len(meta["description"]) <= 160
    assert (
        meta["openGraph"]["type"] == "article" and meta["twitter"]["card"] == "summary_large_image"
    )
    assert meta["canonical"].startswith("https://acme.example/blog/")
    assert (
        out["schema"]["article"]["@type"] == "Article"
        and out["schema"]["organization"]["name"] == "Acme"
    )
    assert [i["name"] for i in out["schema"]["breadcrumb"]["itemListElement"]] == [
        "Home",
        "Blog",
        out["title"],
    ]
    assert 0 <= out["quality"]["overall"] <= 100
    assert set(out["quality"]["keywordDensity"]) == {"launch plan", "release checklist"}
    insights = out["keywordInsights"]
    assert len(insights) == 6 and insights[0]["keyword"] == "launch plan"
    assert all(i["volume"] is None and i["source"] == "none" for i in insights)
    assert set(out["socialSnippets"]) == {"linkedin", "twitter", "emailSubject"}
    assert len(out["socialSnippets"]["twitter"]) <= 280
    assert run.metrics["draftId"] == out["draftId"] and run.metrics["keywordInsights"] == 6
    assert [s.name for s in run.steps.all()] == [
        "keyword insights",
        "write article",
        "meta, schema and quality",
        "social snippets",
        "save draft",
    ]


def test_generate_draft_word_count_tracks_the_request(run_intent):
    short = run_intent("content", "generate-draft", {**DRAFT, "wordCount": 300}).metrics[
        "wordCount"
    ]
    long = run_intent("content", "generate-draft", {**DRAFT, "wordCount": 1500}).metrics[
        "wordCount"
    ]
    assert 250 <= short <= 600 and 1300 <= long <= 1900


def test_generate_draft_uses_the_given_outline(run_intent):
    run = run_intent(
        "content", "generate-draft", {**DRAFT, "outline": ["First things", "Second things"]}
    )
    assert "## First things" in run.output["body"] and "## Second things" in run.output["body"]


@pytest.mark.parametrize(
    "payload,field",
    [
        ({**DRAFT, "wordCount": 200}, "payload.wordCount"),
        ({**DRAFT, "tone": "shouty"}, "payload.tone"),
        ({"topic": "x"}, "payload.primaryKeyword"),
    ],
)
def test_generate_draft_bad_input(api, payload, field):
    response = api.post(
        "/runs", {"agent": "content", "intent": "generate-draft", "payload": payload}
    )
    assert response.status_code == 422 and field in [
        d["field"] for d in response.json()["error"]["details"]
    ]


def test_generate_draft_brand_voice_id_resolves_a_brand(run_intent, brand):
    run = run_intent("content", "generate-draft", {**DRAFT, "brandVoiceId": str(brand.id)})
    assert run.output["schema"]["organization"]["name"] == "Acme"
    run = run_intent("content", "generate-draft", {**DRAFT, "brandVoiceId": "nope"})
    assert run.error_context["details"][0]["field"] == "payload.brandVoiceId"


def test_fit_between_lengthens_and_cuts_at_word_boundaries():
    assert fit_between("Short", ["one two three", "four five six"], 10, 20) == "Short one two three"
    cut = fit_between("word " * 30, [], 20, 30)
    assert 20 <= len(cut) <= 30 and not cut.endswith(" ")
    assert fit_between("x" * 50, [], 10, 20) == "x" * 20


def test_meta_tags_put_the_keyword_in_the_title():
    meta = meta_tags(
        title="A guide to planning",
        summary="Plan well.",
        keyword="launch plan",
        brand_name="",
        url=None,
    )
    assert meta["title"].startswith("Launch plan: ") and 50 <= len(meta["title"]) <= 60
    assert meta["openGraph"]["siteName"] is None and meta["canonical"] is None


def test_quality_score_follows_the_originals_formula():
    easy = "The cat sat on the mat. The dog ran to the park. " * 20 + "launch plan " * 3
    score = quality_score(easy, ["launch plan", "missing term"])
    ease = score["readability"]["fleschReadingEase"]
    readability = 1.0 if 55 <= ease <= 80 else min(1.0, ease / 100)
    assert score["densityScore"] == 0.5
    assert score["overall"] == round(100 * (0.6 * readability + 0.4 * 0.5), 1)


def test_summarize_picks_first_sentences_and_longest_highlights_in_order(run_intent):
    text = "One short. Two is a longer sentence here. Three is the longest sentence of them all by far. Four."
    run = run_intent("content", "summarize", {"content": text, "sentences": 2, "highlights": 2})
    assert run.output == {
        "summary": "One short. Two is a longer sentence here.",
        "highlights": [
            "Two is a longer sentence here.",
            "Three is the longest sentence of them all by far.",
        ],
        "stats": {"sentences": 4, "words": 19, "readingTimeMinutes": 1},
    }
    assert run.metrics["sentences"] == 4 and run.metrics["words"] == 19
    assert summarize_text("word " * 450, 1, 1)["stats"]["readingTimeMinutes"] == 3


@pytest.mark.parametrize(
    "form,check",
    [
        ("twitter", lambda c: len(c) <= 260 and c.endswith("#launches")),
        ("email", lambda c: c.startswith("Subject: Launches go better with a plan.\n\n")),
        (
            "outline",
            lambda c: (
                c == "1. Launches go better with a plan.\n2. Teams that rehearse ship calmer."
            ),
        ),
        (
            "linkedin",
            lambda c: (
                c.startswith("Launches go better with a plan.") and c.endswith("on launches?")
            ),
        ),
    ],
)
def test_repurpose_formats(run_intent, form, check):
    content = (
        "Launches go better with a plan. Plans reduce stress.\n\nTeams that rehearse ship calmer."
    )
    run = run_intent("content", "repurpose", {"content": content, "format": form})
    assert run.status == "completed"
    assert check(run.output["content"]), run.output["content"]
    assert run.output["metadata"] == {
        "topic": "launches",
        "primaryKeyword": "launches",
        "tone": "professional",
        "estimatedLength": len(run.output["content"]),
    }
    assert run.metrics == {**run.metrics, "format": form, "length": len(run.output["content"])}
