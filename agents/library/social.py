"""SocialAgent: posts and captions per platform, hashtag packs, and publishing for real.

``publish`` adapts one piece of content to each chosen platform (length limits, hashtags,
a title for Reddit and YouTube), refuses before sending anything a platform would reject,
and sends each post through the outbox keyed by platform, so a re-executed run never
posts twice.  A ``publishAt`` in the future becomes a scheduled child run due at that time.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Literal, get_args

from django.utils import timezone
from pydantic import BaseModel, BeforeValidator, Field, field_validator

from agents import llm, publishing, writer
from agents.analytics import selectors as analytics_selectors
from agents.analytics import services as analytics_services
from agents.base import Agent, IntentInput, intent
from agents.checks import Checks, brand_known, connector_ready, public_url
from agents.context import RunContext
from agents.fields import CHOICE_LABELS, PLATFORM_ALIASES, alias, field_text
from agents.selectors import brand_resolve
from agents.text import STOPWORDS
from neonhub.core.errors import ConnectorRejected, OutcomeUnknown
from neonhub.core.models import Organization

Platform = Annotated[
    Literal["twitter", "linkedin", "facebook", "instagram", "tiktok"],
    BeforeValidator(alias(PLATFORM_ALIASES)),
]
Tone = Literal["professional", "casual", "engaging", "authoritative"]
HASHTAG_RE = re.compile(r"#\w+")
TOKEN_RE = re.compile(r"[A-Za-z0-9]+")

PLATFORM_GUIDE = {
    "twitter": "X (Twitter): at most 280 characters, one clear idea, at most 2 hashtags.",
    "linkedin": "LinkedIn: professional, a strong first line, short paragraphs, up to 3000 characters.",
    "facebook": "Facebook: conversational, about 250 characters, invite comments.",
    "instagram": "Instagram: a hook in the first 125 characters, emoji allowed, hashtags at the end.",
    "tiktok": "TikTok: a caption for a short video, a hook in the first line, 3 to 5 hashtags at the end.",
}


class GeneratePostIn(IntentInput):
    content: str = Field(min_length=1, max_length=10_000)
    platform: Platform = "instagram"
    tone: Tone = "engaging"
    includeHashtags: bool = False
    hashtags: list[str] = Field(default_factory=list, max_length=30)
    callToAction: str = Field(default="Learn more", max_length=200)
    topic: str = Field(default="brand", max_length=200)
    brandId: str = Field(default="default-brand", max_length=100)
    createdById: str | None = None


class OptimizeCaptionIn(IntentInput):
    content: str = Field(min_length=1, max_length=10_000)
    platform: Platform
    createdById: str | None = None


class HashtagPackIn(IntentInput):
    content: str = Field(min_length=1, max_length=10_000)
    topic: str | None = Field(default=None, max_length=200)
    platform: Platform = "instagram"
    createdById: str | None = None


class PublishIn(IntentInput):
    text: str = Field(min_length=1, max_length=40_000)
    link: str | None = Field(default=None, max_length=2000)
    imageUrl: str | None = Field(default=None, max_length=2000)
    videoUrl: str | None = Field(default=None, max_length=2000)
    hashtags: list[str] = Field(default_factory=list, max_length=30)
    platforms: list[publishing.TargetIn] = Field(
        min_length=1, max_length=len(get_args(publishing.Target))
    )
    publishAt: datetime | None = Field(
        default=None, description="Publish at this time instead of now"
    )
    reddit: publishing.RedditOptions | None = None
    youtube: publishing.YouTubeOptions | None = None
    instagram: publishing.InstagramOptions | None = None
    linkedin: publishing.LinkedInOptions | None = None
    tiktok: publishing.TikTokOptions | None = None
    connectors: dict[publishing.TargetIn, str] = Field(
        default_factory=dict, description="Connector name per platform, when there are several"
    )

    @field_validator("platforms")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("publishAt")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and timezone.is_naive(value):
            raise ValueError("needs a time zone, e.g. 2026-01-31T09:00:00Z")
        if value is not None and value > timezone.now() + timedelta(days=365):
            raise ValueError("at most one year ahead")
        return value

    @field_validator("link", "imageUrl", "videoUrl")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be a web address starting with http:// or https://")
        return value


class AnalyticsIn(IntentInput):
    platform: publishing.TargetIn | None = Field(
        default=None, description="One channel; all channels when left out"
    )
    days: int = Field(default=30, ge=1, le=365, description="Posts published in the last N days")


class PostOut(BaseModel):
    content: str = Field(min_length=1)
    hashtags: list[str] = Field(default_factory=list)


def publish_preview(data: PublishIn, organization) -> dict:
    """Exactly what each platform will get: the connector action and its input, from the same
    ``publishing.plan`` the run uses (a platform that would refuse the post is a 422 here)."""
    items = [
        {"to": p.platform, "action": p.action, "content": p.input}
        for p in (publishing.plan(data, platform) for platform in data.platforms)
    ]
    # Words, not slugs or ISO text: a person approves this.  The time in the organization's zone.
    when = (
        f" on {data.publishAt.astimezone(organization.tz):%a %-d %b %Y at %H:%M %Z}"
        if data.publishAt
        else " now"
    )
    names = ", ".join(CHOICE_LABELS.get(p, p) for p in data.platforms)
    return {
        "summary": f"Publish to {names}{when}",
        "recipients": len(items),
        "recipients_word": "channel",
        "items": items,
        "more": 0,
    }


def hashtag_pack(*, content: str, topic: str | None) -> list[str]:
    """The original's deterministic rule: existing tags, then topic and content words."""
    candidates = HASHTAG_RE.findall(content)
    for token in TOKEN_RE.findall(f"{topic or ''} {content}"):
        if len(token) >= 3 and token.lower() not in STOPWORDS:
            candidates.append(token)
    unique: list[str] = []
    for candidate in candidates:
        if candidate.lower().lstrip("#") not in (u.lower().lstrip("#") for u in unique):
            unique.append(candidate)
    tags = writer.normalize_hashtags(unique[:12])[:8]
    return tags or ["#neonhub"]


