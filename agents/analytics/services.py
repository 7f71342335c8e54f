"""Writes of analytics: track a published post, and collect the numbers that are due.

``post_track`` is called by the Social agent's publish when a platform accepted a post; it
creates the post and its four collections (1 hour, 24 hours, 7 days, 30 days later), once
however often the run is re-executed.

``collections_collect_due`` (the minute task) takes a small batch of due collections, each
claimed with one conditional UPDATE so two workers never read the same one, and reads each
post's numbers through its connector's ``post_metrics`` action on the normal execution path
(validation, sandbox, budgets, health, secrets scrubbed).  A collection that would go over a
budget is not sent: it waits for a later tick (``budget_wait`` looks without spending), so
reading numbers never takes what a send needs nor marks the connector rate limited.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.analytics.models import (
    CHECKPOINTS,
    CollectionStatus,
    MetricsCollection,
    PostMetric,
    TrackedPost,
)
from connectors.base import post_metrics_clean
from connectors.budgets import budget_wait
from connectors.execution import connector_session
from connectors.models import Connector, Health
from connectors.registry import get_provider_class
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRateLimited,
    NeonHubError,
    OutcomeUnknown,
)
from neonhub.core.recording import StepRecord

logger = logging.getLogger(__name__)

METRICS_ACTION = "post_metrics"
# A claimed collection is left alone this long; a worker that died mid-call frees it then.
CLAIM_SECONDS = 600
# Transient failures (the provider down, a 429) are tried again this many times, an hour
# apart at least, before the collection is marked failed.
MAX_ATTEMPTS = 5
RETRY_WAIT = timedelta(hours=1)
# A connector that needs reconnecting (or is switched off) is waited for, this long between
# looks, until the reading is this late; then it is marked failed.
RECONNECT_WAIT = timedelta(hours=6)
GIVE_UP_AFTER = timedelta(days=7)


# --- tracking a published post ------------------------------------------------------------------


def post_track(
    *,
    connector: Connector,
    provider_post_id: str,
    url: str = "",
    action: str = "",
    run_id=None,
    published_at=None,
) -> TrackedPost | None:
    """Track a post a platform accepted, with its collections; the same post twice is one.

    Answers None when there is nothing to track (no post id).
    """
    if not provider_post_id:
        return None
    published_at = published_at or timezone.now()
    existing = _existing(connector, provider_post_id)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            post = TrackedPost.objects.create(
                organization_id=connector.organization_id,
                connector=connector,
                platform=connector.provider,
                provider_post_id=provider_post_id[:255],
                url=url[:2000] if url.startswith(("https://", "http://")) else "",
                action=action[:64],
                run_id=run_id,
                published_at=published_at,
                sandbox=connector.is_sandbox,
            )
            MetricsCollection.objects.bulk_create(
                [
                    MetricsCollection(
                        organization_id=connector.organization_id,
                        post=post,
                        hours_after=hours,
                        due_at=published_at + timedelta(hours=hours),
                        not_before=published_at + timedelta(hours=hours),
                    )
                    for hours in CHECKPOINTS
                ]
            )
    except IntegrityError:  # tracked by a concurrent attempt of the same run
        return _existing(connector, provider_post_id)
    return post


def _existing(connector: Connector, provider_post_id: str) -> TrackedPost | None:
    return TrackedPost.objects.filter(
        organization_id=connector.organization_id,
        platform=connector.provider,
        provider_post_id=provider_post_id[:255],
    ).first()


# --- collecting ---------------------------------------------------------------------------------


class _CallRecorder:
    """Records the outside calls of one collection onto its row: how many, the last HTTP
    status and provider error code (the collection is the record of a call made outside a run)."""

    def __init__(self) -> None:
        self.calls = 0
        self.http_status: int | None = None
        self.provider_error_code = ""

    @contextmanager
    def step(
        self, name: str, *, kind: str = "step", provider: str = "", action: str = ""
    ) -> Iterator[StepRecord]:
        record = StepRecord(name=name, kind=kind, provider=provider, action=action)
        try:
            yield record
        finally:
            if kind == "call":
                self.calls += 1
                self.http_status = record.http_status or self.http_status
                self.provider_error_code = record.provider_error_code or self.provider_error_code

    def add_cost(self, amount: Decimal) -> None:
        return None


def collections_due(*, limit: int, now=None) -> list[MetricsCollection]:
    now = now or timezone.now()
    return list(
        MetricsCollection.objects.filter(status=CollectionStatus.DUE, not_before__lte=now)
        .select_related("post", "post__connector", "organization")
        .order_by("not_before")[:limit]
    )


def _claim(collection: MetricsCollection, now) -> bool:
    """Take the collection for this tick with one conditional UPDATE; False: another has it."""
    until = now + timedelta(seconds=CLAIM_SECONDS)
    changed = MetricsCollection.objects.filter(
        pk=collection.pk, status=CollectionStatus.DUE, not_before=collection.not_before
    ).update(not_before=until, updated_at=now)
    if changed:
        collection.not_before = until
    return bool(changed)


def collections_collect_due(*, limit: int | None = None, seconds: float | None = None) -> dict:
    """One tick: collect up to ``limit`` due collections, for at most about ``seconds``.

    Answers counts: collected, waiting (budgets, retries), skipped and failed.
    """
    limit = limit or settings.NEONHUB_POST_METRICS_BATCH
    seconds = seconds if seconds is not None else settings.NEONHUB_POST_METRICS_TICK_SECONDS
    started, now = time.monotonic(), timezone.now()
    counts = {"collected": 0, "waiting": 0, "skipped": 0, "failed": 0}
    # Connectors whose budget is short this tick, with the wait: their other due readings
    # wait as long, so they do not fill the next batches ahead of other connectors'.
    spent: dict = {}
    for collection in collections_due(limit=limit, now=now):
        if time.monotonic() - started > seconds:
            break
        connector = collection.post.connector
        if not _claim(collection, now):
            continue
        if connector is not None and connector.pk in spent:
            counts[
                _wait(
                    collection,
                    seconds=spent[connector.pk],
                    note=_budget_note(spent[connector.pk]),
                    code="BUDGET",
                )
            ] += 1
            continue
        outcome = collection_collect(collection=collection)
        counts[outcome] += 1
        if outcome == "waiting" and collection.error_code == "BUDGET":
            spent[connector.pk] = (collection.not_before - timezone.now()).total_seconds()
    return counts


def collection_collect(*, collection: MetricsCollection) -> str:
    """Collect one claimed collection; answers collected, waiting, skipped or failed."""
    post = collection.post
    connector = post.connector
    reason = _unusable(post, connector)
    if reason:
        return _finish(collection, CollectionStatus.SKIPPED, note=reason, code="UNSUPPORTED")
    blocked = _blocked(connector)
    if blocked:
        return _wait_for_person(collection, blocked)
    provider_cls = get_provider_class(connector.provider)
    data = {"post_id": post.provider_post_id}
    if not connector.is_sandbox:
        wait = budget_wait(
            connector=connector, budgets=provider_cls.budgets, action=METRICS_ACTION, data=data
        )
        if wait is not None:
            return _wait(collection, seconds=wait + 1, note=_budget_note(wait), code="BUDGET")
    recorder = _CallRecorder()
    try:
        with connector_session(connector=connector, recorder=recorder) as session:
            result = session.execute(action=METRICS_ACTION, input=data)
    except NeonHubError as exc:
        return _failed(collection, exc, recorder)
    except Exception as exc:  # one post's trouble must not stop the batch
        logger.exception("collecting metrics of post %s failed", post.pk)
        return _finish(
            collection,
            CollectionStatus.FAILED,
            note=f"Unexpected error ({type(exc).__name__})",
            code="INTERNAL",
        )
    metrics = post_metrics_clean(dict((result.output or {}).get("metrics") or {}))
    _store(collection, metrics, recorder)
    return "collected"


def _unusable(post: TrackedPost, connector: Connector | None) -> str:
    """Why this post's numbers cannot be read at all (empty: they can)."""
    if connector is None:
        return "The connector that published this post was deleted"
    try:
        provider_cls = get_provider_class(connector.provider)
    except Exception:
        return f"There is no provider {connector.provider!r} any more"
    if METRICS_ACTION not in provider_cls.actions:
        return f"{provider_cls.label} cannot report post metrics yet (it has no {METRICS_ACTION} action)"
    return ""


