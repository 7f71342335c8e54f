"""Writes for tenancy: organizations, memberships and API keys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from neonhub.core import scopes as scope_set
from neonhub.core.audit import audit_record, changes_between
from neonhub.core.errors import InvalidInput
from neonhub.core.models import ApiKey, Membership, Organization, Role
from neonhub.core.ratelimit import parse_limit
from neonhub.core.tokens import KEY_PREFIX, hash_secret


@transaction.atomic
def organization_create(
    *,
    slug: str,
    name: str,
    timezone_name: str = "UTC",
    owner_email: str | None = None,
    owner_password: str | None = None,
) -> Organization:
    if Organization.objects.filter(slug=slug).exists():
        raise InvalidInput(
            f"An organization with slug {slug!r} already exists", details={"field": "slug"}
        )
    org = Organization(slug=slug, name=name, timezone=timezone_name)
    org.full_clean()
    org.save()
    if owner_email:
        membership_add(
            organization=org, email=owner_email, password=owner_password, role=Role.OWNER
        )
    return org


def membership_add(
    *, organization: Organization, email: str, role: str, password: str | None = None
) -> Membership:
    User = get_user_model()
    user, created = User.objects.get_or_create(username=email, defaults={"email": email})
    if created or password:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    membership, _ = Membership.objects.update_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    return membership


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    token: str  # shown once, never stored


ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}
KEY_AUDITED = ("name", "role", "scopes", "expires_at", "revoked_at", "rate_limit")


def _key_state(key: ApiKey) -> dict:
    return {f: getattr(key, f) for f in KEY_AUDITED}


def _clean_key_fields(
    *, name: str, role: str, scopes: list[str], expires_at: datetime | None, rate_limit: str
) -> tuple[str, list[str], datetime | None, str]:
    name = (name or "").strip()
    if not name:
        raise InvalidInput.for_field("name", "Give the key a name (what uses it)")
    if len(name) > 100:
        raise InvalidInput.for_field("name", "At most 100 characters")
    if role not in ROLE_RANK:
        raise InvalidInput.for_field("role", f"Unknown role {role!r}")
    unknown = [s for s in scopes if s not in scope_set.ALL]
    if unknown:
        raise InvalidInput.for_field("scopes", f"Unknown scope {unknown[0]!r}")
    beyond = [s for s in scopes if not scope_set.role_allows(role, s)]
    if beyond:
        raise InvalidInput.for_field(
            "scopes", f"A {role} key cannot hold {beyond[0]}: choose a higher role or drop it"
        )
    if expires_at is not None and timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at, UTC)  # a time without an offset is UTC
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput.for_field("expires_at", "The expiry must be in the future")
    rate_limit = (rate_limit or "").strip()
    if rate_limit:
        parse_limit(rate_limit)
    # Declaration order, no duplicates: the list reads the same everywhere.
    ordered = [s.name for s in scope_set.SCOPES if s.name in set(scopes)]
    return name, ordered, expires_at, rate_limit


@transaction.atomic
def api_key_create(
    *,
    organization: Organization,
    name: str,
    role: str = Role.MEMBER,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
    rate_limit: str = "",
    created_by=None,
    principal=None,
    request=None,
) -> IssuedKey:
    """A new key; its token is in the answer only.  ``principal`` (the creator, when a person
    or key creates it) may not give it a higher role than their own.  No scopes: every scope
    its role can use."""
    name, scopes, expires_at, rate_limit = _clean_key_fields(
        name=name,
        role=role,
        scopes=list(scopes or []),
        expires_at=expires_at,
        rate_limit=rate_limit,
    )
    if principal is not None and ROLE_RANK[role] > ROLE_RANK.get(principal.role, -1):
        raise InvalidInput.for_field(
            "role", f"You are {principal.role}: a key cannot have a higher role than yours"
        )
    prefix = KEY_PREFIX + secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = f"{prefix}.{secret}"
    key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=prefix,
        hashed_secret=hash_secret(token),
        role=role,
        scopes=scopes,
        expires_at=expires_at,
        rate_limit=rate_limit,
        created_by=created_by,
    )
    audit_record(
        action="api_key.create",
        principal=principal,
        organization=organization,
        target=key,
        changes=changes_between(dict.fromkeys(KEY_AUDITED), _key_state(key)),
        request=request,
    )
    return IssuedKey(api_key=key, token=token)


@transaction.atomic
def api_key_update(
    *, api_key: ApiKey, name: str, rate_limit: str, principal=None, request=None
) -> ApiKey:
    """Rename a key or change its own rate limit (blank: the setting's)."""
    before = _key_state(api_key)
    name, _, _, rate_limit = _clean_key_fields(
        name=name, role=api_key.role, scopes=[], expires_at=None, rate_limit=rate_limit
    )
    api_key.name = name
    api_key.rate_limit = rate_limit
    api_key.save(update_fields=["name", "rate_limit", "updated_at"])
    changes = changes_between(before, _key_state(api_key))
    if changes:
        audit_record(
            action="api_key.update",
            principal=principal,
            organization=api_key.organization,
            target=api_key,
            changes=changes,
            request=request,
        )
    return api_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, principal=None, request=None) -> ApiKey:
    """Revoke a key (its next request answers 401).  Revoking a revoked key changes nothing."""
    if api_key.revoked_at is not None:
        return api_key
    before = _key_state(api_key)
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        action="api_key.revoke",
        principal=principal,
        organization=api_key.organization,
        target=api_key,
        changes=changes_between(before, _key_state(api_key)),
        request=request,
    )
    return api_key
