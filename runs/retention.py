"""The runs' side of the retention job (``neonhub.ops.retention`` decides what goes).

A run is *prunable* when it is finished (completed, failed or cancelled) and both created and
finished before the cutoff; runs in flight, awaiting approval or scheduled never are.  Runs go
a whole lineage at a time: a person's Retry answers what was already sent from the outbox
rows keyed by the lineage's first run, so a lineage with one run still kept keeps them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q

from neonhub.core.models import Organization
from runs.models import TERMINAL_STATUSES, AgentRun, RetentionMark, RunApproval, RunStep


@dataclass(frozen=True)
class Member:
    id: uuid.UUID
    lineage_id: uuid.UUID
    parent_id: uuid.UUID | None
    prunable: bool


def run_page(
    *, organization: Organization, cutoff: datetime, after: tuple | None, limit: int
) -> list[tuple[datetime, uuid.UUID, uuid.UUID]]:
    """The next ``limit`` runs created before the cutoff, oldest first, as (created_at, id,
    lineage_id), after the keyset ``after``: the index ``run_org_created``, read backwards."""
    qs = AgentRun.objects.filter(organization=organization, created_at__lt=cutoff)
    if after is not None:
        qs = qs.filter(Q(created_at__gt=after[0]) | Q(created_at=after[0], id__gt=after[1]))
    return list(
        qs.order_by("created_at", "id").values_list("created_at", "id", "lineage_id")[:limit]
    )


def _prunable(status: str, created_at: datetime, finished_at: datetime | None, cutoff) -> bool:
    return (
        status in TERMINAL_STATUSES
        and created_at < cutoff
        and (finished_at is None or finished_at < cutoff)
    )


def lineage_members(
    *, organization: Organization, lineages: Iterable[uuid.UUID], cutoff: datetime
) -> list[Member]:
    """Every run of these lineages (a first run by its key; its retries through the partial
    index ``run_lineage_retries``), with whether each could go; locked until the transaction
    ends, so call it inside the one that deletes them."""
    keys = list(set(lineages))
    # FOR UPDATE (PostgreSQL; SQLite's write lock already serialises): a person's Retry of one
    # of these runs, which references it, waits for this batch and then finds it gone, instead
    # of committing in between and leaving a lineage without the outbox rows it is keyed by.
    rows = (
        AgentRun.objects.select_for_update()
        .filter(organization=organization)
        .filter(Q(id__in=keys) | (Q(lineage_id__in=keys) & ~Q(lineage_id=F("id"))))
    )
    return [
        Member(
            id=row["id"],
            lineage_id=row["lineage_id"],
            parent_id=row["parent_id"],
            prunable=_prunable(row["status"], row["created_at"], row["finished_at"], cutoff),
        )
        for row in rows.values(
            "id", "lineage_id", "parent_id", "status", "created_at", "finished_at"
        )
    ]


def runs_kept_children(*, parents: Iterable[uuid.UUID], cutoff: datetime) -> set[uuid.UUID]:
    """Of these runs, the ones with a child run that stays (a scheduled publish waiting for its
    time, a run still going): the parent stays with it, so the child keeps its origin."""
    kept: set[uuid.UUID] = set()
    children = AgentRun.objects.filter(parent_id__in=list(parents)).values_list(
        "parent_id", "status", "created_at", "finished_at"
    )
    for parent_id, status, created_at, finished_at in children:
        if not _prunable(status, created_at, finished_at, cutoff):
            kept.add(parent_id)
    return kept


def runs_delete(*, organization: Organization, ids: list[uuid.UUID], cutoff: datetime) -> dict:
    """Delete these runs, children first (steps, approvals, then the runs; Django's collector
    sets the references that outlive a run to NULL: a child's parent, a delivery's, a batch
    item's, a schedule's last run), and move the organization's ``RetentionMark`` to the
    cutoff.  Call it inside the transaction that chose them."""
    steps = RunStep.objects.filter(run_id__in=ids).delete()[0]
    approvals = RunApproval.objects.filter(run_id__in=ids).delete()[0]
    # only("id"): the collector loads the runs to clear what refers to them; decoding their
    # JSON columns is not needed for that.
    runs = (
        AgentRun.objects.filter(organization=organization, id__in=ids)
        .only("id")
        .delete()[1]
        .get(AgentRun._meta.label, 0)
    )
    mark_move(organization=organization, cutoff=cutoff)
    return {"runs": runs, "steps": steps, "approvals": approvals}


def mark_move(*, organization: Organization, cutoff: datetime) -> None:
    mark, created = RetentionMark.objects.get_or_create(
        organization=organization, defaults={"pruned_before": cutoff}
    )
    if not created and mark.pruned_before < cutoff:
        RetentionMark.objects.filter(pk=mark.pk, pruned_before__lt=cutoff).update(
            pruned_before=cutoff
        )
