"""SupportAgent: drafts replies, triages tickets and suggests macros, deterministically.

Keyword rules follow the original system: category is billing, then account access, then
bug report, else a general question; "outage", "down", "urgent" or "immediately" make a
ticket high priority.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from agents.base import Agent, IntentInput, intent
from agents.context import RunContext

Sentiment = Literal["positive", "neutral", "negative"]
Channel = Literal["email", "chat", "phone"]

NEGATIVE = ("angry", "frustrated", "urgent", "immediately", "not working", "broken", "error", "fail",
            "failure", "down", "refund", "cancel", "complaint", "escalate", "critical")
POSITIVE = ("love", "great", "thanks", "appreciate", "awesome", "amazing", "happy", "excellent")
BILLING = ("invoice", "billing", "charge", "payment", "refund", "price", "pricing", "subscription")
ACCOUNT = ("password", "login", "account", "access", "credentials", "reset")
BUG = ("bug", "error", "issue", "broken", "crash", "fail", "failure", "glitch", "not working")
HIGH_PRIORITY = ("outage", "down", "urgent", "immediately")

CATEGORY_ACTIONS = {
    "billing": ["Review the latest invoice and payment history", "Check for active promotions or credits"],
    "account_access": ["Check authentication logs and recent security events",
                       "Prepare password reset or access restoration steps"],
    "bug_report": ["Log the incident in the bug tracker with reproduction steps",
                   "Ask for console logs or screenshots"],
    "general_question": ["Look up the relevant knowledge base guide"],
}

CATEGORY_MACROS = {
    "billing": [
        ("Billing clarification", "Happy to look into these charges with you. Which invoice number or billing "
         "period is this about? I will check it straight away.", ["billing", "clarification"]),
        ("Refund acknowledgment", "Thank you for letting us know. Your refund request is logged, and I will "
         "update you within one business day once finance has reviewed it.", ["billing", "refund"]),
    ],
    "account_access": [
        ("Password reset steps", "Let's get you back in. Use the 'Forgot password' link on the sign-in page; "
         "if the email does not arrive within a few minutes, reply here and I will reset it for you.",
         ["access", "password"]),
        ("Two-factor recovery", "If two-factor authentication is locking you out, I can help. Please confirm "
         "the last four digits of the phone number on the account and I will send a recovery link.",
         ["access", "2fa"]),
    ],
    "bug_report": [
        ("Bug acknowledgment", "Thanks for reporting this. I have passed your description to engineering; "
         "steps to reproduce or a screenshot would help us fix it faster.", ["bug", "acknowledge"]),
        ("Workaround suggestion", "While the team investigates, clearing the browser cache and reloading "
         "usually gets things moving again. Tell me if the problem comes back.", ["bug", "workaround"]),
    ],
    "general_question": [
        ("General greeting", "Thanks for getting in touch! I am looking into this now and will come back "
         "to you with next steps shortly.", ["general"]),
    ],
}

URGENT_MACRO = ("Urgent escalation acknowledgment", "I am escalating this to our on-call specialist right "
                "now. You will hear from us shortly with a detailed update; thank you for your patience.",
                ["escalation", "urgent"])


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
        f"Thanks for reaching out about {topic}. We have your note (\"{gist[:160]}\") and a member of the "
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
        ctx.metrics.update(tone="friendly-professional", sentiment=sentiment, replyLength=len(reply))
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

    @staticmethod
    def _triage(content: str) -> dict:
        category, priority = infer_category(content), infer_priority(content)
        return {
            "category": category,
            "priority": priority,
            "sentiment": detect_sentiment(content),
            "recommendedActions": recommended_actions(category, priority),
        }
