"""Recurring schedules: times in the organization's timezone, one start per occurrence, no pile-up."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from agents.automation import schedules
from agents.automation.models import RecurringSchedule
from agents.automation.tasks import MINUTE_TASK_NAME, ensure_schedules, schedules_due
from neonhub.core.errors import Conflict, InvalidInput
from runs.models import AgentRun

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
POST = {"platforms": ["facebook"], "content": "Tuesday tip"}


def _weekly(org, **kwargs):
    org.timezone = "Europe/Berlin"
    org.save()
    return schedules.schedule_create(
        organization=org,
        name=kwargs.pop("name", "Tuesday post"),
        agent="support",
        intent="triage",
        payload={"content": "Weekly check"},
        cron=kwargs.pop("cron", "0 9 * * 2"),
        **kwargs,
    )


def test_weekly_cron_runs_at_nine_in_the_organizations_timezone_across_dst(org):
    after = datetime(2026, 3, 20, 12, 0, tzinfo=BERLIN)
    times = schedules.schedule_times(
        kind="cron", cron="0 9 * * 2", interval_minutes=None, tz="Europe/Berlin", after=after
    )
    assert [t.strftime("%Y-%m-%d %H:%M %Z") for t in times[:3]] == [
        "2026-03-24 09:00 CET",
        "2026-03-31 09:00 CEST",
        "2026-04-07 09:00 CEST",
    ]
    assert len(times) == 5


def test_preview_shows_the_next_five_times_before_saving(org):
    times = schedules.schedules_preview(
        cron=None,
        interval_minutes=90,
        tz="UTC",
        now=datetime(2026, 1, 1, 0, 0, tzinfo=ZoneInfo("UTC")),
    )
    assert [t.strftime("%H:%M") for t in times] == ["01:30", "03:00", "04:30", "06:00", "07:30"]


@pytest.mark.parametrize(
    "cron, interval, field",
    [
        ("0 9 * * 2", 60, "cron"),
        (None, None, "cron"),
        ("61 * * * *", None, "cron"),
        ("* * * * * *", None, "cron"),
        (None, 0, "interval_minutes"),
        (None, 10**7, "interval_minutes"),
    ],
)
def test_bad_expressions_name_the_field(cron, interval, field):
    with pytest.raises(InvalidInput) as exc:
        schedules.expression_validate(cron=cron, interval_minutes=interval)
    assert exc.value.details[0]["field"] == field


def test_create_validates_the_agent_payload_and_timezone(org):
    with pytest.raises(InvalidInput):
        schedules.schedule_create(
            organization=org,
            name="x",
            agent="support",
            intent="triage",
            payload={},
            cron="0 9 * * 2",
        )
    with pytest.raises(InvalidInput) as exc:
        schedules.schedule_create(
            organization=org,
            name="x",
            agent="support",
            intent="triage",
            payload={"content": "a"},
            cron="0 9 * * 2",
            timezone_name="Mars/Base",
        )
    assert exc.value.details[0]["field"] == "timezone"
    _weekly(org)
    with pytest.raises(Conflict):
        _weekly(org)


def test_a_due_schedule_starts_one_run_and_moves_to_the_next_time(org):
    schedule = _weekly(org)
    due = schedule.next_run_at
    result = schedules.schedules_run_due(now=due + timedelta(seconds=20))
    assert result == {"started": 1, "skipped": 0}
    run = AgentRun.objects.get()
    assert (run.trigger, run.agent, run.intent) == ("schedule", "support", "triage")
    assert run.schedule_id == schedule.pk and run.origin == ("schedule", schedule.pk)
    schedule.refresh_from_db()
    assert schedule.last_run_id == run.pk
    assert schedule.next_run_at.astimezone(BERLIN) == (due + timedelta(days=7)).astimezone(
        BERLIN
    ).replace(hour=9)
    # The same minute again, or a second worker: nothing more.
    assert schedules.schedules_run_due(now=due + timedelta(seconds=40)) == {
        "started": 0,
        "skipped": 0,
    }


def test_a_second_worker_that_read_the_same_occurrence_does_not_start_it_again(org):
    schedule = _weekly(org)
    now = schedule.next_run_at + timedelta(seconds=1)
    first = RecurringSchedule.objects.select_related("organization").get(pk=schedule.pk)
    second = RecurringSchedule.objects.select_related("organization").get(pk=schedule.pk)
    assert schedules.occurrence_start(first, now) == "started"
    assert (
        schedules.occurrence_start(second, now) == "taken"
    )  # its conditional UPDATE changed no row
    assert AgentRun.objects.count() == 1
    fresh = RecurringSchedule.objects.get(pk=schedule.pk)
    assert (
        schedules.occurrence_start(fresh, now) == "not due"
    )  # the next occurrence is not started early


def test_after_downtime_one_run_starts_and_the_next_time_is_in_the_future(org):
    schedule = schedules.schedule_create(
        organization=org,
        name="Every 5 min",
        agent="support",
        intent="triage",
        payload={"content": "ping"},
        interval_minutes=5,
    )
    later = schedule.next_run_at + timedelta(hours=3)  # 36 occurrences were missed
    assert schedules.schedules_run_due(now=later)["started"] == 1
    schedule.refresh_from_db()
    assert later < schedule.next_run_at <= later + timedelta(minutes=5)
    assert AgentRun.objects.count() == 1


def test_an_occurrence_is_skipped_while_the_previous_run_is_still_going(org):
    schedule = _weekly(org)
    schedules.schedules_run_due(now=schedule.next_run_at)
    schedule.refresh_from_db()
    assert schedule.last_run.status == "queued"
    assert schedules.schedules_run_due(now=schedule.next_run_at)["skipped"] == 1
    schedule.refresh_from_db()
    assert schedule.skipped == 1 and "still queued" in schedule.last_skip_reason
    assert AgentRun.objects.count() == 1


def test_a_payload_that_no_longer_validates_is_skipped_with_the_reason(org):
    schedule = _weekly(org)
    RecurringSchedule.objects.filter(pk=schedule.pk).update(payload={"nonsense": True})
    assert schedules.schedules_run_due(now=schedule.next_run_at)["skipped"] == 1
    schedule.refresh_from_db()
    assert "could not start" in schedule.last_skip_reason
    assert not AgentRun.objects.exists()


def test_pause_and_resume_from_now(org):
    schedule = _weekly(org)
    schedules.schedule_pause(schedule=schedule)
    schedule.refresh_from_db()
    assert schedule.paused and schedule.next_run_at is None
    assert schedules.schedules_run_due(now=timezone.now() + timedelta(days=30)) == {
        "started": 0,
        "skipped": 0,
    }
    schedules.schedule_resume(schedule=schedule)
    schedule.refresh_from_db()
    assert not schedule.paused and schedule.next_run_at > timezone.now()


def test_update_recomputes_the_next_time(org):
    schedule = _weekly(org)
    schedules.schedule_update(
        schedule=schedule, cron=None, interval_minutes=15, name="Quarter hour"
    )
    schedule.refresh_from_db()
    assert schedule.kind == "interval" and schedule.name == "Quarter hour"
    assert schedule.next_run_at <= timezone.now() + timedelta(minutes=15)
    schedules.schedule_update(
        schedule=schedule, timezone_name="Asia/Tokyo", payload={"content": "changed"}
    )
    schedule.refresh_from_db()
    assert schedule.timezone == "Asia/Tokyo" and schedule.payload == {"content": "changed"}
    schedules.schedule_pause(schedule=schedule)
    schedule.refresh_from_db()
    schedules.schedule_update(schedule=schedule, cron="0 8 * * *", interval_minutes=None)
    schedule.refresh_from_db()
    assert schedule.next_run_at is None  # still paused


def test_deleted_or_paused_schedules_picked_up_in_a_race_are_left_alone(org):
    schedule = _weekly(org)
    assert schedules._run_one(schedule.pk, schedule.next_run_at) == "started"
    schedules.schedule_pause(schedule=schedule)
    assert schedules._run_one(schedule.pk, timezone.now()) == "gone"
    schedules.schedule_delete(schedule=schedule)
    assert schedules._run_one(schedule.pk, timezone.now()) == "gone"


def test_the_minute_task_exists_once_and_runs_schedules(org):
    from django_q.models import Schedule

    ensure_schedules()
    ensure_schedules()
    task = Schedule.objects.get(name=MINUTE_TASK_NAME)
    assert task.func == "agents.automation.tasks.schedules_due" and task.minutes == 1
    schedule = _weekly(org)
    RecurringSchedule.objects.filter(pk=schedule.pk).update(
        next_run_at=timezone.now() - timedelta(seconds=5)
    )
    assert schedules_due()["schedules"]["started"] == 1
