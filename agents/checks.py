"""Pre-run checks ("preflight"): what an intent can know is wrong before a run exists.

An agent's ``preflight_<intent>`` collects problems in a ``Checks`` and raises them together as
one ``InvalidInput`` whose details name each field, so the start form shows every message next
to its field and the API answers 422 without creating a run.  Each check reads the database at
most (a URL's host is resolved, as ``check_public_url`` does for every address an organization
supplies); nothing is sent anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.selectors import brand_resolve
from connectors.health import effective_health
from connectors.http import check_public_url
from connectors.models import Connector, Health
from connectors.registry import get_provider_class
from neonhub.core.errors import InvalidInput, NeonHubError
from neonhub.core.models import Organization

# Connector states a run cannot get past; "rate limited" and "expiring" only make it wait or warn.
BLOCKING = {
    Health.NEEDS_RECONNECT: "needs reconnecting: open it under Connectors and connect it again",
    Health.DISABLED: "was disabled by the provider: open it under Connectors to see why",
}


def provider_label(provider: str) -> str:
    try:
        return get_provider_class(provider).label
    except NeonHubError:
        return provider


class Checks:
    """Problems found before a run: ``add`` them, then ``raise_any``."""

    def __init__(self, summary: str = "The run was not started") -> None:
        self.summary = summary
        self.details: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        if not any(d["field"] == field and d["message"] == message for d in self.details):
            self.details.append({"field": field, "message": message})

    def run(self, check: Callable[[], Any]) -> Any:
        """Call ``check``; an ``InvalidInput`` it raises becomes this list's entries."""
        try:
            return check()
        except InvalidInput as exc:
            for detail in exc.details or [{"field": "payload", "message": exc.message}]:
                field = str(detail.get("field", "payload"))
                if not any(d["field"] == field for d in self.details):  # one message a field
                    self.add(field, str(detail.get("message", "")))
            return None

    def raise_any(self) -> None:
        if self.details:
            messages = " ".join(d["message"] for d in self.details[:5])
            raise InvalidInput(f"{self.summary}: {messages}", details=self.details)


def brand_known(checks: Checks, *, organization: Organization, ref: str | None, field: str) -> None:
    """A brand id or slug that is not one of the organization's brands is refused now."""
    checks.run(lambda: brand_resolve(organization=organization, ref=ref, field=field))
    for detail in checks.details:
        if detail["field"] == field and detail["message"] == "no brand with this id or slug":
            detail["message"] = (
                f"Brand “{ref}” is not one of your brands; choose one from the list."
            )


def public_url(
    checks: Checks, url: str | None, *, field: str, label: str, fetched: bool = True
) -> None:
    """A private, local or unresolvable address is refused now, not by the run.

    ``fetched=False`` is for an address NeonHub only passes on (a post's link): a host that
    does not resolve from here is not refused then, a private one still is.
    """
    if not url:
        return
    try:
        check_public_url(url, field=field)
    except InvalidInput as exc:
        reason = (exc.details or [{}])[0].get("message", "")
        if "private" in reason:
            message = f"{label} points to a private or local address; use a public one."
        elif "unresolvable" in reason:
            if not fetched:
                return
            message = f"{label}: no such host; check the address."
        else:
            message = f"{label} must be a web address starting with http:// or https://."
        checks.add(field, message)


def connector_ready(
    checks: Checks,
    *,
    organization: Organization,
    provider: str,
    name: str | None = None,
    field: str,
    purpose: str = "",
) -> Connector | None:
    """The connector a run would use (``connector_for``'s choice), or a problem naming ``field``.

    Missing, switched off, needing reconnecting or disabled by the provider: each is said in
    words with what to do.  Sandbox connectors are always usable.
    """
    label = provider_label(provider)
    qs = Connector.objects.filter(organization=organization, provider=provider)
    if name:
        qs = qs.filter(name=name)
    found = list(qs.order_by("-enabled", "-updated_at", "-id")[:1])
    need = f" to {purpose}" if purpose else ""
    named = f" named “{name}”" if name else ""
    if not found:
        checks.add(field, f"There is no {label} connector{named}{need}: add one under Connectors.")
        return None
    connector = found[0]
    if not connector.enabled:
        checks.add(
            field,
            f"The {label} connector “{connector.name}” is switched off: switch it on under Connectors.",
        )
        return None
    problem = None if connector.is_sandbox else BLOCKING.get(effective_health(connector))
    if problem:
        checks.add(field, f"The {label} connector “{connector.name}” {problem}.")
        return None
    return connector