class SocialAgent(Agent):
    slug = "social"
    name = "SocialAgent"
    version = "4.0.0"
    description = (
        "Writes posts and captions per platform, builds hashtag packs and publishes posts."
    )

    @intent("generate-post", GeneratePostIn, "Write a post for one social platform")
    def generate_post(self, ctx: RunContext, data: GeneratePostIn) -> dict:
        voice = writer.Voice.of(brand_resolve(organization=ctx.organization, ref=data.brandId))

        def builtin() -> dict:
            return writer.social_post(
                content=data.content,
                platform=data.platform,
                tone=data.tone,
                hashtags=data.hashtags or hashtag_pack(content=data.content, topic=data.topic),
                call_to_action=data.callToAction,
                topic=data.topic,
                include_hashtags=data.includeHashtags,
            )

        prompt = (
            f"Write a {data.tone} {data.platform} post about {data.topic!r} from this content:\n{data.content}\n"
            f"End with the call to action {data.callToAction!r}. "
            + (
                "Include relevant hashtags"
                + (f" such as {' '.join(data.hashtags)}" if data.hashtags else "")
                if data.includeHashtags
                else "Do not use hashtags."
            )
            + ' Return {"content": "...", "hashtags": ["#..."]}'
        )
        with ctx.step("write post"):
            written = llm.write(
                ctx,
                system=_system(data.platform, voice),
                prompt=prompt,
                schema=PostOut,
                builtin=builtin,
                temperature=0.8,
                max_tokens=500,
                max_attempts=self.max_attempts,
            )
        return self._post_output(ctx, data.platform, written)

    @intent("optimize-caption", OptimizeCaptionIn, "Tighten a caption for a platform")
    def optimize_caption(self, ctx: RunContext, data: OptimizeCaptionIn) -> dict:
        voice = writer.Voice.of(brand_resolve(organization=ctx.organization, ref=None))
        prompt = (
            f"Improve this {data.platform} caption for engagement while keeping its meaning:\n{data.content}\n"
            'Return {"content": "...", "hashtags": ["#..."]}'
        )
        with ctx.step("optimize caption"):
            written = llm.write(
                ctx,
                system=_system(data.platform, voice),
                prompt=prompt,
                schema=PostOut,
                builtin=lambda: writer.optimize_caption(
                    content=data.content, platform=data.platform
                ),
                temperature=0.7,
                max_tokens=400,
                max_attempts=self.max_attempts,
            )
        return self._post_output(ctx, data.platform, written)

    @staticmethod
    def _post_output(ctx: RunContext, platform: str, written: llm.Written) -> dict:
        content = writer.fit_platform(written.data["content"].strip(), platform)
        hashtags = writer.normalize_hashtags(
            written.data.get("hashtags") or HASHTAG_RE.findall(content)[:5]
        )
        ctx.metrics.update(
            platform=platform, contentLength=len(content), hashtagCount=len(hashtags)
        )
        # No reach figure is invented: there is no audience data behind one.
        return {
            "jobId": str(ctx.run_id),
            "content": content,
            "hashtags": hashtags,
            "estimatedReach": None,
            **written.label(),
        }

    @intent("hashtag-pack", HashtagPackIn, "Pick up to 8 hashtags for a post (deterministic)")
    def hashtag_pack(self, ctx: RunContext, data: HashtagPackIn) -> dict:
        with ctx.step("pick hashtags"):
            tags = hashtag_pack(content=data.content, topic=data.topic)
        ctx.metrics.update(platform=data.platform, hashtagCount=len(tags))
        return {"jobId": str(ctx.run_id), "platform": data.platform, "hashtags": tags}

    def preflight_generate_post(self, data: GeneratePostIn, *, organization: Organization) -> None:
        checks = Checks()
        brand_known(checks, organization=organization, ref=data.brandId, field="payload.brandId")
        checks.raise_any()

    def preflight_publish(self, data: PublishIn, *, organization: Organization) -> None:
        """Everything a publish run would refuse or fail on, before it exists: each platform's
        limits and media (``publishing.plan``), public media addresses, and a usable connector
        for every chosen platform."""
        checks = Checks("The post was not published")
        for name in ("link", "imageUrl", "videoUrl"):
            label = field_text(self.slug, "publish", name)[0]
            public_url(
                checks,
                getattr(data, name),
                field=f"payload.{name}",
                label=label,
                fetched=name != "link",
            )
        for platform in data.platforms:
            checks.run(lambda platform=platform: publishing.plan(data, platform))
            connector_ready(
                checks,
                organization=organization,
                provider=platform,
                name=data.connectors.get(platform),
                field=f"payload.connectors.{platform}"
                if platform in data.connectors
                else "payload.platforms",
                purpose="publish to it",
            )
        checks.raise_any()

    @intent(
        "publish",
        PublishIn,
        "Publish a post to Facebook, Instagram, Reddit, YouTube, LinkedIn and TikTok, now or later",
        side_effects=True,
        preview=publish_preview,
    )
    def publish(self, ctx: RunContext, data: PublishIn) -> dict:
        if data.publishAt is not None and data.publishAt > timezone.now() + timedelta(seconds=30):
            with ctx.step("schedule"):
                child = publishing.schedule(
                    ctx, data.model_dump(mode="json", exclude_none=True), data.publishAt
                )
            ctx.metrics.update(scheduled=len(data.platforms))
            return {
                "jobId": str(ctx.run_id),
                "status": "scheduled",
                "publishAt": data.publishAt.isoformat(),
                "scheduledRunId": str(child.id),
                "results": {},
            }
        with ctx.step("adapt and check") as rec:
            plans = [publishing.plan(data, platform) for platform in data.platforms]
            handles = {
                p.platform: ctx.connector(p.platform, name=data.connectors.get(p.platform))
                for p in plans
            }
            rec.detail = {"platforms": [p.platform for p in plans]}
        results: dict[str, dict] = {}
        for plan in plans:
            results[plan.platform] = self._send(handles[plan.platform], plan)
        published = sum(1 for r in results.values() if r["status"] == "published")
        ctx.metrics.update(published=published, failed=len(results) - published)
        status = (
            "published" if published == len(results) else ("partial" if published else "failed")
        )
        return {"jobId": str(ctx.run_id), "status": status, "results": results}

    @intent(
        "analytics",
        AnalyticsIn,
        "Report what published posts achieved, from the numbers read from each platform",
    )
    def analytics(self, ctx: RunContext, data: AnalyticsIn) -> dict:
        with ctx.step("read collected numbers"):
            channels = analytics_selectors.channel_totals(
                organization=ctx.organization, days=data.days, platform=data.platform
            )
        totals: dict[str, float] = {}
        for channel in channels:
            for name, value in channel.metrics.items():
                totals[name] = totals.get(name, 0) + value
        posts = sum(c.posts for c in channels)
        measured = sum(c.posts_with_numbers for c in channels)
        ctx.metrics.update(posts=posts, postsWithNumbers=measured)
        # Only numbers the platforms reported: nothing is estimated, and none is a message.
        if not posts:
            message = f"No posts were published in the last {data.days} days"
        elif not measured:
            message = f"{posts} posts published in the last {data.days} days; no numbers read yet"
        else:
            message = (
                f"{measured} of {posts} posts published in the last {data.days} days have numbers"
            )
        return {
            "jobId": str(ctx.run_id),
            "days": data.days,
            "posts": posts,
            "postsWithNumbers": measured,
            "platforms": {
                c.platform: {
                    "posts": c.posts,
                    "postsWithNumbers": c.posts_with_numbers,
                    "metrics": c.metrics,
                }
                for c in channels
            },
            "totals": totals,
            "message": message,
        }

    @staticmethod
    def _send(handle, plan: publishing.Plan) -> dict:
        try:
            result = handle.call(plan.action, plan.input, key=f"post:{plan.platform}")
        except ConnectorRejected as exc:
            return {
                "status": "failed",
                "code": exc.code,
                "providerCode": exc.provider_code,
                "message": exc.message,
            }
        except OutcomeUnknown as exc:
            return {"status": "unknown", "code": exc.code, "message": exc.message}
        output = result.output or {}
        published = {
            "status": "published",
            "postId": result.provider_id or publishing.post_id(output),
            "permalink": publishing.permalink(output),
            "action": plan.action,
            "sandbox": handle.sandbox,
        }
        if result.already_sent_in_run is not None:  # answered from the outbox: not posted again
            published["alreadySentInRun"] = str(result.already_sent_in_run)
        # Its numbers are read 1 hour, 24 hours, 7 days and 30 days from now (analytics).
        analytics_services.post_track(
            connector=handle.connector,
            provider_post_id=published["postId"],
            url=published["permalink"],
            action=plan.action,
            run_id=result.already_sent_in_run or handle.ctx.run_id,
        )
        return published


def _system(platform: str, voice: writer.Voice) -> str:
    described = voice.describe()
    return f"You are a social media copywriter. {PLATFORM_GUIDE[platform]}" + (
        f"\n{described}" if described else ""
    )
