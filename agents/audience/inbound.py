"""Messages people send us (SMS, WhatsApp): kept for the conversation and WhatsApp's window,
and their opt-out and opt-in keywords honoured."""

from __future__ import annotations

from agents.audience.compliance import contact_resolve, keyword_honour
from agents.audience.models import InboundMessage
from connectors.addresses import normalize_address
from connectors.models import Connector
from connectors.webhooks import MessageReceived
from neonhub.core.errors import InvalidInput


def inbound_message_record(*, connector: Connector, message: MessageReceived) -> None:
    """Keep the inbound message (WhatsApp's window, the contact's timeline) and honour keywords.

    Opt-out keywords suppress the number and opt-in keywords lift it here, whether or not a
    trigger answers the message: the suppression list must not depend on configuration.
    """
    channel = message.channel
    try:
        address = normalize_address(channel=channel, address=message.sender)
    except InvalidInput:
        return
    organization = connector.organization
    contact = contact_resolve(organization=organization, channel=channel, address=address)
    body = message.body
    InboundMessage.objects.create(
        organization=organization,
        connector=connector,
        contact=contact,
        channel=channel,
        address=address,
        provider_id=message.provider_id[:64],
        body=body[:1600],
    )
    keyword_honour(organization=organization, channel=channel, address=address, body=body)
