"""Twilio Programmable SMS: send a text (or MMS with media) and read its delivery status."""

from __future__ import annotations

from pydantic import Field

from connectors.base import CallResult, MessageKind, Schema, action
from connectors.providers.twilio_common import Phone, TwilioMessaging, WebUrl, price, segments_extra


class SendSmsIn(Schema):
    to: Phone
    body: str = Field(
        min_length=1, max_length=1600, description="Message text; Twilio splits it into segments"
    )
    media_urls: list[WebUrl] = Field(
        default_factory=list,
        max_length=10,
        description="Public media URLs (sends an MMS where supported)",
    )
    status_callback: WebUrl | None = Field(
        default=None, description="URL Twilio posts delivery status to"
    )


class TwilioSms(TwilioMessaging):
    # Sandbox connectors of the `demo` organization (`make run`): well-formed, not real.
    demo_credentials = {
        "account_sid": "AC00000000000000000000000000000000",
        "auth_token": "demo-auth-token",
    }
    demo_config = {"from_number": "+15005550006"}
    slug = "twilio_sms"
    label = "Twilio SMS"
    channel = "sms"
    message_actions = {"send_sms": MessageKind("sms", reply=True)}

    @action(
        "send_sms",
        SendSmsIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Send an SMS (or MMS with media_urls); cost = segments × the SMS segment price",
    )
    def send_sms(self, data: SendSmsIn) -> CallResult:
        extra = segments_extra(data.body)
        return self.send(
            self._form(data), to=data.to, cost=extra["segments"] * price("sms_segment"), extra=extra
        )

    def sandbox(self, action_name: str, data) -> CallResult:
        if action_name == "get_message":
            return self.sandbox_lookup(data)
        extra = segments_extra(data.body)
        return self.sandbox_message(
            to=data.to, body=data.body, cost=extra["segments"] * price("sms_segment"), extra=extra
        )

    @staticmethod
    def _form(data: SendSmsIn) -> list[tuple[str, str]]:
        form = [("Body", data.body)]
        form += [("MediaUrl", url) for url in data.media_urls]
        if data.status_callback:
            form.append(("StatusCallback", data.status_callback))
        return form
