"""Providers by slug, as dotted paths imported on first use.

Never derive model ``choices`` from this dict: a new provider must not need a migration.
``settings.NEONHUB_EXTRA_PROVIDERS`` (slug → dotted path) adds providers without editing
this file (the test suite registers a provider of its own that way).
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from connectors.base import MessageKind, Provider
from connectors.webhooks import EventSource
from neonhub.core.errors import InvalidInput

PROVIDERS: dict[str, str] = {
    "twilio_sms": "connectors.providers.twilio_sms.TwilioSms",
    "twilio_whatsapp": "connectors.providers.twilio_whatsapp.TwilioWhatsApp",
    "facebook_page": "connectors.providers.facebook_page.FacebookPage",
    "instagram": "connectors.providers.instagram.Instagram",
    "reddit": "connectors.providers.reddit.Reddit",
    "youtube": "connectors.providers.youtube.YouTube",
    "linkedin": "connectors.providers.linkedin.LinkedIn",
    "shopify": "connectors.providers.shopify.Shopify",
    "smtp_email": "connectors.providers.smtp_email.SmtpEmail",
    "openai_compatible": "connectors.providers.openai_compatible.OpenAICompatible",
    "tiktok": "connectors.providers.tiktok.TikTok",
    "google_ads": "connectors.providers.google_ads.GoogleAds",
}


def all_paths() -> dict[str, str]:
    return {**PROVIDERS, **getattr(settings, "NEONHUB_EXTRA_PROVIDERS", {})}


@cache
def _load(slug: str, path: str) -> type[Provider]:
    try:
        cls = import_string(path)
    except ImportError as exc:
        # A registry entry whose module is missing or broken is a deployment error: say which.
        raise ImproperlyConfigured(
            f"Provider {slug!r} is registered as {path} but cannot be imported: {exc}"
        ) from exc
    if (
        not (isinstance(cls, type) and issubclass(cls, Provider))
        or getattr(cls, "slug", None) != slug
    ):
        raise ImproperlyConfigured(f"{path} is not a Provider with slug {slug!r}")
    return cls


def get_provider_class(slug: str) -> type[Provider]:
    paths = all_paths()
    if slug not in paths:
        known = ", ".join(sorted(paths))
        raise InvalidInput.for_field(
            "provider",
            f"expected one of: {known}",
            summary=f"Unknown provider {slug!r}; known providers: {known}",
        )
    return _load(slug, paths[slug])


def all_provider_classes() -> list[type[Provider]]:
    return [get_provider_class(slug) for slug in sorted(all_paths())]


# --- what the providers declare, looked up across them --------------------------------------


def message_kind(provider: str, action: str) -> MessageKind | None:
    """Whether ``provider``'s ``action`` sends a message to a person, and on which channel."""
    if provider not in all_paths():
        return None
    return get_provider_class(provider).message_actions.get(action)


def providers_of(channel: str) -> list[str]:
    """The providers with an action that sends a message on ``channel``."""
    return [
        cls.slug
        for cls in all_provider_classes()
        if any(kind.channel == channel for kind in cls.message_actions.values())
    ]


def reply_action(channel: str) -> tuple[str, str] | None:
    """(provider, action) an answer to an inbound message on ``channel`` is sent with; the first
    provider by slug when several could."""
    for cls in all_provider_classes():
        for name, kind in cls.message_actions.items():
            if kind.channel == channel and kind.reply:
                return cls.slug, name
    return None


def webhook_sources() -> dict[str, tuple[str, EventSource]]:
    """Every event source of every provider: "<slug>.<event>" → (slug, its label and mapping)."""
    return {
        source: (cls.slug, event)
        for cls in all_provider_classes()
        for source, event in cls.webhook_sources().items()
    }
