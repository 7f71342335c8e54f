from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from agents import services as agent_services
from runs import overview, rollups, services
from runs.models import (
    ROLLUP_BUCKET_BOUNDS_MS,
    ROLLUP_BUCKET_FIELDS,
    AgentRun,
    RunRollup,
    RunStatus,
)
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the overview caches past hours; these tests write into past hours


@pytest.fixture
def django_capture_on_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def finished_run(
    org,
    *,
    status="completed",
    agent="support",
    duration_ms=120,
    finished_at=None,
    code="",
    provider=None,
    cost="0",
):
    """A run taken through the real transitions: create, claim, finish."""
    run, _ = services.run_create(
        organization=org,
        agent=agent,
        intent="triage",
        payload={"n": str(id(object()))},
        trigger="api",
        max_attempts=1,
    )
    run = services.run_claim(run_id=run.id)
    AgentRun.objects.filter(pk=run.pk).update(cost=Decimal(cost))
    fields = {"duration_ms": duration_ms}
    if finished_at is not None:
        fields["finished_at"] = finished_at
    if status == "completed":
        services._finish(run, status=RunStatus.COMPLETED, output={}, metrics={}, **fields)
    else:
        context = {"provider": provider} if provider else {}
        services._finish(
            run, status=status, error_code=code, error_message="no", error_context=context, **fields
        )
    return run


def test_completed_run_is_counted_in_its_hour_with_duration_bucket_and_cost(org):
    run = finished_run(org, duration_ms=120, cost="0.25")
    row = RunRollup.objects.get()
    assert row.organization == org
    assert row.hour == run.finished_at.replace(minute=0, second=0, microsecond=0)
    assert (row.agent, row.status, row.error_code, row.connector) == (
        "support",
        "completed",
        "",
        "",
    )
    assert row.count == 1 and row.duration_total_ms == 120 and row.cost_total == Decimal("0.25")
    assert row.h05 == 1  # 100 ms <= 120 ms < 178 ms
    assert sum(getattr(row, f) for f in ROLLUP_BUCKET_FIELDS) == 1


def test_runs_in_the_same_cell_increment_one_row(org):
    for duration in (5, 50, 5000):
        finished_run(org, duration_ms=duration)
    row = RunRollup.objects.get()
    assert row.count == 3 and row.duration_total_ms == 5055
    assert (row.h00, row.h03, row.h11) == (1, 1, 1)


def test_failed_run_is_counted_with_error_code_and_connector(org):
    finished_run(org, status="failed", code="CONNECTOR_REJECTED", provider="twilio_sms")
    row = RunRollup.objects.get()
    assert (row.status, row.error_code, row.connector) == (
        "failed",
        "CONNECTOR_REJECTED",
        "twilio_sms",
    )


def test_a_run_finishing_twice_is_counted_once(org):
    run = finished_run(org)
    assert services.run_complete(run=run, output={}, metrics={}) is False
    assert RunRollup.objects.get().count == 1


def test_cancelling_a_queued_run_counts_it_without_a_duration(org):
    run, _ = services.run_create(
        organization=org,
        agent="support",
        intent="triage",
        payload={},
        trigger="api",
        max_attempts=1,
    )
    services.run_request_cancel(run=run)
    row = RunRollup.objects.get()
    assert (row.status, row.error_code, row.count, row.duration_total_ms) == (
        "cancelled",
        "CANCELLED",
        1,
        0,
    )
    assert sum(getattr(row, f) for f in ROLLUP_BUCKET_FIELDS) == 0


def test_runs_executed_by_the_worker_land_in_the_rollups(org, run_now):
    run_now(
        agent_services.run_start,
        organization=org,
        agent="testing",
        intent="echo",
        payload={"text": "hi"},
    )
    run_now(
        agent_services.run_start,
        organization=org,
        agent="testing",
        intent="reject",
        payload={"text": "hi"},
    )
    rows = {
        (r.agent, r.status, r.error_code, r.connector): r.count for r in RunRollup.objects.all()
    }
    assert rows == {
        ("testing", "completed", "", ""): 1,
        ("testing", "failed", "CONNECTOR_REJECTED", "example"): 1,
    }


