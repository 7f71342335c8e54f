"""The calendar: what it contains (in the organization's timezone), moving and cancelling a
scheduled run, skipping a schedule's next run, and the page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from agents import executor
from agents import services as agent_services
from agents.automation import calendar, schedules
from agents.automation.models import RecurringSchedule
from neonhub.core.errors import Conflict, InvalidInput
from runs.models import AgentRun, RunStatus
from tests.factories import AgentRunFactory, OrganizationFactory, RecurringScheduleFactory

pytestmark = pytest.mark.django_db


def scheduled_publish(org, when, platforms=("facebook_page", "reddit"), text="Winter sale"):
    parent = AgentRunFactory(
        organization=org, agent="social", intent="publish", status=RunStatus.COMPLETED
    )
    return AgentRunFactory(
        organization=org,
        agent="social",
        intent="publish",
        trigger="schedule",
        parent=parent,
        next_attempt_at=when,
        input={
            "text": text,
            "platforms": list(platforms),
            "reddit": {"subreddit": "acme"},
            "publishAt": when.isoformat(),
        },
    )


# --- what is on it ----------------------------------------------------------------------------


def test_a_scheduled_publish_shows_with_its_channels_and_text(org):
    when = timezone.now() + timedelta(days=1)
    run = scheduled_publish(org, when)
    window = calendar.calendar_window(
        organization=org, start=timezone.now(), end=timezone.now() + timedelta(days=7)
    )
    [entry] = window.entries
    assert entry.kind == "publish" and entry.run_id == run.id and entry.due_at == when
    assert entry.channels == ("facebook_page", "reddit")
    assert entry.title == "Winter sale"
    assert entry.summary == "Publish to Facebook Page, Reddit"


def test_retries_waiting_for_back_off_and_runs_queued_now_are_not_on_it(org):
    soon = timezone.now() + timedelta(minutes=5)
    AgentRunFactory(organization=org, attempt=1, next_attempt_at=soon)  # a retry's back-off
    AgentRunFactory(organization=org)  # queued to start now
    AgentRunFactory(organization=org, status=RunStatus.RUNNING, next_attempt_at=soon)
    scheduled = AgentRunFactory(organization=org, next_attempt_at=soon)  # a scheduled run
    window = calendar.calendar_window(
        organization=org, start=timezone.now(), end=timezone.now() + timedelta(days=1)
    )
    assert [e.run_id for e in window.entries] == [scheduled.id]
    assert window.entries[0].kind == "run"


def test_another_organizations_runs_and_schedules_are_not_on_it(org, other_org):
    scheduled_publish(other_org, timezone.now() + timedelta(hours=3))
    RecurringScheduleFactory(organization=other_org, cron="0 * * * *")
    window = calendar.calendar_window(
        organization=org, start=timezone.now(), end=timezone.now() + timedelta(days=1)
    )
    assert window.entries == []


def test_the_channel_filter_keeps_only_that_channels_entries(org):
    scheduled_publish(org, timezone.now() + timedelta(hours=2), platforms=["instagram"])
    reddit = scheduled_publish(org, timezone.now() + timedelta(hours=3), platforms=["reddit"])
    window = calendar.calendar_window(
        organization=org,
        start=timezone.now(),
        end=timezone.now() + timedelta(days=1),
        channel="reddit",
    )
    assert [e.run_id for e in window.entries] == [reddit.id]


def test_a_schedules_next_times_in_range_are_listed_and_capped(org):
    daily = RecurringScheduleFactory(organization=org, name="Daily digest", cron="0 9 * * *")
    minutely = RecurringScheduleFactory(
        organization=org, name="Pulse", kind="interval", cron="", interval_minutes=1
    )
    start = timezone.now()
    window = calendar.calendar_window(organization=org, start=start, end=start + timedelta(days=7))
    daily_times = [e.due_at for e in window.entries if e.schedule_id == daily.id]
    assert daily_times[0] == daily.next_run_at
    assert len(daily_times) == 7
    assert all(t.astimezone(UTC).hour == 9 for t in daily_times)
    assert len([e for e in window.entries if e.schedule_id == minutely.id]) == 100
    assert window.capped_schedules == ["Pulse"]
    assert window.next_runs[daily.id] == daily.next_run_at


def test_a_paused_schedule_is_not_on_it(org):
    RecurringScheduleFactory(organization=org, paused=True, next_run_at=None)
    start = timezone.now()
    assert (
        calendar.calendar_window(
            organization=org, start=start, end=start + timedelta(days=7)
        ).entries
        == []
    )


def test_an_entry_at_23_30_local_on_the_last_day_of_a_month_is_on_that_day_in_the_month_view():
    org = OrganizationFactory(timezone="America/New_York")
    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    # 23:30 on 31 January in New York is 04:30 UTC on 1 February.
    local = datetime(2026, 1, 31, 23, 30).replace(tzinfo=org.tz)
    run = scheduled_publish(org, local)
    january = calendar.calendar_grid(
        organization=org, view="month", anchor=date(2026, 1, 5), now=now
    )
    days = {d.date: d for week in january.weeks for d in week}
    assert [e.run_id for e in days[date(2026, 1, 31)].entries] == [run.id]
    assert days[date(2026, 1, 31)].in_range
    assert days[date(2026, 2, 1)].entries == [] and not days[date(2026, 2, 1)].in_range
    february = calendar.calendar_grid(
        organization=org, view="month", anchor=date(2026, 2, 1), now=now
    )
    # February's grid starts on Monday 26 January, so the 31st is shown there too, outside.
    days = {d.date: d for week in february.weeks for d in week}
    assert [e.run_id for e in days[date(2026, 1, 31)].entries] == [run.id]
    assert not days[date(2026, 1, 31)].in_range
    assert february.title == "February 2026" and february.weeks[0][0].date == date(2026, 1, 26)


def test_the_week_starts_on_monday_in_the_organizations_timezone():
    org = OrganizationFactory(timezone="Asia/Tokyo")
    now = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    # Monday 2 March 00:15 in Tokyo is still Sunday 1 March in UTC.
    run = scheduled_publish(org, datetime(2026, 3, 2, 0, 15).replace(tzinfo=org.tz))
    grid = calendar.calendar_grid(organization=org, view="week", anchor=date(2026, 3, 4), now=now)
    [week] = grid.weeks
    assert week[0].date == date(2026, 3, 2) and [e.run_id for e in week[0].entries] == [run.id]
    previous = calendar.calendar_grid(
        organization=org, view="week", anchor=date(2026, 3, 1), now=now
    )
    assert all(not d.entries for d in previous.weeks[0])


def test_a_publish_that_went_out_stays_on_the_past_days_with_its_status(org):
    run = scheduled_publish(org, timezone.now() + timedelta(hours=1))
    AgentRun.objects.filter(pk=run.pk).update(
        status=RunStatus.COMPLETED,
        started_at=timezone.now() - timedelta(hours=2),
        next_attempt_at=None,
        attempt=1,
    )
    window = calendar.calendar_window(
        organization=org,
        start=timezone.now() - timedelta(days=1),
        end=timezone.now() + timedelta(days=1),
    )
    [entry] = window.entries
    assert entry.run_id == run.id and entry.status == "completed"


# --- rescheduling -----------------------------------------------------------------------------


def test_reschedule_moves_the_run_its_publish_time_and_its_task(org):
    run = scheduled_publish(org, timezone.now() + timedelta(hours=2))
    later = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    agent_services.run_reschedule(run=run, at=later)
    run.refresh_from_db()
    assert run.next_attempt_at == later and run.status == "queued"
    assert run.input["publishAt"] == later.isoformat()
    [task] = Schedule.objects.filter(func="agents.tasks.execute_run", args=repr(str(run.id)))
    assert task.next_run == later


def test_a_rescheduled_later_run_does_not_run_when_its_old_task_fires(org):
    run = scheduled_publish(org, timezone.now() + timedelta(seconds=1))
    agent_services.run_reschedule(run=run, at=timezone.now() + timedelta(hours=3))
    # The old time comes and its task is delivered anyway (a broker that had it already).
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert run.status == "queued" and run.attempt == 0 and run.started_at is None


def test_a_run_that_already_started_cannot_be_rescheduled(org):
    run = scheduled_publish(org, timezone.now() + timedelta(hours=1))
    # The worker claimed it between the page's read and the move.
    AgentRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, attempt=1, started_at=timezone.now(), next_attempt_at=None
    )
    with pytest.raises(Conflict):
        agent_services.run_reschedule(run=run, at=timezone.now() + timedelta(hours=5))
    run.refresh_from_db()
    assert run.status == "running" and run.next_attempt_at is None


def test_the_conditional_update_loses_to_a_claim_made_after_the_read(org):
    run = scheduled_publish(org, timezone.now() + timedelta(hours=1))
    stale = AgentRun.objects.get(pk=run.pk)  # the page read it while it was scheduled
    AgentRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, attempt=1, started_at=timezone.now()
    )
    with pytest.raises(Conflict, match="no longer"):
        agent_services.run_reschedule(run=stale, at=timezone.now() + timedelta(hours=5))


def test_a_retry_waiting_for_back_off_is_not_a_scheduled_run(org):
    run = AgentRunFactory(
        organization=org, attempt=1, next_attempt_at=timezone.now() + timedelta(minutes=3)
    )
    with pytest.raises(Conflict, match="waiting to retry"):
        agent_services.run_reschedule(run=run, at=timezone.now() + timedelta(hours=5))


@pytest.mark.parametrize(
    "at,message",
    [
        (lambda: timezone.now() - timedelta(minutes=1), "must be in the future"),
        (lambda: timezone.now() + timedelta(days=400), "at most one year ahead"),
        (lambda: datetime(2030, 1, 1, 9, 0), "needs a time zone, e.g. 2026-01-31T09:00:00Z"),
    ],
)
def test_a_bad_time_is_refused_naming_at(org, at, message):
    run = scheduled_publish(org, timezone.now() + timedelta(hours=1))
    with pytest.raises(InvalidInput) as exc:
        agent_services.run_reschedule(run=run, at=at())
    assert exc.value.details == [{"field": "at", "message": message}]


def test_skip_next_moves_a_schedule_to_its_following_time(org):
    schedule = RecurringScheduleFactory(organization=org, cron="0 9 * * *")
    first = schedule.next_run_at
    following = schedules.schedule_skip_next(schedule=schedule)
    assert following == first + timedelta(days=1)
    assert RecurringSchedule.objects.get(pk=schedule.pk).next_run_at == following
    stale = RecurringSchedule.objects.get(pk=schedule.pk)
    stale.next_run_at = first  # someone else's page, before the skip
    with pytest.raises(Conflict):
        schedules.schedule_skip_next(schedule=stale)


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_the_week_with_its_entries_and_headers(owner_client, org):
    run = scheduled_publish(org, timezone.now() + timedelta(hours=2), text="Launch day")
    resp = owner_client.get(reverse("automation:calendar"))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'scope="col"' in html and "Launch day" in html
    assert f'href="/runs/{run.id}/"' in html
    assert f'id="at-{run.id}"' in html and "Facebook Page, Reddit" in html
    assert "/calendar/feed/" in html


def test_htmx_navigation_answers_the_calendar_fragment(owner_client, org):
    resp = owner_client.get(
        reverse("automation:calendar") + "?view=month&date=2026-02-10",
        headers={"HX-Request": "true"},
    )
    html = resp.content.decode()
    assert resp.status_code == 200 and "<html" not in html
    assert 'id="calendar"' in html and "February 2026" in html
    restore = owner_client.get(
        reverse("automation:calendar") + "?view=month&date=2026-02-10",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.content.decode()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-02-30", "soon"])
def test_an_unreadable_or_far_away_date_shows_this_week(owner_client, day):
    resp = owner_client.get(reverse("automation:calendar") + f"?view=month&date={day}")
    assert resp.status_code == 200
    assert f"{timezone.localdate():%B %Y}" in resp.content.decode()


def test_reschedule_from_the_page_in_the_organizations_timezone(client, org, owner):
    org.timezone = "Europe/Berlin"
    org.save()
    client.force_login(owner)
    run = scheduled_publish(org, timezone.now() + timedelta(hours=2))
    target = (
        (timezone.now() + timedelta(days=3)).astimezone(org.tz).replace(second=0, microsecond=0)
    )
    resp = client.post(
        reverse("automation:calendar-reschedule", args=[run.id]),
        {"at": target.strftime("%Y-%m-%dT%H:%M"), "view": "week", "date": "", "channel": ""},
    )
    assert resp.status_code == 302 and resp["Location"].startswith("/calendar/?view=week")
    run.refresh_from_db()
    assert run.next_attempt_at == target


def test_a_past_time_on_the_page_is_shown_next_to_the_field(owner_client, org):
    run = scheduled_publish(org, timezone.now() + timedelta(hours=2))
    resp = owner_client.post(
        reverse("automation:calendar-reschedule", args=[run.id]), {"at": "2020-01-01T09:00"}
    )
    assert resp.status_code == 422
    html = resp.content.decode()
    assert f'id="at-{run.id}-error">must be in the future' in html
    assert 'aria-invalid="true"' in html
    resp = owner_client.post(
        reverse("automation:calendar-reschedule", args=[run.id]), {"at": "next tuesday"}
    )
    assert resp.status_code == 422 and "enter a date and time" in resp.content.decode()


def test_cancel_from_the_page(owner_client, org):
    run = scheduled_publish(org, timezone.now() + timedelta(hours=2))
    resp = owner_client.post(
        reverse("automation:calendar-cancel", args=[run.id]), {"view": "month"}
    )
    assert resp.status_code == 302
    run.refresh_from_db()
    assert run.status == "cancelled"


def test_a_viewer_cannot_move_and_another_organizations_run_is_404(viewer_client, org, other_org):
    run = scheduled_publish(org, timezone.now() + timedelta(hours=2))
    at = {"at": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")}
    assert (
        viewer_client.post(reverse("automation:calendar-reschedule", args=[run.id]), at).status_code
        == 403
    )
    foreign = scheduled_publish(other_org, timezone.now() + timedelta(hours=2))
    assert (
        viewer_client.post(reverse("automation:calendar-cancel", args=[foreign.id])).status_code
        == 404
    )
    assert AgentRun.objects.get(pk=foreign.pk).status == "queued"


def test_skip_and_pause_a_schedule_from_the_page(owner_client, org):
    schedule = RecurringScheduleFactory(organization=org, cron="0 9 * * *")
    first = schedule.next_run_at
    owner_client.post(reverse("automation:calendar-schedule-skip", args=[schedule.id]))
    assert RecurringSchedule.objects.get(pk=schedule.pk).next_run_at == first + timedelta(days=1)
    owner_client.post(reverse("automation:calendar-schedule-pause", args=[schedule.id]))
    assert RecurringSchedule.objects.get(pk=schedule.pk).paused
