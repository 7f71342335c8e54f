"""ContentAgent: long-form SEO drafts, summaries and repurposing.

``generate-draft`` writes the article (LLM or built-in writer), takes its keyword insights
from the SEOAgent's research code, builds meta tags and JSON-LD, scores its quality
(Flesch reading ease and keyword density, the original's formula) and stores a
``ContentDraft``.  A re-executed run updates the same draft.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, Field

from agents import llm, writer
from agents.base import Agent, IntentInput, intent
from agents.checks import Checks, brand_known
from agents.context import RunContext
from agents.models import ContentDraft, DraftStatus
from agents.selectors import brand_resolve
from agents.seo import keywords
from agents.text import (
    clip,
    contains_phrase,
    keyword_density,
    readability,
    sentences,
    slugify_words,
    top_terms,
    words,
)
from neonhub.core.models import Organization

Tone = Literal["professional", "casual", "friendly", "authoritative"]


class GenerateDraftIn(IntentInput):
    topic: str = Field(min_length=1, max_length=300)
    primaryKeyword: str = Field(min_length=1, max_length=120)
    personaId: str | int | None = None
    secondaryKeywords: list[str] = Field(default_factory=list, max_length=10)
    outline: list[str] = Field(default_factory=list, max_length=15)
    tone: Tone = "professional"
    audience: str = Field(default="marketing teams", max_length=200)
    callToAction: str | None = Field(default=None, max_length=200)
    brandId: str = Field(default="default-brand", max_length=100)
    brandVoiceId: str | None = Field(default=None, max_length=100)
    wordCount: int = Field(default=900, ge=300, le=4000)
    createdById: str | None = None


class SummarizeIn(IntentInput):
    content: str = Field(min_length=1, max_length=200_000)
    sentences: int = Field(default=3, ge=1, le=6)
    highlights: int = Field(default=3, ge=1, le=6)
    createdById: str | None = None


class RepurposeIn(IntentInput):
    content: str = Field(min_length=1, max_length=200_000)
    format: Literal["linkedin", "twitter", "email", "outline"] = "linkedin"
    topic: str | None = Field(default=None, max_length=300)
    primaryKeyword: str | None = Field(default=None, max_length=120)
    tone: Tone | None = None
    brandId: str = Field(default="default-brand", max_length=100)
    brandVoiceId: str | None = Field(default=None, max_length=100)
    createdById: str | None = None


class ArticleOut(BaseModel):
    class Section(BaseModel):
        heading: str = Field(min_length=1, max_length=200)
        body: str = Field(min_length=1)

    title: str = Field(min_length=5, max_length=200)
    summary: str = Field(min_length=10)
    sections: list[Section] = Field(min_length=2)
    conclusion: str = Field(min_length=1)
    callToAction: str = Field(min_length=1)


class SnippetsOut(BaseModel):
    linkedin: str = Field(min_length=1)
    twitter: str = Field(min_length=1, max_length=280)
    emailSubject: str = Field(min_length=1, max_length=120)


class RepurposeOut(BaseModel):
    content: str = Field(min_length=1)


def fit_between(text: str, fillers: list[str], low: int, high: int) -> str:
    """Lengthen with fillers until at least ``low``, then cut at a word boundary to at most ``high``."""
    text = " ".join(text.split())
    for filler in fillers:
        if len(text) >= low:
            break
        text = f"{text} {filler}".strip()
    if len(text) <= high:
        return text
    cut = text[:high]
    space = cut.rfind(" ")
    return cut[:space].rstrip(" ,;:-|") if space >= low else cut


def meta_tags(*, title: str, summary: str, keyword: str, brand_name: str, url: str | None) -> dict:
    head = (
        title if contains_phrase(title, keyword) else f"{keyword[:1].upper()}{keyword[1:]}: {title}"
    )
    fillers = [
        f"| {brand_name}" if brand_name else "| Guide",
        "- A Practical Guide",
        "for Beginners and Teams",
    ]
    meta_title = fit_between(head, fillers, 50, 60)
    if not contains_phrase(meta_title, keyword):
        # A long title cut at 60 characters lost the keyword: lead with it instead.
        meta_title = fit_between(f"{keyword[:1].upper()}{keyword[1:]}: {title}", fillers, 50, 60)
    description = (
        summary if contains_phrase(summary, keyword) else f"{summary} Learn {keyword} step by step."
    )
    meta_description = fit_between(
        description,
        [
            f"Learn how {keyword} works in practice.",
            "Practical steps, examples and mistakes to avoid.",
            "Read the full guide.",
        ],
        150,
        160,
    )
    return {
        "title": meta_title,
        "description": meta_description,
        "keywords": [keyword],
        "canonical": url,
        "openGraph": {
            "type": "article",
            "title": meta_title,
            "description": meta_description,
            "url": url,
            "siteName": brand_name or None,
        },
        "twitter": {
            "card": "summary_large_image",
            "title": meta_title,
            "description": meta_description,
        },
    }


def json_ld(
    *,
    title: str,
    description: str,
    keywords_list: list[str],
    word_count: int,
    brand_name: str,
    website: str,
    slogan: str,
    url: str | None,
) -> dict:
    organization = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": brand_name or None,
        "url": website or None,
        "slogan": slogan or None,
    }
    article = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": title[:110],
        "description": description,
        "keywords": ", ".join(keywords_list),
        "wordCount": word_count,
        "author": {"@type": "Organization", "name": brand_name or None},
        "publisher": {"@type": "Organization", "name": brand_name or None, "url": website or None},
        "mainEntityOfPage": url,
    }
    crumbs = [
        ("Home", website or None),
        ("Blog", f"{website.rstrip('/')}/blog" if website else None),
        (title, url),
    ]
    breadcrumb = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": i + 1,
                "name": name,
                **({"item": item} if item else {}),
            }
            for i, (name, item) in enumerate(crumbs)
        ],
    }
    strip = lambda d: {k: v for k, v in d.items() if v is not None}  # noqa: E731
    return {
        "article": strip(
            {
                **article,
                "author": strip(article["author"]),
                "publisher": strip(article["publisher"]),
            }
        ),
        "organization": strip(organization),
        "breadcrumb": breadcrumb,
    }


def quality_score(body: str, keyword_list: list[str]) -> dict:
    """The original's formula: 100 x (0.6 readability + 0.4 share of keywords at 0.5-3 % density)."""
    stats = readability(body)
    ease = stats["fleschReadingEase"] or 0.0
    readability_score = 1.0 if 55 <= ease <= 80 else max(0.0, min(1.0, ease / 100))
    densities = {k: keyword_density(body, k) for k in keyword_list}
    in_range = sum(1 for d in densities.values() if 0.5 <= d <= 3.0)
    density_score = in_range / len(densities) if densities else 0.0
    return {
        "overall": round(100 * (0.6 * readability_score + 0.4 * density_score), 1),
        "readability": {**stats, "score": round(readability_score, 3)},
        "keywordDensity": densities,
        "densityScore": round(density_score, 3),
    }