def test_a_concurrent_creator_of_the_row_makes_the_upsert_increment_it(org, monkeypatch):
    """Another transaction inserts the cell between our UPDATE (no row yet) and our INSERT."""
    original_increment = rollups._increment
    seen: dict = {}

    def increment_racing(cell, values, extremes):
        if not seen.get("raced"):
            seen["raced"] = True
            RunRollup.objects.create(**cell, count=5)
            return 0
        return original_increment(cell, values, extremes)

    monkeypatch.setattr(rollups, "_increment", increment_racing)
    finished_run(org)
    assert RunRollup.objects.get().count == 6


def test_rebuild_reproduces_the_incremental_rollups(org, other_org):
    base = datetime(2025, 3, 1, 10, 30, tzinfo=UTC)
    finished_run(org, duration_ms=40, finished_at=base, cost="1.5")
    finished_run(org, duration_ms=900, finished_at=base + timedelta(minutes=10))
    finished_run(
        org,
        status="failed",
        code="TIMEOUT",
        provider="reddit",
        finished_at=base + timedelta(hours=2),
    )
    finished_run(other_org, agent="seo", duration_ms=10_000_000, finished_at=base)
    columns = [
        "organization_id",
        "hour",
        "agent",
        "status",
        "error_code",
        "connector",
        "count",
        "duration_total_ms",
        "cost_total",
        *ROLLUP_BUCKET_FIELDS,
    ]

    def snapshot():
        return sorted(RunRollup.objects.values_list(*columns), key=str)

    before = snapshot()
    assert rollups.rollups_rebuild() == len(before) == 3
    assert snapshot() == before


def test_rebuild_writes_in_batches(org, monkeypatch):
    monkeypatch.setattr(rollups, "REBUILD_BATCH", 2)
    for hour in range(5):
        finished_run(org, finished_at=datetime(2025, 3, 1, hour, tzinfo=UTC))
    assert rollups.rollups_rebuild() == 5 and RunRollup.objects.count() == 5


def test_rebuild_for_one_organization_since_a_date_leaves_the_rest(org, other_org):
    old = datetime(2025, 1, 1, 8, tzinfo=UTC)
    new = datetime(2025, 2, 1, 8, tzinfo=UTC)
    finished_run(org, finished_at=old)
    finished_run(org, finished_at=new)
    finished_run(other_org, finished_at=new)
    RunRollup.objects.update(count=99)
    call_command("rebuild_rollups", "--org", org.slug, "--since", "2025-01-15")
    counts = {(r.organization_id, r.hour): r.count for r in RunRollup.objects.all()}
    assert counts == {(org.id, old): 99, (org.id, new): 1, (other_org.id, new): 99}


def test_rebuild_command_takes_an_iso_datetime_and_reports_rows(org, capsys):
    finished_run(org, finished_at=datetime(2025, 2, 1, 8, tzinfo=UTC))
    call_command("rebuild_rollups", "--since", "2025-02-01T07:59:00")
    assert "Rebuilt 1 rollup rows" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--org", "nope"], "No organization with slug 'nope'"),
        (["--since", "yesterday"], "is not a date"),
        (["--since", "2025-13-45"], "is not a date"),
    ],
)
def test_rebuild_command_refuses_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rebuild_rollups", *args)


def test_bucket_index_puts_each_bound_in_the_next_bucket():
    assert rollups.bucket_index(0) == 0
    assert rollups.bucket_index(9) == 0
    assert rollups.bucket_index(10) == 1
    assert rollups.bucket_index(ROLLUP_BUCKET_BOUNDS_MS[-1]) == len(ROLLUP_BUCKET_BOUNDS_MS)
    assert len(ROLLUP_BUCKET_FIELDS) == len(ROLLUP_BUCKET_BOUNDS_MS) + 1


