"""Reads for triggers, deliveries, schedules and batches.  Every function takes the organization."""

from __future__ import annotations

from django.db.models import QuerySet

from agents.automation.models import Batch, BatchItem, RecurringSchedule, Trigger, WebhookDelivery
from neonhub.core.errors import NotFound
from neonhub.core.models import Organization
from neonhub.core.pagination import Page, keyset_page
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


def delivery_page(
    *,
    organization: Organization,
    trigger: Trigger | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[WebhookDelivery]:
    """Newest first, keyset on (created_at, id); the indexes are named on WebhookDelivery."""
    qs = WebhookDelivery.objects.filter(organization=organization).select_related("trigger")
    if trigger is not None:
        qs = qs.filter(trigger=trigger)
    if status:
        qs = qs.filter(status=status)
    return keyset_page(qs, cursor=cursor, limit=limit)


def delivery_get(*, organization: Organization, delivery_id) -> WebhookDelivery:
    return organization_object_get(
        WebhookDelivery.objects.select_related("trigger", "connector", "run"),
        organization=organization,
        pk=delivery_id,
        what="Delivery",
    )


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


def batch_page(
    *, organization: Organization, cursor: str | None = None, limit: int = 50
) -> Page[Batch]:
    """Newest first, keyset on (created_at, id) (index batch_org_created)."""
    return keyset_page(Batch.objects.filter(organization=organization), cursor=cursor, limit=limit)


def batch_get(*, organization: Organization, batch_id) -> Batch:
    return organization_object_get(
        Batch.objects.select_related("organization", "contact_list"),
        organization=organization,
        pk=batch_id,
        what="Batch",
    )


# A batch's items in input order: the index is unique within a batch.
BATCH_ITEM_ORDER = ("index",)


def batch_item_page(
    *,
    batch: Batch,
    status: str | None = None,
    cursor: str | None = None,
    after: int | None = None,
    limit: int = 50,
) -> Page[BatchItem]:
    """A batch's items in input order, keyset on the index (the unique (batch, index) index;
    with a status, batchitem_batch_status).  ``after`` is the deprecated form of a cursor."""
    qs = BatchItem.objects.filter(batch=batch).select_related("run")
    if after is not None:
        qs = qs.filter(index__gt=after)
    if status:
        qs = qs.filter(status=status)
    return keyset_page(qs, cursor=cursor, limit=limit, order=BATCH_ITEM_ORDER)


def batch_item_get(*, batch: Batch, index: int) -> BatchItem:
    """One input of a batch (found through its batch, so of its organization)."""
    item = BatchItem.objects.filter(batch=batch, index=index).select_related("run").first()
    if item is None:
        raise NotFound("Input not found")
    return item
