"""Reads for triggers, deliveries, schedules and batches.  Every function takes the organization."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from agents.automation.models import Batch, BatchItem, RecurringSchedule, Trigger, WebhookDelivery
from neonhub.core.errors import NotFound
from neonhub.core.models import Organization


def _get(qs: QuerySet, organization: Organization, pk: uuid.UUID, what: str):
    try:
        return qs.get(organization=organization, pk=pk)
    except qs.model.DoesNotExist:
        raise NotFound(f"{what} not found") from None


def trigger_list(*, organization: Organization) -> QuerySet[Trigger]:
    return (
        Trigger.objects.filter(organization=organization)
        .select_related("connector")
        .order_by("name")
    )


def trigger_get(*, organization: Organization, trigger_id) -> Trigger:
    return _get(
        Trigger.objects.select_related("connector", "organization"),
        organization,
        trigger_id,
        "Trigger",
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
    return _get(
        RecurringSchedule.objects.select_related("last_run", "organization"),
        organization,
        schedule_id,
        "Schedule",
    )


def batch_list(*, organization: Organization, limit: int = 50) -> list[Batch]:
    return list(
        Batch.objects.filter(organization=organization).order_by("-created_at", "-id")[:limit]
    )


def batch_get(*, organization: Organization, batch_id) -> Batch:
    return _get(
        Batch.objects.select_related("organization", "contact_list"),
        organization,
        batch_id,
        "Batch",
    )


def batch_items(
    *, batch: Batch, status: str | None = None, after: int = -1, limit: int = 50
) -> list[BatchItem]:
    """A batch's items in input order from ``after`` (keyset on the index)."""
    qs = BatchItem.objects.filter(batch=batch, index__gt=after)
    if status:
        qs = qs.filter(status=status)
    return list(qs.select_related("run").order_by("index")[:limit])
