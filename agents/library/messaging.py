"""MessagingAgent: one SMS or WhatsApp message to one person, the unit a campaign batch runs.

``{{placeholders}}`` in the text are filled from ``variables`` and, when the message has a
contact, from the contact's name and attributes.  Every send goes through the compliance
gate (suppression, consent, caps, quiet hours, WhatsApp window) and the outbox, keyed by the
recipient, so a re-executed run never sends twice.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field, model_validator

from agents.audience.compliance import contact_resolve
from agents.audience.models import Contact
from agents.base import Agent, IntentInput, intent
from agents.checks import Checks, connector_ready, public_url
from agents.context import RunContext
from agents.library.email import render
from neonhub.core.errors import InvalidInput
from neonhub.core.models import Organization

E164 = r"^(whatsapp:)?\+[1-9]\d{6,14}$"


class SendSmsIn(IntentInput):
    to: str = Field(pattern=E164, description="E.164 phone number, e.g. +14155550100")
    body: str = Field(min_length=1, max_length=1600, description="Text with {{placeholders}}")
    variables: dict[str, str | int | float] = Field(default_factory=dict)
    contactId: UUID | None = Field(default=None, description="The contact this message is for")
    mediaUrls: list[str] = Field(default_factory=list, max_length=10)
    connector: str | None = Field(
        default=None, max_length=100, description="Connector name, when there are several"
    )


class SendWhatsAppIn(IntentInput):
    to: str = Field(pattern=E164)
    body: str | None = Field(
        default=None, max_length=1600, description="A session message (inside the 24-hour window)"
    )
    contentSid: str | None = Field(
        default=None, pattern=r"^HX[0-9a-fA-F]{32}$", description="An approved template"
    )
    contentVariables: dict[str, str] = Field(default_factory=dict)
    variables: dict[str, str | int | float] = Field(default_factory=dict)
    contactId: UUID | None = None
    connector: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _one_kind(self) -> SendWhatsAppIn:
        if bool(self.body) == bool(self.contentSid):
            raise ValueError("give either body (a session message) or contentSid (a template)")
        return self


def sms_preview(data: SendSmsIn, organization) -> dict:
    """The SMS exactly as it will be sent (placeholders filled from the contact and variables)."""
    to = data.to.removeprefix("whatsapp:")
    body = _render(data.body, data.variables, _contact(organization, data.contactId, to))
    content: dict[str, Any] = {"body": body}
    if data.mediaUrls:
        content["media_urls"] = data.mediaUrls
    return {
        "summary": f"SMS to {to}",
        "recipients": 1,
        "items": [{"to": to, "action": "send_sms", "content": content}],
        "more": 0,
    }


def whatsapp_preview(data: SendWhatsAppIn, organization) -> dict:
    to = data.to.removeprefix("whatsapp:")
    if data.contentSid:
        action = "send_template"
        content: dict[str, Any] = {
            "content_sid": data.contentSid,
            "content_variables": data.contentVariables,
        }
    else:
        contact = _contact(organization, data.contactId, to)
        action, content = (
            "send_message",
            {"body": _render(data.body or "", data.variables, contact)},
        )
    return {
        "summary": f"WhatsApp message to {to}",
        "recipients": 1,
        "items": [{"to": to, "action": action, "content": content}],
        "more": 0,
    }


class MessagingAgent(Agent):
    slug = "messaging"
    name = "MessagingAgent"
    version = "1.0.0"
    description = (
        "Sends one SMS or WhatsApp message to one person, with placeholders; the unit of campaigns."
    )

    def preflight_send_sms(self, data: SendSmsIn, *, organization: Organization) -> None:
        checks = Checks("The SMS was not sent")
        for i, url in enumerate(data.mediaUrls):
            public_url(checks, url, field="payload.mediaUrls", label=f"Media URL {i + 1}")
        connector_ready(
            checks,
            organization=organization,
            provider="twilio_sms",
            name=data.connector,
            field="payload.connector",
            purpose="send SMS",
        )
        checks.raise_any()

    def preflight_send_whatsapp(self, data: SendWhatsAppIn, *, organization: Organization) -> None:
        checks = Checks("The WhatsApp message was not sent")
        connector_ready(
            checks,
            organization=organization,
            provider="twilio_whatsapp",
            name=data.connector,
            field="payload.connector",
            purpose="send WhatsApp messages",
        )
        checks.raise_any()

    @intent(
        "send-sms",
        SendSmsIn,
        "Send one SMS through the Twilio SMS connector",
        side_effects=True,
        preview=sms_preview,
    )
    def send_sms(self, ctx: RunContext, data: SendSmsIn) -> dict:
        to = data.to.removeprefix("whatsapp:")
        contact = _contact(ctx.organization, data.contactId, to)
        with ctx.step("render"):
            body = _render(data.body, data.variables, contact)
        handle = ctx.connector("twilio_sms", name=data.connector)
        message: dict[str, Any] = {"to": to, "body": body}
        if data.mediaUrls:
            message["media_urls"] = data.mediaUrls
        result = handle.call("send_sms", message, key=f"sms:{to}", contact=contact)
        ctx.metrics.update(
            segments=result.output.get("segments") or result.output.get("num_segments")
        )
        return _answer(ctx, to, result, handle, contact)

    @intent(
        "send-whatsapp",
        SendWhatsAppIn,
        "Send one WhatsApp message (session text or template)",
        side_effects=True,
        preview=whatsapp_preview,
    )
    def send_whatsapp(self, ctx: RunContext, data: SendWhatsAppIn) -> dict:
        to = data.to.removeprefix("whatsapp:")
        contact = _contact(ctx.organization, data.contactId, to)
        handle = ctx.connector("twilio_whatsapp", name=data.connector)
        if data.contentSid:
            action, message = (
                "send_template",
                {
                    "to": to,
                    "content_sid": data.contentSid,
                    "content_variables": data.contentVariables,
                },
            )
        else:
            with ctx.step("render"):
                action, message = (
                    "send_message",
                    {"to": to, "body": _render(data.body or "", data.variables, contact)},
                )
        result = handle.call(action, message, key=f"whatsapp:{to}", contact=contact)
        return _answer(ctx, to, result, handle, contact)


def _contact(organization, contact_id: UUID | None, to: str):
    """The contact given by id, else the one with this phone number (or none)."""

    if contact_id is None:
        return contact_resolve(organization=organization, channel="sms", address=to)
    contact = Contact.objects.filter(organization=organization, pk=contact_id).first()
    if contact is None:
        raise InvalidInput.for_field(
            "payload.contactId", "unknown contact", summary="No such contact in this organization"
        )
    return contact


def _render(template: str, variables: dict, contact) -> str:
    values: dict[str, Any] = {}
    if contact is not None:
        values.update(
            {
                "name": contact.name,
                "email": contact.email,
                "phone": contact.phone,
                "first_name": (contact.name or "").split(" ")[0],
            }
        )
        values.update(
            {
                k: v
                for k, v in (contact.attributes or {}).items()
                if isinstance(v, str | int | float)
            }
        )
    values.update(variables)
    text, missing = render(template, values)
    if missing:
        raise InvalidInput(
            f"No value for {', '.join(sorted(set(missing)))}",
            details=[
                {"field": f"payload.variables.{name}", "message": "no value for this placeholder"}
                for name in sorted(set(missing))
            ],
        )
    return text


def _answer(ctx: RunContext, to: str, result, handle, contact) -> dict:
    return {
        "jobId": str(ctx.run_id),
        "to": to,
        "messageSid": result.provider_id,
        "status": result.status,
        "cost": str(result.cost),
        **({"wouldCost": str(result.would_cost)} if result.would_cost is not None else {}),
        "sandbox": handle.sandbox,
        "contactId": str(contact.pk) if contact is not None else None,
    }
