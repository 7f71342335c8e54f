"""What a completed run's output means to a person: one small presenter per family of intents.

The run page (``runs/views.py``) asks ``runs.hooks.result_view(run)``; the agents app installs
``result_view`` and ``result_text`` below at start-up.  A presenter reads the output it is
given and never trusts its shape: a field that is missing or of another type is left out, and
an output it cannot read at all gives ``None``, so the page shows the raw JSON instead of
failing.  The API's answer is not touched: this is only how the page reads it.

Templates live under ``templates/agents/results/``; each gets ``r`` (what its presenter built)
and ``generator`` (who wrote the text: the built-in templates or a model).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.urls import reverse
from django.utils.dateparse import parse_datetime

from agents import publishing, writer
from agents.ads import present as ads_present
from agents.fields import CHOICE_LABELS
from runs.hooks import ResultText, ResultView
from runs.models import AgentRun

logger = logging.getLogger(__name__)

TEMPLATE_LABEL = "Template text, no AI model"
PRIORITIES = ("high", "medium", "low")
# The on-page checks of agents/seo/audit.py, as a person names them.
AUDIT_CHECKS = {
    "title": "Title",
    "metaDescription": "Meta description",
    "robots": "Indexing (robots)",
    "canonical": "Canonical URL",
    "viewport": "Mobile viewport",
    "language": "Page language",
    "headings": "Headings",
    "content": "Amount of content",
    "images": "Image alt text",
    "links": "Links",
    "readability": "Readability",
    "structuredData": "Structured data",
    "openGraph": "Open Graph tags",
    "twitter": "Twitter card",
    "keyword": "Keyword placement",
}
# Character limits per platform: the writer's for posts, the publisher's for publishing.
POST_LIMITS = {platform: limit for platform, (limit, _) in writer.PLATFORM_LIMITS.items()}
HASHTAG_LIMITS = {"instagram": publishing.INSTAGRAM_HASHTAGS}
PLATFORM_NAMES = CHOICE_LABELS  # one table of channel names: agents.fields


# --- reading an untrusted output ------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _texts(value: Any) -> list[str]:
    return [v for v in value if _text(v)] if isinstance(value, list) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _scalar(value: Any) -> str | None:
    """A value as a short text, or None for anything nested."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | str) and str(value).strip():
        return str(value)
    return None


def _label(slug: str) -> str:
    """``general_question`` / ``needs_human`` as words."""
    return slug.replace("_", " ").replace("-", " ")


def generator(output: dict) -> dict | None:
    """Who wrote the text: ``output.generator`` when present, else the older ``model`` field."""
    given = _dict(output.get("generator"))
    kind = given.get("kind")
    reason = _text(output.get("fallback_reason"))
    if kind in ("template", "model"):
        default = TEMPLATE_LABEL if kind == "template" else "an AI model"
        return {"kind": kind, "label": _text(given.get("label")) or default, "reason": reason}
    model = _text(output.get("model"))
    if model == writer.BUILTIN:
        return {"kind": "template", "label": TEMPLATE_LABEL, "reason": reason}
    if model:
        return {"kind": "model", "label": model, "reason": reason}
    return None


def placeholder_parts(text: str, *, filled: set[str] = frozenset()) -> list[dict]:
    """``text`` cut into plain runs and ``{{placeholders}}``, each placeholder with its meaning.

    ``filled`` names the placeholders a send gives a value for; a placeholder with a default
    (``{{first_name|there}}``) is filled per recipient too.
    """
    parts: list[dict] = []
    last = 0
    for match in writer.PLACEHOLDER_RE.finditer(text):
        if match.start() > last:
            parts.append({"text": text[last : match.start()]})
        name, default = match.group(1), match.group(2)
        if name in filled or default is not None:
            note = "placeholder, filled per recipient"
            note += f" (default: {default})" if default else ""
        else:
            note = f"placeholder, not filled: give a value for {name} when sending"
        parts.append({"text": match.group(0), "placeholder": name, "note": note})
        last = match.end()
    if last < len(text):
        parts.append({"text": text[last:]})
    return parts


# --- content -------------------------------------------------------------------------------------


