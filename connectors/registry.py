"""Providers by slug, as dotted paths imported on first use.

Never derive model ``choices`` from this dict: a new provider must not need a migration.
"""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from connectors.base import Provider
from neonhub.core.errors import InvalidInput

PROVIDERS: dict[str, str] = {
    "twilio_sms": "connectors.providers.twilio_sms.TwilioSms",
    "twilio_whatsapp": "connectors.providers.twilio_whatsapp.TwilioWhatsApp",
    "facebook_page": "connectors.providers.facebook_page.FacebookPage",
    "instagram": "connectors.providers.instagram.Instagram",
    "reddit": "connectors.providers.reddit.Reddit",
    "youtube": "connectors.providers.youtube.YouTube",
    "smtp_email": "connectors.providers.smtp_email.SmtpEmail",
    "openai_compatible": "connectors.providers.openai_compatible.OpenAICompatible",
}


@cache
def get_provider_class(slug: str) -> type[Provider]:
    if slug not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise InvalidInput(f"Unknown provider {slug!r}; known providers: {known}",
                           details=[{"field": "provider", "message": f"expected one of: {known}"}])
    return import_string(PROVIDERS[slug])


def all_provider_classes() -> list[type[Provider]]:
    return [get_provider_class(slug) for slug in sorted(PROVIDERS)]
