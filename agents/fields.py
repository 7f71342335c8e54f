"""What people read about an intent's fields: labels, help, choice names, aliases, plain errors.

One table serves the start form (``agents/forms.py``) and the error messages of the API and the
pages (``agents/base.py``), so "Image URL" is called the same everywhere.  A field not in the
table gets a label made from its name.

``FIELD_TEXT`` holds the defaults by field name, ``INTENT_FIELD_TEXT`` what one intent says
differently.  ``PLACEMENT`` says which fields a person does not fill in: ``hidden`` ones are
left out of the form (the run records who started it), ``advanced`` ones sit under an
"Advanced" disclosure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# (label, help); help is one or more whole sentences, or "".
FIELD_TEXT: dict[str, tuple[str, str]] = {
    "url": ("URL", "The address of a public web page."),
    "html": ("HTML", "The page's HTML, when it is not on the web."),
    "link": ("Link", "A public web address the post points to."),
    "imageUrl": ("Image URL", "A public address of the image."),
    "videoUrl": ("Video URL", "A public address of the video."),
    "mediaUrls": ("Media URLs", "Public addresses of images to attach, one per line."),
    "brandId": ("Brand", "Whose voice and details to write in."),
    "brandVoiceId": ("Brand voice", "A brand's id or slug, used when Brand is the default."),
    "personaId": ("Persona", "The persona's id in your own system, kept with the run."),
    "createdById": ("Created by", ""),
    "publishAt": ("Publish at", "Leave empty to publish now."),
    "platforms": ("Platforms", "Where to publish."),
    "platform": ("Platform", ""),
    "hashtags": ("Hashtags", "One per line, with or without the #."),
    "primaryKeyword": ("Main keyword", ""),
    "secondaryKeywords": ("Other keywords", "One per line."),
    "competitorDomains": ("Competitor domains", "One per line, like example.com."),
    "callToAction": ("Call to action", ""),
    "includeHashtags": ("Add hashtags", ""),
    "wordCount": ("Length in words", ""),
    "numEmails": ("Number of emails", ""),
    "length": ("Number of emails", ""),
    "seed": ("Seed", ""),
    "connector": ("Connector", "Which of your connectors sends it; empty means the default one."),
    "connectors": ("Connector per platform", "Only when you have several for one platform."),
    "contactId": ("Contact", "The contact's id, to personalise and honour their consent."),
    "contentSid": ("Template SID", "An approved WhatsApp template (HX…), instead of a body."),
    "contentVariables": ("Template variables", 'A JSON object, like {"1": "Ana"}.'),
    "variables": ("Variables", 'Values for the {{placeholders}}, like {"first_name": "Ana"}.'),
    "messageSid": ("Inbound message SID", ""),
    "from_": ("From", "The customer's number, like +14155550100."),
    "from": ("From", "The customer's number, like +14155550100."),
    "to": ("To", "A phone number with its country code, like +14155550100."),
    "keywordReplies": ("Who answers STOP, START and HELP", ""),
    "originalSubject": ("Subject line", ""),
    "campaignId": ("Campaign", ""),
    "backlinkCount": ("Backlinks", ""),
    "domainAuthority": ("Domain authority", ""),
    "metadata": ("Metadata", ""),
    "send": ("Send the reply", "Untick to only draft it."),
    "subreddit": ("Subreddit", "Like r/marketing or marketing."),
    "flairId": ("Flair ID", ""),
    "privacyStatus": ("Visibility", ""),
    "categoryId": ("Category ID", "A number, like 22 for People & Blogs."),
    "story": ("Publish as a story", "Instead of a feed post."),
    "visibility": ("Visibility", "Connections only works for a member's own post."),
    "linkTitle": ("Link title", "Shown on the link preview; by default the first sentence."),
    "privacyLevel": ("Who can watch", "Only the choices the TikTok account offers."),
    "allowComments": ("Allow comments", ""),
    "allowDuet": ("Allow Duet", ""),
    "allowStitch": ("Allow Stitch", ""),
    "durationSeconds": ("Video length in seconds", "Checked against the account's longest video."),
    "templateId": ("Email template", "Its subject, layout and text are used."),
    "ctaUrl": ("Button link", "Where the button points; by default the brand's website."),
    "segmentId": ("Segment", "The contacts matching it when the run starts."),
    "listId": ("Contact list", ""),
    "sequenceId": ("Sequence", "The drip sequence."),
    "sharePercent": ("Test share (%)", "The part of the audience that gets a variant first."),
    "windowHours": ("Hours before choosing", "How long to wait for opens or clicks."),
    "confidence": ("Confidence (%)", "How sure the difference must be to name a winner."),
    "noWinner": ("Without a clear winner", ""),
    "metric": ("Winner by", ""),
    "start": ("Start at once", "Untick to save it as a draft."),
    "layout": ("Layout", "The starter layout."),
    "abTestId": ("A/B test", ""),
    "variant": ("Variant", ""),
}

INTENT_FIELD_TEXT: dict[tuple[str, str, str], tuple[str, str]] = {
    ("social", "publish", "text"): ("Post text", "Adapted to each platform's length limit."),
    ("social", "analytics", "platform"): ("Channel", "Leave empty for every channel."),
    ("social", "analytics", "days"): ("Days", "Posts published in the last this many days."),
    ("social", "publish", "reddit"): ("Reddit", ""),
    ("social", "publish", "youtube"): ("YouTube", ""),
    ("social", "publish", "instagram"): ("Instagram", ""),
    ("social", "publish", "linkedin"): ("LinkedIn", ""),
    ("social", "publish", "tiktok"): ("TikTok", ""),
    ("email", "send", "body"): ("Body", "Plain text; {{first_name}} and other placeholders work."),
    ("email", "send", "html"): ("HTML body", "Optional; sent beside the plain text."),
    ("email", "send", "subject"): ("Subject", "Leave empty when you choose an email template."),
    ("email", "enroll", "email"): ("Email address", "A new address is added as a contact."),
    ("email", "enroll", "contactId"): ("Contact", "Or the contact's id instead of an address."),
    ("email", "write-template", "templateId"): (
        "Write into",
        "An existing template whose text is replaced; empty makes a new one.",
    ),
    ("email", "write-template", "name"): ("Template name", "By default the topic."),
    ("email", "generate-sequence", "campaignId"): ("Campaign", "The draft sequence's campaign."),
    ("email", "send", "recipients"): ("Recipients", "One email address per line."),
    ("seo", "seo-audit", "html"): ("HTML", "Paste the page's HTML instead of a URL."),
    ("seo", "seo-audit", "url"): ("URL", "A public web page to audit."),
    ("seo", "keyword-research", "seeds"): ("Seed keywords", "One per line."),
    ("seo", "keyword-research", "seed"): ("Seed keyword", "Or one keyword here."),
    ("seo", "keyword-research", "limit"): ("How many keywords", "Between 15 and 100."),
    ("email", "ab-test", "variants"): (
        "Variants",
        'A JSON list, like [{"subject": "A", "body": "…"}, {"subject": "B", "body": "…"}].',
    ),
    ("messaging", "send-sms", "body"): ("Message", "Up to 1600 characters; {{placeholders}} work."),
    ("messaging", "send-whatsapp", "body"): ("Message", "Free text, within 24 hours of theirs."),
    ("support", "reply", "body"): ("Their message", "What the customer wrote."),
    ("support", "support", "notes"): ("Their message", ""),
    ("ads", "digest", "start"): ("From", "The first day; leave both days empty for the last days."),
    ("ads", "digest", "end"): ("To", "The last day, included."),
    ("ads", "digest", "days"): (
        "Last days",
        "Without dates: this many whole days up to yesterday.",
    ),
    ("ads", "digest", "connector"): ("Google Ads account", "Empty means the default one."),
    ("ads", "digest", "emailTo"): (
        "Email the summary to",
        "Addresses, one per line; sent through your email connector.",
    ),
    ("ads", "budget-change", "budgetId"): ("Budget", "The Google Ads budget to change."),
    ("ads", "budget-change", "amountPerDay"): (
        "New amount a day",
        "In the account's currency, like 65.50. Every change waits for approval.",
    ),
    ("ads", "budget-change", "connector"): ("Google Ads account", "Empty means the default one."),
}

HIDDEN = "hidden"
ADVANCED = "advanced"
PLACEMENT: dict[str, str] = {"createdById": HIDDEN, "personaId": ADVANCED, "brandVoiceId": ADVANCED}
INTENT_PLACEMENT: dict[tuple[str, str, str], str] = {
    ("email", "generate-sequence", "seed"): ADVANCED,
    ("social", "publish", "connectors"): ADVANCED,
    ("email", "send", "variables"): ADVANCED,
    ("email", "send", "html"): ADVANCED,
    ("email", "send", "abTestId"): HIDDEN,
    ("email", "send", "variant"): HIDDEN,
    ("messaging", "send-sms", "contactId"): ADVANCED,
    ("messaging", "send-sms", "variables"): ADVANCED,
    ("messaging", "send-whatsapp", "contactId"): ADVANCED,
    ("messaging", "send-whatsapp", "variables"): ADVANCED,
    ("messaging", "send-whatsapp", "contentVariables"): ADVANCED,
    ("support", "reply", "messageSid"): ADVANCED,
    ("support", "reply", "keywordReplies"): ADVANCED,
    ("support", "triage", "metadata"): ADVANCED,
}

CHOICE_LABELS: dict[str, str] = {
    "facebook_page": "Facebook Page",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "reddit": "Reddit",
    "youtube": "YouTube",
    "tiktok": "TikTok",
    "PUBLIC_TO_EVERYONE": "Everyone",
    "MUTUAL_FOLLOW_FRIENDS": "Friends (followers you follow back)",
    "FOLLOWER_OF_CREATOR": "Followers",
    "SELF_ONLY": "Only me",
    "twitter": "X (Twitter)",
    "linkedin": "LinkedIn",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "email": "Email",
    "neonhub": "NeonHub",
    "opens": "Opens",
    "clicks": "Clicks",
    "leader": "Send the leading variant",
    "manual": "Wait for me to pick",
    "newsletter": "Newsletter",
    "announcement": "Announcement with button",
    "letter": "Plain letter",
    "product": "Product highlight with image",
}

# The social platforms a post is published to, in the order they are offered: the one list the
# publish intent's choices, the approval settings and the calendar's channels are built from.
SOCIAL_PLATFORMS: tuple[str, ...] = (
    "facebook_page",
    "instagram",
    "reddit",
    "youtube",
    "linkedin",
    "tiktok",
)

# Friendly names accepted for a choice, in the API and the pages alike (case-insensitive).
TARGET_ALIASES = {
    "facebook": "facebook_page",
    "fb": "facebook_page",
    "facebookpage": "facebook_page",
    "page": "facebook_page",
    "ig": "instagram",
    "insta": "instagram",
    "yt": "youtube",
    "li": "linkedin",
    "tt": "tiktok",
    "tik_tok": "tiktok",
}
PLATFORM_ALIASES = {
    "x": "twitter",
    "fb": "facebook",
    "facebook_page": "facebook",
    "ig": "instagram",
    "insta": "instagram",
    "li": "linkedin",
    "tt": "tiktok",
    "tik_tok": "tiktok",
}


def alias(aliases: dict[str, str]) -> Callable[[Any], Any]:
    """A pydantic before-validator: "Facebook", "FB " and "facebook-page" become their value."""

    def canonical(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        key = re.sub(r"[\s-]+", "_", value.strip().lower())
        return aliases.get(key, aliases.get(key.replace("_", ""), key))

    return canonical


def split_words(name: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", name).replace("_", " ").replace("-", " ")
    words = words.strip()
    return words[:1].upper() + words[1:].lower()


def field_text(agent: str, intent: str, name: str) -> tuple[str, str]:
    """(label, help) of one field of an intent."""
    found = INTENT_FIELD_TEXT.get((agent, intent, name)) or FIELD_TEXT.get(name)
    return found or (split_words(name), "")


def placement(agent: str, intent: str, name: str) -> str:
    return INTENT_PLACEMENT.get((agent, intent, name)) or PLACEMENT.get(name, "")


def choice_label(value: Any) -> str:
    text = str(value)
    return CHOICE_LABELS.get(text) or split_words(text)


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _plural(n: Any, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _where(loc: tuple, agent: str, intent: str) -> str:
    """ "Image URL", "Recipients, item 2: Email", "Reddit: Subreddit"."""
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(f"item {part + 1}")
        elif i == 0:
            parts.append(field_text(agent, intent, str(part))[0])
        else:
            parts.append(field_text("", "", str(part))[0])
    if not parts:
        return "The input"
    text = parts[0]
    for part in parts[1:]:
        text += f", {part}" if part.startswith("item") else f": {part}"
    return text


def plain_error(err: dict, *, agent: str = "", intent: str = "") -> str:
    """A pydantic error as a sentence naming the field, without pydantic's path or jargon."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    who = _where(tuple(err.get("loc", ())), agent, intent)
    if kind == "missing":
        return f"{who} is required."
    if kind in ("literal_error", "enum"):
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        given = err.get("input")
        shown = f"“{str(given)[:40]}” is not a choice" if isinstance(given, str) else "not a choice"
        options = _or_list([choice_label(v) for v in expected]) if expected else ""
        return f"{who}: {shown}" + (f"; choose {options}." if options else ".")
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return f"{who} cannot be empty." if n == 1 else f"{who} needs at least {n} characters."
    if kind == "string_too_long":
        return f"{who} can be at most {_plural(ctx.get('max_length'), 'character')}."
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return f"{who} needs at least {_plural(n, 'item')}."
    if kind == "too_long":
        return f"{who} can have at most {_plural(ctx.get('max_length'), 'item')}."
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"{who} must be {words} {ctx.get(key)}."
    if kind == "string_pattern_mismatch":
        return f"{who} is not in the expected format."
    if kind == "extra_forbidden":
        return f"{who} is not an input of this intent; remove it."
    simple = {
        "int_parsing": "must be a whole number",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "bool_parsing": "must be true or false",
        "bool_type": "must be true or false",
        "string_type": "must be text",
        "list_type": "must be a list",
        "dict_type": "must be an object",
        "model_type": "must be an object",
        "model_attributes_type": "must be an object",
        "uuid_parsing": "must be an id like 7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "datetime_parsing": "must be a date and time like 2026-01-31T09:00:00Z",
        "datetime_from_date_parsing": "must be a date and time like 2026-01-31T09:00:00Z",
        "datetime_type": "must be a date and time like 2026-01-31T09:00:00Z",
    }
    if kind in simple:
        return f"{who} {simple[kind]}."
    message = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
    if not err.get("loc"):  # a check across fields writes its own sentence
        return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
    joined = message.split(" ", 1)[0] in ("must", "needs", "is", "can", "cannot", "should")
    text = f"{who} {message}" if joined else f"{who}: {message}"
    return text + ("" if text.endswith(".") else ".")


