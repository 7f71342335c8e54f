"""Recurring runs: create, change, pause and resume schedules, and start the due ones.

Times are computed in the schedule's timezone (the organization's by default), so "every
Tuesday at 9:00" stays 9:00 across daylight-saving changes.  ``schedules_run_due`` is called
every minute by django-q2: it moves each due schedule's ``next_run_at`` forward with a
conditional UPDATE (whoever changes the row starts the occurrence, so two workers never
start it twice), computes the next time from *now* (after downtime one run starts, not one
per missed occurrence), and skips an occurrence while the previous run is still queued or
running.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.automation.models import RecurringSchedule, ScheduleKind
from agents.registry import get_agent
from agents.services import run_start
from neonhub.core.audit import audit_record, changes_between
from neonhub.core.errors import Conflict, InvalidInput, NeonHubError
from neonhub.core.models import Organization
from runs.models import ACTIVE_STATUSES
from runs.models import Trigger as RunTrigger

logger = logging.getLogger(__name__)

PREVIEW_COUNT = 5
MAX_INTERVAL_MINUTES = 60 * 24 * 366
DUE_BATCH = 500
UNSET: Any = object()


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.for_field("timezone", f"unknown timezone {name!r}") from None


def expression_validate(
    *, cron: str | None, interval_minutes: int | None
) -> tuple[str, str, int | None]:
    """``(kind, cron, interval)`` from exactly one of a cron expression or an interval."""
    cron = (cron or "").strip()
    if bool(cron) == (interval_minutes is not None):
        raise InvalidInput.for_field(
            "cron", "give either cron (e.g. '0 9 * * 2') or interval_minutes, not both"
        )
    if cron:
        if len(cron.split()) != 5 or not croniter.is_valid(cron):
            raise InvalidInput.for_field(
                "cron", "not a valid five-field cron expression (minute hour day month weekday)"
            )
        return ScheduleKind.CRON, cron, None
    if not isinstance(interval_minutes, int) or not 1 <= interval_minutes <= MAX_INTERVAL_MINUTES:
        raise InvalidInput.for_field(
            "interval_minutes",
            f"must be a whole number of minutes from 1 to {MAX_INTERVAL_MINUTES}",
        )
    return ScheduleKind.INTERVAL, "", interval_minutes


def schedule_times(
    *,
    kind: str,
    cron: str,
    interval_minutes: int | None,
    tz: str,
    after: datetime,
    anchor: datetime | None = None,
    count: int = PREVIEW_COUNT,
) -> list[datetime]:
    """The next ``count`` times strictly after ``after``, in the schedule's timezone."""
    tzinfo = zone(tz)
    local = after.astimezone(tzinfo)
    if kind == ScheduleKind.CRON:
        it = croniter(cron, local)
        return [it.get_next(datetime) for _ in range(count)]
    step = timedelta(minutes=interval_minutes or 1)
    start = (anchor or after).astimezone(tzinfo)
    steps = max(0, math.floor((local - start) / step) + 1) if local >= start else 0
    return [start + step * (steps + i) for i in range(count)]


def schedules_preview(
    *, cron: str | None, interval_minutes: int | None, tz: str, now: datetime | None = None
) -> list[datetime]:
    kind, cron, interval = expression_validate(cron=cron, interval_minutes=interval_minutes)
    return schedule_times(
        kind=kind, cron=cron, interval_minutes=interval, tz=tz, after=now or timezone.now()
    )


def _next_time(schedule: RecurringSchedule, after: datetime) -> datetime:
    return schedule_times(
        kind=schedule.kind,
        cron=schedule.cron,
        interval_minutes=schedule.interval_minutes,
        tz=schedule.timezone,
        after=after,
        anchor=schedule.created_at,
        count=1,
    )[0]


def schedule_snapshot(schedule: RecurringSchedule) -> dict:
    """What the audit log compares of a schedule."""
    return {
        "name": schedule.name,
        "agent": schedule.agent,
        "intent": schedule.intent,
        "payload": schedule.payload,
        "cron": schedule.cron,
        "interval_minutes": schedule.interval_minutes,
        "timezone": schedule.timezone,
        "paused": schedule.paused,
        "campaign": str(schedule.campaign_id) if schedule.campaign_id else None,
    }


