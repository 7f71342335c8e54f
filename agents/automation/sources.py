"""What can start a trigger: every event source the providers declare, and the generic signed
webhook.  Read from the provider registry, never from model choices, so a provider that adds
an event needs no migration.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.registry import webhook_sources

# A trigger of its own, with its own URL and signing secret (Standard Webhooks), for any sender.
GENERIC = "generic"
GENERIC_LABEL = "Signed webhook (any sender)"


def trigger_sources() -> dict[str, str]:
    """Every source a trigger may have → its label, the generic webhook last."""
    found = {source: event.label for source, (_, event) in sorted(webhook_sources().items())}
    return {**found, GENERIC: GENERIC_LABEL}


def source_label(source: str) -> str:
    return trigger_sources().get(source, source)


def source_provider(source: str) -> str | None:
    """The provider whose connector a source's trigger may be tied to (None: generic)."""
    found = webhook_sources().get(source)
    return found[0] if found else None


def default_mapping(source: str) -> Mapping[str, str]:
    """The run's payload mapping when the trigger has none ({}: the event is the payload)."""
    found = webhook_sources().get(source)
    return found[1].default_mapping if found else {}