def _article(output: dict, payload: dict) -> dict | None:
    body = _text(output.get("body"))
    if body is None:
        return None
    meta, quality = _dict(output.get("meta")), _dict(output.get("quality"))
    readability = _dict(quality.get("readability"))
    insights = [
        {
            "keyword": i["keyword"],
            "intent": _text(i.get("intent")),
            "density": _number(i.get("density")),
        }
        for i in _dicts(output.get("keywordInsights"))
        if _text(i.get("keyword"))
    ]
    snippets = _dict(output.get("socialSnippets"))
    return {
        "title": _text(output.get("title")) or "Article",
        "body": body,
        "meta_title": _text(meta.get("title")),
        "meta_description": _text(meta.get("description")),
        "canonical": _text(meta.get("canonical")),
        "quality": _number(quality.get("overall")),
        "reading_ease": _number(readability.get("fleschReadingEase")),
        "reading_label": _text(readability.get("label")),
        "words": _number(readability.get("words")),
        "densities": [
            {"keyword": k, "density": d}
            for k, d in _dict(quality.get("keywordDensity")).items()
            if _number(d) is not None
        ],
        "insights": insights,
        "snippets": [
            {"label": label, "text": _text(snippets.get(key))}
            for key, label in (
                ("linkedin", "LinkedIn post"),
                ("twitter", "Tweet"),
                ("emailSubject", "Email subject"),
            )
            if _text(snippets.get(key))
        ],
        "snippets_generator": generator({"generator": output.get("socialSnippetsGenerator")}),
        "notes": _texts(output.get("notes")),
        "uses": True,
    }


def _summary(output: dict, payload: dict) -> dict | None:
    summary = _text(output.get("summary"))
    if summary is None:
        return None
    stats = _dict(output.get("stats"))
    return {
        "title": "Summary",
        "summary": summary,
        "highlights": _texts(output.get("highlights")),
        "stats": [
            (label, _number(stats.get(key)))
            for key, label in (
                ("words", "Words"),
                ("sentences", "Sentences"),
                ("readingTimeMinutes", "Reading time (minutes)"),
            )
            if _number(stats.get(key)) is not None
        ],
        "uses": True,
    }


def _repurposed(output: dict, payload: dict) -> dict | None:
    content = _text(output.get("content"))
    if content is None:
        return None
    form = _text(output.get("format")) or "text"
    names = {
        "linkedin": "LinkedIn post",
        "twitter": "Tweet",
        "email": "Email",
        "outline": "Outline",
    }
    metadata = _dict(output.get("metadata"))
    return {
        "title": names.get(form, form.capitalize()),
        "content": content,
        "length": len(content),
        "facts": [
            (label, _scalar(metadata.get(key)))
            for key, label in (
                ("topic", "Topic"),
                ("primaryKeyword", "Keyword"),
                ("tone", "Tone"),
            )
            if _scalar(metadata.get(key))
        ],
        "uses": True,
    }


# --- email ---------------------------------------------------------------------------------------


def _sequence(output: dict, payload: dict) -> dict | None:
    # Filled per recipient by `send`: the writer's list, and what this output says it used.
    filled = set(writer.SEND_TIME_PLACEHOLDERS) | set(_texts(output.get("sendTimePlaceholders")))
    emails = [
        {
            "day": _number(e.get("day")),
            "subject": placeholder_parts(e["subject"], filled=filled),
            "body": placeholder_parts(e["body"], filled=filled),
        }
        for e in _dicts(output.get("sequence"))
        if _text(e.get("subject")) and _text(e.get("body"))
    ]
    if not emails:
        return None
    # The draft sequence the run created (older runs made none): its page, where it is finished.
    draft = _uuid_text(output.get("sequenceId"))
    link = reverse("sequences:detail", args=[draft]) if draft else None
    return {"emails": emails, "sequence_link": link}


def _uuid_text(value: Any) -> str | None:
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _subjects(output: dict, payload: dict) -> dict | None:
    suggestions = [{"text": s, "length": len(s)} for s in _texts(output.get("suggestions"))]
    if not suggestions:
        return None
    return {"original": _text(payload.get("originalSubject")), "subjects": suggestions}


