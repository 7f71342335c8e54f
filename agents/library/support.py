"""SupportAgent: drafts replies, triages tickets and suggests macros, deterministically.

Keyword rules follow the original system: category is billing, then account access, then
bug report, else a general question; "urgent", "immediately" or "critical" make a ticket high
priority.  Outage language comes before all of them ("the site is down", "checkout is broken",
"a 500 on the payment page", "nobody can log in"): such a ticket is technical and urgent,
whatever else it mentions (a broken payment page is an outage, not a billing question).
Outage phrases are matched on word boundaries, and an HTTP 5xx only next to an error word, so
"download" or "500 dollars" are not outages.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from agents import knowledge, llm, writer
from agents.audience.compliance import keyword_honour, keyword_of
from agents.base import Agent, IntentInput, intent
from agents.checks import Checks, connector_ready
from agents.context import RunContext
from agents.selectors import knowledge_articles_active
from agents.text import clip, sentences
from connectors.addresses import normalize_address
from connectors.registry import reply_action
from connectors.selectors import suppression_exists
from neonhub.core.errors import ConnectorMissing, InvalidInput
from neonhub.core.models import Organization

Sentiment = Literal["positive", "neutral", "negative"]
Channel = Literal["email", "chat", "phone"]

NEGATIVE = (
    "angry",
    "frustrated",
    "urgent",
    "immediately",
    "not working",
    "broken",
    "error",
    "fail",
    "failure",
    "down",
    "refund",
    "cancel",
    "complaint",
    "escalate",
    "critical",
)
POSITIVE = ("love", "great", "thanks", "appreciate", "awesome", "amazing", "happy", "excellent")
BILLING = ("invoice", "billing", "charge", "payment", "refund", "price", "pricing", "subscription")
ACCOUNT = ("password", "login", "account", "access", "credentials", "reset")
BUG = ("bug", "error", "issue", "broken", "crash", "fail", "failure", "glitch", "not working")
HIGH_PRIORITY = ("urgent", "immediately", "critical")
_STATUS_5XX = (
    r"(?<![$€£\d.,])\b5(?:00|02|03|04)\b(?!\s*(?:dollars?|euros?|pounds?|usd|eur|gbp|k\b|%))"
)
_ERROR_WORD = r"(?:errors?|pages?|server|internal|status|response|gateway|unavailable)"
# Outage language: the service (or a core part of it) is unavailable for people.
OUTAGE = re.compile(
    "|".join(
        [
            r"\boutages?\b",
            r"\b(?:site|app|website|service|server|servers|api|checkout|platform|everything|it)"
            r"\s+(?:is\s+|are\s+|went\s+|goes\s+|has\s+gone\s+)?down\b",
            # "is down", but not a figure going down ("sales are down by 10%", "down to $5").
            r"\b(?:is|are|'s)\s+down\b(?!\s+(?:to|by|from|\d))",
            r"\bdown\s+for\s+(?:everyone|everybody|all)\b",
            r"\bnot\s+loading\b",
            r"\b(?:won't|wont|doesn't|does\s+not|will\s+not)\s+load\b",
            r"\berror\s+pages?\b",
            r"\bcheckout\s+(?:is\s+|are\s+)?(?:broken|failing|down|not\s+working)\b",
            r"\b(?:can't|cannot|can\s+not|unable\s+to)\s+log\s*-?\s*in\s+for\s+"
            r"(?:everyone|everybody|all)\b",
            r"\b(?:nobody|no\s+one|no-one)\s+can\s+log\s*-?\s*in\b",
            # A 5xx next to an error word: "a 500 on the payment page", "HTTP 502", "500 error".
            rf"(?:http|error|status|code|server)\s+{_STATUS_5XX}",
            rf"{_STATUS_5XX}(?:\W+\w+){{0,4}}?\W+{_ERROR_WORD}\b",
        ]
    ),
    re.IGNORECASE,
)

CATEGORY_ACTIONS = {
    "technical": [
        "Check the status page, error monitoring and recent deploys",
        "Open an incident and post updates until it is resolved",
    ],
    "billing": [
        "Review the latest invoice and payment history",
        "Check for active promotions or credits",
    ],
    "account_access": [
        "Check authentication logs and recent security events",
        "Prepare password reset or access restoration steps",
    ],
    "bug_report": [
        "Log the incident in the bug tracker with reproduction steps",
        "Ask for console logs or screenshots",
    ],
    "general_question": ["Look up the relevant knowledge base guide"],
}

CATEGORY_MACROS = {
    "technical": [
        (
            "Outage acknowledgment",
            "Thank you for telling us. We are aware that the service is not working as it "
            "should and the team is working on it now; we will update you as soon as it is fixed.",
            ["outage", "incident"],
        ),
    ],
    "billing": [
        (
            "Billing clarification",
            "Happy to look into these charges with you. Which invoice number or billing "
            "period is this about? I will check it straight away.",
            ["billing", "clarification"],
        ),
        (
            "Refund acknowledgment",
            "Thank you for letting us know. Your refund request is logged, and I will "
            "update you within one business day once finance has reviewed it.",
            ["billing", "refund"],
        ),
    ],
    "account_access": [
        (
            "Password reset steps",
            "Let's get you back in. Use the 'Forgot password' link on the sign-in page; "
            "if the email does not arrive within a few minutes, reply here and I will reset it for you.",
            ["access", "password"],
        ),
        (
            "Two-factor recovery",
            "If two-factor authentication is locking you out, I can help. Please confirm "
            "the last four digits of the phone number on the account and I will send a recovery link.",
            ["access", "2fa"],
        ),
    ],
    "bug_report": [
        (
            "Bug acknowledgment",
            "Thanks for reporting this. I have passed your description to engineering; "
            "steps to reproduce or a screenshot would help us fix it faster.",
            ["bug", "acknowledge"],
        ),
        (
            "Workaround suggestion",
            "While the team investigates, clearing the browser cache and reloading "
            "usually gets things moving again. Tell me if the problem comes back.",
            ["bug", "workaround"],
        ),
    ],
    "general_question": [
        (
            "General greeting",
            "Thanks for getting in touch! I am looking into this now and will come back "
            "to you with next steps shortly.",
            ["general"],
        ),
    ],
}

URGENT_MACRO = (
    "Urgent escalation acknowledgment",
    "I am escalating this to our on-call specialist right "
    "now. You will hear from us shortly with a detailed update; thank you for your patience.",
    ["escalation", "urgent"],
)


def _has_any(text: str, words: tuple[str, ...]) -> bool:
    return any(word in text for word in words)


def detect_sentiment(content: str) -> str:
    lower = content.lower()
    negative, positive = _has_any(lower, NEGATIVE), _has_any(lower, POSITIVE)
    if negative and not positive:
        return "negative"
    if positive and not negative:
        return "positive"
    return "neutral"


def is_outage(content: str) -> bool:
    """The text says the service (or a core part of it) is unavailable: see ``OUTAGE``."""
    return OUTAGE.search(content) is not None


def infer_category(content: str) -> str:
    if is_outage(content):
        return "technical"
    lower = content.lower()
    for category, words in (("billing", BILLING), ("account_access", ACCOUNT), ("bug_report", BUG)):
        if _has_any(lower, words):
            return category
    return "general_question"


def infer_priority(content: str) -> str:
    if is_outage(content):
        return "urgent"
    lower = content.lower()
    if _has_any(lower, HIGH_PRIORITY):
        return "high"
    if _has_any(lower, BUG) or "problem" in lower:
        return "medium"
    return "low"


def recommended_actions(category: str, priority: str) -> list[str]:
    by_priority = {
        "urgent": ["Page on-call now", "Acknowledge within 5 minutes"],
        "high": ["Escalate to on-call", "Acknowledge within 10 minutes"],
        "medium": ["Confirm receipt and share the expected response time"],
        "low": ["Respond within the standard SLA"],
    }
    return list(dict.fromkeys(by_priority[priority] + CATEGORY_ACTIONS[category]))


def macros_for(category: str, priority: str) -> list[dict]:
    chosen = list(CATEGORY_MACROS[category])
    if priority in ESCALATED:
        chosen.insert(0, URGENT_MACRO)
    return [{"title": title, "body": body, "tags": tags} for title, body, tags in chosen]


ESCALATED = ("urgent", "high")  # a person answers these; the urgent macro comes first


def first_sentence(text: str) -> str:
    match = re.match(r"\s*([^.!?]+[.!?]?)", text)
    sentence = match.group(1).strip() if match else ""
    return sentence or text[:120].strip()


def draft_reply(message: str, category: str) -> str:
    topic = {
        "technical": "the service not working",
        "billing": "your billing question",
        "account_access": "getting you back into your account",
        "bug_report": "the problem you ran into",
        "general_question": "your question",
    }[category]
    gist = first_sentence(message).rstrip(".!?")
    return (
        f'Thanks for reaching out about {topic}. We have your note ("{gist[:160]}") and a member of the '
        f"team is on it. {CATEGORY_ACTIONS[category][0].capitalize()} is our first step, and we will follow "
        "up with an update as soon as we have one."
    )


class SupportIn(IntentInput):
    notes: str | None = Field(default=None, max_length=20_000)
    subject: str | None = Field(default=None, max_length=500)
    sentiment: Sentiment | None = None
    createdById: str | None = None

    @model_validator(mode="after")
    def _needs_text(self) -> SupportIn:
        if not (self.notes or self.subject):
            raise ValueError("notes or subject is required")
        return self


class TriageIn(IntentInput):
    content: str = Field(min_length=1, max_length=20_000)
    channel: Channel | None = None
    metadata: dict | None = None
    createdById: str | None = None


class MacroSuggestIn(IntentInput):
    content: str = Field(min_length=1, max_length=20_000)
    channel: Channel | None = None
    createdById: str | None = None


# Twilio's standard confirmations, which carriers expect.
KEYWORD_REPLIES = {
    "opted_out": "You have successfully been unsubscribed. You will not receive any more messages from this "
    "number. Reply START to resubscribe.",
    "opted_in": "You have successfully been re-subscribed to messages from this number. Reply HELP for help. "
    "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
    "help": "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}
REPLY_LIMIT = {"sms": 320, "whatsapp": 1000}  # two SMS segments; WhatsApp reads well up to here
CONFIDENCE_THRESHOLD = 0.5
HOLDING_REPLY = "Thanks for your message. A member of our team will get back to you shortly."


class ReplyIn(IntentInput):
    channel: Literal["sms", "whatsapp"] = "sms"
    from_: str = Field(
        alias="from", min_length=7, max_length=40, description="The customer's number (E.164)"
    )
    body: str = Field(min_length=1, max_length=1600)
    messageSid: str | None = Field(
        default=None, max_length=64, description="The inbound message's SID"
    )
    priority: Literal["low", "medium", "high", "urgent"] | None = None
    keywordReplies: Literal["auto", "twilio", "neonhub"] = Field(
        default="auto",
        description="Who answers STOP/START/HELP: Twilio itself (SMS default) or this agent",
    )
    connector: str | None = Field(
        default=None, max_length=100, description="Connector name, when there are several"
    )
    send: bool = True


class ReplyOut(BaseModel):
    reply: str = Field(min_length=1, max_length=1600)


def builtin_answer(article, channel: str) -> str:
    gist = " ".join(sentences(article.body)[:3]) or article.body
    text = f"Hi! {gist}"
    return clip(text, REPLY_LIMIT[channel])


def reply_preview(data: ReplyIn, organization) -> dict:
    """Who the reply goes to and what it answers.  The reply's words are written when the run
    executes (from the best-matching article, or the holding reply), so the preview names the
    article it would start from instead of pretending to know the text."""
    matches = knowledge.rank(data.body, knowledge_articles_active(organization=organization))
    content = {
        "customer message": data.body,
        "reply": "written when the run executes"
        + (
            f", from the article {matches[0].article.title!r}"
            if matches
            else ", no article matches"
        )
        + ("" if data.send else "; not sent (send is off)"),
    }
    return {
        "summary": f"Support reply by {data.channel} to {data.from_}",
        "recipients": 1 if data.send else 0,
        "items": [{"to": data.from_, "action": f"reply by {data.channel}", "content": content}],
        "more": 0,
    }


class SupportAgent(Agent):
    slug = "support"
    name = "SupportAgent"
    version = "2.0.0"
    description = "Helps support reps: drafts replies, triages tickets and suggests macros."

    @intent("support", SupportIn, "Draft a reply to a customer's message")
    def support(self, ctx: RunContext, data: SupportIn) -> dict:
        message = data.notes or data.subject or ""
        with ctx.step("draft reply"):
            sentiment = data.sentiment or detect_sentiment(message)
            reply = draft_reply(message, infer_category(message))
            summary = first_sentence(reply)
        ctx.metrics.update(
            tone="friendly-professional", sentiment=sentiment, replyLength=len(reply)
        )
        return {
            "reply": reply,
            "tone": "friendly-professional",
            "summary": summary,
            "suggestedSubject": data.subject or summary[:72],
            "sentiment": sentiment,
            # The reply is a template filled with the message's gist, never a model's.
            "model": writer.BUILTIN,
            "generator": writer.generator(writer.BUILTIN),
        }

    @intent("triage", TriageIn, "Categorise, prioritise and recommend actions for a ticket")
    def triage(self, ctx: RunContext, data: TriageIn) -> dict:
        with ctx.step("classify"):
            result = self._triage(data.content)
        ctx.metrics.update(category=result["category"], priority=result["priority"])
        return {**result, "channel": data.channel}

    @intent("macro-suggest", MacroSuggestIn, "Suggest canned replies for a ticket")
    def macro_suggest(self, ctx: RunContext, data: MacroSuggestIn) -> dict:
        with ctx.step("classify"):
            triage = self._triage(data.content)
        with ctx.step("choose macros"):
            macros = macros_for(triage["category"], triage["priority"])
        ctx.metrics.update(macros=len(macros), category=triage["category"])
        return {
            "macros": macros,
            "context": {k: triage[k] for k in ("category", "priority", "sentiment")},
        }

    def preflight_reply(self, data: ReplyIn, *, organization: Organization) -> None:
        """A reply that would be sent needs a usable connector on its channel.  An opt-out or
        other keyword is never refused here: its run records the person's choice even when
        nothing can be sent back."""
        checks = Checks("The reply was not started")
        try:
            normalize_address(channel=data.channel, address=data.from_)
        except InvalidInput:
            checks.add(
                "payload.from",
                "From must be a phone number with its country code, like +14155550100.",
            )
        sender = reply_action(data.channel)
        if not data.send or sender is None or keyword_of(data.body):
            checks.raise_any()
            return
        connector_ready(
            checks,
            organization=organization,
            provider=sender[0],
            name=data.connector,
            field="payload.connector",
            purpose="send the reply",
        )
        checks.raise_any()

    @intent(
        "reply",
        ReplyIn,
        "Answer an inbound SMS or WhatsApp message from the knowledge base",
        side_effects=True,
        preview=reply_preview,
    )
    def reply(self, ctx: RunContext, data: ReplyIn) -> dict:

        try:
            address = normalize_address(channel=data.channel, address=data.from_)
        except InvalidInput:
            raise InvalidInput.for_field(
                "payload.from",
                "expected an E.164 phone number",
                summary="from must be a phone number in E.164 form",
            ) from None
        sender = reply_action(data.channel)
        if sender is None:
            raise ConnectorMissing(f"No provider sends replies on {data.channel}")
        keyword = keyword_of(data.body)
        if keyword:
            return self._keyword(ctx, data, address, sender, keyword)
        base = {"jobId": str(ctx.run_id), "channel": data.channel, "to": address}
        if suppression_exists(organization=ctx.organization, channel=data.channel, address=address):
            ctx.metrics.update(status="suppressed")
            return {**base, "status": "suppressed", "reply": None, "sent": False}
        with ctx.step("triage"):
            triage = self._triage(data.body)
            priority = data.priority or triage["priority"]
        with ctx.step("search knowledge base") as rec:
            matches = knowledge.rank(
                data.body, knowledge_articles_active(organization=ctx.organization)
            )
            confidence = knowledge.confidence(matches)
            rec.detail = {"matches": len(matches), "confidence": confidence}
        needs_human = priority in ESCALATED or confidence < CONFIDENCE_THRESHOLD
        written = self._answer(
            ctx, data, matches[0].article if matches and not needs_human else None
        )
        result = self._send(ctx, data, sender, address, written.data["reply"])
        ctx.metrics.update(
            status="needs_human" if needs_human else "answered",
            confidence=confidence,
            priority=priority,
            category=triage["category"],
        )
        return {
            **base,
            "status": "needs_human" if needs_human else "answered",
            "reply": written.data["reply"],
            "confidence": confidence,
            "category": triage["category"],
            "priority": priority,
            "sentiment": triage["sentiment"],
            "escalationReason": (
                f"{priority} priority" if priority in ESCALATED else "low confidence"
            )
            if needs_human
            else None,
            "articles": [
                {"id": str(m.article.id), "title": m.article.title, "score": m.score}
                for m in matches
            ],
            **result,
            **written.label(),
        }

    def _answer(self, ctx: RunContext, data: ReplyIn, article) -> llm.Written:
        if article is None:
            return llm.template_written(ctx, {"reply": HOLDING_REPLY})
        limit = REPLY_LIMIT[data.channel]

        def write() -> dict:
            return asdict(
                llm.write(
                    ctx,
                    system="You answer customer messages briefly and kindly, only from the article given.",
                    prompt=(
                        f"Customer message: {data.body}\nArticle {article.title!r}:\n{article.body[:4000]}\n"
                        f'Answer in at most {limit} characters. Return {{"reply": "..."}}'
                    ),
                    schema=ReplyOut,
                    builtin=lambda: {"reply": builtin_answer(article, data.channel)},
                    temperature=0.3,
                    max_tokens=300,
                    max_attempts=self.max_attempts,
                )
            )

        # A retried reply (its send failed) sends the text already written, not a new one.
        written = llm.Written(**ctx.reusable("write reply", write))
        written.data["reply"] = clip(written.data["reply"], limit)
        return written

    def _keyword(
        self,
        ctx: RunContext,
        data: ReplyIn,
        address: str,
        sender: tuple[str, str],
        keyword: str,
    ) -> dict:

        with ctx.step(f"keyword {keyword}"):
            keyword_honour(
                organization=ctx.organization, channel=data.channel, address=address, body=data.body
            )
        # Twilio answers these keywords itself on SMS numbers (and refuses our messages to an
        # opted-out number), so by default only WhatsApp replies are sent from here.
        by_twilio = data.keywordReplies == "twilio" or (
            data.keywordReplies == "auto" and data.channel == "sms"
        )
        reply = KEYWORD_REPLIES[keyword]
        purpose = "opt_out_confirmation" if keyword == "opted_out" else "reply"
        result = (
            {"sent": False, "answeredBy": "twilio"}
            if by_twilio
            else {
                **self._send(ctx, data, sender, address, reply, purpose=purpose),
                "answeredBy": "neonhub",
            }
        )
        ctx.metrics.update(status=keyword)
        return {
            "jobId": str(ctx.run_id),
            "channel": data.channel,
            "to": address,
            "status": keyword,
            "reply": reply,
            **result,
        }

    @staticmethod
    def _send(
        ctx: RunContext,
        data: ReplyIn,
        sender: tuple[str, str],
        address: str,
        text: str,
        *,
        purpose: str = "reply",
    ) -> dict:
        if not data.send:
            return {"sent": False}
        provider, action = sender  # the provider's free-form message action on the channel
        handle = ctx.connector(provider, name=data.connector)
        # An answer to a person who just wrote: the compliance gate skips caps and quiet hours
        # for it; the one message to a number that has just opted out is its confirmation.
        result = handle.call(
            action,
            {"to": address, "body": text},
            key=f"reply:{data.messageSid or 'inbound'}",
            purpose=purpose,
        )
        return {
            "sent": True,
            "messageSid": result.provider_id,
            "deliveryStatus": result.status,
            "sandbox": handle.sandbox,
        }

    @staticmethod
    def _triage(content: str) -> dict:
        category, priority = infer_category(content), infer_priority(content)
        return {
            "category": category,
            "priority": priority,
            "sentiment": detect_sentiment(content),
            "recommendedActions": recommended_actions(category, priority),
        }
