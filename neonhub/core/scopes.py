"""What an API key may touch: the one list of scopes, each with its meaning and the least role
that can use it.

Every API operation needs one scope (``neonhub/api.py`` resolves it when the routers are
mounted: the operation's own ``scope=`` on ``requires``/``scoped``, else its router's read or
write scope).  A bearer key must hold it, or the call answers 403 FORBIDDEN naming the scope;
a browser session is governed by its role only.  A key created without scopes (every key from
before scopes were enforced) passes every scope check and is limited by its role alone, exactly
as before: backwards compatible, and in effect "all the scopes of its role".
"""

from __future__ import annotations

from dataclasses import dataclass

from neonhub.core.models import MANAGE_ROLES, WRITE_ROLES


@dataclass(frozen=True)
class Scope:
    name: str
    group: str
    meaning: str
    level: str  # "read" (any role), "write" (owner, admin, member) or "manage" (owner, admin)


SCOPES: tuple[Scope, ...] = (
    Scope(
        "runs:read", "Runs", "List and read runs, their steps, statistics and the agents", "read"
    ),
    Scope("runs:write", "Runs", "Start, cancel, retry, re-run and reschedule runs", "write"),
    Scope("approvals:write", "Runs", "Approve or reject runs waiting for approval", "manage"),
    Scope("connectors:read", "Connectors", "List connectors and the provider catalog", "read"),
    Scope("connectors:write", "Connectors", "Test connectors and run their actions", "write"),
    Scope("connectors:manage", "Connectors", "Connect, change and delete connectors", "manage"),
    Scope("contacts:read", "Audience", "Read and export contacts and contact lists", "read"),
    Scope(
        "contacts:write",
        "Audience",
        "Create, import, change and delete contacts and lists",
        "write",
    ),
    Scope(
        "automation:read", "Automation", "Read triggers, deliveries, schedules and batches", "read"
    ),
    Scope(
        "automation:write",
        "Automation",
        "Create and change triggers, schedules and batches",
        "write",
    ),
    Scope("calendar:read", "Automation", "Read the publishing calendar", "read"),
    Scope(
        "analytics:read", "Analytics", "Read published posts and their numbers over time", "read"
    ),
    Scope(
        "campaigns:read",
        "Campaigns",
        "Read campaigns and their numbers, templates, segments, A/B tests and sequences",
        "read",
    ),
    Scope(
        "campaigns:write",
        "Campaigns",
        "Create and change campaigns, templates, segments, A/B tests and sequences; enroll contacts",
        "write",
    ),
    Scope(
        "alerts:read",
        "Alerts",
        "Read alert rules, their state, destinations and notifications",
        "read",
    ),
    Scope(
        "alerts:manage",
        "Alerts",
        "Create, change and delete alert rules and destinations; send test notifications",
        "manage",
    ),
    Scope("settings:read", "Organization", "Read the organization's settings", "read"),
    Scope("settings:manage", "Organization", "Change the organization's settings", "manage"),
    Scope("keys:manage", "Organization", "List, create and revoke API keys", "manage"),
    Scope("members:read", "Organization", "Read the members and pending invitations", "read"),
    Scope("members:manage", "Organization", "Invite, change and remove members", "manage"),
)

BY_NAME: dict[str, Scope] = {s.name: s for s in SCOPES}
ALL: frozenset[str] = frozenset(BY_NAME)


def role_allows(role: str, scope: str) -> bool:
    """Whether a key of ``role`` may hold ``scope``."""
    level = BY_NAME[scope].level
    if level == "manage":
        return role in MANAGE_ROLES
    if level == "write":
        return role in WRITE_ROLES
    return True


def scopes_of_role(role: str) -> frozenset[str]:
    return frozenset(s.name for s in SCOPES if role_allows(role, s.name))


def effective_scopes(*, role: str, scopes: list[str] | None) -> frozenset[str]:
    """The scopes a key holds: its recorded ones its role allows, or (none recorded) all of
    them, its role still deciding what it may do."""
    if not scopes:
        return ALL
    return frozenset(s for s in scopes if s in ALL and role_allows(role, s))


def grouped() -> list[tuple[str, list[Scope]]]:
    """The scopes by group, in declaration order (the key form's checkboxes)."""
    groups: dict[str, list[Scope]] = {}
    for s in SCOPES:
        groups.setdefault(s.group, []).append(s)
    return list(groups.items())
