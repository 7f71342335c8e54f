"""Reads for tenancy."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from neonhub.core import sql
from neonhub.core.errors import NotFound
from neonhub.core.models import ApiKey, Membership, Organization
from neonhub.core.tokens import hash_secret


def api_key_authenticate(*, token: str) -> ApiKey | None:
    prefix, _, _ = token.partition(".")
    if not prefix:
        return None
    # The prefix is unique.  Every API request makes this lookup, and the ORM spent more CPU
    # compiling it than the database spent running it: one plain statement (neonhub.core.sql).
    key = sql.select_one_with(ApiKey, related="organization", where={"prefix": prefix})
    if (
        key is None
        or not key.is_active
        or not hmac.compare_digest(key.hashed_secret, hash_secret(token))
    ):
        return None
    now = timezone.now()
    # Touch last_used_at at most once a minute: a busy key must not write on every request.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def api_key_list(*, organization: Organization) -> QuerySet[ApiKey]:
    """The organization's keys, newest first, with who created them."""
    return (
        ApiKey.objects.filter(organization=organization)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def api_key_get(*, organization: Organization, api_key_id) -> ApiKey:
    return organization_object_get(
        ApiKey.objects.select_related("organization", "created_by"),
        organization=organization,
        pk=api_key_id,
        what="API key",
    )


def membership_list_for_user(*, user) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name")
    )


def membership_get(*, user, organization: Organization) -> Membership | None:
    return Membership.objects.filter(user=user, organization=organization).first()


def organization_object_get(qs: QuerySet, *, organization: Organization, pk, what: str):
    """One row of ``qs`` in the organization; another organization's id is a 404 like an unknown
    one, so nothing is revealed."""
    try:
        return qs.get(organization=organization, pk=pk)
    except qs.model.DoesNotExist:
        raise NotFound(f"{what} not found") from None
