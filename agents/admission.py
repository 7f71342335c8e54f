"""Fair admission: one organization's burst does not queue ahead of every other organization.

Each organization has ``NEONHUB_ORG_MAX_IN_FLIGHT`` places (its runs queued or running).  A run
started while its organization's places are all taken is created ``held`` and not enqueued;
when one of the organization's runs finishes (or is cancelled while queued) its place goes back
and the organization's oldest held run takes it and is enqueued.  The broker's queue therefore
never holds more than the limit of one organization's runs, and another organization's run
waits behind at most that many, whatever the source (API, page, webhook, schedule, batch).

The signal is a counter of places taken, never a count of rows (counting active runs at each
start cost a quarter of the run throughput, docs/PERFORMANCE.md): one Lua call in Redis when
``REDIS_URL`` is set, otherwise one conditional UPDATE of the organization's
``OrganizationPlaces`` row in the run's own transaction.  The watchdog recounts every minute
(``places_recover``), so a worker that died between a run's finish and the hand-over, a Redis
that lost its keys or a run finished outside the executor leave no run held for longer.
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import cache, partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from agents import queue
from agents.models import OrganizationPlaces
from neonhub.core import sql
from neonhub.core.models import Organization
from runs import services as run_services
from runs.models import AgentRun, RunStatus, Trigger

REDIS_PREFIX = "neonhub:places:"
# Held runs one call or one watchdog pass releases at most (a raised limit, a recount).
RELEASE_BATCH = 500

# Two keys per organization: places taken (runs queued or running) and runs held.  Each script
# is one round trip and atomic, so a start and a finish of one organization are ordered.
# Take a place unless all are taken; a released held run also leaves the held count.
_TAKE = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
if ARGV[2] == '1' and tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then
  redis.call('DECR', KEYS[2])
end
return 1
"""
# A finished run's place: to a held run if there is one (answers 1), back otherwise.
_HAND_OVER = """
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then
  redis.call('DECR', KEYS[2])
  return 1
end
if redis.call('DECR', KEYS[1]) < 0 then redis.call('SET', KEYS[1], 0) end
return 0
"""
# A run was held (ARGV[2] = 1) or a held run cancelled (-1); answers 1 if a place is free.
_HELD = """
if redis.call('INCRBY', KEYS[2], ARGV[2]) < 0 then redis.call('SET', KEYS[2], 0) end
return tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) and 1 or 0
"""
_GIVE_BACK = """
if redis.call('DECR', KEYS[1]) < 0 then redis.call('SET', KEYS[1], 0) end
return 0
"""


class _Redis:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.take = self.client.register_script(_TAKE)
        self.hand_over = self.client.register_script(_HAND_OVER)
        self.held = self.client.register_script(_HELD)
        self.give_back = self.client.register_script(_GIVE_BACK)


@cache
def _redis(url: str) -> _Redis:
    return _Redis(url)


def _keys(organization_id) -> list[str]:
    return [f"{REDIS_PREFIX}{organization_id}", f"{REDIS_PREFIX}{organization_id}:held"]


def enabled() -> bool:
    return settings.NEONHUB_ORG_MAX_IN_FLIGHT > 0


def counts_in_database() -> bool:
    """True when the counter is a database row, which must change in the run's transaction."""
    return enabled() and not settings.REDIS_URL


def takes_place(*, trigger: str, parent_id) -> bool:
    """A scheduled publish (a child run started for a later time) waits for its time, not for a
    place: it would otherwise hold one for days."""
    return not (trigger == Trigger.SCHEDULE and parent_id is not None)


def place_take(organization_id, *, held: bool = False) -> bool:
    """Take one of the organization's places; False when they are all taken.  ``held``: for a
    held run being released (Redis also counts the held runs).

    With the database's counter the row stays locked until the caller's transaction ends, taken
    or not: a finish giving a place back waits for this start and then sees its held run.
    """
    limit = settings.NEONHUB_ORG_MAX_IN_FLIGHT
    if limit <= 0:
        return True
    if settings.REDIS_URL:
        took = _redis(settings.REDIS_URL).take(
            keys=_keys(organization_id), args=[limit, "1" if held else "0"]
        )
        return bool(took)
    # One statement when a place is free.  It locks the row (PostgreSQL) until the caller's
    # transaction ends, taken or not: a finish giving a place back then waits for this start and
    # sees its held run (``run_left``); SQLite's write transactions are serial anyway.
    row = sql.update_returning(
        OrganizationPlaces, where={"organization_id": organization_id}, add={"taken": 1}
    )
    if row is None:  # the organization's first run
        _row, created = OrganizationPlaces.objects.get_or_create(
            organization_id=organization_id, defaults={"taken": 1}
        )
        return created or place_take(organization_id)
    if row.taken <= limit:
        return True
    place_give_back(organization_id)
    return False


def place_give_back(organization_id) -> None:
    if not enabled():
        return
    if settings.REDIS_URL:
        _redis(settings.REDIS_URL).give_back(keys=_keys(organization_id))
    else:
        sql.update(
            OrganizationPlaces, where={"organization_id": organization_id}, add={"taken": -1}
        )


def place_undo(organization_id) -> None:
    """A place taken for a run that was then not created: the database's went with the rolled
    back transaction, Redis's must be given back."""
    if enabled() and settings.REDIS_URL:
        place_give_back(organization_id)


def _release_one(organization_id) -> bool:
    """The oldest held run, which has its place already, to the queue."""
    run_id = run_services.run_release_oldest(organization_id=organization_id)
    if run_id is not None:
        queue.enqueue_run(run_id)
    return run_id is not None