def _ab_test(output: dict, payload: dict) -> dict | None:
    if not _text(output.get("testId")):
        return None
    variants = [
        {
            "name": f"Variant {chr(65 + i)}" if i < 26 else f"Variant {i + 1}",
            "subject": placeholder_parts(
                _text(v.get("subject")) or "", filled=set(writer.SEND_TIME_PLACEHOLDERS)
            ),
            "body": placeholder_parts(
                _text(v.get("body")) or "", filled=set(writer.SEND_TIME_PLACEHOLDERS)
            ),
            "template": bool(_text(v.get("templateId"))),
        }
        for i, v in enumerate(_dicts(payload.get("variants")))
    ]
    split = _dict(output.get("split"))
    return {
        "test_id": output["testId"],
        "name": _text(payload.get("name")),
        "variants": variants,
        "status": _text(output.get("status")) or "",
        "link": _text(output.get("link")),
        "per_variant": {
            k: v for k, v in _dict(split.get("per_variant")).items() if _number(v) is not None
        },
        "rest": _number(split.get("rest")),
    }


def _email_send(output: dict, payload: dict) -> dict | None:
    if _number(output.get("sent")) is None:
        return None
    given = set(_dict(payload.get("variables")))
    recipients = _dicts(payload.get("recipients"))
    per_person = [set(_dict(r.get("variables"))) for r in recipients]
    if per_person:
        given |= set.intersection(*per_person)
    given |= {"email", "unsubscribe_url"}
    rows = [
        {"email": m.get("email"), "status": _text(m.get("status")) or "sent", "note": None}
        for m in _dicts(output.get("messages"))
    ]
    rows += [
        {"email": s.get("email"), "status": "skipped", "note": _text(s.get("reason"))}
        for s in _dicts(output.get("skipped"))
    ]
    rows += [
        {"email": f.get("email"), "status": "failed", "note": _text(f.get("message"))}
        for f in _dicts(output.get("failed"))
    ]
    rows += [
        {"email": u.get("email"), "status": "unknown", "note": _text(u.get("message"))}
        for u in _dicts(output.get("unknown"))
    ]
    subject, body = _text(payload.get("subject")), _text(payload.get("body"))
    return {
        "sent": output["sent"],
        "sandbox": output.get("sandbox") is True,
        "rows": [r for r in rows if _text(r["email"])],
        "subject": placeholder_parts(subject, filled=given) if subject else None,
        "body": placeholder_parts(body, filled=given) if body else None,
    }


# --- social --------------------------------------------------------------------------------------


def _post(output: dict, payload: dict) -> dict | None:
    content = _text(output.get("content"))
    if content is None:
        return None
    platform = _text(payload.get("platform")) or "instagram"
    hashtags = _texts(output.get("hashtags"))
    limit, tag_limit = POST_LIMITS.get(platform), HASHTAG_LIMITS.get(platform)
    tags_in_text = len(set(re.findall(r"#\w+", content)) | set(hashtags))
    return {
        "platform": platform,
        "platform_name": PLATFORM_NAMES.get(platform, platform),
        "content": content,
        "hashtags": hashtags,
        "chars": len(content),
        "limit": limit,
        "over": limit is not None and len(content) > limit,
        "tags": tags_in_text,
        "tag_limit": tag_limit,
        "tags_over": tag_limit is not None and tags_in_text > tag_limit,
        "uses": True,
    }


def _hashtags(output: dict, payload: dict) -> dict | None:
    tags = _texts(output.get("hashtags"))
    if not tags:
        return None
    platform = _text(output.get("platform")) or _text(payload.get("platform")) or "instagram"
    limit = HASHTAG_LIMITS.get(platform)
    return {
        "platform_name": PLATFORM_NAMES.get(platform, platform),
        "hashtags": tags,
        "limit": limit,
        "over": limit is not None and len(tags) > limit,
    }


