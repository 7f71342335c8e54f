"""Fair admission for every source of runs (API, pages, webhooks, schedules, batches, retries).

A run whose organization has fewer than ``NEONHUB_ORG_MAX_IN_FLIGHT`` runs queued or running
goes to the queue as always.  One started while that many are in flight is *parked* in its
organization's lane (``neonhub.core.lanes``): still ``queued``, its task waiting beside the
queue, let in ``NEONHUB_ORG_MAX_IN_FLIGHT`` at a time by the lane's turn.  So another
organization's run waits behind at most that many of a flood's runs, not behind all of them.

The signal costs (almost) nothing on the common path: each process keeps, per organization,
the count it last read (runs queued or running, counted up to the limit through the
``run_org_status_created`` index) and how many runs it has admitted since; it counts again
only when that estimate reaches the limit or is older than ``REFRESH`` seconds.  A run that is
admitted pays nothing more than before; a parked run pays its lane's write instead of the
queue's.  Each process can admit up to the limit before it sees the others' runs, so with P
processes starting one organization's runs at once, up to P × the limit may be in the queue.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.utils import timezone

from runs.models import AgentRun, RunStatus

# Seconds an organization's count is trusted for: while it leaves room (as long as the runs
# admitted since stay under the limit), and once it found the organization full.  A full count
# is trusted briefly: a burst that ends is admitted again as soon as the workers caught up,
# instead of parking runs behind a turn that is alone in the queue.
REFRESH = 1.0
REFRESH_FULL = 0.1

# organization id -> [runs in flight when counted, admitted since, when counted (monotonic)]
_estimates: dict = {}


def in_flight(organization_id, *, most: int) -> int:
    """The organization's runs queued (and due) or running, counted up to ``most``."""
    return (
        AgentRun.objects.filter(
            organization_id=organization_id, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
        )
        .exclude(next_attempt_at__gt=timezone.now())  # waiting for a later time: not queued
        .order_by()[:most]
        .count()
    )


def admit(organization_id) -> bool:
    """True: send the organization's new run to the queue; False: park it in its lane.

    Called once the new run is written (its count includes it).
    """
    limit = settings.NEONHUB_ORG_MAX_IN_FLIGHT
    if limit <= 0:
        return True
    now = time.monotonic()
    estimate = _estimates.get(organization_id)
    if (
        estimate is None
        or now - estimate[2] > (REFRESH if estimate[0] < limit else REFRESH_FULL)
        or (estimate[0] < limit <= estimate[0] + estimate[1])  # admitted up to the limit
    ):
        # Counted after the new run's INSERT: the count includes it.
        estimate = [max(0, in_flight(organization_id, most=limit + 1) - 1), 0, now]
        _estimates[organization_id] = estimate
        if len(_estimates) > 10_000:  # organizations that stopped starting runs
            _estimates.clear()
            _estimates[organization_id] = estimate
    if estimate[0] + estimate[1] < limit:
        estimate[1] += 1
        return True
    return False


def forget() -> None:
    """Drop every estimate (tests; a process that changed the limit)."""
    _estimates.clear()
