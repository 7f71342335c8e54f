"""What a connector's health is.

Health is stored on the connector when something happens to it (an auth failure, a
rate limit, a passing test).  ``expiring`` depends on the clock as well, so it is worked
out when read: a healthy connector whose token expires within ``EXPIRING_WITHIN`` is shown
as expiring, with no job needed to flip it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from connectors.models import Connector, Health

EXPIRING_WITHIN = timedelta(days=7)


def is_expiring(token_expires_at: datetime | None, *, now: datetime | None = None) -> bool:
    if token_expires_at is None:
        return False
    return token_expires_at <= (now or timezone.now()) + EXPIRING_WITHIN


# A token about to expire is said first, whether the connector was tested yet or not.
EXPIRABLE = (Health.HEALTHY, Health.UNTESTED)


def effective_health(connector: Connector, *, now: datetime | None = None) -> str:
    if connector.health in EXPIRABLE and is_expiring(connector.token_expires_at, now=now):
        return Health.EXPIRING
    return connector.health


def health_filter(health: str, *, now: datetime | None = None) -> Q:
    """The queryset filter matching ``effective_health`` (lists and the admin filter use it)."""
    soon = (now or timezone.now()) + EXPIRING_WITHIN
    expiring = Q(health__in=EXPIRABLE, token_expires_at__lte=soon)
    if health == Health.EXPIRING:
        return expiring | Q(health=Health.EXPIRING)
    if health in EXPIRABLE:
        return Q(health=health) & ~expiring
    return Q(health=health)