def _publish(output: dict, payload: dict) -> dict | None:
    status = _text(output.get("status"))
    if status is None:
        return None
    platforms = []
    for platform, result in _dict(output.get("results")).items():
        result = _dict(result)
        link = _text(result.get("permalink"))
        platforms.append(
            {
                "name": PLATFORM_NAMES.get(platform, platform),
                "status": _text(result.get("status")) or "unknown",
                "permalink": link if link and link.startswith(("https://", "http://")) else None,
                "post_id": _scalar(result.get("postId")),
                "sandbox": result.get("sandbox") is True,
                "message": _text(result.get("message")),
                "already_sent_in_run": _text(result.get("alreadySentInRun")),
            }
        )
    return {
        "status": status,
        # A moment, shown in the organization's timezone like every other time on the page.
        "publish_at": _moment(output.get("publishAt")),
        "channels": [PLATFORM_NAMES.get(p, p) for p in _texts(payload.get("platforms"))],
        "scheduled_run": _text(output.get("scheduledRunId")),
        "platforms": platforms,
    }


# What the analytics intent's numbers are called on the page (agents/analytics/selectors.py).
METRIC_WORDS = {
    "impressions": "Impressions",
    "reach": "Reach",
    "views": "Views",
    "likes": "Likes",
    "comments": "Comments",
    "shares": "Shares",
    "clicks": "Clicks",
    "saves": "Saves",
    "reactions": "Reactions",
    "watch_time_seconds": "Watch time (seconds)",
}


def _numbers(value: Any) -> list[tuple[str, int | float]]:
    return [
        (METRIC_WORDS.get(name, name), number)
        for name, number in _dict(value).items()
        if _number(number) is not None
    ]


def _analytics(output: dict, payload: dict) -> dict | None:
    message = _text(output.get("message"))
    if message is None:
        return None
    channels = [
        {
            "name": PLATFORM_NAMES.get(platform, platform),
            "posts": _number(_dict(entry).get("posts")) or 0,
            "with_numbers": _number(_dict(entry).get("postsWithNumbers")) or 0,
            "numbers": _numbers(_dict(entry).get("metrics")),
        }
        for platform, entry in _dict(output.get("platforms")).items()
    ]
    return {"message": message, "channels": channels, "totals": _numbers(output.get("totals"))}


# --- SEO -----------------------------------------------------------------------------------------


def _audit(output: dict, payload: dict) -> dict | None:
    items = _dicts(output.get("recommendations"))
    if not items and "score" not in output:
        return None
    groups = {p: [] for p in PRIORITIES}
    for item in items:
        priority, message = _text(item.get("priority")), _text(item.get("message"))
        if priority in groups and message:
            check = _text(item.get("check")) or ""
            groups[priority].append({"check": AUDIT_CHECKS.get(check, check), "message": message})
    report = _dict(output.get("audit"))
    failing = {_text(i.get("check")) for i in items}
    passed = []
    if report:  # only a page that was read can pass a check
        checked = [c for c in AUDIT_CHECKS if c != "keyword" or report.get("keyword")]
        passed = [AUDIT_CHECKS[c] for c in checked if c not in failing]
    return {
        "score": _number(output.get("score")),
        "keyword": _text(output.get("keyword")),
        "url": _text(report.get("url")),
        "groups": [(p, groups[p]) for p in PRIORITIES],
        "issue_count": sum(len(g) for g in groups.values()),
        "passed": passed,
        "facts": _audit_facts(report),
    }


def _audit_facts(report: dict) -> list[tuple[str, str]]:
    title, description = _dict(report.get("title")), _dict(report.get("metaDescription"))
    readability = _dict(report.get("readability"))
    words = _number(_dict(report.get("content")).get("wordCount"))
    facts = [
        ("Title", _text(title.get("text")), _number(title.get("length"))),
        ("Meta description", _text(description.get("text")), _number(description.get("length"))),
    ]
    out = [(label, f"{text} ({length} characters)") for label, text, length in facts if text]
    if words is not None:
        out.append(("Words on the page", str(words)))
    if _text(readability.get("label")):
        out.append(("Readability", readability["label"]))
    return out