def summarize_text(content: str, count: int, highlight_count: int) -> dict:
    found = sentences(content)
    longest = sorted(range(len(found)), key=lambda i: (-len(found[i]), i))[:highlight_count]
    total_words = len(words(content))
    return {
        "summary": " ".join(found[:count]),
        "highlights": [found[i] for i in sorted(longest)],
        "stats": {
            "sentences": len(found),
            "words": total_words,
            "readingTimeMinutes": max(1, math.ceil(total_words / 200)) if total_words else 0,
        },
    }


class ContentAgent(Agent):
    slug = "content"
    name = "ContentAgent"
    version = "4.0.0"
    description = (
        "Writes SEO article drafts with meta tags and JSON-LD, summarises and repurposes content."
    )

    def preflight_generate_draft(
        self, data: GenerateDraftIn, *, organization: Organization
    ) -> None:
        checks = Checks()
        brand_known(checks, organization=organization, ref=data.brandId, field="payload.brandId")
        checks.raise_any()

    def preflight_repurpose(self, data: RepurposeIn, *, organization: Organization) -> None:
        checks = Checks()
        brand_known(checks, organization=organization, ref=data.brandId, field="payload.brandId")
        checks.raise_any()

    @intent("generate-draft", GenerateDraftIn, "Write a long-form SEO draft and store it")
    def generate_draft(self, ctx: RunContext, data: GenerateDraftIn) -> dict:
        ref = (
            data.brandVoiceId
            if data.brandVoiceId and data.brandId == "default-brand"
            else data.brandId
        )
        brand = brand_resolve(
            organization=ctx.organization,
            ref=ref,
            field="payload.brandVoiceId" if ref == data.brandVoiceId else "payload.brandId",
        )
        voice = writer.Voice.of(brand)
        keyword = data.primaryKeyword.strip()
        with ctx.step("keyword insights"):
            research = keywords.research(
                [keyword, *data.secondaryKeywords], limit=6, brand_terms=(ctx.organization.name,)
            )
        with ctx.step("write article"):
            written = self._article(ctx, data, voice)
        article = written.data
        body = writer.article_markdown(article)
        slug = slugify_words(article["title"])
        url = f"{voice.website.rstrip('/')}/blog/{slug}" if voice.website else None
        with ctx.step("meta, schema and quality"):
            meta = meta_tags(
                title=article["title"],
                summary=article["summary"],
                keyword=keyword,
                brand_name=voice.name,
                url=url,
            )
            schema = json_ld(
                title=article["title"],
                description=meta["description"],
                keywords_list=[keyword, *data.secondaryKeywords],
                word_count=len(words(body)),
                brand_name=voice.name,
                website=voice.website,
                slogan=voice.slogan,
                url=url,
            )
            quality = quality_score(body, [keyword, *data.secondaryKeywords])
            insights = [
                {**k, "density": keyword_density(body, k["keyword"])} for k in research["keywords"]
            ]
        with ctx.step("social snippets"):
            snippets = llm.write(
                ctx,
                system=f"You write social posts.\n{voice.describe()}",
                prompt=(
                    f"Write a LinkedIn post, a tweet (under 260 characters) and an email subject for the article "
                    f"{article['title']!r}: {article['summary']}. Return "
                    '{"linkedin": "...", "twitter": "...", "emailSubject": "..."}'
                ),
                schema=SnippetsOut,
                temperature=0.6,
                max_tokens=600,
                max_attempts=self.max_attempts,
                builtin=lambda: writer.social_snippets(
                    title=article["title"], summary=article["summary"], keyword=keyword, voice=voice
                ),
            )
        with ctx.step("save draft") as rec:
            draft = self._save(
                ctx, data, brand, article, body, meta, schema, quality, insights, written.model
            )
            rec.detail = {"draftId": str(draft.id)}
        ctx.metrics.update(
            draftId=str(draft.id),
            wordCount=len(words(body)),
            keywordInsights=len(insights),
            quality=quality["overall"],
        )
        return {
            "jobId": str(ctx.run_id),
            "draftId": str(draft.id),
            "title": article["title"],
            "summary": article["summary"],
            "body": body,
            "meta": meta,
            "schema": schema,
            "keywordInsights": insights,
            "quality": quality,
            "socialSnippets": snippets.data,
            "socialSnippetsGenerator": writer.generator(snippets.model),
            # What the built-in writer could not do (an article shorter than asked), in words.
            "notes": list(article.get("notes") or []),
            **written.label(),
        }

    def _article(self, ctx: RunContext, data: GenerateDraftIn, voice: writer.Voice) -> llm.Written:
        outline = "\n".join(f"- {h}" for h in data.outline) or "(choose 4-6 sections)"
        prompt = (
            f"Write a {data.wordCount}-word {data.tone} article for {data.audience} about {data.topic!r}. "
            f"Primary keyword: {data.primaryKeyword!r} (use it in the title and about once per 100 words). "
            f"Secondary keywords: {', '.join(data.secondaryKeywords) or 'none'}. Outline:\n{outline}\n"
            f"Call to action: {data.callToAction or 'invite the reader to get in touch'}. Section bodies are "
            'markdown paragraphs. Return {"title", "summary", "sections": [{"heading", "body"}], "conclusion", '
            '"callToAction"}'
        )
        return llm.write(
            ctx,
            system=f"You are a senior SEO content writer.\n{voice.describe()}",
            prompt=prompt,
            schema=ArticleOut,
            temperature=0.55,
            max_tokens=min(4000, 2200 + data.wordCount),
            max_attempts=self.max_attempts,
            builtin=lambda: writer.article(
                topic=data.topic,
                keyword=data.primaryKeyword.strip(),
                secondary=data.secondaryKeywords,
                outline=data.outline,
                tone=data.tone,
                audience=data.audience,
                call_to_action=data.callToAction or "",
                word_count=data.wordCount,
                voice=voice,
            ),
        )

    @staticmethod
    def _save(
        ctx, data, brand, article, body, meta, schema, quality, insights, model
    ) -> ContentDraft:
        # The author is the caller the run belongs to, not a client-supplied createdById.
        draft, _ = ContentDraft.objects.update_or_create(
            organization=ctx.organization,
            run_id=ctx.run_id,
            defaults={
                "brand": brand,
                "title": article["title"][:300],
                "topic": data.topic,
                "body": body,
                "tone": data.tone,
                "audience": data.audience,
                "status": DraftStatus.GENERATED,
                "primary_keyword": data.primaryKeyword,
                "meta": meta,
                "schema": schema,
                "quality": quality,
                "keyword_insights": insights,
                "model": model,
                "created_by_id": ctx.user_id,
            },
        )
        return draft

    @intent("summarize", SummarizeIn, "Summarise a text and pick its highlights (deterministic)")
    def summarize(self, ctx: RunContext, data: SummarizeIn) -> dict:
        with ctx.step("summarise"):
            result = summarize_text(data.content, data.sentences, data.highlights)
        ctx.metrics.update(sentences=result["stats"]["sentences"], words=result["stats"]["words"])
        return result

    @intent(
        "repurpose",
        RepurposeIn,
        "Turn content into a LinkedIn post, a tweet, an email or an outline",
    )
    def repurpose(self, ctx: RunContext, data: RepurposeIn) -> dict:
        keyword = data.primaryKeyword or (top_terms(data.content, limit=1) or [""])[0]
        topic = data.topic or keyword
        tone = data.tone or "professional"
        with ctx.step(f"repurpose as {data.format}"):
            if data.format == "outline":
                written = llm.template_written(ctx, {"content": outline_of(data.content)})
            else:
                voice = writer.Voice.of(
                    brand_resolve(
                        organization=ctx.organization, ref=data.brandVoiceId or data.brandId
                    )
                )
                written = llm.write(
                    ctx,
                    system=f"You repurpose content.\n{voice.describe()}",
                    schema=RepurposeOut,
                    prompt=(
                        f"Rewrite this as a {tone} {data.format} piece about {topic!r}"
                        + (" (under 260 characters)" if data.format == "twitter" else "")
                        + (" starting with 'Subject: '" if data.format == "email" else "")
                        + f':\n{data.content[:8000]}\nReturn {{"content": "..."}}'
                    ),
                    builtin=lambda: {"content": repurpose_text(data.content, data.format, keyword)},
                    temperature=0.6,
                    max_tokens=800,
                    max_attempts=self.max_attempts,
                )
        content = written.data["content"]
        if data.format == "twitter":
            content = clip(content, 260)
        ctx.metrics.update(format=data.format, length=len(content))
        return {
            "format": data.format,
            "content": content,
            "metadata": {
                "topic": topic,
                "primaryKeyword": keyword,
                "tone": tone,
                "estimatedLength": len(content),
            },
            **written.label(),
        }


def outline_of(content: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", content) if p.strip()][:5]
    firsts = [(sentences(p) or [p.strip()])[0] for p in paragraphs]
    return "\n".join(f"{i + 1}. {s}" for i, s in enumerate(firsts))


def repurpose_text(content: str, form: str, keyword: str) -> str:
    found = sentences(content)
    if form == "twitter":
        tag = writer.normalize_hashtags([keyword])[:1]
        return clip(" ".join(found[:2]) or content, 260 - (len(tag[0]) + 1 if tag else 0)) + (
            f" {tag[0]}" if tag else ""
        )
    if form == "email":
        subject = clip(found[0] if found else content, 70, ellipsis="…")
        return f"Subject: {subject}\n\n" + " ".join(found[:3])
    points = "\n".join(f"• {clip(s, 200)}" for s in found[1:4])
    return writer.fit_platform(
        f"{found[0] if found else content}\n\n{points}\n\nWhat is your take on {writer.mention(keyword)}?".strip(),
        "linkedin",
    )
