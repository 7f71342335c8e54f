"""The retention job: what is old goes, what is young or unfinished stays, the charts do not move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import Schedule

from agents.automation.models import BatchItem, WebhookDelivery
from connectors.models import OutboundMessage
from neonhub.core import retention as settings_retention
from neonhub.ops import retention, tasks
from runs import overview, rollups, services
from runs.models import AgentRun, RetentionMark, RunApproval, RunRollup, RunStatus, RunStep
from tests.factories import (
    AgentRunFactory,
    BatchFactory,
    BatchItemFactory,
    OrganizationFactory,
    OutboundMessageFactory,
    RunApprovalFactory,
    RunStepFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 30, tzinfo=UTC)
OLD = NOW - timedelta(days=120)  # beyond the default 90 days
YOUNG = NOW - timedelta(days=10)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def finished(org, *, at: datetime, status="completed", steps=2, lineage=None, parent=None):
    """A run through the real transitions (its rollup counted as it finishes), then dated."""
    run, _ = services.run_create(
        organization=org,
        agent="support",
        intent="triage",
        payload={"n": str(id(object()))},
        trigger="api",
        max_attempts=1,
        **({"lineage_id": lineage} if lineage else {}),
        **({"parent": parent} if parent else {}),
    )
    run = services.run_claim(run_id=run.id)
    if status == "completed":
        services._finish(
            run, status=RunStatus.COMPLETED, output={}, metrics={}, finished_at=at, duration_ms=90
        )
    else:
        services._finish(
            run, status=status, error_code="TIMEOUT", error_message="no", finished_at=at
        )
    AgentRun.objects.filter(pk=run.pk).update(created_at=at - timedelta(minutes=1))
    for _ in range(steps):
        RunStepFactory(run=run)
    return run


def test_old_finished_runs_go_with_their_steps_and_outbox_rows_young_ones_stay(org):
    old = finished(org, at=OLD)
    failed = finished(org, at=OLD, status="failed")
    young = finished(org, at=YOUNG)
    OutboundMessageFactory(organization=org, run_id=old.id, status="delivered")
    OutboundMessageFactory(organization=org, run_id=young.id, status="sent")

    pruned = retention.retention_prune(now=NOW)

    assert set(AgentRun.objects.values_list("id", flat=True)) == {young.id}
    assert not RunStep.objects.filter(run_id__in=[old.id, failed.id]).exists()
    assert RunStep.objects.filter(run=young).count() == 2
    assert list(OutboundMessage.objects.values_list("run_id", flat=True)) == [young.id]
    assert (pruned.runs, pruned.steps, pruned.outbox) == (2, 4, 1)


def test_runs_in_flight_awaiting_approval_or_scheduled_are_never_pruned(org):
    queued = AgentRunFactory(organization=org, status="queued")
    running = AgentRunFactory(organization=org, status="running")
    held = RunApprovalFactory(run__organization=org).run
    scheduled = AgentRunFactory(
        organization=org, status="queued", next_attempt_at=NOW + timedelta(days=1)
    )
    AgentRun.objects.update(created_at=OLD)

    assert retention.retention_prune(now=NOW).runs == 0
    assert AgentRun.objects.count() == 4
    assert RunApproval.objects.filter(run=held).exists()
    assert {queued.id, running.id, scheduled.id} <= set(
        AgentRun.objects.values_list("id", flat=True)
    )


def test_an_approved_old_run_goes_with_its_approval(org):
    run = finished(org, at=OLD)
    RunApprovalFactory(run=run, state="approved")
    pruned = retention.retention_prune(now=NOW)
    assert (pruned.runs, pruned.approvals) == (1, 1)
    assert not RunApproval.objects.exists()


def test_a_side_effect_whose_outcome_is_unknown_keeps_its_row_and_its_run(org):
    run = finished(org, at=OLD, status="failed")
    unknown = OutboundMessageFactory(organization=org, run_id=run.id, status="unknown")
    OutboundMessageFactory(organization=org, status="pending", created_at=OLD)  # no run
    sent = OutboundMessageFactory(organization=org, status="sent", created_at=OLD)  # no run

    retention.retention_prune(now=NOW)

    assert AgentRun.objects.filter(pk=run.pk).exists()
    assert OutboundMessage.objects.filter(pk=unknown.pk).exists()
    assert OutboundMessage.objects.filter(status="pending").exists()
    assert not OutboundMessage.objects.filter(pk=sent.pk).exists()


def test_a_lineage_with_a_young_retry_keeps_its_old_first_run_and_its_sends(org):
    first = finished(org, at=OLD, status="failed")
    sent = OutboundMessageFactory(organization=org, run_id=first.id, status="sent")
    finished(org, at=YOUNG, status="failed", lineage=first.id, parent=first)
    alone = finished(org, at=OLD, status="failed")

    retention.retention_prune(now=NOW)

    assert AgentRun.objects.filter(pk=first.pk).exists()
    # A Retry of the young run would answer "already sent" from this row: it must stay.
    assert OutboundMessage.objects.filter(pk=sent.pk).exists()
    assert not AgentRun.objects.filter(pk=alone.pk).exists()


def test_a_parent_waiting_on_a_scheduled_child_stays(org):
    parent = finished(org, at=OLD)
    AgentRunFactory(
        organization=org, parent=parent, status="queued", next_attempt_at=NOW + timedelta(hours=2)
    )
    AgentRun.objects.exclude(pk=parent.pk).update(created_at=OLD)
    retention.retention_prune(now=NOW)
    assert AgentRun.objects.filter(pk=parent.pk).exists()


def test_references_that_outlive_a_run_are_cleared(org):
    run = finished(org, at=OLD)
    item = BatchItemFactory(batch=BatchFactory(organization=org), run=run, status="completed")
    retention.retention_prune(now=NOW)
    item.refresh_from_db()
    assert item.run_id is None and BatchItem.objects.filter(pk=item.pk).exists()


def test_old_webhook_deliveries_go(org):
    for created in (OLD, YOUNG):
        WebhookDelivery.objects.create(
            organization=org, source="generic", status="accepted", http_status=202
        )
        WebhookDelivery.objects.filter(created_at__gt=YOUNG).update(created_at=created)
    assert retention.retention_prune(now=NOW).deliveries == 1
    assert list(WebhookDelivery.objects.values_list("created_at", flat=True)) == [YOUNG]


def test_an_organizations_own_setting_wins_over_the_default(org, settings):
    settings.NEONHUB_RETENTION_DAYS = 90
    brief = OrganizationFactory(settings={"retention": {"days": 7}})
    long = OrganizationFactory(settings={"retention": {"days": 365}})
    kept_by_default = finished(org, at=YOUNG)
    gone = finished(brief, at=YOUNG)
    kept_by_setting = finished(long, at=OLD)

    retention.retention_prune(now=NOW)

    remaining = set(AgentRun.objects.values_list("id", flat=True))
    assert remaining == {kept_by_default.id, kept_by_setting.id}
    assert gone.id not in remaining


def test_the_cutoff_is_a_utc_midnight_so_whole_rolled_up_days_go(org):
    assert retention.cutoff_for(days=7, now=NOW) == datetime(2026, 6, 8, tzinfo=UTC)
    same_day = finished(org, at=datetime(2026, 6, 8, 0, 5, tzinfo=UTC))
    finished(org, at=datetime(2026, 6, 7, 23, 55, tzinfo=UTC))  # the day before: goes
    org.settings = {"retention": {"days": 7}}
    org.save()
    retention.retention_prune(now=NOW)
    assert set(AgentRun.objects.values_list("id", flat=True)) == {same_day.id}
    assert RetentionMark.objects.get(organization=org).pruned_before == datetime(
        2026, 6, 8, tzinfo=UTC
    )


def test_rollups_and_charts_are_unchanged_and_a_rebuild_keeps_the_pruned_days(org):
    org.settings = {"retention": {"days": 7}}
    org.save()
    now = timezone.now()
    for days in (20, 12, 3):
        finished(org, at=now - timedelta(days=days))
    finished(org, at=now - timedelta(days=12), status="failed")
    rows_before = list(RunRollup.objects.order_by("hour", "status").values())
    chart_before = overview.rollup_overview(organization=org, window="30d", now=now)

    assert retention.retention_prune(now=now).runs == 3
    cache.clear()
    assert list(RunRollup.objects.order_by("hour", "status").values()) == rows_before
    assert overview.rollup_overview(organization=org, window="30d", now=now) == chart_before

    rollups.rollups_rebuild(organization=org)
    rollups.rollups_rebuild()
    cache.clear()
    assert overview.rollup_overview(organization=org, window="30d", now=now) == chart_before
    assert sum(RunRollup.objects.values_list("count", flat=True)) == 4


def test_each_transaction_deletes_at_most_one_batch_of_runs(org):
    for _ in range(7):
        finished(org, at=OLD, steps=1)
    with CaptureQueriesContext(connection) as queries:
        pruned = retention.organization_prune(organization=org, now=NOW, batch=3)
    deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "runs_agentrun"')]
    assert len(deletes) == 3
    assert pruned.runs == 7 and pruned.batches == 3
    assert pruned.slowest_batch_ms > 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's autovacuum reclaims space")
@pytest.mark.django_db(transaction=True)
def test_freed_pages_are_handed_back_on_sqlite(org):
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA auto_vacuum")
        assert cursor.fetchone()[0] == 2  # new databases are created incremental
    for _ in range(40):
        run = finished(org, at=OLD, steps=0)
        RunStep.objects.bulk_create(
            [RunStep(run=run, seq=i, name="s", detail={"blob": "x" * 4000}) for i in range(10)]
        )
    pruned = retention.retention_prune(now=NOW)
    assert pruned.runs == 40
    assert pruned.space["engine"] == "sqlite" and pruned.space["auto_vacuum"] == "incremental"
    assert pruned.space["reclaimed_pages"] > 100
    assert pruned.space["free_pages_after"] == 0


def test_the_hourly_task_exists_and_runs(org):
    tasks.ensure_schedules()
    tasks.ensure_schedules()
    schedule = Schedule.objects.get(name=tasks.RETENTION_TASK_NAME)
    assert schedule.schedule_type == Schedule.HOURLY
    finished(org, at=timezone.now() - timedelta(days=400))
    assert tasks.retention_prune()["runs"] == 1


def test_the_command_prints_what_it_deleted(org, capsys):
    finished(org, at=timezone.now() - timedelta(days=400))
    call_command("prune_data", "--org", org.slug, "--batch", "50")
    out = capsys.readouterr().out
    assert "Deleted 1 runs (2 steps, 0 approvals)" in out


def test_a_stored_value_that_no_longer_validates_falls_back_to_the_default(org, settings):
    settings.NEONHUB_RETENTION_DAYS = 30
    org.settings = {"retention": {"days": 1}}
    assert settings_retention.retention_days(organization=org) == 30


def test_a_pass_stops_at_its_time_budget_and_the_next_goes_on(org):
    for _ in range(3):
        finished(org, at=OLD, steps=0)
    stopped = retention.retention_prune(now=NOW, batch=1, budget_seconds=1e-9)
    assert stopped.unfinished and stopped.runs == 0
    assert AgentRun.objects.count() == 3
    done = retention.retention_prune(now=NOW, batch=1, budget_seconds=60)
    assert not done.unfinished and done.runs == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's write lock serialises")
@pytest.mark.django_db(transaction=True)
def test_a_retry_committing_during_a_batch_waits_and_then_finds_its_run_gone(org, monkeypatch):
    """PostgreSQL: the batch locks the runs it chose, so a Retry that references one of them
    (its parent) waits for the batch and then fails; it never commits into a lineage whose
    outbox rows are being deleted."""
    import threading
    import time as clock

    from django.db import IntegrityError, connections

    first = finished(org, at=OLD, status="failed")
    OutboundMessageFactory(organization=org, run_id=first.id, status="sent")
    outcome: dict = {}

    def retry() -> None:
        try:
            AgentRunFactory(
                organization=org,
                status="queued",
                parent_id=first.id,
                lineage_id=first.lineage_id,
                trigger="retry",
            )
        except IntegrityError as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    delete = retention.run_retention.runs_delete

    def race_then_delete(**kwargs):
        # Chosen, not deleted yet: the moment a Retry committing in between would be lost.
        racer = threading.Thread(target=retry)
        racer.start()
        clock.sleep(1.0)  # the Retry's commit is now waiting for this batch's lock
        outcome["thread"] = racer
        return delete(**kwargs)

    monkeypatch.setattr(retention.run_retention, "runs_delete", race_then_delete)
    pruned = retention.retention_prune(now=NOW)
    outcome["thread"].join(timeout=30)

    assert pruned.runs == 1 and pruned.outbox == 1
    assert "error" in outcome
    assert not AgentRun.objects.filter(lineage_id=first.lineage_id).exists()
