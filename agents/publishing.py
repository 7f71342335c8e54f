"""Adapting one piece of content to each social platform, and refusing what it would reject.

Each ``plan`` returns the connector action and its input for one platform, or raises
``InvalidInput`` naming the field, before anything is sent anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from agents import queue
from agents.base import IntentInput
from agents.fields import SOCIAL_PLATFORMS, TARGET_ALIASES, alias
from agents.services import run_start
from agents.text import clip, sentences
from agents.writer import normalize_hashtags
from connectors.http import check_public_url
from neonhub.core.errors import InvalidInput
from runs.models import AgentRun, Trigger

if TYPE_CHECKING:
    from agents.context import RunContext

Target = Literal[SOCIAL_PLATFORMS]  # a tuple subscript lists each member: Literal["a", "b", ...]
# A target as people write it: "Facebook", "ig", "insta" and "yt" are accepted too.
TargetIn = Annotated[Target, BeforeValidator(alias(TARGET_ALIASES))]

FACEBOOK_LIMIT = 63206
INSTAGRAM_CAPTION = 2200
INSTAGRAM_HASHTAGS = 30
REDDIT_TITLE = 300
YOUTUBE_TITLE = 100
YOUTUBE_DESCRIPTION = 5000
LINKEDIN_COMMENTARY = 3000
LINKEDIN_LINK_TITLE = 200
TIKTOK_CAPTION = 2200
TikTokPrivacy = Literal[
    "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"
]


class RedditOptions(IntentInput):
    subreddit: str = Field(pattern=r"^(?:r/)?[A-Za-z0-9_]{2,21}$")
    title: str | None = Field(default=None, max_length=REDDIT_TITLE)
    flairId: str | None = Field(default=None, max_length=64)


class YouTubeOptions(IntentInput):
    title: str | None = Field(default=None, max_length=YOUTUBE_TITLE)
    privacyStatus: Literal["public", "private", "unlisted"] = "public"
    categoryId: str | None = Field(default=None, pattern=r"^\d{1,3}$")


class InstagramOptions(IntentInput):
    story: bool = Field(default=False, description="Publish as a story instead of a feed post")


class LinkedInOptions(IntentInput):
    visibility: Literal["PUBLIC", "LOGGED_IN", "CONNECTIONS"] = Field(
        default="PUBLIC",
        description="Who sees it; CONNECTIONS only for a member's own post",
    )
    linkTitle: str | None = Field(
        default=None,
        max_length=LINKEDIN_LINK_TITLE,
        description="The link preview's title (LinkedIn does not read it from the page); "
        "by default the post's first sentence",
    )


class TikTokOptions(IntentInput):
    # TikTok's rules for posting from an app: the person picks the privacy level from the
    # account's options (no default), and every interaction starts switched off.
    privacyLevel: TikTokPrivacy | None = Field(
        default=None, description="Who can watch: one of the TikTok account's options"
    )
    allowComments: bool = False
    allowDuet: bool = False
    allowStitch: bool = False
    durationSeconds: float | None = Field(
        default=None, gt=0, le=36_000, description="How long the video plays"
    )


@dataclass(frozen=True)
class Plan:
    platform: str
    action: str
    input: dict


def plan(data: Any, platform: str) -> Plan:
    return {
        "facebook_page": _facebook,
        "instagram": _instagram,
        "reddit": _reddit,
        "youtube": _youtube,
        "linkedin": _linkedin,
        "tiktok": _tiktok,
    }[platform](data)


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"field": f"payload.{field}", "message": message}])


def _tag_line(tags: list[str]) -> str:
    return " ".join(normalize_hashtags(tags))


def _with_tags(text: str, tags: list[str], limit: int) -> str:
    line = _tag_line(tags)
    room = limit - (len(line) + 2 if line else 0)
    body = clip(text, room)
    return f"{body}\n\n{line}" if line else body


def _facebook(data: Any) -> Plan:
    message = _with_tags(data.text, data.hashtags, FACEBOOK_LIMIT)
    link = data.link or data.imageUrl or data.videoUrl
    return Plan(
        "facebook_page", "create_post", {"message": message, **({"link": link} if link else {})}
    )


def _instagram(data: Any) -> Plan:
    media = data.videoUrl or data.imageUrl
    if not media:
        raise _refuse("imageUrl", "Instagram posts need an image or video at a public URL")
    check_public_url(media, field="payload.videoUrl" if data.videoUrl else "payload.imageUrl")
    tags = normalize_hashtags(data.hashtags)
    if len(tags) + len(re.findall(r"#\w+", data.text)) > INSTAGRAM_HASHTAGS:
        raise _refuse(
            "hashtags", f"Instagram allows at most {INSTAGRAM_HASHTAGS} hashtags in a caption"
        )
    story = bool(data.instagram and data.instagram.story)
    key = "video_url" if data.videoUrl else "image_url"
    if story:
        return Plan("instagram", "publish_story", {key: media})
    caption = _with_tags(data.text, tags, INSTAGRAM_CAPTION)
    action = "publish_video" if data.videoUrl else "publish_image"
    return Plan("instagram", action, {key: media, "caption": caption})


def _reddit(data: Any) -> Plan:
    if data.reddit is None:
        raise _refuse("reddit.subreddit", "Reddit needs a subreddit")
    title = data.reddit.title or clip((sentences(data.text) or [data.text])[0], REDDIT_TITLE)
    post: dict[str, Any] = {"subreddit": data.reddit.subreddit.removeprefix("r/"), "title": title}
    # Reddit has no hashtags; a link (or media URL) makes a link post, otherwise a self post.
    url = data.link or data.videoUrl or data.imageUrl
    if url:
        post["url"] = url
    else:
        post["text"] = data.text  # the input schema already caps text at Reddit's 40,000
    if data.reddit.flairId:
        post["flair_id"] = data.reddit.flairId
    return Plan("reddit", "submit_post", post)


def _youtube(data: Any) -> Plan:
    if not data.videoUrl:
        raise _refuse("videoUrl", "YouTube needs a video URL")
    check_public_url(data.videoUrl, field="payload.videoUrl")
    options = data.youtube or YouTubeOptions()
    title = options.title or clip((sentences(data.text) or [data.text])[0], YOUTUBE_TITLE)
    # YouTube rejects angle brackets in titles and descriptions.
    if "<" in title or ">" in title:
        raise _refuse("youtube.title", "YouTube titles cannot contain < or >")
    description = _with_tags(
        data.text.replace("<", "‹").replace(">", "›"), data.hashtags, YOUTUBE_DESCRIPTION
    )
    if data.link:
        description = (
            clip(description, YOUTUBE_DESCRIPTION - len(data.link) - 2) + f"\n\n{data.link}"
        )
    video: dict[str, Any] = {
        "video_url": data.videoUrl,
        "title": title,
        "description": description,
        "privacy_status": options.privacyStatus,
        "tags": [t.lstrip("#") for t in normalize_hashtags(data.hashtags)],
    }
    if options.categoryId:
        video["category_id"] = options.categoryId
    return Plan("youtube", "upload_video", video)


def _linkedin(data: Any) -> Plan:
    options = data.linkedin or LinkedInOptions()
    post: dict[str, Any] = {
        "text": _with_tags(data.text, data.hashtags, LINKEDIN_COMMENTARY),
        "visibility": options.visibility,
    }
    # No video upload here: a video URL is shared as a link, like any other address.
    link = data.link or data.videoUrl
    if link:
        post["link"] = link
        post["link_title"] = options.linkTitle or clip(
            (sentences(data.text) or [data.text])[0], LINKEDIN_LINK_TITLE
        )
    if data.imageUrl:
        # Uploaded to LinkedIn (the thumbnail of a link, or the post's image): fetched by us.
        check_public_url(data.imageUrl, field="payload.imageUrl")
        post["image_url"] = data.imageUrl
    return Plan("linkedin", "create_post", post)


def _tiktok(data: Any) -> Plan:
    if not data.videoUrl:
        raise _refuse("videoUrl", "TikTok posts need a video at a public URL")
    check_public_url(data.videoUrl, field="payload.videoUrl")
    options = data.tiktok or TikTokOptions()
    if options.privacyLevel is None:
        raise _refuse(
            "tiktok.privacyLevel", "TikTok needs a privacy level chosen from the account's options"
        )
    post: dict[str, Any] = {
        "video_url": data.videoUrl,
        "title": _with_tags(data.text, data.hashtags, TIKTOK_CAPTION),
        "privacy_level": options.privacyLevel,
        "disable_comment": not options.allowComments,
        "disable_duet": not options.allowDuet,
        "disable_stitch": not options.allowStitch,
    }
    if options.durationSeconds is not None:
        post["duration_seconds"] = options.durationSeconds
    return Plan("tiktok", "publish_video", post)


def post_id(output: dict) -> str:
    for key in ("post_id", "media_id", "video_id", "id", "name"):
        if output.get(key):
            return str(output[key])
    return ""


def permalink(output: dict) -> str:
    for key in ("permalink", "permalink_url", "url"):
        value = str(output.get(key) or "")
        if value.startswith("/r/"):  # Reddit answers a path
            return f"https://www.reddit.com{value}"
        if value:
            return value
    return ""


def schedule(ctx: RunContext, payload: dict, when: datetime):
    """A child run of this one, due at ``when``; a re-executed run finds the same child."""
    parent = AgentRun.objects.get(pk=ctx.run_id)
    child, created = run_start(
        organization=ctx.organization,
        agent="social",
        intent="publish",
        payload=payload,
        trigger=Trigger.SCHEDULE,
        created_by=parent.created_by,
        idempotency_key=f"scheduled:{ctx.run_id}",
        parent=parent,
        next_attempt_at=when,
    )
    if created:
        queue.enqueue_run_at(child.id, when)
    return child