def _audit(action: str, schedule: RecurringSchedule, before: dict, principal, request) -> None:
    audit_record(
        action=action,
        principal=principal,
        organization=schedule.organization,
        target=schedule,
        changes=changes_between(
            before, schedule_snapshot(schedule) if action != "schedule.delete" else {}
        ),
        request=request,
    )


def _check_task(agent: str, intent: str, payload: Any) -> str:
    impl = get_agent(agent)
    impl.validate(intent, payload)
    return impl.slug


def schedule_create(
    *,
    organization: Organization,
    name: str,
    agent: str,
    intent: str,
    payload: dict,
    cron: str | None = None,
    interval_minutes: int | None = None,
    timezone_name: str | None = None,
    paused: bool = False,
    created_by=None,
    campaign=None,
    principal=None,
    request=None,
) -> RecurringSchedule:
    """Validate the agent, intent, payload and expression, then save with its first time."""
    kind, cron, interval = expression_validate(cron=cron, interval_minutes=interval_minutes)
    tz = timezone_name or organization.timezone
    zone(tz)
    schedule = RecurringSchedule(
        organization=organization,
        name=name,
        agent=_check_task(agent, intent, payload),
        intent=intent,
        payload=payload,
        kind=kind,
        cron=cron,
        interval_minutes=interval,
        timezone=tz,
        paused=paused,
        created_by=created_by,
        campaign=campaign,
    )
    schedule.next_run_at = None if paused else _next_time(schedule, timezone.now())
    _save(schedule, lambda: _audit("schedule.create", schedule, {}, principal, request))
    return schedule


def _save(schedule: RecurringSchedule, audit=None) -> None:
    try:
        with transaction.atomic():
            schedule.save()
            if audit is not None:
                audit()
    except IntegrityError:
        raise Conflict.for_field(
            "name", "already used", summary=f"A schedule named {schedule.name!r} already exists"
        ) from None


def schedule_update(
    *,
    schedule: RecurringSchedule,
    name: str = UNSET,
    agent: str = UNSET,
    intent: str = UNSET,
    payload: dict = UNSET,
    cron: str | None = UNSET,
    interval_minutes: int | None = UNSET,
    timezone_name: str = UNSET,
    campaign=UNSET,
    principal=None,
    request=None,
) -> RecurringSchedule:
    """Change a schedule with the same checks as creating one; its next time is computed
    again from now."""
    before = schedule_snapshot(schedule)
    if cron is not UNSET or interval_minutes is not UNSET:
        kind, new_cron, interval = expression_validate(
            cron=None if cron is UNSET else cron,
            interval_minutes=None if interval_minutes is UNSET else interval_minutes,
        )
        schedule.kind, schedule.cron, schedule.interval_minutes = kind, new_cron, interval
    if timezone_name is not UNSET:
        zone(timezone_name)
        schedule.timezone = timezone_name
    for field, value in (
        ("name", name),
        ("agent", agent),
        ("intent", intent),
        ("payload", payload),
        ("campaign", campaign),
    ):
        if value is not UNSET:
            setattr(schedule, field, value)
    schedule.agent = _check_task(schedule.agent, schedule.intent, schedule.payload)
    if not schedule.paused:
        schedule.next_run_at = _next_time(schedule, timezone.now())
    _save(schedule, lambda: _audit("schedule.update", schedule, before, principal, request))
    return schedule


def schedule_pause(
    *, schedule: RecurringSchedule, principal=None, request=None
) -> RecurringSchedule:
    before = schedule_snapshot(schedule)
    with transaction.atomic():
        RecurringSchedule.objects.filter(pk=schedule.pk).update(
            paused=True, next_run_at=None, updated_at=timezone.now()
        )
        schedule.paused, schedule.next_run_at = True, None
        _audit("schedule.pause", schedule, before, principal, request)
    return schedule


def schedule_resume(
    *, schedule: RecurringSchedule, principal=None, request=None
) -> RecurringSchedule:
    """Start again from now: occurrences missed while paused are not made up."""
    before = schedule_snapshot(schedule)
    schedule.paused = False
    schedule.next_run_at = _next_time(schedule, timezone.now())
    with transaction.atomic():
        RecurringSchedule.objects.filter(pk=schedule.pk).update(
            paused=False, next_run_at=schedule.next_run_at, updated_at=timezone.now()
        )
        _audit("schedule.resume", schedule, before, principal, request)
    return schedule