def _blocked(connector: Connector) -> str:
    """Why the connector cannot be called now but may be after a person acts (empty: it can)."""
    if not connector.enabled:
        return f"The connector {connector.name!r} is switched off"
    if connector.is_sandbox:
        return ""
    if connector.health == Health.NEEDS_RECONNECT:
        return f"The connector {connector.name!r} needs reconnecting"
    if connector.health == Health.DISABLED:
        return f"The connector {connector.name!r} is disabled"
    return ""


def _wait_for_person(collection: MetricsCollection, reason: str) -> str:
    if timezone.now() - collection.due_at > GIVE_UP_AFTER:
        return _finish(
            collection,
            CollectionStatus.FAILED,
            note=f"{reason}; this reading is more than 7 days late",
            code="CONNECTOR_AUTH",
        )
    return _wait(
        collection,
        seconds=RECONNECT_WAIT.total_seconds(),
        note=f"Waiting: {reason}",
        code="CONNECTOR_BLOCKED",
    )


def _budget_note(wait: float) -> str:
    minutes = max(1, round(wait / 60))
    return f"Waiting for the connector's budget: about {minutes} min, not to crowd out publishing"


def _wait(collection: MetricsCollection, *, seconds: float, note: str, code: str) -> str:
    collection.not_before = timezone.now() + timedelta(seconds=seconds)
    collection.note, collection.error_code = note[:300], code
    collection.save(update_fields=["not_before", "note", "error_code", "updated_at"])
    return "waiting"


