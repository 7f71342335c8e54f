"""The built-in writer: deterministic text from templates, the request and the brand voice.

Used when an organization has no LLM connector (and as the fallback when the LLM's answer
is unusable).  Everything it produces is labelled ``"model": "builtin"``; it never pretends
to be a language model.  The same inputs always give the same text, so it can be tested
exactly; ``seed`` picks among equivalent templates.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from agents.text import clip, sentences, top_terms, words

BUILTIN = "builtin"

PLATFORM_LIMITS: dict[str, tuple[int, int]] = {
    # platform: (hard character limit, optimal length) as the original used them
    "twitter": (280, 250),
    "linkedin": (3000, 150),
    "facebook": (63206, 250),
    "instagram": (2200, 138),
}


@dataclass(frozen=True)
class Voice:
    name: str = ""
    tone: str = ""
    vocabulary: list[str] = field(default_factory=list)
    do_examples: list[str] = field(default_factory=list)
    dont_examples: list[str] = field(default_factory=list)
    website: str = ""
    slogan: str = ""

    @classmethod
    def of(cls, brand: Any) -> Voice:
        if brand is None:
            return cls()
        return cls(
            name=brand.name,
            tone=brand.tone,
            vocabulary=list(brand.vocabulary or []),
            do_examples=list(brand.do_examples or []),
            dont_examples=list(brand.dont_examples or []),
            website=brand.website,
            slogan=brand.slogan,
        )

    @property
    def signature(self) -> str:
        return f"The {self.name} team" if self.name else "The team"

    def describe(self) -> str:
        """The voice as prompt text for the LLM."""
        parts = []
        if self.name:
            parts.append(
                f"Brand: {self.name}." + (f" Slogan: {self.slogan}." if self.slogan else "")
            )
        if self.tone:
            parts.append(f"Brand tone: {self.tone}.")
        if self.vocabulary:
            parts.append("Prefer this vocabulary: " + ", ".join(self.vocabulary[:20]) + ".")
        if self.do_examples:
            parts.append("Write like: " + " | ".join(self.do_examples[:5]))
        if self.dont_examples:
            parts.append("Never write like: " + " | ".join(self.dont_examples[:5]))
        if self.website:
            parts.append(f"Website: {self.website}")
        return "\n".join(parts)


def pick(options: list[str] | tuple[str, ...], *keys: Any) -> str:
    """A stable choice among equivalent templates, keyed by the request."""
    digest = hashlib.sha256("|".join(map(str, keys)).encode()).digest()
    return options[digest[0] % len(options)]


# --- email -------------------------------------------------------------------------------------

OPENERS = {
    "witty": "Let's be honest: {topic} rarely gets the attention it deserves.",
    "professional": "{topic} is worth a closer look for {audience}.",
    "casual": "Quick one about {topic}.",
    "friendly": "We wanted to share something about {topic} with you.",
    "authoritative": "Here is what the evidence says about {topic}.",
}
STAGES = [
    (
        "introduce",
        ["Why {topic} matters now", "A better way to handle {topic}", "{topic}: where to start"],
        "In this series we show {audience} how {topic} can make a measurable difference, one practical step at a time.",
    ),
    (
        "educate",
        ["3 things most people miss about {topic}", "The {topic} basics, done right"],
        "Start with the basics: set a clear goal, measure where you are today, and change one thing at a time.",
    ),
    (
        "proof",
        ["How teams get results with {topic}", "What good {topic} looks like"],
        "Teams that treat {topic} as a habit rather than a project see steadier results and fewer surprises.",
    ),
    (
        "objection",
        ["Worried {topic} takes too long?", "{topic} without the overhead"],
        "It does not need a big budget or a long project. A focused hour a week is enough to get going.",
    ),
    (
        "offer",
        ["Ready to put {topic} to work?", "Your next step with {topic}"],
        "When you are ready, we can help you plan the first steps and avoid the usual detours.",
    ),
    (
        "last call",
        ["Last call: {topic}", "Before you go: {topic}"],
        "This is the last note in the series. Everything we covered is waiting for you whenever you need it.",
    ),
]
OBJECTIVE_CTA = {
    "awareness": "Read the full guide",
    "engagement": "Reply and tell us what you think",
    "conversion": "Start today",
    "retention": "See what is new for you",
    "nurture": "Take the next step",
    "winback": "Come back and take a look",
    "demo_book": "Book a demo",
    "upsell": "See the upgrade options",
}


def email_sequence(
    *,
    topic: str,
    audience: str,
    tone: str,
    objective: str,
    length: int,
    voice: Voice,
    seed: Any = None,
) -> list[dict]:
    cta = OBJECTIVE_CTA.get(objective, f"Learn more about {objective}")
    audience = "you" if audience.strip().lower() in ("", "general", "everyone") else audience
    opener = OPENERS.get(tone, OPENERS["professional"])
    emails = []
    for i in range(length):
        stage, subjects, idea = STAGES[_stage_index(i, length)]
        subject = clip(pick(subjects, topic, i, seed).format(topic=topic), 78)
        first = (
            opener.format(topic=topic, audience=audience)
            if i == 0
            else idea.format(topic=topic, audience=audience)
        )
        second = (
            idea.format(topic=topic, audience=audience) if i == 0 else _follow_up_line(topic, stage)
        )
        lines = [
            "Hi {{first_name|there}},",
            "",
            _cap(first),
            "",
            second,
            "",
            f"{cta}: {voice.website or '{{cta_url}}'}",
            "",
            voice.signature,
        ]
        if voice.slogan:
            lines.append(voice.slogan)
        emails.append({"day": i * 3, "subject": subject, "body": "\n".join(lines), "stage": stage})
    return emails


def _stage_index(i: int, length: int) -> int:
    """First email introduces, the last (of two or more) is the last call, the middle ones cycle."""
    if i == 0:
        return 0
    if i == length - 1:
        return len(STAGES) - 1
    return 1 + (i - 1) % (len(STAGES) - 2)


def _follow_up_line(topic: str, stage: str) -> str:
    return {
        "educate": f"Pick the one part of {topic} that costs you the most time today and start there.",
        "proof": f"The pattern is simple: small, regular improvements to {topic} add up quickly.",
        "objection": "If something is in the way, reply to this email and tell us; we read every answer.",
        "offer": "Reply with a good time and we will set up a short call.",
        "last call": "Thank you for reading along. We hope it was useful.",
    }.get(stage, f"More on {topic} soon.")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def subject_suggestions(*, original: str, context: str | None, voice: Voice) -> list[str]:
    """Five rewrites of a subject line, each 30-60 characters."""
    core = original.strip().rstrip(".!?")
    focus = (top_terms(context or "", limit=1) or top_terms(core, limit=1) or ["this"])[0]
    candidates = [
        f"{core}?" if not core.lower().startswith(("how", "why", "what")) else f"{core}?",
        f"{core}: what you need to know",
        f"3 ways to get more from {focus}",
        f"Don't miss this: {core}",
        f"Your quick guide to {focus}" + (f" from {voice.name}" if voice.name else ""),
        f"{core} (5-minute read)",
        f"Inside: {core.lower()}",
    ]
    found: list[str] = []
    for text in candidates:
        fitted = _fit(text, 30, 60)
        if fitted and fitted not in found:
            found.append(fitted)
    return found[:5]


def _fit(text: str, low: int, high: int) -> str:
    """The text within [low, high] characters: cut if long, one filler added if short."""
    text = clip(" ".join(text.split()), high, ellipsis="…")
    if len(text) >= low:
        return text
    for filler in (": a quick guide", " - here is what changed", " - what you need to know today"):
        if filler.startswith(":") and (":" in text or "guide" in text.lower()):
            continue  # one colon, one "guide" per subject line
        if low <= len(text.rstrip("?") + filler) <= high:
            return text.rstrip("?") + filler
    return ""


# --- social ------------------------------------------------------------------------------------

HOOKS = {
    "professional": "{lead}",
    "casual": "So, {lead_lower}",
    "engaging": "{question}{lead}",
    "authoritative": "Fact: {lead_lower}",
}


def social_post(
    *,
    content: str,
    platform: str,
    tone: str,
    hashtags: list[str],
    call_to_action: str,
    topic: str,
    include_hashtags: bool,
) -> dict:
    limit, optimal = PLATFORM_LIMITS[platform]
    lead = " ".join(content.split())
    # "brand" is the original's default topic: no question about it.
    question = f"Ever wondered about {topic}? " if topic and topic != "brand" else ""
    hook = HOOKS.get(tone, "{lead}").format(
        lead=lead, lead_lower=lead[:1].lower() + lead[1:], question=question
    )
    tags = normalize_hashtags(hashtags) if include_hashtags else []
    tail = f"\n\n{call_to_action}" if call_to_action else ""
    tag_line = ("\n\n" + " ".join(tags)) if tags else ""
    room = (
        max(40, optimal - len(tail) - len(tag_line))
        if platform != "linkedin"
        else limit - len(tail) - len(tag_line)
    )
    body = clip(hook, room)
    return {"content": fit_platform(body + tail + tag_line, platform), "hashtags": tags}


def optimize_caption(*, content: str, platform: str) -> dict:
    """Tighten a caption: one idea per line, filler removed, hashtags moved to the end."""
    text = " ".join(content.split())
    tags = [w for w in text.split() if w.startswith("#") and len(w) > 1]
    plain = " ".join(w for w in text.split() if not (w.startswith("#") and len(w) > 1))
    for filler in ("really ", "very ", "just ", "basically ", "actually ", "literally "):
        plain = plain.replace(filler, "").replace(filler.capitalize(), "")
    lines = sentences(plain) or [plain]
    _, optimal = PLATFORM_LIMITS[platform]
    body = "\n".join(lines)
    tag_line = ("\n\n" + " ".join(dict.fromkeys(tags))) if tags else ""
    if len(body) + len(tag_line) > optimal and platform in ("twitter", "instagram"):
        body = clip(body, max(40, optimal - len(tag_line)))
    return {
        "content": fit_platform(body + tag_line, platform),
        "hashtags": list(dict.fromkeys(tags))[:30],
    }


def fit_platform(text: str, platform: str) -> str:
    """The original's rule: over-long text is cut to limit-3 characters plus '...'."""
    limit, _ = PLATFORM_LIMITS[platform]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def normalize_hashtags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        clean = "#" + "".join(ch for ch in tag.lower() if ch.isalnum())[:32]
        if len(clean) > 1 and clean not in out:
            out.append(clean)
    return out