def schedule_skip_next(*, schedule: RecurringSchedule, principal=None, request=None) -> datetime:
    """Skip the schedule's next occurrence: its next time moves to the one after.

    A conditional UPDATE on the time this caller saw, like ``occurrence_start``: if the minute
    task has just started that occurrence (or someone skipped it), ``Conflict``.  Answers the
    new next time.
    """
    occurrence = schedule.next_run_at
    if schedule.paused or occurrence is None:
        raise Conflict("The schedule is paused; it has no next run to skip")
    following = _next_time(schedule, occurrence)
    with transaction.atomic():
        if not RecurringSchedule.objects.filter(
            pk=schedule.pk, paused=False, next_run_at=occurrence
        ).update(next_run_at=following, updated_at=timezone.now()):
            raise Conflict("The next run has already started or moved; look at the schedule again")
        schedule.next_run_at = following
        audit_record(
            action="schedule.skip",
            principal=principal,
            organization=schedule.organization,
            target=schedule,
            changes={"next_run_at": [occurrence.isoformat(), following.isoformat()]},
            request=request,
        )
    return following


def schedule_delete(*, schedule: RecurringSchedule, principal=None, request=None) -> None:
    with transaction.atomic():
        _audit("schedule.delete", schedule, schedule_snapshot(schedule), principal, request)
        schedule.delete()


def schedules_run_due(*, now: datetime | None = None) -> dict[str, int]:
    """Start every due occurrence once; answers how many started and how many were skipped."""
    now = now or timezone.now()
    due = RecurringSchedule.objects.filter(paused=False, next_run_at__lte=now).order_by(
        "next_run_at"
    )
    started = skipped = 0
    for schedule_id in list(due.values_list("id", flat=True)[:DUE_BATCH]):
        outcome = _run_one(schedule_id, now)
        started += outcome == "started"
        skipped += outcome == "skipped"
    if started or skipped:
        logger.info("schedules: started=%s skipped=%s", started, skipped)
    return {"started": started, "skipped": skipped}


def _run_one(schedule_id, now: datetime) -> str:
    schedule = (
        RecurringSchedule.objects.select_related("organization", "last_run")
        .filter(pk=schedule_id)
        .first()
    )
    if schedule is None or schedule.paused or schedule.next_run_at is None:
        return "gone"
    return occurrence_start(schedule, now)


def occurrence_start(schedule: RecurringSchedule, now: datetime) -> str:
    """Start the occurrence ``schedule.next_run_at`` (as this worker read it) if no one else has."""
    occurrence = schedule.next_run_at
    if occurrence is None or occurrence > now:
        return "not due"
    with transaction.atomic():
        claimed = RecurringSchedule.objects.filter(
            pk=schedule.pk, paused=False, next_run_at=occurrence
        ).update(next_run_at=_next_time(schedule, now), updated_at=now)
        if not claimed:
            return "taken"  # another worker started this occurrence
        if schedule.last_run is not None and schedule.last_run.status in ACTIVE_STATUSES:
            return _skip(
                schedule,
                f"The run of {occurrence:%Y-%m-%d %H:%M} UTC was skipped: the previous run "
                f"is still {schedule.last_run.status}",
            )
        try:
            with transaction.atomic():
                run, _ = run_start(
                    organization=schedule.organization,
                    agent=schedule.agent,
                    intent=schedule.intent,
                    payload=schedule.payload,
                    trigger=RunTrigger.SCHEDULE,
                    idempotency_key=f"schedule:{schedule.pk}:{int(occurrence.timestamp())}",
                    schedule_id=schedule.pk,
                    campaign_id=schedule.campaign_id,
                )
        except NeonHubError as exc:
            return _skip(schedule, f"The run could not start: {exc.message}")
        RecurringSchedule.objects.filter(pk=schedule.pk).update(
            last_run=run, last_run_at=now, last_skip_reason=""
        )
    return "started"


def _skip(schedule: RecurringSchedule, reason: str) -> str:
    from django.db.models import F

    RecurringSchedule.objects.filter(pk=schedule.pk).update(
        skipped=F("skipped") + 1, last_skip_reason=reason[:200]
    )
    return "skipped"