# Intents whose main text is shown without formatting: borrowed Markdown comes as plain text.
PLAIN_TEXT = frozenset(
    {
        ("social", "publish"),
        ("social", "generate-post"),
        ("social", "optimize-caption"),
        ("messaging", "send-sms"),
        ("messaging", "send-whatsapp"),
    }
)

# Where another run's generated text (or a content draft) goes in a new run's form:
# (the main text field, the title field), either may be None.
MAIN_TEXT: dict[tuple[str, str], tuple[str | None, str | None]] = {
    ("social", "publish"): ("text", None),
    ("social", "generate-post"): ("content", None),
    ("social", "optimize-caption"): ("content", None),
    ("social", "hashtag-pack"): ("content", "topic"),
    ("email", "send"): ("body", "subject"),
    ("email", "optimize-subject"): ("context", "originalSubject"),
    ("email", "generate-sequence"): (None, "topic"),
    ("content", "summarize"): ("content", None),
    ("content", "repurpose"): ("content", "topic"),
    ("content", "generate-draft"): (None, "topic"),
    ("messaging", "send-sms"): ("body", None),
    ("messaging", "send-whatsapp"): ("body", None),
    ("support", "support"): ("notes", "subject"),
    ("support", "triage"): ("content", None),
    ("support", "macro-suggest"): ("content", None),
    ("seo", "keyword-research"): (None, "topic"),
    ("seo", "seo-audit"): (None, "keyword"),
}
