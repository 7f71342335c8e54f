"""SupportAgent: drafts replies, triages tickets and suggests macros, deterministically.

Keyword rules follow the original system: category is billing, then account access, then
bug report, else a general question; "outage", "down", "urgent" or "immediately" make a
ticket high priority.
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
HIGH_PRIORITY = ("outage", "down", "urgent", "immediately")

CATEGORY_ACTIONS = {
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


def infer_category(content: str) -> str:
    lower = content.lower()
    for category, words in (("billing", BILLING), ("account_access", ACCOUNT), ("bug_report", BUG)):
        if _has_any(lower, words):
            return category
    return "general_question"


def infer_priority(content: str) -> str:
    lower = content.lower()
    if _has_any(lower, HIGH_PRIORITY):
        return "high"
    if _has_any(lower, BUG) or "problem" in lower:
        return "medium"
    return "low"


def recommended_actions(category: str, priority: str) -> list[str]:
    by_priority = {
        "high": ["Escalate to on-call", "Acknowledge within 10 minutes"],
        "medium": ["Confirm receipt and share the expected response time"],
        "low": ["Respond within the standard SLA"],
    }
    return list(dict.fromkeys(by_priority[priority] + CATEGORY_ACTIONS[category]))


def macros_for(category: str, priority: str) -> list[dict]:
    chosen = list(CATEGORY_MACROS[category])
    if priority == "high":
        chosen.insert(0, URGENT_MACRO)
    return [{"title": title, "body": body, "tags": tags} for title, body, tags in chosen]


def first_sentence(text: str) -> str:
    match = re.match(r"\s*([^.!?]+[.!?]?)", text)
    sentence = match.group(1).strip() if match else ""
    return sentence or text[:120].strip()


def draft_reply(message: str, category: str) -> str:
    topic = {
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
    priority: Literal["low", "medium", "high"] | None = None
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
        needs_human = priority == "high" or confidence < CONFIDENCE_THRESHOLD
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
            "escalationReason": ("high priority" if priority == "high" else "low confidence")
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
            return llm.Written(data={"reply": HOLDING_REPLY}, model=writer.BUILTIN)
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
