"""The presenters that make a run's output readable: each family, and outputs of odd shapes."""

from __future__ import annotations

import pytest

from agents import results
from agents.results import INTENTS, generator, placeholder_parts, present, written_text
from runs import hooks
from runs.models import RunStatus
from tests.factories import AgentRunFactory

ARTICLE = {
    "jobId": "j",
    "draftId": "d",
    "title": "Release planning: A Practical Guide",
    "summary": "A practical guide to release planning.",
    "body": "# Release planning: A Practical Guide\n\nIntro.\n\n## Why it matters\n\nBecause.\n",
    "meta": {
        "title": "Release planning: A Practical Guide | Acme",
        "description": "A practical guide to release planning for marketing teams.",
        "canonical": None,
    },
    "keywordInsights": [
        {"keyword": "release planning", "intent": "informational", "density": 2.1},
        {"keyword": "release planning tools", "intent": "commercial", "density": 0.0},
    ],
    "quality": {
        "overall": 84.0,
        "readability": {"fleschReadingEase": 69.4, "label": "plain English", "words": 916},
        "keywordDensity": {"release planning": 2.1},
    },
    "socialSnippets": {"linkedin": "Post", "twitter": "Tweet", "emailSubject": "New guide"},
    "socialSnippetsGenerator": {"kind": "model", "label": "gpt-4o"},
    "notes": ["The outline leaves no room for the keyword at 0.5-3% density."],
    "model": "builtin",
}
AUDIT = {
    "keyword": "release planning",
    "score": 64,
    "recommendations": [
        {"priority": "high", "check": "metaDescription", "message": "Add a meta description."},
        {"priority": "medium", "check": "images", "message": "Add alt text to 1 image(s)."},
        {"priority": "low", "check": "twitter", "message": "Add a twitter:card meta tag."},
        {"priority": "low", "check": "links", "message": "Link to related pages."},
    ],
    "audit": {
        "url": "https://acme.example/release-planning",
        "title": {"text": "Release planning for small teams", "length": 32},
        "content": {"wordCount": 812},
        "readability": {"label": "plain English"},
        "keyword": {"keyword": "release planning"},
    },
}


def test_an_article_gives_its_markdown_quality_and_insights():
    view = present("content", "generate-draft", ARTICLE, {"primaryKeyword": "release planning"})
    r = view.context["r"]
    assert view.template == "agents/results/article.html"
    assert r["body"] == ARTICLE["body"] and r["title"] == ARTICLE["title"]
    assert (r["quality"], r["reading_label"], r["words"]) == (84.0, "plain English", 916)
    assert r["densities"] == [{"keyword": "release planning", "density": 2.1}]
    assert [i["keyword"] for i in r["insights"]] == ["release planning", "release planning tools"]
    assert [s["label"] for s in r["snippets"]] == ["LinkedIn post", "Tweet", "Email subject"]
    assert r["snippets_generator"]["label"] == "gpt-4o"
    assert r["notes"] == ["The outline leaves no room for the keyword at 0.5-3% density."]
    assert view.context["generator"] == {
        "kind": "template",
        "label": "Template text, no AI model",
        "reason": None,
    }


def test_the_generator_field_wins_over_the_older_model_field():
    output = {**ARTICLE, "model": "builtin", "generator": {"kind": "model", "label": "gpt-4o"}}
    assert generator(output) == {"kind": "model", "label": "gpt-4o", "reason": None}
    template = {"generator": {"kind": "template"}, "fallback_reason": "sandbox connector"}
    assert generator(template) == {
        "kind": "template",
        "label": "Template text, no AI model",
        "reason": "sandbox connector",
    }
    assert generator({"model": "llama-3"})["label"] == "llama-3"
    assert generator({"generator": "template"}) is None and generator({}) is None


def test_a_sequence_marks_what_send_fills_and_what_nobody_gave_yet():
    output = {
        "sequence": [
            {"day": 0, "subject": "Hi {{company}}", "body": "{{first_name}}: {{cta_url}}"}
        ],
        "sendTimePlaceholders": ["first_name", "company"],
        "unfilledPlaceholders": ["cta_url"],
    }
    email = present("email", "generate-sequence", output, {}).context["r"]["emails"][0]
    notes = {p["text"]: p["note"] for p in email["subject"] + email["body"] if "placeholder" in p}
    assert notes == {
        "{{company}}": "placeholder, filled per recipient",
        "{{first_name}}": "placeholder, filled per recipient",
        "{{cta_url}}": "placeholder, not filled: give a value for cta_url when sending",
    }


