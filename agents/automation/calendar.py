"""The calendar: what will go out, and when.

Three kinds of entry, all read in one organization over a window ``[start, end)``:

- ``publish``: a scheduled social publish (the child run a publish with ``publishAt`` made);
- ``run``: any other scheduled run (``AgentRun.is_scheduled``: queued, never claimed, due at a
  time still to come; a retry waiting for its back-off is not one);
- ``schedule``: the next occurrences of a recurring schedule, computed with its own rule
  (``schedules.schedule_times``) and capped per schedule.

Channels come from what the run or schedule will do (the platforms of a publish, the channel
of a message), never from its recipients: an entry carries no address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from uuid import UUID

from django.utils import timezone

from agents.automation import schedules
from agents.automation.models import RecurringSchedule
from agents.fields import CHOICE_LABELS, SOCIAL_PLATFORMS
from neonhub.core.models import Organization
from runs.models import AgentRun
from runs.models import Trigger as RunTrigger

CHANNELS: dict[str, str] = {
    **{slug: CHOICE_LABELS[slug] for slug in SOCIAL_PLATFORMS},
    "email": "Email",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
}
# The most runs one window reads, and the most occurrences one schedule adds to it (an
# every-minute schedule would otherwise fill a month with 44,640 entries).
RUN_CAP = 500
SCHEDULE_CAP = 100
TITLE_LENGTH = 80


class Kind:
    PUBLISH = "publish"
    RUN = "run"
    SCHEDULE = "schedule"


@dataclass(frozen=True)
class Entry:
    kind: str
    due_at: datetime
    agent: str
    intent: str
    channels: tuple[str, ...]
    title: str
    summary: str
    run_id: UUID | None = None
    schedule_id: UUID | None = None
    # "scheduled" until it goes out; a scheduled publish already started shows its run's status.
    status: str = "scheduled"

    @property
    def uid(self) -> str:
        """Stable across edits: a run is one event wherever it moves; an occurrence is its time."""
        if self.run_id is not None:
            return f"run-{self.run_id}@neonhub"
        return f"schedule-{self.schedule_id}-{int(self.due_at.timestamp())}@neonhub"

    @property
    def key(self) -> str:
        return self.uid.removesuffix("@neonhub")

    @property
    def page(self) -> str:
        if self.run_id is not None:
            return f"/runs/{self.run_id}/"
        return f"/schedules/#schedule-{self.schedule_id}"

    @property
    def channel_labels(self) -> list[str]:
        return [CHANNELS.get(c, c) for c in self.channels]


@dataclass
class Window:
    entries: list[Entry]
    # Schedules whose occurrences were cut at SCHEDULE_CAP, and whether RUN_CAP was reached.
    capped_schedules: list[str] = field(default_factory=list)
    runs_capped: bool = False
    # Each active schedule's next time (the one "Skip this run" skips).
    next_runs: dict[UUID, datetime] = field(default_factory=dict)


def channels_of(agent: str, intent: str, payload: Any) -> tuple[str, ...]:
    """The channels a run of ``agent``/``intent`` with this input goes out on."""
    payload = payload if isinstance(payload, dict) else {}
    if (agent, intent) == ("social", "publish"):
        platforms = payload.get("platforms") or []
        return tuple(str(p) for p in platforms if isinstance(p, str))
    if agent == "email" and intent == "send":
        return ("email",)
    if agent == "messaging":
        return {"send-sms": ("sms",), "send-whatsapp": ("whatsapp",)}.get(intent, ())
    if agent == "support" and intent == "reply":
        return (str(payload.get("channel") or "sms"),)
    return ()


def _title(agent: str, intent: str, payload: Any, fallback: str) -> str:
    payload = payload if isinstance(payload, dict) else {}
    for key in ("subject", "title", "text", "topic", "body"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1] + "…"
    return fallback


def _run_entry(run: AgentRun, *, due_at: datetime | None = None) -> Entry:
    publish = (run.agent, run.intent) == ("social", "publish")
    channels = channels_of(run.agent, run.intent, run.input)
    label = "Publish" if publish else f"{run.agent}/{run.intent}"
    return Entry(
        kind=Kind.PUBLISH if publish else Kind.RUN,
        due_at=due_at or run.next_attempt_at,
        agent=run.agent,
        intent=run.intent,
        channels=channels,
        title=_title(run.agent, run.intent, run.input, label),
        summary=(
            f"{label} to {', '.join(CHANNELS.get(c, c) for c in channels)}"
            if channels
            else f"Scheduled run of {run.agent}/{run.intent}"
        ),
        run_id=run.id,
        status="scheduled" if due_at is None else run.status,
    )


def _occurrences(schedule: RecurringSchedule, start: datetime, end: datetime) -> list[datetime]:
    """The schedule's times in ``[start, end)``, from its next time on, at most SCHEDULE_CAP + 1."""
    first = schedule.next_run_at
    if first is None or first >= end:
        return []
    if first >= start:
        times = [first]
        after = first
    else:
        times, after = [], start - timedelta(microseconds=1)
    times += schedules.schedule_times(
        kind=schedule.kind,
        cron=schedule.cron,
        interval_minutes=schedule.interval_minutes,
        tz=schedule.timezone,
        after=after,
        anchor=schedule.created_at,
        count=SCHEDULE_CAP + 1 - len(times),
    )
    return [t for t in times if start <= t < end]


