"""Reads for triggers, deliveries, schedules and batches.  Every function takes the organization."""

from __future__ import annotations

from django.db.models import QuerySet

from agents.automation.models import Batch, BatchItem, RecurringSchedule, Trigger, WebhookDelivery
from neonhub.core.models import Organization
from neonhub.core.selectors import organization_object_get


def trigger_list(*, organization: Organization) -> QuerySet[Trigger]:
    return (
        Trigger.objects.filter(organization=organization)
        .select_related("connector")
        .order_by("name")
    )


def trigger_get(*, organization: Organization, trigger_id) -> Trigger:
    return organization_object_get(
        Trigger.objects.select_related("connector", "organization"),
        organization=organization,
        pk=trigger_id,
        what="Trigger",
    )


def delivery_list(
    *,
    organization: Organization,
    trigger: Trigger | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[WebhookDelivery]:
    qs = WebhookDelivery.objects.filter(organization=organization)
    if trigger is not None:
        qs = qs.filter(trigger=trigger)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-created_at")[:limit])


def schedule_list(*, organization: Organization) -> QuerySet[RecurringSchedule]:
    return (
        RecurringSchedule.objects.filter(organization=organization)
        .select_related("last_run")
        .order_by("name")
    )


def schedule_get(*, organization: Organization, schedule_id) -> RecurringSchedule:
    return organization_object_get(
        RecurringSchedule.objects.select_related("last_run", "organization"),
        organization=organization,
        pk=schedule_id,
        what="Schedule",
    )


def batch_list(*, organization: Organization, limit: int = 50) -> list[Batch]:
    return list(
        Batch.objects.filter(organization=organization).order_by("-created_at", "-id")[:limit]
    )


def batch_get(*, organization: Organization, batch_id) -> Batch:
    return organization_object_get(
        Batch.objects.select_related("organization", "contact_list"),
        organization=organization,
        pk=batch_id,
        what="Batch",
    )


def batch_items(
    *, batch: Batch, status: str | None = None, after: int = -1, limit: int = 50
) -> list[BatchItem]:
    """A batch's items in input order from ``after`` (keyset on the index)."""
    qs = BatchItem.objects.filter(batch=batch, index__gt=after)
    if status:
        qs = qs.filter(status=status)
    return list(qs.select_related("run").order_by("index")[:limit])
