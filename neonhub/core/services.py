"""Writes for tenancy: organizations, memberships and API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from neonhub.core.errors import InvalidInput
from neonhub.core.models import ApiKey, Membership, Organization, Role

KEY_PREFIX = "nh_"


def hash_secret(secret: str) -> str:
    # API keys carry 256 bits of randomness, so a fast hash is enough (no password stretching).
    return hashlib.sha256(secret.encode()).hexdigest()


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


def api_key_create(
    *,
    organization: Organization,
    name: str,
    role: str = Role.MEMBER,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
    created_by=None,
) -> IssuedKey:
    prefix = KEY_PREFIX + secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = f"{prefix}.{secret}"
    key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=prefix,
        hashed_secret=hash_secret(token),
        role=role,
        scopes=scopes or [],
        expires_at=expires_at,
        created_by=created_by,
    )
    return IssuedKey(api_key=key, token=token)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at", "updated_at"])
    return api_key
