"""The VERP return path of each email: ``<local>+<token>@<domain>`` of the bounce address.

Apart from ``bounces`` (which reads what comes back) so that ``services.message_prepare`` can
use it without an import cycle; ``agents.mail.bounces.return_path_for`` is the same function.
"""

from __future__ import annotations

from django.conf import settings

from agents.mail.models import BounceMailbox, EmailMessage
from neonhub.core.models import Organization


def bounce_address(*, organization: Organization) -> str:
    """The organization's own bounce address, or the installation's (may be empty)."""
    own = (
        BounceMailbox.objects.filter(organization=organization)
        .values_list("bounce_address", flat=True)
        .first()
    )
    return own or settings.NEONHUB_BOUNCE_ADDRESS


def return_path_for(*, organization: Organization, record: EmailMessage) -> str | None:
    """The VERP return path of ``record`` (``local+<token>@domain``), or None when no bounce
    address is configured; ``message["return_path"] = return_path_for(...)`` is all a sender
    needs."""
    return verp_address(bounce_address(organization=organization), record)


def verp_address(address: str, record: EmailMessage) -> str | None:
    """``address`` with ``record``'s token after a ``+``, or None without a usable address."""
    if not address or "@" not in address:
        return None
    local, domain = address.rsplit("@", 1)
    return f"{local.split('+', 1)[0]}+{record.token}@{domain}"
