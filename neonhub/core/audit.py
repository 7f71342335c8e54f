"""The audit log: every change to an organization's set-up, with who, what, when and where from.

Services that change members, API keys, connectors, triggers, schedules, settings or approvals
call ``audit_record`` in the same transaction as the change, so a change is never recorded
without happening or the other way round.  Secrets never reach it: ``changes_between`` masks
the fields it is told are secret, and callers pass field names, not credential values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.db import models
from django.http import HttpRequest

from neonhub.core.clientip import client_address
from neonhub.core.models import AuditEvent, Organization
from neonhub.core.pagination import Page, keyset_page

if TYPE_CHECKING:
    from neonhub.core.auth import Principal

MASK = "••••"
SYSTEM = "system"


def actor_of(principal: Principal | None) -> str:
    """How the one who acted is shown: their email (or user name), an API key, or "system"."""
    if principal is None:
        return SYSTEM
    if principal.api_key is not None:
        key = principal.api_key
        return f"API key {key.name} ({key.prefix}…)"[:200]
    user = principal.user
    if user is None:
        return SYSTEM
    return (getattr(user, "email", "") or user.get_username())[:200]


def audit_record(
    *,
    action: str,
    principal: Principal | None = None,
    organization: Organization | None = None,
    target: models.Model | None = None,
    target_label: str = "",
    changes: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Record one change.  ``action`` is "<area>.<verb>" (``connector.update``, ``member.remove``).

    ``principal`` is who acted (None: the system, e.g. the watchdog), ``organization`` defaults
    to the principal's, ``target`` is the changed row (its model name, id and ``str()`` are
    kept as plain text), ``changes`` what changed (see ``changes_between``), ``request`` gives
    the client address (behind the configured proxies, ``neonhub.core.clientip``).
    """
    organization = organization or (principal.organization if principal else None)
    if organization is None:
        raise ValueError("audit_record needs an organization or a principal")
    user = principal.user if principal is not None and principal.api_key is None else None
    return AuditEvent.objects.create(
        organization=organization,
        actor_user=user if getattr(user, "pk", None) else None,
        actor=actor_of(principal),
        action=action[:64],
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=(target_label or (str(target) if target is not None else ""))[:200],
        changes=dict(changes or {}),
        ip_address=client_address(request) or None if request is not None else None,
    )


def changes_between(
    before: Mapping[str, Any], after: Mapping[str, Any], *, secret: Iterable[str] = ()
) -> dict[str, list]:
    """``{field: [old, new]}`` for the fields whose value changed; secret fields show as masked.

    Values are made JSON-safe with ``str`` where they are not plain JSON types.
    """
    hidden = set(secret)
    out: dict[str, list] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name in hidden:
            out[name] = [MASK if old else None, MASK if new else None]
        else:
            out[name] = [_plain(old), _plain(new)]
    return out


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def audit_page(
    *, organization: Organization, cursor: str | None = None, limit: int = 50
) -> Page[AuditEvent]:
    """An organization's audit events, newest first (index ``audit_org_created``)."""
    qs = AuditEvent.objects.filter(organization=organization).select_related("actor_user")
    return keyset_page(qs, cursor=cursor, limit=limit)


def change_lines(changes: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``changes`` as a person reads them: ``(field in words, before, after)``, values as words
    (Yes/No, lists joined, "–" for nothing) rather than Python's or JSON's spelling."""
    lines = []
    for name, values in (changes or {}).items():
        label = name.replace("_", " ").strip().capitalize()
        if isinstance(values, list) and len(values) == 2:
            lines.append((label, _word(values[0]), _word(values[1])))
        else:
            lines.append((label, "", _word(values)))
    return lines


def _word(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(_word(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_word(v)}" for k, v in value.items())
    return str(value)
