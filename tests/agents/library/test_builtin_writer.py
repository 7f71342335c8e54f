"""The built-in writer through the intents: the generator label, placeholders, and articles
that pass the product's own SEO audit."""

from __future__ import annotations

import html
import json

import pytest

from agents.library.content import meta_tags
from agents.seo import audit
from neonhub.core.markup import markdown_html

pytestmark = pytest.mark.django_db

TEMPLATE = {"kind": "template", "label": "Template text, no AI model"}


def page(out: dict) -> str:
    """The draft as a published page: its meta and JSON-LD in the head, the Markdown as HTML."""
    meta = out["meta"]
    attr = html.escape
    tags = [
        f"<title>{attr(meta['title'])}</title>",
        f'<meta name="description" content="{attr(meta["description"])}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<link rel="canonical" href="{attr(meta["canonical"])}">',
        *(
            f'<meta property="og:{k}" content="{attr(str(v))}">'
            for k, v in meta["openGraph"].items()
            if v
        ),
        *(f'<meta name="twitter:{k}" content="{attr(v)}">' for k, v in meta["twitter"].items()),
        *(
            f'<script type="application/ld+json">{json.dumps(block)}</script>'
            for block in out["schema"].values()
        ),
    ]
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{"".join(tags)}</head>'
        f"<body><main>{markdown_html(out['body'])}</main></body></html>"
    )


ARTICLES = [
    ("How small garden centres can win spring shoppers", "garden centre marketing", 900),
    ("How can a bakery get more local customers?", "local seo for bakeries", 600),
    ("how to plan a product launch", "product launch plan", 1500),
    ("Spring shopping trends", "spring promotions", 300),
    ("Composting", "composting", 1200),
    ("Why email newsletters still work", "email newsletter", 2500),
]


@pytest.mark.parametrize("topic,keyword,word_count", ARTICLES)
def test_a_built_in_article_passes_the_seo_audit_without_a_high_priority_finding(
    run_intent, brand, topic, keyword, word_count
):
    run = run_intent(
        "content",
        "generate-draft",
        {
            "topic": topic,
            "primaryKeyword": keyword,
            "secondaryKeywords": ["seasonal offers"],
            "wordCount": word_count,
            "brandId": "acme",
        },
    )
    assert run.status == "completed", run.error_context
    out = run.output
    report = audit.audit_html(page(out), url=out["meta"]["canonical"], keyword=keyword)
    high = [i for i in report["issues"] if i["priority"] == "high"]
    assert high == []
    low, high_density = audit.DENSITY_RANGE
    assert low <= report["keyword"]["density"] <= high_density
    assert report["keyword"]["inTitle"] and report["keyword"]["inH1"]
    assert out["generator"] == TEMPLATE and out["socialSnippetsGenerator"] == TEMPLATE
    assert out["model"] == "builtin" and run.metrics["templateWrites"] == 2
    assert "llmCalls" not in run.metrics


def test_a_long_title_cut_for_the_meta_title_keeps_the_keyword():
    meta = meta_tags(
        title="Everything a small independent shop should know this season about spring promotions",
        summary="A guide to spring promotions for small shops.",
        keyword="spring promotions",
        brand_name="Acme",
        url=None,
    )
    assert "spring promotions" in meta["title"].lower() and len(meta["title"]) <= 60


def test_a_draft_longer_than_the_writer_can_write_says_so(run_intent):
    run = run_intent(
        "content",
        "generate-draft",
        {
            "topic": "Spring shopping trends",
            "primaryKeyword": "spring promotions",
            "wordCount": 4000,
        },
    )
    out = run.output
    assert run.metrics["wordCount"] < 4000
    assert out["notes"] and f"{run.metrics['wordCount']} of the 4000 words" in out["notes"][0]
    short = run_intent(
        "content",
        "generate-draft",
        {"topic": "Spring shopping trends", "primaryKeyword": "spring promotions"},
    )
    assert short.output["notes"] == []


def test_every_written_output_carries_the_generator(run_intent):
    outputs = [
        run_intent("email", "generate-sequence", {"topic": "Composting", "length": 2}),
        run_intent("email", "optimize-subject", {"originalSubject": "Our spring sale"}),
        run_intent("social", "generate-post", {"content": "Spring plants are in."}),
        run_intent("social", "optimize-caption", {"content": "Our caption", "platform": "twitter"}),
        run_intent("content", "repurpose", {"content": "One. Two. Three.", "format": "outline"}),
        run_intent("content", "repurpose", {"content": "One. Two. Three.", "format": "email"}),
        run_intent("support", "support", {"notes": "I cannot log in to my account."}),
    ]
    for run in outputs:
        assert run.status == "completed", run.error_context
        assert run.output["generator"] == TEMPLATE and run.output["model"] == "builtin"
        assert "llmCalls" not in run.metrics


def test_a_sequence_without_a_link_reports_the_placeholder_it_keeps(run_intent):
    bare = run_intent("email", "generate-sequence", {"topic": "Composting", "length": 3}).output
    assert "{{cta_url}}" in bare["sequence"][0]["body"]
    assert bare["unfilledPlaceholders"] == ["cta_url"]
    # {{first_name|there}} is the recipient's, filled by send: listed apart, not a gap.
    assert bare["sendTimePlaceholders"] == ["first_name"]


def test_a_sequence_link_comes_from_the_input_or_the_brand(run_intent, brand):
    branded = run_intent(
        "email", "generate-sequence", {"topic": "Composting", "length": 3, "brandId": "acme"}
    ).output
    assert (
        branded["unfilledPlaceholders"] == []
        and "https://acme.example" in (branded["sequence"][0]["body"])
    )
    given = run_intent(
        "email",
        "generate-sequence",
        {"topic": "Composting", "length": 1, "ctaUrl": "https://shop.example/compost"},
    ).output
    assert given["unfilledPlaceholders"] == []
    assert "https://shop.example/compost" in given["sequence"][0]["body"]


@pytest.mark.parametrize("value", ["javascript:alert(1)", "shop.example", "ftp://x.example"])
def test_a_sequence_link_must_be_a_web_address(api, value):
    response = api.post(
        "/runs",
        {
            "agent": "email",
            "intent": "generate-sequence",
            "payload": {"topic": "Composting", "ctaUrl": value},
        },
    )
    assert response.status_code == 422
    assert "payload.ctaUrl" in [d["field"] for d in response.json()["error"]["details"]]