def _schedule_entries(
    schedule: RecurringSchedule, start: datetime, end: datetime
) -> tuple[list[Entry], bool]:
    times = _occurrences(schedule, start, end)
    channels = channels_of(schedule.agent, schedule.intent, schedule.payload)
    entries = [
        Entry(
            kind=Kind.SCHEDULE,
            due_at=t,
            agent=schedule.agent,
            intent=schedule.intent,
            channels=channels,
            title=schedule.name,
            summary=f"Recurring: {schedule.agent}/{schedule.intent}, {schedule.expression}",
            schedule_id=schedule.id,
        )
        for t in times[:SCHEDULE_CAP]
    ]
    return entries, len(times) > SCHEDULE_CAP


def calendar_window(
    *,
    organization: Organization,
    start: datetime,
    end: datetime,
    channel: str | None = None,
    now: datetime | None = None,
) -> Window:
    """Everything due in ``[start, end)`` (and not before ``now``), earliest first."""
    now = now or timezone.now()
    start_at = max(start, now)
    window = Window(entries=[])
    if start < now:
        window.entries += _gone_out(organization, start, min(end, now))
    if start_at >= end:
        return _finish(window, channel)
    # Through the partial index run_queued_due (queued runs by next_attempt_at), then the
    # organization; ``scheduled`` keeps the rule of AgentRun.is_scheduled.
    runs = list(
        AgentRun.objects.scheduled(now=now)
        .filter(organization=organization, next_attempt_at__gte=start_at, next_attempt_at__lt=end)
        .order_by("next_attempt_at", "id")
        .only("id", "agent", "intent", "input", "next_attempt_at")[: RUN_CAP + 1]
    )
    window.runs_capped = len(runs) > RUN_CAP
    window.entries += [_run_entry(r) for r in runs[:RUN_CAP]]
    active = RecurringSchedule.objects.filter(
        organization=organization, paused=False, next_run_at__isnull=False, next_run_at__lt=end
    ).order_by("name")
    for schedule in active:
        window.next_runs[schedule.id] = schedule.next_run_at
        entries, capped = _schedule_entries(schedule, start_at, end)
        window.entries += entries
        if capped:
            window.capped_schedules.append(schedule.name)
    return _finish(window, channel)


def _finish(window: Window, channel: str | None) -> Window:
    if channel:
        window.entries = [e for e in window.entries if channel in e.channels]
    window.entries.sort(key=lambda e: (e.due_at, e.key))
    return window


def _gone_out(organization: Organization, start: datetime, end: datetime) -> list[Entry]:
    """Scheduled publishes whose time came in ``[start, end)``: when they started, and how
    they ended.  (A recurring schedule's past runs are on its own page, not here.)"""
    runs = (
        AgentRun.objects.filter(
            organization=organization,
            trigger=RunTrigger.SCHEDULE,
            parent__isnull=False,
            started_at__gte=start,
            started_at__lt=end,
            # A publish is scheduled at most a year ahead: this bounds the read to a range of
            # the run_org_created index instead of all of the organization's runs.
            created_at__gte=start - timedelta(days=366),
            created_at__lt=end,
        )
        .order_by("started_at", "id")
        .only("id", "agent", "intent", "input", "status", "started_at")[:RUN_CAP]
    )
    return [_run_entry(run, due_at=run.started_at) for run in runs]


# --- the page's grid --------------------------------------------------------------------------

VIEWS = ("week", "month")


@dataclass
class Day:
    date: date
    entries: list[Entry]
    in_range: bool
    today: bool


@dataclass
class Grid:
    view: str
    anchor: date
    weeks: list[list[Day]]
    title: str
    previous: date
    following: date
    window: Window
    tz: tzinfo


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _month_step(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def calendar_grid(
    *,
    organization: Organization,
    view: str,
    anchor: date,
    channel: str | None = None,
    now: datetime | None = None,
) -> Grid:
    """The week (Monday first) or the month around ``anchor``, in the organization's timezone,
    with each day's entries.  A month shows whole weeks, its neighbours' days included."""
    now = now or timezone.now()
    tz = organization.tz
    if view == "month":
        first = anchor.replace(day=1)
        last = _month_step(first, 1) - timedelta(days=1)
        grid_start = first - timedelta(days=first.weekday())
        grid_end = last + timedelta(days=7 - last.weekday())
        title = f"{first:%B %Y}"
        previous, following = _month_step(first, -1), _month_step(first, 1)
    else:
        first = grid_start = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        grid_end = last + timedelta(days=1)
        title = f"Week of {first:%-d %B %Y}"
        previous, following = first - timedelta(days=7), first + timedelta(days=7)
    window = calendar_window(
        organization=organization,
        start=_midnight(grid_start, tz),
        end=_midnight(grid_end, tz),
        channel=channel,
        now=now,
    )
    by_day: dict[date, list[Entry]] = {}
    for entry in window.entries:
        by_day.setdefault(entry.due_at.astimezone(tz).date(), []).append(entry)
    today = now.astimezone(tz).date()
    days = [
        Day(
            date=d,
            entries=by_day.get(d, []),
            in_range=first <= d <= last,
            today=d == today,
        )
        for d in (grid_start + timedelta(days=i) for i in range((grid_end - grid_start).days))
    ]
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    return Grid(view, anchor, weeks, title, previous, following, window, tz)