def _failed(collection: MetricsCollection, exc: NeonHubError, recorder: _CallRecorder) -> str:
    collection.calls += recorder.calls
    collection.http_status = recorder.http_status
    collection.provider_error_code = recorder.provider_error_code[:64]
    collection.attempts += 1
    if isinstance(exc, ConnectorAuth):
        # Rejected credentials: the connector is now marked for reconnecting; once a person
        # reconnects it, the reading goes through.
        collection.save(
            update_fields=["calls", "http_status", "provider_error_code", "attempts", "updated_at"]
        )
        return _wait_for_person(collection, exc.message)
    transient = isinstance(exc, ConnectorError) and exc.transient
    if isinstance(exc, ConnectorRateLimited | OutcomeUnknown) or (
        transient and collection.attempts < MAX_ATTEMPTS
    ):
        wait = max(RETRY_WAIT.total_seconds(), float(getattr(exc, "retry_after", 0) or 0))
        collection.save(
            update_fields=["calls", "http_status", "provider_error_code", "attempts", "updated_at"]
        )
        return _wait(collection, seconds=wait, note=f"Will try again: {exc.message}", code=exc.code)
    # Permanent: rejected credentials (the connector now needs reconnecting), a post the
    # platform no longer has, or a refusal before calling out (a switched-off connector).
    return _finish(
        collection,
        CollectionStatus.FAILED,
        note=exc.message,
        code=exc.code,
        fields=["calls", "http_status", "provider_error_code", "attempts"],
    )


def _finish(
    collection: MetricsCollection,
    status: str,
    *,
    note: str,
    code: str,
    fields: list[str] | None = None,
) -> str:
    collection.status, collection.note, collection.error_code = status, note[:300], code[:40]
    collection.save(update_fields=["status", "note", "error_code", "updated_at", *(fields or [])])
    return str(status)


def _store(
    collection: MetricsCollection, metrics: dict[str, int | float], recorder: _CallRecorder
) -> None:
    now = timezone.now()
    post = collection.post
    with transaction.atomic():
        PostMetric.objects.filter(collection=collection).delete()
        PostMetric.objects.bulk_create(
            [
                PostMetric(
                    organization_id=collection.organization_id,
                    post=post,
                    collection=collection,
                    platform=post.platform,
                    name=name,
                    value=float(value),
                    collected_at=now,
                )
                for name, value in metrics.items()
            ]
        )
        collection.status = CollectionStatus.COLLECTED
        collection.collected_at = now
        collection.attempts += 1
        collection.calls += recorder.calls
        collection.http_status = recorder.http_status
        collection.provider_error_code = ""
        collection.error_code = ""
        collection.note = "" if metrics else "The platform reported no numbers for this post yet"
        collection.save()
        # The newest checkpoint read so far is the post's current numbers.
        latest = post.latest_collection
        if latest is None or latest.hours_after <= collection.hours_after:
            TrackedPost.objects.filter(pk=post.pk).update(
                latest_collection=collection, updated_at=now
            )
            post.latest_collection = collection
