"""WhatsApp through Twilio's Messages API.

Inside the 24-hour customer service window (since the person last wrote) any session
message may be sent; outside it only an approved template, sent by its Content SID
(``HX…``) with ``ContentVariables``.  Twilio answers a session message outside the window
with error 63016.  Addresses take the ``whatsapp:+E164`` form.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from connectors.addresses import phone_e164
from connectors.base import CallResult, MessageKind, Schema, action
from connectors.providers.twilio_common import (
    E164,
    TwilioMessaging,
    WebUrl,
    content_variables,
    price,
)

# People paste either form; Twilio needs the prefix, our suppression list the bare number.
WhatsAppNumber = Annotated[
    str,
    BeforeValidator(
        lambda value: value.strip().removeprefix("whatsapp:") if isinstance(value, str) else value
    ),
    Field(pattern=E164, description="E.164 number, with or without the whatsapp: prefix"),
    AfterValidator(phone_e164),
]


class SendMessageIn(Schema):
    to: WhatsAppNumber
    body: str = Field(min_length=1, max_length=1600, description="Session message text")
    media_urls: list[WebUrl] = Field(
        default_factory=list,
        max_length=1,
        description="One public media URL (WhatsApp takes one per message)",
    )
    status_callback: WebUrl | None = None


class SendTemplateIn(Schema):
    to: WhatsAppNumber
    content_sid: str = Field(
        pattern=r"^HX[0-9a-fA-F]{32}$", description="Approved Content template SID (HX…)"
    )
    content_variables: dict[str, str] = Field(
        default_factory=dict, description='Placeholder values, e.g. {"1": "Ada", "2": "Friday"}'
    )
    status_callback: WebUrl | None = None


class TwilioWhatsApp(TwilioMessaging):
    # Sandbox connectors of the `demo` organization (`make run`): well-formed, not real.
    demo_credentials = {
        "account_sid": "AC00000000000000000000000000000000",
        "auth_token": "demo-auth-token",
    }
    demo_config = {"from_number": "+15005550006"}
    slug = "twilio_whatsapp"
    label = "Twilio WhatsApp"
    channel = "whatsapp"
    address_prefix = "whatsapp:"
    # A session message only inside the 24-hour window; a template at any time.
    message_actions = {
        "send_message": MessageKind("whatsapp", session=True, reply=True),
        "send_template": MessageKind("whatsapp"),
    }

    @action(
        "send_message",
        SendMessageIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Send a session message (only within 24 hours of the person's last message)",
    )
    def send_message(self, data: SendMessageIn) -> CallResult:
        form = [("Body", data.body), *[("MediaUrl", url) for url in data.media_urls]]
        return self.send(
            form + _callback(data), to=data.to, cost=price("whatsapp_message"), extra={}
        )

    @action(
        "send_template",
        SendTemplateIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Send an approved template by Content SID, allowed outside the 24-hour window",
    )
    def send_template(self, data: SendTemplateIn) -> CallResult:
        form = [("ContentSid", data.content_sid)]
        if data.content_variables:
            form.append(("ContentVariables", content_variables(data.content_variables)))
        extra = {"content_sid": data.content_sid}
        return self.send(
            form + _callback(data), to=data.to, cost=price("whatsapp_message"), extra=extra
        )

    def sandbox(self, action_name: str, data) -> CallResult:
        if action_name == "get_message":
            return self.sandbox_lookup(data)
        if action_name == "send_template":
            body = f"[template {data.content_sid}] {content_variables(data.content_variables)}"
            extra = {"content_sid": data.content_sid}
        else:
            body, extra = data.body, {}
        return self.sandbox_message(
            to=data.to, body=body, cost=price("whatsapp_message"), extra=extra
        )


def _callback(data: SendMessageIn | SendTemplateIn) -> list[tuple[str, str]]:
    return [("StatusCallback", data.status_callback)] if data.status_callback else []