def places_release(organization_id, *, most: int = RELEASE_BATCH) -> int:
    """Move the organization's oldest held runs to the queue while it has places; how many."""
    released = 0
    while released < most:
        # With the ORM broker the place, the run's release and its task commit together (in
        # the finishing transaction when there is one: no savepoint).
        with (
            transaction.atomic(savepoint=False) if queue.enqueue_in_transaction() else nullcontext()
        ):
            if not place_take(organization_id, held=True):
                break
            if not _release_one(organization_id):
                place_give_back(organization_id)  # none left
                break
        released += 1
    return released


def run_left(*, run: AgentRun) -> int:
    """An admitted run finished (or was cancelled while queued): its place goes to the
    organization's oldest held run, or back if none is held.  Answers how many were released.

    Call it in the transaction that finished the run: with the database's counter or the ORM
    broker the hand-over then costs no commit of its own.  Why no held run is missed: with the
    database's counter a start holds the counter row until it commits (``place_take``), so a
    finish that finds no held run and gives its place back either is seen by that start or
    waits for it and looks again; with Redis the hand-over and a held run's announcement
    (``held_added``) are atomic scripts on the same keys.
    """
    if not enabled() or not takes_place(trigger=run.trigger, parent_id=run.parent_id):
        return 0
    organization_id = run.organization_id
    if settings.REDIS_URL:
        if not _redis(settings.REDIS_URL).hand_over(keys=_keys(organization_id)):
            return 0
        if _release_one(organization_id):
            return 1
        place_give_back(organization_id)  # the held count had drifted; the watchdog recounts
        return 0
    # The database's counter: the place passes straight on when a run is held (no counter
    # change), and goes back otherwise.
    if _release_one(organization_id):
        return 1
    place_give_back(organization_id)
    # On PostgreSQL a start that found every place taken holds the counter row until it
    # commits, so the give-back above waited for it: look once more for the run it held.
    # SQLite's write transactions are serial: that start committed before this one began.
    if connection.vendor != "sqlite" and _release_one(organization_id):
        sql.update(OrganizationPlaces, where={"organization_id": organization_id}, add={"taken": 1})
        return 1
    return 0


def held_added(organization_id) -> None:
    """A run was created held.  With Redis it is counted now (a finish that then looks for it
    before it is committed gives the place back), and once it is committed it takes a place
    freed meanwhile; the database's counter needs neither (see ``run_left``)."""
    if settings.REDIS_URL:
        limit = settings.NEONHUB_ORG_MAX_IN_FLIGHT
        _redis(settings.REDIS_URL).held(keys=_keys(organization_id), args=[limit, 1])
        transaction.on_commit(partial(_held_committed, organization_id))


def _held_committed(organization_id) -> None:
    client = _redis(settings.REDIS_URL).client
    if int(client.get(_keys(organization_id)[0]) or 0) < settings.NEONHUB_ORG_MAX_IN_FLIGHT:
        places_release(organization_id)


def held_cancelled(organization_id) -> None:
    if enabled() and settings.REDIS_URL:
        limit = settings.NEONHUB_ORG_MAX_IN_FLIGHT
        _redis(settings.REDIS_URL).held(keys=_keys(organization_id), args=[limit, -1])


def _places_in_use(organization_id) -> int:
    """The truth the counter stands for: the organization's runs queued or running that took a
    place (the ``run_org_status_created`` index)."""
    return (
        AgentRun.objects.filter(
            organization_id=organization_id, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
        )
        .exclude(trigger=Trigger.SCHEDULE, parent__isnull=False)
        .count()
    )


def _places_recount(organization_id) -> None:
    if settings.REDIS_URL:
        held = AgentRun.objects.filter(organization_id=organization_id, status=RunStatus.HELD)
        taken_key, held_key = _keys(organization_id)
        client = _redis(settings.REDIS_URL).client
        client.mset({taken_key: _places_in_use(organization_id), held_key: held.count()})
        return
    with transaction.atomic():
        # The row lock first: a start that took a place and has not committed yet is waited for,
        # so the count below sees its run.
        row, _ = OrganizationPlaces.objects.select_for_update().get_or_create(
            organization_id=organization_id
        )
        OrganizationPlaces.objects.filter(pk=row.pk).update(taken=_places_in_use(organization_id))


def _counted_organizations() -> set:
    if settings.REDIS_URL:
        client = _redis(settings.REDIS_URL).client
        keys = (k.decode() for k in client.scan_iter(match=f"{REDIS_PREFIX}*", count=500))
        return {k[len(REDIS_PREFIX) :].removesuffix(":held") for k in keys}
    return {
        str(o)
        for o in OrganizationPlaces.objects.exclude(taken=0).values_list(
            "organization_id", flat=True
        )
    }


def places_recover() -> dict:
    """The watchdog's top-up: recount each organization's places from its runs and release held
    runs into the free ones.  With the limit turned off, every held run is released."""
    # One EXISTS per organization through run_org_status_created: its cost follows the number of
    # organizations, not of runs (SQLite cannot use a partial index for a bound "status = ?").
    held_runs = AgentRun.objects.filter(organization=OuterRef("pk"), status=RunStatus.HELD)
    held = set(
        Organization.objects.filter(Exists(held_runs)).order_by().values_list("pk", flat=True)
    )
    released = 0
    organizations = ({str(o) for o in held} | _counted_organizations()) if enabled() else held
    for organization_id in organizations:
        if enabled():
            _places_recount(organization_id)
        released += places_release(organization_id)
    return {"released": released}