def _keywords(output: dict, payload: dict) -> dict | None:
    rows = []
    for cluster in _dicts(output.get("clusters")):
        label = _text(cluster.get("label")) or ""
        for item in _dicts(cluster.get("keywords")):
            if _text(item.get("keyword")):
                rows.append(
                    {
                        "keyword": item["keyword"],
                        "cluster": label,
                        "pillar": item["keyword"] == cluster.get("pillar"),
                        "intent": _text(item.get("intent")),
                        **ads_present.planner_figures(item),
                    }
                )
    if not rows:
        return None
    summary = _dict(output.get("summary"))
    no_source = all(r["source"] in (None, "none") for r in rows)
    return {
        "rows": rows,
        "clusters": len(_dicts(output.get("clusters"))),
        "no_source": no_source,
        "note": _text(summary.get("note")),
        "words": ads_present.planner_words(rows),
        "suggestions": [
            {"keyword": s["keyword"], **ads_present.planner_figures(s)}
            for s in _dicts(output.get("suggestions"))
            if _text(s.get("keyword"))
        ],
    }


# --- support and messages ----------------------------------------------------------------------------


def _support(output: dict, payload: dict) -> dict | None:
    context = _dict(output.get("context"))  # macro-suggest keeps its triage here
    badges = [
        (name, _text(output.get(name)) or _text(context.get(name)))
        for name in ("category", "priority", "sentiment")
    ]
    result = {
        "badges": [(name, value, _label(value)) for name, value in badges if value],
        "status": _label(output["status"]) if _text(output.get("status")) else None,
        "escalation": _text(output.get("escalationReason")),
        "actions": _texts(output.get("recommendedActions")),
        "reply": _text(output.get("reply")),
        "subject": _text(output.get("suggestedSubject")),
        "macros": [
            {"title": m["title"], "body": _text(m.get("body")) or "", "tags": _texts(m.get("tags"))}
            for m in _dicts(output.get("macros"))
            if _text(m.get("title"))
        ],
        "facts": _message_facts(output) if output.get("sent") is True else [],
        "articles": [a["title"] for a in _dicts(output.get("articles")) if _text(a.get("title"))],
    }
    if not (result["badges"] or result["reply"] or result["macros"]):
        return None
    return result


def _message_facts(output: dict) -> list[tuple[str, str]]:
    fields = (
        ("connector", "Connector"),
        ("action", "Action"),
        ("to", "To"),
        ("status", "Status"),
        ("deliveryStatus", "Delivery status"),
        ("cost", "Cost"),
        ("messageSid", "Message id"),
        ("provider_id", "Provider id"),
    )
    facts = [(label, _scalar(output.get(key))) for key, label in fields if _scalar(output.get(key))]
    return [(label, _money(value) if label == "Cost" else value) for label, value in facts]


def _template_written(output: dict, payload: dict) -> dict | None:
    if not _text(output.get("templateId")) or not _text(output.get("templateName")):
        return None
    filled = set(writer.SEND_TIME_PLACEHOLDERS)
    body = _text(output.get("body"))
    return {
        "template_id": output["templateId"],
        "name": output["templateName"],
        "subject": _text(output.get("subject")),
        "preheader": _text(output.get("preheader")),
        "heading": _text(output.get("heading")),
        "body": placeholder_parts(body, filled=filled) if body else None,
        "button": _text(output.get("buttonLabel")),
    }


def _money(value: str) -> str:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return value
    return f"${amount:,.2f}" if amount >= 1 or amount == 0 else f"${amount:.4f}"


def _message(output: dict, payload: dict) -> dict | None:
    facts = _message_facts(output)
    if not facts:
        return None
    return {"facts": facts, "sandbox": output.get("sandbox") is True}


# --- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Presenter:
    template: str
    build: Callable[[dict, dict], dict | None]


