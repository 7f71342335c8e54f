"""Reads for alerts, always within one organization (another's id is a 404)."""

from __future__ import annotations

from django.db.models import QuerySet

from neonhub.alerts.models import AlertDelivery, AlertDestination, AlertRule
from neonhub.core.models import Organization
from neonhub.core.selectors import organization_object_get


def rule_list(*, organization: Organization) -> QuerySet[AlertRule]:
    return (
        AlertRule.objects.filter(organization=organization)
        .select_related("connector")
        .prefetch_related("destinations")
    )


def rule_get(*, organization: Organization, rule_id) -> AlertRule:
    return organization_object_get(
        AlertRule.objects.select_related("organization", "connector").prefetch_related(
            "destinations"
        ),
        organization=organization,
        pk=rule_id,
        what="Alert rule",
    )


def destination_list(*, organization: Organization) -> QuerySet[AlertDestination]:
    return AlertDestination.objects.filter(organization=organization)


def destination_get(*, organization: Organization, destination_id) -> AlertDestination:
    return organization_object_get(
        AlertDestination.objects.select_related("organization"),
        organization=organization,
        pk=destination_id,
        what="Alert destination",
    )


def delivery_list(
    *, organization: Organization, rule: AlertRule | None = None
) -> QuerySet[AlertDelivery]:
    rows = AlertDelivery.objects.filter(organization=organization)
    if rule is not None:
        rows = rows.filter(rule=rule)
    return rows.select_related("destination", "rule").order_by("-created_at", "-id")
