"""The built-in writer: deterministic text from templates, the request and the brand voice.

Used when an organization has no LLM connector (and as the fallback when the LLM's answer
is unusable).  Everything it produces is labelled: ``"model": "builtin"`` and
``"generator": {"kind": "template", "label": "Template text, no AI model"}``; it never
pretends to be a language model.  The same inputs always give the same text, so it can be
tested exactly; ``seed`` picks among equivalent templates.

What it promises, and what the tests hold it to: no sentence twice in one article, email
sequence or post; the request's topic used as a title or a quoted phrase, never pasted into
a sentence it does not fit; the primary keyword at the density the SEO audit asks for
(``agents.seo.audit.DENSITY_RANGE``, measured with the audit's own ``keyword_density``);
every ``{{placeholder}}`` either filled or reported.  What it cannot do: know anything about
the topic.  Its articles are sound general advice around the request's words, and an
article longer than its stock of distinct sentences is written shorter and says so.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from agents.seo.audit import DENSITY_RANGE  # the audit's range, measured the audit's way
from agents.text import (
    SENTENCE_RE,
    clip,
    contains_phrase,
    keyword_density,
    sentences,
    top_terms,
    words,
)

BUILTIN = "builtin"
TEMPLATE_LABEL = "Template text, no AI model"

PLATFORM_LIMITS: dict[str, tuple[int, int]] = {
    # platform: (hard character limit, optimal length) as the original used them
    "twitter": (280, 250),
    "linkedin": (3000, 150),
    "facebook": (63206, 250),
    "instagram": (2200, 138),
    "tiktok": (2200, 150),  # TikTok's caption limit; short captions read best over a video
}


def generator(model: str) -> dict:
    """Who wrote a text, for the output's ``generator`` field: the templates or a named model."""
    if model == BUILTIN:
        return {"kind": "template", "label": TEMPLATE_LABEL}
    return {"kind": "model", "label": model}


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


def _offset(size: int, *keys: Any) -> int:
    """A stable choice among ``size`` equivalent templates, keyed by the request."""
    digest = hashlib.sha256("|".join(map(str, keys)).encode()).digest()
    return int.from_bytes(digest[:4], "big") % max(1, size)


# --- a request's words in a sentence -----------------------------------------------------------
#
# A topic or keyword is whatever a person typed: a noun phrase ("spring shopping trends"), a
# "how" clause ("how small garden centres can win spring shoppers"), a question ("How can
# garden centres win spring shoppers?") or one word.  The writer never pastes it into a
# sentence that only fits one of these; it asks what the phrase is and uses it as one of
# three safe forms: a title (``title_form``), a mention inside a sentence (``mention``), or
# the last part of a "Label: Title" line.

WH_WORDS = frozenset("how why what when where which who whom whose whether".split())
AUXILIARIES = frozenset(
    "am is are was were be do does did can could shall should will would may might must has have had".split()
)


def _clean(text: str) -> str:
    return " ".join((text or "").split()).strip()


def phrase_kind(text: str) -> str:
    """``question`` ("How can we win?"), ``clause`` ("how to compost") or ``phrase`` (the rest)."""
    clean = _clean(text)
    found = clean.rstrip("?!.;:, ").split()
    if not found:
        return "phrase"
    first = found[0].lower()
    second = found[1].lower() if len(found) > 1 else ""
    if clean.endswith("?") or (first in AUXILIARIES and len(found) > 2):
        return "question"
    if first in WH_WORDS and second in AUXILIARIES:
        return "question"
    if first in WH_WORDS and len(found) > 1:
        return "clause"
    return "phrase"


def _cap(text: str) -> str:
    """First letter up, unless the word is deliberately cased ("iPhone")."""
    if text[1:2].isupper():
        return text
    return text[:1].upper() + text[1:]


def title_form(text: str) -> str:
    """The phrase as a title: capitalised, a question keeps its question mark."""
    clean = _clean(text)
    if phrase_kind(clean) == "question":
        return _cap(clean.rstrip("?!.;:, ") + "?")
    return _cap(clean.rstrip("?!.;:, "))


