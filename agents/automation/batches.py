"""Batches: one intent over many inputs, fed in chunks within the organization's in-flight limit.

Inputs come from a CSV upload (columns mapped to payload fields), a JSON list (written to a
JSON Lines file at creation) or a contact list.  The feeder (``batch_feed``, a django-q2
task) holds the batch row locked while it:

1. counts the items whose runs finished (only items still ``queued`` are looked at);
2. pauses the batch, with the reason, if its failure rate passed the threshold;
3. reads the next inputs from ``feed_cursor`` (a byte offset, or the last list membership
   id), creates their items and runs, and moves the cursor, all in one transaction.

A crash anywhere rolls back to the last committed chunk; each run's idempotency key is
``batch:<id>:<index>`` and its message's outbox key is made from the run, so a resumed
feeder or a re-executed run never sends twice.  Each run's ``batch_id`` names its batch.  A run that finishes nudges the feeder; the
minute task nudges batches whose nudge was lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from agents.audience.models import ContactList, ContactListMembership
from agents.automation.mapping import apply_mapping, mapping_validate
from agents.automation.models import Batch, BatchItem, BatchSource, BatchStatus, ItemStatus
from agents.registry import get_agent
from agents.segments.selectors import segment_count
from agents.segments.services import segment_freeze
from agents.services import run_cancel, run_start
from neonhub.core.csvio import (
    RecordError,
    csv_header,
    csv_records,
    jsonl_records,
    open_stored,
    store_jsonl,
    store_upload,
)
from neonhub.core.errors import Conflict, InvalidInput, NeonHubError
from neonhub.core.models import Organization
from neonhub.core.queue import enqueue
from runs.models import ACTIVE_STATUSES, TERMINAL_STATUSES, AgentRun, RunStatus
from runs.models import Trigger as RunTrigger

logger = logging.getLogger(__name__)

FEED_CHUNK = 200
SYNC_LIMIT = 5000
MAX_JSON_ITEMS = 100_000
STALE_NUDGE = timedelta(seconds=60)
ITEM_STATUS_OF = {
    RunStatus.COMPLETED: ItemStatus.COMPLETED,
    RunStatus.FAILED: ItemStatus.FAILED,
    RunStatus.CANCELLED: ItemStatus.CANCELLED,
}
COUNTER_OF = {
    ItemStatus.COMPLETED: "done",
    ItemStatus.FAILED: "failed",
    ItemStatus.CANCELLED: "cancelled",
}
# Without a mapping, a contact list feeds MessagingAgent like this.
CONTACT_DEFAULT_MAPPING = {"to": "phone", "contactId": "id"}


# --- creating ---------------------------------------------------------------------------------


def _check_first(batch: Batch, intent: str, payload: dict, where: str) -> None:
    """The first input must make a valid payload that passes the intent's pre-run checks (a
    connector for its channel, public URLs), or every input would fail: say so now.  Later
    inputs are checked as each is started; one that fails is that item's failure."""
    impl = get_agent(batch.agent)
    try:
        impl.preflight(intent, impl.validate(intent, payload), organization=batch.organization)
    except InvalidInput as exc:
        raise InvalidInput(
            f"{where} does not make a valid payload: {exc.message}", details=exc.details
        ) from None


def _new_batch(
    organization: Organization,
    *,
    name: str,
    agent: str,
    intent: str,
    source: str,
    defaults: Any,
    mapping: dict,
    created_by,
    campaign=None,
) -> Batch:
    impl = get_agent(agent)
    impl.get_intent(intent)
    if not isinstance(defaults, dict):
        raise InvalidInput.for_field("defaults", "must be an object")
    return Batch(
        organization=organization,
        name=(name or f"{impl.slug}/{intent}")[:200],
        agent=impl.slug,
        intent=intent,
        source=source,
        defaults=defaults,
        mapping=mapping,
        created_by=created_by,
        campaign=campaign,
    )


def batch_create_json(
    *,
    organization: Organization,
    name: str,
    agent: str,
    intent: str,
    items: list,
    defaults: dict | None = None,
    mapping: dict | None = None,
    created_by=None,
    campaign=None,
) -> Batch:
    """A batch over a list of payloads (objects), written to a JSON Lines file as they are read."""
    if not isinstance(items, list) or not items:
        raise InvalidInput.for_field("items", "a non-empty list of objects")
    if len(items) > MAX_JSON_ITEMS:
        raise InvalidInput.for_field(
            "items", f"at most {MAX_JSON_ITEMS} items; upload a CSV for more"
        )
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInput.for_field(f"items.{i}", "must be an object")
    mapping = mapping_validate(mapping or {})
    batch = _new_batch(
        organization,
        name=name,
        agent=agent,
        intent=intent,
        source=BatchSource.JSON,
        defaults=defaults or {},
        mapping=mapping,
        created_by=created_by,
        campaign=campaign,
    )
    _check_first(batch, intent, payload_of(batch, items[0]), "items.0")
    batch.source_file.name = store_jsonl(folder=f"batches/{organization.pk}", items=items)
    batch.total = len(items)
    return _start(batch)