def test_placeholders_say_whether_they_are_filled():
    parts = placeholder_parts("Hi {{first_name|there}}, read {{ cta_url }}.", filled=set())
    marks = [p for p in parts if "placeholder" in p]
    assert [p["text"] for p in parts] == [
        "Hi ",
        "{{first_name|there}}",
        ", read ",
        "{{ cta_url }}",
        ".",
    ]
    assert marks[0]["note"] == "placeholder, filled per recipient (default: there)"
    assert marks[1]["note"] == "placeholder, not filled: give a value for cta_url when sending"
    filled = placeholder_parts("{{cta_url}}", filled={"cta_url"})
    assert filled[0]["note"] == "placeholder, filled per recipient"


def test_an_email_send_knows_which_placeholders_its_recipients_fill():
    output = {
        "sent": 1,
        "messages": [{"email": "a@example.com", "status": "sent"}],
        "skipped": [{"email": "b@example.com", "reason": "suppressed"}],
        "failed": [],
        "unknown": [],
        "sandbox": True,
    }
    payload = {
        "subject": "Hi {{first_name}}",
        "body": "{{first_name}}, see {{plan}}. {{unsubscribe_url}}",
        "recipients": [{"email": "a@example.com", "variables": {"first_name": "Ann"}}, "x"],
        "variables": {"plan": "Pro"},
    }
    r = present("email", "send", output, payload).context["r"]
    assert [(row["email"], row["status"]) for row in r["rows"]] == [
        ("a@example.com", "sent"),
        ("b@example.com", "skipped"),
    ]
    notes = {p["text"]: p["note"] for p in r["body"] if "placeholder" in p}
    assert set(notes.values()) == {"placeholder, filled per recipient"}


def test_a_post_is_measured_against_its_platform():
    output = {"content": "x" * 281, "hashtags": ["#a", "#b"], "model": "builtin"}
    r = present("social", "generate-post", output, {"platform": "twitter"}).context["r"]
    assert (r["chars"], r["limit"], r["over"], r["platform_name"]) == (
        281,
        280,
        True,
        "X (Twitter)",
    )
    tags = " ".join(f"#t{i}" for i in range(31))
    r = present("social", "optimize-caption", {"content": tags}, {"platform": "instagram"})
    assert (r.context["r"]["tags"], r.context["r"]["tag_limit"]) == (31, 30)
    assert r.context["r"]["tags_over"] is True and r.context["r"]["over"] is False


def test_publish_links_only_to_web_addresses():
    output = {
        "status": "partial",
        "results": {
            "reddit": {"status": "published", "permalink": "https://www.reddit.com/r/x/1/"},
            "youtube": {"status": "published", "permalink": "javascript:alert(1)", "postId": "v1"},
            "instagram": {"status": "failed", "message": "Instagram refused the media"},
        },
    }
    platforms = present("social", "publish", output, {}).context["r"]["platforms"]
    assert [(p["name"], p["status"], p["permalink"]) for p in platforms] == [
        ("Reddit", "published", "https://www.reddit.com/r/x/1/"),
        ("YouTube", "published", None),
        ("Instagram", "failed", None),
    ]
    assert platforms[2]["message"] == "Instagram refused the media"


def test_an_audit_is_a_checklist_by_priority_with_what_passed():
    r = present("seo", "seo-audit", AUDIT, {}).context["r"]
    assert r["score"] == 64 and r["issue_count"] == 4
    groups = dict(r["groups"])
    assert [i["check"] for i in groups["high"]] == ["Meta description"]
    assert [i["check"] for i in groups["low"]] == ["Twitter card", "Links"]
    assert "Title" in r["passed"] and "Keyword placement" in r["passed"]
    assert "Links" not in r["passed"] and "Meta description" not in r["passed"]
    assert ("Title", "Release planning for small teams (32 characters)") in r["facts"]


def test_a_keyword_only_audit_has_no_score_and_nothing_passed():
    output = {**AUDIT, "score": None, "audit": None}
    r = present("seo", "seo-audit", output, {}).context["r"]
    assert r["score"] is None and r["passed"] == [] and r["issue_count"] == 4


def test_keywords_without_a_data_source_say_so():
    output = {
        "clusters": [
            {
                "label": "planning",
                "pillar": "release planning",
                "keywords": [
                    {"keyword": "release planning", "intent": "informational", "source": "none"},
                    {"keyword": "release planning tools", "volume": None, "source": "none"},
                ],
            }
        ],
        "summary": {"note": "Search volume needs a keyword data source; none is connected."},
    }
    r = present("seo", "keyword-research", output, {}).context["r"]
    assert [(k["keyword"], k["pillar"], k["volume"]) for k in r["rows"]] == [
        ("release planning", True, None),
        ("release planning tools", False, None),
    ]
    assert r["no_source"] is True and r["note"].startswith("Search volume")
    output["clusters"][0]["keywords"][0].update(volume=1900, source="google_ads")
    assert present("seo", "keyword-research", output, {}).context["r"]["no_source"] is False