def mention(text: str) -> str:
    """The phrase inside a sentence, where a noun phrase goes.

    A "how"/"why" clause reads as one ("covers how to compost"); a lower-case phrase is a
    plain noun phrase; anything else (a question, a title-cased phrase, a sentence) is
    quoted as a title, which fits any grammar.
    """
    clean = _clean(text)
    kind = phrase_kind(clean)
    if kind == "clause":
        return clean[:1].lower() + clean[1:].rstrip("?!.;:, ")
    bare = clean.rstrip("?!.;:, ")
    if kind == "phrase" and (bare == bare.lower() or (" " not in bare and bare.isupper())):
        return bare
    return f"“{title_form(clean)}”"


def tidy(text: str) -> str:
    """A sentence ending in a quoted question takes no second full stop: ``“Why?”.`` → ``“Why?”``."""
    return re.sub(r"([?!])”\.", r"\1”", text)


# --- placeholders ------------------------------------------------------------------------------

PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*([^}]*?)\s*)?\}\}")
# Filled per recipient by the email agent's ``send`` (``email`` and ``unsubscribe_url``
# always; the others from each recipient's ``variables``).
SEND_TIME_PLACEHOLDERS = frozenset(
    {"email", "unsubscribe_url", "first_name", "last_name", "full_name", "name", "company"}
)


def placeholders(*texts: str) -> dict[str, list[str]]:
    """The ``{{placeholders}}`` in generated text, sorted into two lists.

    ``sendTime``: per-recipient values that ``send`` fills (a placeholder with a default,
    ``{{first_name|there}}``, or one of ``SEND_TIME_PLACEHOLDERS``): intended, not a bug.
    ``unfilled``: values nobody has given yet (``{{cta_url}}`` without a link): the text
    keeps them visible, and ``send`` needs them in its ``variables``.
    """
    send_time: list[str] = []
    unfilled: list[str] = []
    for text in texts:
        for match in PLACEHOLDER_RE.finditer(text or ""):
            name, default = match.group(1), match.group(2)
            target = (
                send_time if default is not None or name in SEND_TIME_PLACEHOLDERS else unfilled
            )
            if name not in target:
                target.append(name)
    return {"sendTime": send_time, "unfilled": [n for n in unfilled if n not in send_time]}


# --- email -------------------------------------------------------------------------------------