FAMILIES = {
    "article": Presenter("agents/results/article.html", _article),
    "summary": Presenter("agents/results/summary.html", _summary),
    "repurposed": Presenter("agents/results/repurposed.html", _repurposed),
    "sequence": Presenter("agents/results/email_sequence.html", _sequence),
    "subjects": Presenter("agents/results/email_subjects.html", _subjects),
    "ab_test": Presenter("agents/results/email_ab_test.html", _ab_test),
    "email_send": Presenter("agents/results/email_send.html", _email_send),
    "template_written": Presenter("agents/results/email_template.html", _template_written),
    "post": Presenter("agents/results/social_post.html", _post),
    "hashtags": Presenter("agents/results/social_hashtags.html", _hashtags),
    "publish": Presenter("agents/results/social_publish.html", _publish),
    "analytics": Presenter("agents/results/social_analytics.html", _analytics),
    "audit": Presenter("agents/results/seo_audit.html", _audit),
    "keywords": Presenter("agents/results/seo_keywords.html", _keywords),
    "support": Presenter("agents/results/support.html", _support),
    "message": Presenter("agents/results/message.html", _message),
    "ads_digest": Presenter("agents/results/ads_digest.html", ads_present.digest),
    "ads_budget": Presenter("agents/results/ads_budget.html", ads_present.budget_change),
}
INTENTS = {
    ("content", "generate-draft"): "article",
    ("content", "summarize"): "summary",
    ("content", "repurpose"): "repurposed",
    ("email", "generate-sequence"): "sequence",
    ("email", "optimize-subject"): "subjects",
    ("email", "ab-test"): "ab_test",
    ("email", "send"): "email_send",
    ("email", "write-template"): "template_written",
    ("social", "generate-post"): "post",
    ("social", "optimize-caption"): "post",
    ("social", "hashtag-pack"): "hashtags",
    ("social", "publish"): "publish",
    ("social", "analytics"): "analytics",
    ("seo", "seo-audit"): "audit",
    ("seo", "keyword-research"): "keywords",
    ("support", "triage"): "support",
    ("support", "support"): "support",
    ("support", "reply"): "support",
    ("support", "macro-suggest"): "support",
    ("messaging", "send-sms"): "message",
    ("messaging", "send-whatsapp"): "message",
    ("connector", "action"): "message",
    ("ads", "digest"): "ads_digest",
    ("ads", "budget-change"): "ads_budget",
}


def present(agent: str, intent: str, output: Any, payload: Any) -> ResultView | None:
    """The template and context for this output, or None when it has no readable view."""
    family = INTENTS.get((agent, intent))
    if family is None or not isinstance(output, dict):
        return None
    presenter = FAMILIES[family]
    try:
        built = presenter.build(output, _dict(payload))
    except (KeyError, TypeError, ValueError, AttributeError):
        # An output of another shape than this intent writes (an older version, a hand-made
        # row): the page falls back to the raw JSON rather than failing.
        logger.warning("unreadable %s/%s output", agent, intent, exc_info=True)
        return None
    if built is None:
        return None
    return ResultView(
        template=presenter.template,
        context={"r": built, "family": family, "generator": generator(output)},
    )


def result_view(run: AgentRun) -> ResultView | None:
    """Whatever the run's status: a run held for approval shows its draft the same way."""
    return present(run.agent, run.intent, run.output, run.input)


def written_text(agent: str, intent: str, output: Any) -> ResultText | None:
    """The text a run wrote, as Copy and the downloads give it (and "use in a post" reuses)."""
    output = _dict(output)
    family = INTENTS.get((agent, intent))
    if family == "article" and _text(output.get("body")):
        return ResultText(title=_text(output.get("title")) or "Article", text=output["body"])
    if family == "summary" and _text(output.get("summary")):
        lines = [output["summary"], ""] + [f"- {h}" for h in _texts(output.get("highlights"))]
        return ResultText(title="Summary", text="\n".join(lines).strip() + "\n")
    if family == "repurposed" and _text(output.get("content")):
        return ResultText(title="Repurposed text", text=output["content"], markdown=False)
    if family == "post" and _text(output.get("content")):
        return ResultText(title="Post", text=output["content"], markdown=False)
    if family == "ads_digest" and _text(output.get("summary")):
        return ResultText(title="Google Ads digest", text=output["summary"], markdown=False)
    return None


def result_text(run: AgentRun) -> ResultText | None:
    return written_text(run.agent, run.intent, run.output)


def _moment(value: Any):
    """An ISO 8601 time with its offset as an aware datetime; anything else as None."""
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None