def test_percentiles_from_the_histogram_land_in_the_right_bucket():
    counts = [0] * len(ROLLUP_BUCKET_FIELDS)
    assert overview.percentile_from_histogram(counts, 0.5) is None
    counts[rollups.bucket_index(150)] = 90  # 100–178 ms
    counts[rollups.bucket_index(2000)] = 10  # 1778–3162 ms
    p50 = overview.percentile_from_histogram(counts, 0.5)
    p95 = overview.percentile_from_histogram(counts, 0.95)
    assert 100 <= p50 < 178
    assert 1778 <= p95 < 3162
    counts = [0] * len(ROLLUP_BUCKET_FIELDS)
    counts[-1] = 1
    assert overview.percentile_from_histogram(counts, 0.95) >= ROLLUP_BUCKET_BOUNDS_MS[-1]
    counts = [1] + [0] * (len(ROLLUP_BUCKET_FIELDS) - 1)
    assert 1 <= overview.percentile_from_histogram(counts, 0.5) < 10


def test_overview_of_a_day_counts_by_status_agent_code_and_connector(org):
    now = datetime(2025, 6, 10, 15, 20, tzinfo=UTC)
    for minutes in (0, 5, 10):
        finished_run(org, duration_ms=150, finished_at=now - timedelta(minutes=minutes), cost="0.1")
    finished_run(org, agent="seo", duration_ms=3000, finished_at=now - timedelta(hours=3))
    finished_run(
        org,
        status="failed",
        code="CONNECTOR_AUTH",
        provider="youtube",
        finished_at=now - timedelta(hours=5),
    )
    finished_run(org, status="failed", code="TIMEOUT", finished_at=now - timedelta(hours=5))
    finished_run(org, finished_at=now - timedelta(hours=30))  # outside the window
    finished_run(OrganizationFactory(), finished_at=now)  # another organization

    ov = overview.rollup_overview(organization=org, window="24h", now=now)
    assert len(ov.buckets) == 24
    assert ov.buckets[-1].start == datetime(2025, 6, 10, 15, tzinfo=UTC)
    assert ov.buckets[-1].counts == {"completed": 3}
    assert ov.buckets[-1].cost == Decimal("0.3")
    assert ov.totals == {"completed": 4, "failed": 2, "cancelled": 0}
    assert ov.finished == 6 and ov.success_rate == pytest.approx(4 / 6)
    assert ov.failures_by_code == [("CONNECTOR_AUTH", 1), ("TIMEOUT", 1)]
    assert ov.failures_by_connector == [("youtube", 1)]
    by_agent = {a.agent: a for a in ov.agents}
    assert by_agent["support"].counts == {"completed": 3, "failed": 2}
    assert 100 <= by_agent["support"].p50_ms < 178 and by_agent["support"].avg_ms == 150
    assert by_agent["support"].success_rate == pytest.approx(3 / 5)
    assert 1778 <= by_agent["seo"].p95_ms < 3162
    assert ov.agent_choices == ["seo", "support"]
    assert ov.cost == Decimal("0.3")

    only_seo = overview.rollup_overview(organization=org, window="24h", agent="seo", now=now)
    assert only_seo.totals == {"completed": 1, "failed": 0, "cancelled": 0}
    assert only_seo.agent_choices == ["seo", "support"]


def test_overview_of_an_agent_with_only_failures_has_no_durations(org):
    now = datetime(2025, 6, 10, 15, 20, tzinfo=UTC)
    finished_run(org, status="failed", code="TIMEOUT", finished_at=now)
    ov = overview.rollup_overview(organization=org, agent="support", now=now)
    assert (
        ov.agents[0].p50_ms is None
        and ov.agents[0].avg_ms is None
        and ov.agents[0].success_rate == 0
    )
    empty = overview.rollup_overview(organization=org, agent="nobody", now=now, window="bogus")
    assert empty.window == "24h" and empty.finished == 0 and empty.success_rate is None
    assert empty.p50_ms is None and empty.agent_choices == ["nobody", "support"]