OPENERS = {
    "witty": "Let's be honest: nobody ever complained about having too much clarity on {t}.",
    "professional": "This short series is about {t}, written for {audience}.",
    "casual": "Quick one: we're starting a few short notes on {t}.",
    "friendly": "We wanted to share a few ideas about {t} with you.",
    "authoritative": "Here is what experience shows about {t}.",
}
# stage: (subject frames, then one (idea, follow-up) pair per time the stage comes round).
# Subjects end with the topic as a title ("Label: Title"), which fits any phrase.
STAGES: list[tuple[str, list[str], list[tuple[str, str]]]] = [
    (
        "introduce",
        ["Where to start: {T}", "New series: {T}", "Why it matters now: {T}"],
        [
            (
                "Each email in this series covers one practical step, so you can try it the same week.",
                "",
            )
        ],
    ),
    (
        "educate",
        ["The basics: {T}", "Three things people miss: {T}"],
        [
            (
                "Start with the basics: set a clear goal, measure where you are today and change one thing at a time.",
                "When it comes to {t}, pick the one task that takes most of your time and start there.",
            ),
            (
                "Most people skip the simplest step of all: writing down what success would look like.",
                "Try it today with one sentence, one number and one date to check it.",
            ),
        ],
    ),
    (
        "proof",
        ["What good looks like: {T}", "How teams get results: {T}"],
        [
            (
                "Teams that treat this as a habit rather than a project see steadier results and fewer surprises.",
                "The pattern is simple: small, regular improvements add up quickly.",
            ),
            (
                "Good results usually come from the same few habits: clear goals, honest numbers and regular reviews.",
                "None of them needs special tools, only a little time each week.",
            ),
        ],
    ),
    (
        "objection",
        ["No big budget needed: {T}", "Short on time? {T}"],
        [
            (
                "It does not need a big budget or a long project. A focused hour a week is enough to get going.",
                "If something is in the way, reply to this email and tell us; we read every answer.",
            ),
            (
                "Busy weeks are the norm, and most of this work fits into the routines you already have.",
                "Choose the smallest step you can finish before Friday.",
            ),
        ],
    ),
    (
        "offer",
        ["Your next step: {T}", "Ready when you are: {T}"],
        [
            (
                "When you are ready, we can help you plan the first steps and avoid the usual detours.",
                "Reply with a good time and we will set up a short call.",
            ),
            (
                "If you would like a hand, we are happy to look at your plans with you.",
                "Tell us where you would like to start, and we will take it from there.",
            ),
        ],
    ),
    (
        "last call",
        ["Last call: {T}", "Before you go: {T}"],
        [
            (
                "This is the last note in the series. Everything we covered is waiting for you whenever you need it.",
                "Thank you for reading along. We hope it was useful.",
            )
        ],
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
    cta_url: str = "",
) -> list[dict]:
    """``length`` emails; the link is ``cta_url``, else the brand's website, else ``{{cta_url}}``.

    No sentence of one email's text is repeated in another (the greeting, the link line and
    the signature are the same in each by design): a stage that comes round twice uses its
    second wording.
    """
    objective_label = objective.replace("_", " ").strip() or "this"
    cta = OBJECTIVE_CTA.get(objective, f"Learn more about {mention(objective_label)}")
    audience = "you" if audience.strip().lower() in ("", "general", "everyone") else audience
    values = {"t": mention(topic), "T": title_form(topic), "audience": audience}
    link = cta_url or voice.website or "{{cta_url}}"
    emails = []
    seen: dict[str, int] = {}
    for i in range(length):
        stage, subjects, wordings = STAGES[_stage_index(i, length)]
        turn = seen[stage] = seen.get(stage, -1) + 1
        idea, follow = wordings[turn % len(wordings)]
        first = _offset(len(subjects), topic, stage, seed)
        subject_frame = subjects[(first + turn) % len(subjects)]
        subject = clip(subject_frame.format(**values), 78)
        paragraphs = [OPENERS.get(tone, OPENERS["professional"])] if i == 0 else []
        paragraphs += [idea, follow]
        lines = ["Hi {{first_name|there}},", ""]
        for paragraph in paragraphs:
            if paragraph:
                lines += [tidy(_cap(paragraph.format(**values))), ""]
        lines += [f"{cta}: {link}", "", voice.signature]
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
    lead = _unrepeated(content)
    # "brand" is the original's default topic: no question about it.
    question = ""
    if topic and topic.strip() and topic != "brand":
        question = (
            f"{title_form(topic)} "
            if phrase_kind(topic) == "question"
            else f"Ever wondered about {mention(topic)}? "
        )
    hook = HOOKS.get(tone, "{lead}").format(
        lead=lead, lead_lower=lead[:1].lower() + lead[1:], question=question
    )
    tags = normalize_hashtags(hashtags) if include_hashtags else []
    already = call_to_action and _normal(call_to_action) in _normal(lead)
    tail = f"\n\n{call_to_action}" if call_to_action and not already else ""
    tag_line = ("\n\n" + " ".join(tags)) if tags else ""
    room = (
        max(40, optimal - len(tail) - len(tag_line))
        if platform != "linkedin"
        else limit - len(tail) - len(tag_line)
    )
    body = clip(hook, room)
    return {"content": fit_platform(body + tail + tag_line, platform), "hashtags": tags}


def _normal(text: str) -> str:
    """A sentence reduced to its words, lower case: how repeats are recognised."""
    return " ".join(w.lower() for w in words(text))


def _unrepeated(text: str) -> str:
    """The text on one line, with any sentence that repeats an earlier one left out.

    The kept pieces are joined exactly as they were, so a link's dots survive.
    """
    flat = " ".join((text or "").split())
    kept: list[str] = []
    seen: set[str] = set()
    for match in SENTENCE_RE.finditer(flat):
        key = _normal(match.group(0))
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(match.group(0))
    return "".join(kept).strip() or flat


def optimize_caption(*, content: str, platform: str) -> dict:
    """Tighten a caption: one idea per line, filler removed, hashtags moved to the end."""
    text = " ".join(content.split())
    tags = [w for w in text.split() if w.startswith("#") and len(w) > 1]
    plain = " ".join(w for w in text.split() if not (w.startswith("#") and len(w) > 1))
    for filler in ("really ", "very ", "just ", "basically ", "actually ", "literally "):
        plain = plain.replace(filler, "").replace(filler.capitalize(), "")
    lines = sentences(_unrepeated(plain)) or [plain]
    _, optimal = PLATFORM_LIMITS[platform]
    body = "\n".join(lines)
    tag_line = ("\n\n" + " ".join(dict.fromkeys(tags))) if tags else ""
    if len(body) + len(tag_line) > optimal and platform in ("twitter", "instagram", "tiktok"):
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
#
# An article is a title, a two-sentence summary, sections and a conclusion.  Each section
# draws sentences from the pool of its kind (what, why, start, mistakes, measure, a secondary
# keyword's own, or general advice), round by round so sections stay even, and no sentence
# template is used twice.  The primary keyword appears in the title and then in as many
# keyword sentences as bring its density (the audit's own ``keyword_density``) closest to
# ``TARGET_DENSITY``; no other sentence mentions it.

TARGET_DENSITY = 1.5

POOLS: dict[str, tuple[str, ...]] = {
    "what": (
        "Put simply, it is a set of everyday decisions rather than a single project.",
        "For {audience}, it usually shows up in small choices: what to do first, what to measure and what to leave out.",
        "A useful definition is one your whole team can repeat in a sentence.",
        "Write that sentence down before reading further; it keeps the rest of the work honest.",
        "It is easy to confuse activity with progress here, so name the outcome you want as well as the tasks.",
        "Good examples are rarely complicated: a clear goal, a short plan and a regular check on how it is going.",
        "Most teams already do part of this without calling it anything in particular.",
        "Naming the work helps, because what has a name gets a place in the weekly plan.",
        "The details differ from one business to the next, but the principles travel well.",
        "If the subject is new to you, start by describing how you handle it today, without judging it.",
    ),
    "why": (
        "The main reason is focus: a shared plan stops effort from leaking into work nobody asked for.",
        "Customers notice consistency long before they notice any single clever idea.",
        "Small improvements made early keep paying back for months.",
        "Ignoring it rarely saves time; the cost shows up later, usually at a worse moment.",
        "Competitors who take it seriously set the expectations your customers bring to you.",
        "A clear approach also makes it easier to say no to distractions.",
        "For {audience}, the benefit is often less rework and fewer last-minute surprises.",
        "It gives new colleagues a way in, instead of leaving them to guess how things are done.",
        "When results are written down, budget conversations become shorter and calmer.",
        "The payoff is rarely dramatic in a single week, but it is easy to see over a season.",
    ),
    "start": (
        "Begin with one goal you can describe in plain words and check within a month.",
        "Next, write down where you stand today, so you have something to compare against.",
        "Choose the smallest change that could move that number, and put it in the calendar.",
        "Give one person the job of keeping track; shared ownership tends to mean no ownership.",
        "Keep the first round short, ideally two weeks, so you learn quickly.",
        "Use the tools you already have before buying anything new.",
        "Set a date for a short review before you start, not after.",
        "At the review, keep what worked, drop what did not and pick the next change.",
        "A simple checklist is often enough to turn a good first attempt into a routine.",
        "Resist the urge to change everything at once, or you will not know what made the difference.",
    ),
    "mistakes": (
        "The most common mistake is starting without a baseline, which makes every result hard to judge.",
        "Another is copying a plan that worked for a much larger business with a different budget.",
        "Work also drifts when nobody owns it from one week to the next.",
        "Chasing every new trend spreads effort too thin to show any result.",
        "Measuring too many things hides the few numbers that matter.",
        "Stopping after one disappointing week is a quiet but costly error.",
        "Some teams never write down what they learned, so they repeat the same experiments.",
        "Overlooking the customer's point of view leads to work that looks busy but changes little.",
        "Treating the plan as finished is a mistake too; it should change as you learn.",
        "Avoid promising results you cannot yet measure.",
    ),
    "measure": (
        "Pick two or three numbers that reflect the outcome you care about, not just activity.",
        "Record them at the same time each week, so the trend is easy to read.",
        "Compare against your own baseline before comparing against anyone else.",
        "A simple spreadsheet is enough at first; a dashboard can come later.",
        "Look for direction over several weeks rather than reacting to a single day.",
        "Pair every number with a short note on what changed that week.",
        "Share the results with the people doing the work, and ask what they think explains them.",
        "If a number stops informing decisions, replace it with one that does.",
        "Once a quarter, step back and ask whether the goal itself still makes sense.",
        "Celebrate clear progress; it keeps the routine going when things get busy.",
    ),
    "secondary": (
        "It is worth giving {term} its own place in the plan.",
        "Handled well, the work on {term} supports the main goal instead of competing with it.",
        "Start by checking who looks after {term} today, and how.",
        "A short note on {term} in the weekly review keeps the subject from being forgotten.",
        "Many teams find their quickest wins in {term}.",
        "Treat the work on {term} as part of the same routine rather than a separate project.",
        "If time is short, pick one improvement around {term} and see it through.",
        "Ask customers for their view on {term}; their answers often set the priorities.",
        "Keep the work on {term} small enough to finish in a week or two.",
        "Review the numbers for {term} alongside the others, so the effect is visible.",
    ),
    "general": (
        "Clear priorities make every other decision easier.",
        "Write the plan on one page; if it does not fit, it is probably two plans.",
        "Talk to a few customers before you change anything big. Their words are often better than anything written in a meeting room.",
        "Small, regular steps beat an occasional big push.",
        "Keep a short log of what you tried and what happened. That log becomes the playbook the next person follows.",
        "Set aside a fixed time each week for this work, even if it is only an hour. Protect that hour, because urgent tasks will always try to take it.",
        "When something works, write down why you think it worked.",
        "When something fails, treat it as information rather than a verdict.",
        "Ask the people closest to the customer what they are hearing.",
        "A second pair of eyes catches problems the author cannot see.",
        "Simple language helps everyone, from new staff to long-standing customers.",
        "Plan around the busy seasons in your calendar, not against them.",
        "Leave some slack in the schedule for the things you did not expect.",
        "Agree in advance on what counts as done.",
        "Good work is easier to repeat when the steps are written down.",
        "Budget for upkeep as well as for the launch.",
        "Check the basics first; most problems have simple causes.",
        "Copy what works from your own best weeks.",
        "A quick test with a small group is cheaper than a large mistake.",
        "Be specific about who each piece of work is for.",
        "Tie every task to the goal it serves, or question why it is on the list.",
        "Make the next step obvious for the customer at every point.",
        "Remove one obstacle at a time, starting with the one people mention most.",
        "Timing matters: the same message lands differently on a Monday morning and a Friday afternoon.",
        "Keep promises modest and deliver on them.",
        "Consistency builds trust faster than novelty does.",
        "Look through older work from time to time; some of it will still be useful.",
        "Share early drafts, since feedback is cheapest before anything is finished.",
        "Keep the tools simple enough that everyone on the team can use them.",
        "Decide what you will stop doing to make room for what you start.",
        "Progress is easier to sustain when the whole team can see it.",
        "Thank the people who make the routine work; it is easy to forget.",
        "Expect the first version to be imperfect, and plan a second one.",
        "Look at what customers do, not only at what they say.",
        "Keep an eye on costs, but judge them against the results they bring.",
        "Examples from your own business persuade better than general advice.",
        "A short weekly update keeps everyone pointed in the same direction.",
        "If two ideas compete for attention, test the cheaper one first.",
        "Keep customer questions in a shared list; they are a ready source of ideas.",
        "Let the numbers settle before drawing conclusions from them.",
        "Make sure every change is easy to undo if it does not work.",
        "Ask what would make the work simpler, not only what would make it bigger.",
        "A calm, predictable routine leaves more energy for the occasional big idea.",
        "Before adding something new, check whether an existing habit already covers it.",
        "Write for one reader at a time; messages aimed at everyone tend to reach no one.",
        "Keep a record of the questions you could not answer, and come back to them.",
        "Short meetings with a clear purpose beat long ones without it.",
        "Invite a colleague from another team to look at the plan with fresh eyes.",
        "The simplest explanation of a result is usually the right place to start.",
        "Seasonal changes in demand are easier to handle when you plan for them a month ahead.",
        "Good habits spread when the people who follow them share what they do.",
        "When in doubt, ask the customer; it is faster than guessing.",
    ),
    "keyword": (
        "With {kw}, the first win is usually clarity about who the work is for.",
        "Teams that do well with {kw} tend to keep their routines simple.",
        "A plan for {kw} does not need to be long to be useful.",
        "The same thinking applies to {kw} in a small shop and in a large company.",
        "Progress with {kw} is easier to see when you note where you started.",
        "Most questions about {kw} come down to time, budget and focus.",
        "It helps to go over {kw} with the people who do the daily work.",
        "Good habits around {kw} outlast any single campaign.",
        "Search for {kw} yourself and note what the top answers have in common.",
        "Customers judge {kw} by results they can see, not by effort behind the scenes.",
        "An hour a week on {kw} is enough to build momentum.",
        "Keep a short list of open questions about {kw} and work through it.",
        "Good notes on {kw} make the next round faster.",
        "The advice on {kw} in this guide works best when you adapt it to your own numbers.",
        "Small experiments are the safest way to learn what works for {kw}.",
        "Looking back over a season, the gains from {kw} are usually clear.",
        "Ask what a customer expects from {kw} before deciding what to change.",
        "Everything in this section applies to {kw}, whatever the size of your business.",
        "A steady routine for {kw} beats an occasional burst of effort.",
        "Write down one lesson about {kw} each week; after a month you have a playbook.",
    ),
}
# General sections fall back on these when the general pool runs dry.
FALLBACK_KINDS = ("general", "start", "why", "measure", "what", "mistakes")
HEADING_KINDS = (
    ("mistakes", ("mistake", "avoid", "pitfall", "wrong", "error")),
    ("measure", ("measur", "metric", "result", "track", "kpi", "success")),
    ("why", ("why", "benefit", "matter", "important")),
    ("start", ("start", "begin", "first step", "how to", "getting", "set up", "plan")),
    ("what", ("what", "defin", "mean", "basic", "introduc", "overview")),
)
CONCLUSIONS = {
    "professional": (
        "The approach in this guide is deliberately simple: set a goal, measure it and improve one thing at a time.",
        "Choose one idea from it, try it this week and review the result.",
    ),
    "casual": (
        "That's the whole idea: start small, keep notes and adjust as you go.",
        "Pick one thing from this guide and give it a go this week.",
    ),
    "friendly": (
        "You don't need to do everything at once.",
        "Pick one idea from this guide, try it this week and see how it feels.",
    ),
    "authoritative": (
        "Teams that do this well share three habits: clear goals, steady measurement and small changes.",
        "Apply one idea from this guide this week and measure what happens.",
    ),
}


def _heading_kind(heading: str) -> str:
    low = heading.lower()
    for kind, stems in HEADING_KINDS:
        if any(stem in low for stem in stems):
            return kind
    return "general"


def default_outline(*, topic: str, keyword: str, secondary: list[str], audience: str) -> list[str]:
    return [heading for heading, _, _ in _default_plan(keyword, secondary, audience, True)]


def _default_plan(
    keyword: str, secondary: list[str], audience: str, keyword_heading: bool
) -> list[tuple[str, str, str]]:
    first = f"Understanding {mention(keyword)}" if keyword_heading else "The basics"
    plan = [(first, "what", ""), ("Why it matters", "why", ""), ("How to get started", "start", "")]
    plan += [(title_form(term), "secondary", term) for term in _unique(secondary)[:3]]
    plan += [("Common mistakes to avoid", "mistakes", ""), ("Measuring results", "measure", "")]
    return plan


def _unique(items: list[str]) -> list[str]:
    found: dict[str, str] = {}
    for item in items:
        clean = _clean(item)
        if clean and _normal(clean) not in found:
            found[_normal(clean)] = clean
    return list(found.values())


def article_title(*, topic: str, keyword: str) -> str:
    """The topic as the title when it names the keyword, else "Keyword: Topic"."""
    lead = title_form(keyword)
    joint = " " if lead.endswith("?") else ": "  # "What is SEO? A Practical Guide"
    if _normal(topic) == _normal(keyword):
        return f"{lead}{joint}A Practical Guide"
    if contains_phrase(topic, keyword) and len(_clean(topic)) <= 70:
        return title_form(topic)
    return f"{lead}{joint}{title_form(topic)}"


def _summary(topic: str, keyword: str, audience: str, with_keyword: bool) -> str:
    kind = phrase_kind(topic)
    if kind == "question":
        first = f"This guide, written for {audience}, answers the question {mention(topic)}"
    elif kind == "clause":
        first = f"This guide, written for {audience}, covers {mention(topic)}"
    else:
        first = f"This guide, written for {audience}, is about {mention(topic)}"
    first = first + ("" if first.endswith(("?", "?”")) else ".")
    if with_keyword:
        second = f"It explains what is involved in {mention(keyword)}, why it matters and how to begin, step by step."
    else:
        second = (
            "It explains what the work involves, why it matters and how to begin, step by step."
        )
    return f"{first} {second}"


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
    """An article of about ``word_count`` words with the keyword inside the audit's range.

    The keyword's density is tried with 0, 1, 2, ... keyword sentences, and with fewer
    fixed mentions (summary, call to action, first heading) when even none is too many for
    a long keyword in a short article; the closest to ``TARGET_DENSITY`` wins.  When the
    sentence pools run out before ``word_count``, ``notes`` says how many words were written.
    """
    keyword = _clean(keyword)
    audience = _clean(audience) or "your team"
    low, high = DENSITY_RANGE
    best: dict = {}
    best_key: tuple[bool, float] | None = None
    # Fewer fixed mentions only when even no keyword sentence keeps the density in range.
    for dropped in range(4):
        for count in range(len(POOLS["keyword"]) + 1):
            data = _compose(
                topic=topic,
                keyword=keyword,
                secondary=secondary,
                outline=outline,
                tone=tone,
                audience=audience,
                call_to_action=call_to_action,
                word_count=word_count,
                voice=voice,
                keyword_sentences=count,
                dropped=dropped,
            )
            density = keyword_density(article_markdown(data), keyword)
            key = (low <= density <= high, -abs(density - TARGET_DENSITY))
            if best_key is None or key > best_key:
                best_key, best = key, data
            if density > TARGET_DENSITY:
                break
        if best_key is not None and best_key[0]:
            break
    data = best
    notes = []
    body = article_markdown(data)
    written = len(words(body))
    if written < 0.85 * word_count:
        notes.append(
            f"The built-in writer wrote {written} of the {word_count} words asked for: it has "
            "no more distinct sentences, and repeating itself would not help. Connect an LLM "
            "for longer articles."
        )
    density = keyword_density(body, keyword)
    if not low <= density <= high:
        notes.append(
            f"The keyword's density is {density}%, outside the {low}-{high}% the SEO audit asks "
            "for: the title and the given headings alone "
            + ("use it more often than that." if density > high else "leave too little room.")
        )
    if notes:
        data["notes"] = notes
    return data


def _compose(
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
    keyword_sentences: int,
    dropped: int,
) -> dict:
    kw = mention(keyword)
    plan = (
        [(heading, _heading_kind(heading), "") for heading in _unique(outline)]
        if outline
        else _default_plan(keyword, secondary, audience, keyword_heading=dropped < 3)
    )
    values = {"audience": audience, "kw": kw}
    # Per pool: its templates in order (a kind's sentences read as a sequence), the general
    # and keyword pools from a request-specific start.  A sentence that would mention the
    # keyword by accident is skipped: its density is counted only where it is meant.
    queues: dict[str, list[str]] = {}
    for kind, pool in POOLS.items():
        start = _offset(len(pool), topic, keyword, kind) if kind in ("general", "keyword") else 0
        queues[kind] = [pool[(start + j) % len(pool)] for j in range(len(pool))]
    used: set[str] = set()
    seen_text: set[str] = set()

    def draw(kind: str, term: str) -> str | None:
        if kind == "keyword":
            order: tuple[str, ...] = ("keyword",)
        else:
            order = (kind, *FALLBACK_KINDS) if kind != "general" else FALLBACK_KINDS
        for source in order:
            if source == "secondary" and not term:
                continue
            for template in queues[source]:
                if template in used:
                    continue
                text = tidy(template.format(**values, term=mention(term) if term else ""))
                if (contains_phrase(text, keyword) and source != "keyword") or _normal(
                    text
                ) in seen_text:
                    used.add(template)
                    continue
                used.add(template)
                seen_text.add(_normal(text))
                return text
        return None

    fixed_words = 60
    body_target = max(len(plan) * 25, word_count - fixed_words - keyword_sentences * 13)
    per_section = body_target / max(1, len(plan))
    chosen: list[list[str]] = [[] for _ in plan]
    counts = [0] * len(plan)
    progress = True
    while progress:
        progress = False
        for index, (_, kind, term) in enumerate(plan):
            if counts[index] >= per_section:
                continue
            text = draw(kind, term)
            if text is None:
                continue
            chosen[index].append(text)
            counts[index] += len(words(text))
            progress = True
    # Keyword sentences: one per section in turn, second in its section (then every third).
    for number in range(keyword_sentences):
        text = draw("keyword", "")
        if text is None:
            break
        index = number % len(plan)
        position = min(len(chosen[index]), 1 + 3 * (number // len(plan)))
        chosen[index].insert(position, text)
    sections = [
        {"heading": heading, "body": _paragraphs(chosen[index])}
        for index, (heading, _, _) in enumerate(plan)
        if chosen[index]
    ]
    conclusion = " ".join(CONCLUSIONS.get(tone, CONCLUSIONS["professional"]))
    if voice.slogan:
        conclusion += f" {voice.slogan}"
    who = voice.name or "us"
    return {
        "title": article_title(topic=topic, keyword=keyword),
        "summary": _summary(topic, keyword, audience, with_keyword=dropped < 1),
        "sections": sections,
        "conclusion": conclusion,
        "callToAction": call_to_action
        or (f"Talk to {who} about {kw}" if dropped < 2 else f"Talk to {who} about your plans"),
    }


def _paragraphs(chosen: list[str]) -> str:
    return "\n\n".join(" ".join(chosen[j : j + 4]) for j in range(0, len(chosen), 4))


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
    linkedin = f"{title}\n\n{summary}\n\nWhat has worked for you with {mention(keyword)}?"
    twitter = clip(f"{title}: {summary}", 250 - (len(tag[0]) + 1 if tag else 0)) + (
        f" {tag[0]}" if tag else ""
    )
    subject = clip(f"New guide: {title}", 60, ellipsis="…")
    return {
        "linkedin": fit_platform(linkedin, "linkedin"),
        "twitter": fit_platform(twitter, "twitter"),
        "emailSubject": subject,
    }