def test_support_intents_give_badges_actions_and_the_reply():
    triage = {
        "category": "billing",
        "priority": "high",
        "sentiment": "negative",
        "recommendedActions": ["Escalate to on-call"],
    }
    r = present("support", "triage", triage, {}).context["r"]
    assert r["badges"] == [
        ("category", "billing", "billing"),
        ("priority", "high", "high"),
        ("sentiment", "negative", "negative"),
    ]
    assert r["actions"] == ["Escalate to on-call"] and r["reply"] is None
    macros = {"macros": [{"title": "Refund", "body": "We refunded you."}], "context": triage}
    assert present("support", "macro-suggest", macros, {}).context["r"]["badges"][0][1] == "billing"
    reply = {
        "status": "needs_human",
        "reply": "We will get back to you.",
        "sent": True,
        "to": "+15005550006",
        "cost": "0.0083",
        "messageSid": "SM1",
        "escalationReason": "low confidence",
    }
    r = present("support", "reply", reply, {}).context["r"]
    assert r["status"] == "needs human" and r["escalation"] == "low confidence"
    assert ("To", "+15005550006") in r["facts"] and ("Cost", "$0.0083") in r["facts"]


def test_a_message_send_is_a_short_summary():
    output = {"to": "+15005550009", "messageSid": "SM1", "status": "queued", "cost": "1.5"}
    r = present("messaging", "send-sms", {**output, "sandbox": True}, {}).context["r"]
    assert r["facts"] == [
        ("To", "+15005550009"),
        ("Status", "queued"),
        ("Cost", "$1.50"),
        ("Message id", "SM1"),
    ]
    assert r["sandbox"] is True


MALFORMED = [
    {},
    {"body": 5, "title": ["x"], "meta": "x", "quality": [1], "keywordInsights": {"a": 1}},
    {"sequence": "x", "suggestions": [None, 3], "testId": 7, "sent": "1"},
    {"content": ["x"], "hashtags": "#a", "results": [1, 2], "status": {"x": 1}},
    {"status": "published", "results": {"reddit": "oops", "youtube": None}},
    {"recommendations": "x", "score": "high", "audit": [1]},
    {"recommendations": [None, {"priority": "urgent"}, {"priority": ["high"], "message": 1}]},
    {"clusters": [{"keywords": "x"}, None, {"label": 3, "keywords": [None, {"keyword": 3}]}]},
    {"category": ["x"], "priority": 3, "macros": [{"title": None}], "context": "x"},
    {
        "to": {"x": 1},
        "cost": "not money",
        "status": None,
        "generator": {"kind": "template", "label": 5},
    },
    {"summary": 3, "highlights": "x", "stats": [], "format": 3},
]


@pytest.mark.parametrize("output", MALFORMED)
@pytest.mark.parametrize("task", sorted(INTENTS))
def test_an_output_of_another_shape_never_breaks_a_presenter(task, output):
    payload = {"platform": 3, "variants": "x", "recipients": [1], "subject": ["x"]}
    # The presenter itself copes (the catch in present() is only the last resort).
    built = results.FAMILIES[INTENTS[task]].build(output, payload)
    assert built is None or isinstance(built, dict)


def test_what_is_not_a_readable_output_has_no_view():
    assert present("content", "generate-draft", ["a list"], {}) is None
    assert present("content", "generate-draft", "text", {}) is None
    assert present("testing", "echo", {"text": "hi"}, {}) is None
    assert present("content", "generate-draft", {"body": "  "}, {}) is None


def test_a_presenter_that_trips_on_an_odd_shape_falls_back_to_raw(monkeypatch):
    def broken(output, payload):
        return output["missing"]

    monkeypatch.setitem(results.FAMILIES, "article", results.Presenter("x.html", broken))
    assert present("content", "generate-draft", ARTICLE, {}) is None


@pytest.mark.django_db
def test_a_run_has_a_readable_result_and_text_once_it_has_an_output():
    run = AgentRunFactory(agent="content", intent="generate-draft", output=None)
    assert hooks.result_view(run) is None and hooks.result_text(run) is None
    run.output, run.status = ARTICLE, RunStatus.COMPLETED
    assert hooks.result_view(run).template == "agents/results/article.html"
    written = hooks.result_text(run)
    assert (written.title, written.text, written.markdown) == (
        ARTICLE["title"],
        ARTICLE["body"],
        True,
    )


def test_written_text_of_each_family():
    summary = written_text(
        "content", "summarize", {"summary": "Short.", "highlights": ["One.", "Two."]}
    )
    assert summary.text == "Short.\n\n- One.\n- Two.\n" and summary.markdown
    post = written_text("content", "repurpose", {"content": "Line one\n• two"})
    assert post.text == "Line one\n• two" and post.markdown is False
    assert written_text("support", "triage", {"category": "billing"}) is None
    assert written_text("content", "generate-draft", {"body": 3}) is None