def batch_create_csv(
    *,
    organization: Organization,
    name: str,
    agent: str,
    intent: str,
    upload,
    mapping: dict | None = None,
    defaults: dict | None = None,
    created_by=None,
    campaign=None,
) -> Batch:
    """A batch over a CSV upload; ``mapping`` is payload field → column (default: same names)."""
    batch = _new_batch(
        organization,
        name=name,
        agent=agent,
        intent=intent,
        source=BatchSource.CSV,
        defaults=defaults or {},
        mapping=mapping_validate(mapping or {}),
        created_by=created_by,
        campaign=campaign,
    )
    batch.source_file.name = store_upload(
        folder=f"batches/{organization.pk}", upload=upload, limit=settings.NEONHUB_MAX_UPLOAD_BYTES
    )
    try:
        batch.total, first = _csv_scan(batch)
        if not batch.mapping:
            batch.mapping = {column: column for column in first}
        _check_first(batch, intent, payload_of(batch, first), "Row 1")
    except InvalidInput:
        batch.source_file.delete(save=False)
        raise
    return _start(batch)


def _csv_scan(batch: Batch) -> tuple[int, dict]:
    """Count the rows (streamed) and check the mapped columns exist; answers (rows, first row)."""
    with open_stored(batch.source_file.name) as stream:
        columns, offset = csv_header(stream)
        missing = sorted({c for c in batch.mapping.values() if c not in columns})
        if missing:
            raise InvalidInput.for_field(
                "mapping",
                f"no column named {', '.join(missing)} in the CSV (it has {', '.join(columns)})",
            )
        count, first = 0, None
        try:
            for record, _ in csv_records(stream, columns=columns, offset=offset):
                count += 1
                first = first or record
        except RecordError as exc:
            where = "" if exc.field == "row" else f" ({exc.field})"
            raise InvalidInput.for_field("file", f"row {exc.row}{where}: {exc}") from None
    if not count:
        raise InvalidInput.for_field("file", "the CSV has no data rows")
    return count, first


def batch_create_list(
    *,
    organization: Organization,
    name: str,
    agent: str,
    intent: str,
    contact_list: ContactList,
    mapping: dict | None = None,
    defaults: dict | None = None,
    created_by=None,
    campaign=None,
    source: str = BatchSource.CONTACT_LIST,
) -> Batch:
    """A batch over a contact list; ``mapping`` is payload field → contact field (id, name, phone, …)."""
    mapping = mapping_validate(mapping or {}) or CONTACT_DEFAULT_MAPPING
    batch = _new_batch(
        organization,
        name=name,
        agent=agent,
        intent=intent,
        source=source,
        defaults=defaults or {},
        mapping=mapping,
        created_by=created_by,
        campaign=campaign,
    )
    batch.contact_list = contact_list
    first = contact_list.memberships.select_related("contact").order_by("id").first()
    if first is None:
        raise InvalidInput.for_field("contact_list_id", "the list has no contacts")
    _check_first(
        batch, intent, payload_of(batch, contact_record(first.contact)), "The first contact"
    )
    batch.total = contact_list.memberships.count()
    return _start(batch)


def batch_create_segment(*, organization: Organization, segment, **common: Any) -> Batch:
    """A batch over a segment: its matches now are frozen into a new contact list ("<segment> —
    <date time>") and the batch runs over that list as a list batch does.  Nothing is kept if
    the batch cannot start (no one matches, or the first contact makes no valid payload)."""
    if segment.organization_id != organization.pk:
        raise InvalidInput.for_field("segment_id", "no such segment in this organization")
    if not segment_count(segment=segment):
        raise InvalidInput.for_field("segment_id", "no contact matches the segment now")
    with transaction.atomic():
        contact_list = segment_freeze(segment=segment)
        return batch_create_list(
            organization=organization,
            contact_list=contact_list,
            source=BatchSource.SEGMENT,
            **common,
        )


