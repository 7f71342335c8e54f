"""The retention job: each organization's old run history deleted in small batches.

Every hour (``neonhub.ops.tasks.retention_prune``), for each organization, with its cutoff at
the UTC midnight ``retention days`` ago (``neonhub.core.retention``):

1. runs, oldest first, ``NEONHUB_RETENTION_BATCH`` at a time, each batch in its own short
   transaction: a run goes when it and every run of its lineage is finished before the cutoff,
   no child run of it stays, and none of their outbox rows is still pending or unknown.  Its
   steps, approval and (finished) outbox rows go before it;
2. outbox rows linked to no run, finished, older than the cutoff;
3. webhook deliveries older than the cutoff.

The overview's charts read the hourly rollups, which are written as runs finish and are not
touched; the cutoff is a UTC midnight and ``runs.rollups.rollups_rebuild`` leaves the hours
before an organization's ``RetentionMark`` alone, so a rebuild never forgets deleted runs.
Afterwards the freed space is reclaimed on SQLite (``neonhub.ops.space``).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from agents.automation.models import WebhookDelivery
from connectors.models import OutboundMessage, OutboxStatus
from neonhub.core.models import Organization
from neonhub.core.retention import retention_days
from neonhub.ops import space
from runs import retention as run_retention

log = logging.getLogger(__name__)

# Outbox rows whose outcome is known; pending and unknown ones are never deleted.
OUTBOX_FINISHED = (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.FAILED)


@dataclass
class Pruned:
    runs: int = 0
    steps: int = 0
    approvals: int = 0
    outbox: int = 0
    deliveries: int = 0
    batches: int = 0
    conflicts: int = 0
    slowest_batch_ms: float = 0.0
    total_batch_ms: float = 0.0
    space: dict = field(default_factory=dict)
    # Stopped at its time budget: the next pass goes on where this one stopped.
    unfinished: bool = False
    deadline: float | None = field(default=None, repr=False)

    def add(self, other: Pruned) -> None:
        for name in ("runs", "steps", "approvals", "outbox", "deliveries", "batches", "conflicts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.total_batch_ms += other.total_batch_ms
        self.slowest_batch_ms = max(self.slowest_batch_ms, other.slowest_batch_ms)
        self.unfinished = self.unfinished or other.unfinished

    def out_of_time(self) -> bool:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.unfinished = True
        return self.unfinished

    def timed(self, started: float) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        self.batches += 1
        self.total_batch_ms += elapsed
        self.slowest_batch_ms = max(self.slowest_batch_ms, elapsed)

    def as_dict(self) -> dict:
        values = asdict(self)
        values.pop("deadline")
        values["slowest_batch_ms"] = round(self.slowest_batch_ms, 1)
        values["total_batch_ms"] = round(self.total_batch_ms, 1)
        return values


def cutoff_for(*, days: int, now: datetime | None = None) -> datetime:
    """The UTC midnight ``days`` days back: whole days go, so the rollup hours before it are
    exactly the hours whose runs may be gone."""
    moment = (now or timezone.now()).astimezone(UTC) - timedelta(days=days)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def retention_prune(
    *, now: datetime | None = None, batch: int | None = None, budget_seconds: float | None = None
) -> Pruned:
    """Every organization's history beyond its retention, then the freed space on SQLite.

    ``budget_seconds``: stop starting new batches after this long (the task passes less than
    its timeout, so a long backlog is worked off over several hours instead of being killed)."""
    deadline = time.monotonic() + budget_seconds if budget_seconds else None
    total = Pruned(deadline=deadline)
    for organization in list(Organization.objects.order_by("created_at")):
        if total.out_of_time():
            break
        total.add(
            organization_prune(organization=organization, now=now, batch=batch, deadline=deadline)
        )
    total.space = space.space_reclaim().as_dict()
    log.info("retention: %s", total.as_dict())
    return total


def organization_prune(
    *,
    organization: Organization,
    now: datetime | None = None,
    batch: int | None = None,
    deadline: float | None = None,
) -> Pruned:
    size = max(1, batch or settings.NEONHUB_RETENTION_BATCH)
    cutoff = cutoff_for(days=retention_days(organization=organization), now=now)
    pruned = Pruned(deadline=deadline)
    _runs_prune(organization, cutoff, size, pruned)
    unlinked = OutboundMessage.objects.filter(
        organization=organization,
        run_id__isnull=True,
        status__in=OUTBOX_FINISHED,
        created_at__lt=cutoff,
    )
    pruned.outbox += _chunks_delete(unlinked, size, pruned)
    deliveries = WebhookDelivery.objects.filter(organization=organization, created_at__lt=cutoff)
    pruned.deliveries += _chunks_delete(deliveries, size, pruned)
    return pruned


def _runs_prune(organization: Organization, cutoff: datetime, size: int, pruned: Pruned) -> None:
    after = None
    while not pruned.out_of_time():
        page = run_retention.run_page(
            organization=organization, cutoff=cutoff, after=after, limit=size
        )
        if not page:
            return
        after = page[-1][:2]
        started = time.perf_counter()
        try:
            _runs_batch(organization, cutoff, {lineage for _, _, lineage in page}, pruned)
        except IntegrityError:
            # PostgreSQL: a run was added to one of these runs while the batch ran (a person's
            # Retry references it); the batch is rolled back whole and its runs are chosen
            # again, held now, on the next pass.
            pruned.conflicts += 1
            log.warning("retention: a batch of %s met a concurrent change", organization.slug)
        pruned.timed(started)


def _runs_batch(
    organization: Organization, cutoff: datetime, lineages: set[uuid.UUID], pruned: Pruned
) -> None:
    with transaction.atomic():
        ids = _prunable_ids(organization, cutoff, lineages)
        if not ids:
            return
        outbox = OutboundMessage.objects.filter(
            organization=organization, run_id__in=ids, status__in=OUTBOX_FINISHED
        ).delete()[0]
        counts = run_retention.runs_delete(organization=organization, ids=ids, cutoff=cutoff)
    pruned.outbox += outbox
    pruned.runs += counts["runs"]
    pruned.steps += counts["steps"]
    pruned.approvals += counts["approvals"]


def _prunable_ids(
    organization: Organization, cutoff: datetime, lineages: set[uuid.UUID]
) -> list[uuid.UUID]:
    members = run_retention.lineage_members(
        organization=organization, lineages=lineages, cutoff=cutoff
    )
    ids = [m.id for m in members]
    held = {m.lineage_id for m in members if not m.prunable}
    by_id = {m.id: m for m in members}
    for parent in run_retention.runs_kept_children(parents=ids, cutoff=cutoff):
        held.add(by_id[parent].lineage_id)
    unsettled = OutboundMessage.objects.filter(run_id__in=ids).exclude(status__in=OUTBOX_FINISHED)
    for run_id in unsettled.values_list("run_id", flat=True):
        held.add(by_id[run_id].lineage_id)
    return [m.id for m in members if m.lineage_id not in held]


def _chunks_delete(qs: QuerySet[Model], size: int, pruned: Pruned) -> int:
    """Delete what ``qs`` matches, ``size`` rows per transaction, oldest first."""
    deleted = 0
    while not pruned.out_of_time():
        started = time.perf_counter()
        with transaction.atomic():
            ids = list(qs.order_by("created_at").values_list("pk", flat=True)[:size])
            if ids:
                deleted += qs.model.objects.filter(pk__in=ids).delete()[0]
        if not ids:
            return deleted
        pruned.timed(started)
    return deleted