# --- long form ---------------------------------------------------------------------------------


def default_outline(*, topic: str, keyword: str, secondary: list[str], audience: str) -> list[str]:
    outline = [
        f"What {keyword} means for {audience}",
        f"Why {keyword} matters",
        f"How to get started with {keyword}",
    ]
    outline += [f"{_cap(term)} and {keyword}" for term in secondary[:3]]
    outline += [f"Common {keyword} mistakes to avoid", f"Measuring {keyword} results"]
    return outline


SECTION_SENTENCES = [
    "{heading} is where most teams working on {topic} either gain momentum or stall.",
    "For {audience}, the practical question is simple: what changes on Monday morning?",
    "Start with {keyword}: write down the goal, the audience it serves and how you will know it worked.",
    "Keep the first iteration small, so you can measure it within a week or two.",
    "Document what you learn; the notes become the playbook the rest of the team follows.",
    "Tools help, but a clear process around {keyword} matters more than any single tool.",
    "Review the results with the people doing the work, and adjust one variable at a time.",
    "Most gains come from repetition: the same simple routine, done consistently, compounds.",
]


def article(
    *,
    topic: str,
    keyword: str,
    secondary: list[str],
    outline: list[str],
    tone: str,
    audience: str,
    call_to_action: str,
    word_count: int,
    voice: Voice,
) -> dict:
    headings = outline or default_outline(
        topic=topic, keyword=keyword, secondary=secondary, audience=audience
    )
    per_section = max(60, (word_count - 120) // max(1, len(headings)))
    sections = []
    for index, heading in enumerate(headings):
        body = _paragraphs(
            heading=heading,
            topic=topic,
            keyword=keyword,
            audience=audience,
            secondary=secondary,
            index=index,
            target=per_section,
        )
        sections.append({"heading": heading, "body": body})
    title = article_title(topic=topic, keyword=keyword)
    summary = (
        f"A practical guide to {keyword} for {audience}: what it is, why it matters and how to put "
        f"{topic} into practice step by step."
    )
    conclusion = (
        f"{_cap(keyword)} rewards steady, measured work. Pick one idea from this guide, try it this "
        f"week and build from there." + (f" {voice.slogan}" if voice.slogan else "")
    )
    return {
        "title": title,
        "summary": summary,
        "sections": sections,
        "conclusion": conclusion,
        "callToAction": call_to_action or f"Talk to {voice.name or 'us'} about {keyword}",
    }


def article_title(*, topic: str, keyword: str) -> str:
    base = f"{_cap(keyword)}: A Practical Guide"
    if keyword.lower() not in topic.lower() and len(base) + len(topic) < 58:
        base = f"{_cap(keyword)}: A Practical Guide to {topic}"
    return base


def _paragraphs(
    *,
    heading: str,
    topic: str,
    keyword: str,
    audience: str,
    secondary: list[str],
    index: int,
    target: int,
) -> str:
    values = {"heading": heading, "topic": topic, "keyword": keyword, "audience": audience}
    chosen: list[str] = []
    i = index
    while len(words(" ".join(chosen))) < target:
        chosen.append(SECTION_SENTENCES[i % len(SECTION_SENTENCES)].format(**values))
        i += 1
        if len(chosen) % 4 == 0 and secondary:
            chosen.append(
                f"Pay attention to {secondary[(i // 4) % len(secondary)]} as well; it supports "
                f"the same goal."
            )
    paragraphs = [" ".join(chosen[j : j + 4]) for j in range(0, len(chosen), 4)]
    return "\n\n".join(paragraphs)


def article_markdown(article_data: dict) -> str:
    parts = [f"# {article_data['title']}", "", article_data["summary"], ""]
    for section in article_data["sections"]:
        parts += [f"## {section['heading']}", "", section["body"], ""]
    parts += [
        "## Conclusion",
        "",
        article_data["conclusion"],
        "",
        f"**{article_data['callToAction']}**",
    ]
    return "\n".join(parts).strip() + "\n"


def social_snippets(*, title: str, summary: str, keyword: str, voice: Voice) -> dict:
    tag = normalize_hashtags([keyword])[:1]
    linkedin = f"{title}\n\n{summary}\n\nWhat is your experience with {keyword}?"
    twitter = clip(f"{title}: {summary}", 250 - (len(tag[0]) + 1 if tag else 0)) + (
        f" {tag[0]}" if tag else ""
    )
    subject = clip(f"New guide: {title}", 60, ellipsis="…")
    return {
        "linkedin": fit_platform(linkedin, "linkedin"),
        "twitter": fit_platform(twitter, "twitter"),
        "emailSubject": subject,
    }