def _start(batch: Batch) -> Batch:
    with transaction.atomic():
        batch.feed_pending, batch.feed_requested_at = True, timezone.now()
        batch.save()
        _enqueue(batch.pk)
    logger.info(
        "batch %s created: %s inputs for %s/%s", batch.pk, batch.total, batch.agent, batch.intent
    )
    return batch


# --- payloads ---------------------------------------------------------------------------------


def contact_record(contact) -> dict:
    attributes = contact.attributes or {}
    return {
        **attributes,
        "id": str(contact.pk),
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "timezone": contact.timezone,
        "tags": contact.tags,
        "attributes": attributes,
        "first_name": (contact.name or "").split(" ")[0],
    }


def payload_of(batch: Batch, record: Any) -> dict:
    if batch.source == BatchSource.JSON and not batch.mapping:
        return {**batch.defaults, **record}
    return apply_mapping(record, batch.mapping, batch.defaults)


# --- feeding ----------------------------------------------------------------------------------


def _enqueue(batch_id) -> None:
    """A feeder run, sent by the kernel's rule (in the caller's transaction with the ORM broker)."""
    enqueue("agents.automation.tasks.batch_feed", str(batch_id), group="batches")


def batch_nudge(*, batch_id) -> bool:
    """Ask for a feeder run unless one is already asked for; answers whether one was enqueued."""
    # Most finishing runs find a feeder already asked for: a read, not a write lock, tells them.
    if not Batch.objects.filter(pk=batch_id, feed_pending=False).exists():
        return False
    with transaction.atomic():
        changed = (
            Batch.objects.filter(pk=batch_id, feed_pending=False)
            .exclude(status=BatchStatus.COMPLETED)
            .update(feed_pending=True, feed_requested_at=timezone.now())
        )
        if changed:
            _enqueue(batch_id)
    return bool(changed)


def batch_run_finished(*, run: AgentRun | None = None, run_id=None, **kwargs: Any) -> None:
    """Subscribed to ``runs.hooks.run_finished``: a batch run that finished frees a place in
    its organization's in-flight limit, so its feeder runs again.

    The worker passes the run it just finished (no query); ``run_id`` reads it.
    """
    if run is None:
        run = AgentRun.objects.filter(pk=run_id).only("batch_id", "status").first()
    if run is None or run.batch_id is None or run.status not in TERMINAL_STATUSES:
        return
    batch_nudge(batch_id=run.batch_id)


def org_in_flight(organization_id) -> int:
    # A scheduled run (waiting for a chosen time, AgentRun.is_scheduled) holds no place.
    return (
        AgentRun.objects.filter(organization_id=organization_id, status__in=ACTIVE_STATUSES)
        .not_scheduled()
        .count()
    )


