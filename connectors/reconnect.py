"""Which "Connect with …" flow (re)connects a connector: what its pages and API answer show.

Kept apart from ``connectors.oauth`` so the schemas and pages can name it without importing
the flows (which build on the connector services).
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse

# The target (connectors.oauth.specs.TARGETS) a connector of a provider slug is reconnected with.
TARGET_OF_PROVIDER: dict[str, str] = {
    "facebook_page": "facebook",
    "instagram": "facebook",
    "youtube": "youtube",
    "google_ads": "google_ads",
    "linkedin": "linkedin",
    "tiktok": "tiktok",
    "reddit": "reddit",
}


def linked(connector) -> bool:
    """Whether ``connector`` was connected with a flow (it has an OAuth link)."""
    try:
        connector.oauth_link  # noqa: B018 - the reverse one-to-one raises when absent
    except ObjectDoesNotExist:
        return False
    return True


def reconnect_target(connector) -> str | None:
    """The target a connector is (re)connected with, or None when it has no Connect button
    (a sandbox connector, or a provider no flow connects)."""
    if connector.is_sandbox:
        return None
    if linked(connector):
        return connector.oauth_link.target
    return TARGET_OF_PROVIDER.get(connector.provider)


def start_url(target: str) -> str:
    """The page a Connect (or Reconnect) button POSTs to."""
    return reverse(f"connectors:oauth-start-{target}")


def reconnect_url(connector) -> str | None:
    target = reconnect_target(connector)
    return start_url(target) if target else None