@pytest.mark.parametrize(
    "tz_name", ["UTC", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe"]
)
@pytest.mark.parametrize("window, buckets", [("7d", 28), ("30d", 30)])
def test_longer_windows_group_hours_into_local_buckets(org, tz_name, window, buckets):
    tz = zoneinfo.ZoneInfo(tz_name)
    now = datetime(2025, 3, 10, 3, 45, tzinfo=UTC)  # near the US DST change
    for bucket in overview.window_buckets(window=window, now=now, tz=tz):
        finished_run(org, finished_at=bucket.start + timedelta(minutes=31))  # half-hour zones
    finished_run(org, finished_at=now)
    ov = overview.rollup_overview(organization=org, window=window, now=now, tz=tz)
    assert len(ov.buckets) == buckets
    assert all(a.end == b.start for a, b in zip(ov.buckets, ov.buckets[1:]))
    assert ov.buckets[0].start <= ov.buckets[-1].start < now < ov.buckets[-1].end
    local_starts = {b.start.astimezone(tz).hour for b in ov.buckets}
    assert local_starts <= ({0, 6, 12, 18} if window == "7d" else {0})
    assert sum(b.total for b in ov.buckets) == ov.finished == buckets + 1
    assert ov.buckets[-1].total == 2


def test_past_hours_are_summed_once_and_served_from_the_cache(org, django_assert_num_queries):
    now = datetime(2025, 6, 10, 15, 20, tzinfo=UTC)
    finished_run(org, finished_at=now - timedelta(hours=5))
    cold = overview.rollup_overview(organization=org, now=now)
    with django_assert_num_queries(5):  # only the live hours are read again
        warm = overview.rollup_overview(organization=org, now=now)
    assert warm.totals == cold.totals == {"completed": 1, "failed": 0, "cancelled": 0}
    # A run finishing now lands in a live hour and shows at once.
    finished_run(org, finished_at=now)
    assert overview.rollup_overview(organization=org, now=now).finished == 2


def test_a_rebuild_invalidates_the_cached_past(org, django_capture_on_commit):
    now = datetime(2025, 6, 10, 15, 20, tzinfo=UTC)
    run = finished_run(org, finished_at=now - timedelta(hours=5))
    assert overview.rollup_overview(organization=org, now=now).finished == 1
    AgentRun.objects.filter(pk=run.pk).update(status="failed", error_code="TIMEOUT")
    with django_capture_on_commit():
        rollups.rollups_rebuild(organization=org)
    assert overview.rollup_overview(organization=org, now=now).totals["failed"] == 1


def test_the_generation_starts_again_when_the_cache_lost_it(org):
    from django.core.cache import cache

    cache.delete(rollups.GENERATION_KEY)
    rollups._generation_bump()
    assert rollups.rollups_generation() == 2
    rollups._generation_bump()
    assert rollups.rollups_generation() == 3


# --- percentiles kept within what was observed ----------------------------------------------


def test_a_percentile_estimate_is_clamped_to_the_fastest_and_slowest_run():
    counts = [0] * len(ROLLUP_BUCKET_FIELDS)
    counts[9] = 10  # 1.0–1.8 s: the estimate alone reaches about 1.7 s for p95
    unclamped = overview.percentile_from_histogram(counts, 0.95)
    assert unclamped > 1200
    assert overview.percentile_from_histogram(counts, 0.95, slowest=1200) == 1200
    assert overview.percentile_from_histogram(counts, 0.05, fastest=1500) == 1500


def test_rollups_keep_the_fastest_and_slowest_and_a_rebuild_agrees(org):
    base = datetime(2025, 3, 1, 10, 30, tzinfo=UTC)
    for ms in (1100, 1150, 1200):
        finished_run(org, duration_ms=ms, finished_at=base)
    row = RunRollup.objects.get()
    assert (row.duration_min_ms, row.duration_max_ms) == (1100, 1200)
    rollups.rollups_rebuild(organization=org)
    row = RunRollup.objects.get()
    assert (row.duration_min_ms, row.duration_max_ms) == (1100, 1200)


def test_the_overview_p95_never_exceeds_the_slowest_run(org):
    now = datetime.now(UTC)
    for ms in (1100, 1150, 1200):  # all in one bucket: interpolation alone says ≈1.7 s
        finished_run(org, duration_ms=ms, finished_at=now)
    data = overview.rollup_overview(organization=org, window="24h")
    assert 1100 <= data.p50_ms <= data.p95_ms <= 1200
    (agent,) = data.agents
    assert 1100 <= agent.p50_ms <= agent.p95_ms <= 1200