def batch_feed(*, batch_id) -> dict:
    """One feeder pass (see the module docstring); answers what it did."""
    with transaction.atomic():
        batch = (
            Batch.objects.select_for_update(of=("self",))
            .select_related("organization")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None:
            return {"gone": True}
        batch.feed_pending = False
        finished = batch_sync(batch)
        fed = 0
        if batch.status == BatchStatus.RUNNING:
            _check_failure_rate(batch)
        if batch.status == BatchStatus.RUNNING and not batch.fed_all:
            limit = settings.NEONHUB_ORG_MAX_IN_FLIGHT
            # 0 switches the limit off: the feeder still goes a chunk at a time.
            room = limit - org_in_flight(batch.organization_id) if limit > 0 else FEED_CHUNK
            if room > 0:
                fed = _feed(batch, min(room, FEED_CHUNK))
        _maybe_complete(batch)
        batch.save()
    return {"finished": finished, "fed": fed, "status": batch.status}


def batch_sync(batch: Batch) -> int:
    """Move items whose runs finished to their final status and count them on the batch."""
    rows = list(
        BatchItem.objects.filter(batch=batch, status=ItemStatus.QUEUED)
        .filter(run__status__in=list(TERMINAL_STATUSES))
        .values_list("id", "run__status", "run__error_message")[:SYNC_LIMIT]
    )
    lost = list(
        BatchItem.objects.filter(
            batch=batch, status=ItemStatus.QUEUED, run__isnull=True
        ).values_list("id", flat=True)[:SYNC_LIMIT]
    )
    by_status: dict[str, list[int]] = {}
    for pk, run_status, _ in rows:
        by_status.setdefault(ITEM_STATUS_OF[run_status], []).append(pk)
    for status, ids in by_status.items():
        BatchItem.objects.filter(pk__in=ids).update(status=status)
    failed_errors = [
        (pk, message) for pk, status, message in rows if status == RunStatus.FAILED and message
    ]
    for pk, message in failed_errors[:500]:
        BatchItem.objects.filter(pk=pk).update(error=message[:500])
    if lost:
        BatchItem.objects.filter(pk__in=lost).update(
            status=ItemStatus.FAILED, error="The run was deleted"
        )
        by_status.setdefault(ItemStatus.FAILED, []).extend(lost)
    for status, ids in by_status.items():
        setattr(batch, COUNTER_OF[status], getattr(batch, COUNTER_OF[status]) + len(ids))
    return sum(len(ids) for ids in by_status.values())


def _check_failure_rate(batch: Batch) -> None:
    finished = batch.done + batch.failed - batch.rate_base_finished
    failed = batch.failed - batch.rate_base_failed
    threshold = settings.NEONHUB_BATCH_FAILURE_THRESHOLD
    if finished >= settings.NEONHUB_BATCH_FAILURE_MIN and failed / finished > threshold:
        batch.status = BatchStatus.PAUSED
        batch.pause_reason = (
            f"Paused automatically: {failed} of {finished} finished inputs failed "
            f"({failed / finished:.0%}, above the {threshold:.0%} threshold). Check the failed "
            "runs, fix the cause, then resume."
        )
        logger.warning("batch %s paused: failure rate %.0f%%", batch.pk, 100 * failed / finished)


def _feed(batch: Batch, limit: int) -> int:
    records = (
        _contact_records(batch, limit)
        if batch.source in (BatchSource.CONTACT_LIST, BatchSource.SEGMENT)
        else _file_records(batch, limit)
    )
    items = []
    for offset, (record, cursor) in enumerate(records):
        items.append(_start_item(batch, batch.fed + offset, record))
        batch.feed_cursor = cursor
    BatchItem.objects.bulk_create(items)
    batch.fed += len(items)
    if len(items) < limit and batch.status == BatchStatus.RUNNING:
        batch.fed_all = True
        batch.total = batch.fed  # a list may have changed since the batch was created
    return len(items)


def _file_records(batch: Batch, limit: int) -> list[tuple[Any, int]]:
    out: list[tuple[Any, int]] = []
    with open_stored(batch.source_file.name) as stream:
        if batch.source == BatchSource.JSON:
            records = jsonl_records(stream, offset=batch.feed_cursor)
        else:
            columns, header_end = csv_header(stream)
            records = csv_records(
                stream,
                columns=columns,
                offset=max(batch.feed_cursor, header_end),
                first_row=batch.fed + 1,
            )
        try:
            for record in records:
                out.append(record)
                if len(out) >= limit:
                    break
        except RecordError as exc:  # checked at creation; a file changed since is a hard stop
            batch.status, batch.pause_reason = (
                BatchStatus.PAUSED,
                f"Row {exc.row} cannot be read: {exc}"[:300],
            )
    return out


def _contact_records(batch: Batch, limit: int) -> list[tuple[Any, int]]:
    if batch.contact_list_id is None:
        return []
    members = (
        ContactListMembership.objects.filter(
            contact_list_id=batch.contact_list_id, id__gt=batch.feed_cursor
        )
        .select_related("contact")
        .order_by("id")[:limit]
    )
    return [(contact_record(m.contact), m.pk) for m in members]


def _start_item(batch: Batch, index: int, record: Any) -> BatchItem:
    payload = payload_of(batch, record) if isinstance(record, dict) else {}
    item = BatchItem(batch=batch, index=index, input=payload)
    try:
        item.run, _ = run_start(
            organization=batch.organization,
            agent=batch.agent,
            intent=batch.intent,
            payload=payload,
            trigger=RunTrigger.BATCH,
            idempotency_key=f"batch:{batch.pk}:{index}",
            created_by=batch.created_by,
            batch_id=batch.pk,
            campaign_id=batch.campaign_id,
        )
    except NeonHubError as exc:
        item.status, item.error = ItemStatus.FAILED, exc.message[:500]
        batch.failed += 1
    return item


def _maybe_complete(batch: Batch) -> None:
    """All fed and none in flight: completed.  With none in flight, a batch that is not feeding
    (paused, cancelled, completed) needs no nudges from the minute sweep."""
    waiting = batch.status == BatchStatus.RUNNING and not batch.fed_all
    if waiting or batch.status == BatchStatus.COMPLETED:
        return
    if BatchItem.objects.filter(batch=batch, status=ItemStatus.QUEUED).exists():
        return
    batch.feed_requested_at = None
    if batch.fed_all and batch.status in (BatchStatus.RUNNING, BatchStatus.PAUSED):
        batch.status, batch.finished_at = BatchStatus.COMPLETED, timezone.now()
        logger.info("batch %s completed: %s done, %s failed", batch.pk, batch.done, batch.failed)
    if batch.status in (BatchStatus.COMPLETED, BatchStatus.CANCELLED) and batch.source_file:
        # Nothing will read it again, and each item keeps its own input.
        transaction.on_commit(lambda name=batch.source_file.name: default_storage.delete(name))


# --- pause, resume, cancel ------------------------------------------------------------------


def _locked(batch: Batch) -> Batch:
    return Batch.objects.select_for_update().get(pk=batch.pk)


def batch_pause(*, batch: Batch, reason: str = "Paused by a person") -> Batch:
    """Stop feeding new inputs; runs already queued finish."""
    with transaction.atomic():
        batch = _locked(batch)
        if batch.status != BatchStatus.RUNNING:
            raise Conflict(f"Only a running batch can be paused; this one is {batch.status}")
        batch.status, batch.pause_reason = BatchStatus.PAUSED, reason[:300]
        batch.save(update_fields=["status", "pause_reason", "updated_at"])
    return batch


def batch_resume(*, batch: Batch) -> Batch:
    """Feed again; the failure rate is measured afresh from here."""
    with transaction.atomic():
        batch = _locked(batch)
        if batch.status != BatchStatus.PAUSED:
            raise Conflict(f"Only a paused batch can be resumed; this one is {batch.status}")
        batch.status, batch.pause_reason = BatchStatus.RUNNING, ""
        batch.rate_base_finished, batch.rate_base_failed = batch.done + batch.failed, batch.failed
        batch.feed_pending, batch.feed_requested_at = True, timezone.now()
        batch.save()
        _enqueue(batch.pk)
    return batch


def batch_cancel(*, batch: Batch) -> Batch:
    """Stop for good: nothing more is fed, queued runs are cancelled, running ones stop at their next step."""

    with transaction.atomic():
        batch = _locked(batch)
        if batch.status in (BatchStatus.COMPLETED, BatchStatus.CANCELLED):
            raise Conflict(f"The batch is already {batch.status}")
        batch.status, batch.finished_at = BatchStatus.CANCELLED, timezone.now()
        batch.pause_reason = "Cancelled by a person"
        batch.save()
    # The run_batch_status index: the batch's runs still queued or running.
    runs = AgentRun.objects.filter(batch_id=batch.pk, status__in=ACTIVE_STATUSES).order_by()
    for run in runs.iterator(chunk_size=500):
        try:
            run_cancel(run=run)
        except Conflict:
            continue  # it finished meanwhile
    batch_nudge(batch_id=batch.pk)
    return batch


def batches_sweep(*, now=None) -> int:
    """The minute task: batches still going whose nudge may have been lost get a feeder run."""
    now = now or timezone.now()
    stale = Batch.objects.filter(
        status__in=[BatchStatus.RUNNING, BatchStatus.PAUSED, BatchStatus.CANCELLED],
        feed_requested_at__lt=now - STALE_NUDGE,
    )
    count = 0
    for batch_id in stale.values_list("id", flat=True)[:200]:
        with transaction.atomic():
            Batch.objects.filter(pk=batch_id).update(feed_pending=True, feed_requested_at=now)
            _enqueue(batch_id)
        count += 1
    return count


# --- progress -------------------------------------------------------------------------------


def batch_progress(batch: Batch, *, now=None) -> dict:
    """Total, done, failed, cancelled, remaining, in flight, rate (inputs/s) and the time left."""
    now = now or timezone.now()
    finished = batch.done + batch.failed + batch.cancelled
    remaining = max(0, batch.total - finished)
    elapsed = max(0.001, ((batch.finished_at or now) - batch.started_at).total_seconds())
    rate = finished / elapsed
    eta = remaining / rate if rate > 0 and batch.status == BatchStatus.RUNNING else None
    percent = round(100 * finished / batch.total, 1) if batch.total else 0.0
    return {
        "total": batch.total,
        "done": batch.done,
        "failed": batch.failed,
        "cancelled": batch.cancelled,
        "remaining": remaining,
        "in_flight": max(0, batch.fed - finished),
        "fed": batch.fed,
        "percent": percent,
        "rate_per_second": round(rate, 2),
        "eta_seconds": round(eta) if eta is not None else None,
    }
