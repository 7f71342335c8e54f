"""Server-rendered run pages: the overview, the run list with live rows, and a run's detail.

Times are shown in the organization's timezone (activated by the organization middleware).
Starting, cancelling and retrying need the agents, so those pages live in ``agents/views.py``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from neonhub.core.pagination import EMPTY
from neonhub.core.views_util import organization_required, page_or_first
from runs import charts, hooks, selectors
from runs import overview as overviews
from runs.forms import RunFilterForm
from runs.models import ACTIVE_STATUSES, AgentRun, RunStatus, RunStep

PAGE_SIZE = 50
IN_FLIGHT_CAP = 1000  # counted up to here; beyond it the page says "1000+"


@login_required
@organization_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    window = request.GET.get("window", overviews.DEFAULT_WINDOW)
    window = window if window in overviews.WINDOWS else overviews.DEFAULT_WINDOW
    agent = (request.GET.get("agent") or "").strip()[:64] or None
    data = overviews.rollup_overview(organization=org, window=window, agent=agent)
    step = overviews.WINDOWS[window]["bucket_hours"]
    return render(
        request,
        "runs/overview.html",
        {
            "ov": data,
            "windows": overviews.WINDOWS,
            "window_label": overviews.WINDOWS[window]["label"],
            "agent": agent,
            "status_chart": charts.status_chart(data.buckets, step),
            "cost_chart": charts.cost_chart(data.buckets, step),
            "in_flight": _in_flight(org, agent),
        },
    )


def _in_flight(org, agent: str | None) -> dict[str, str]:
    """Queued and running runs right now, counted through the status index and capped."""
    counts = {}
    for status in (RunStatus.QUEUED, RunStatus.RUNNING):
        qs = selectors.run_queryset(
            organization=org, filters=selectors.RunFilters(status=status, agent=agent)
        )
        n = qs.order_by()[: IN_FLIGHT_CAP + 1].count()
        counts[status] = f"{IN_FLIGHT_CAP}+" if n > IN_FLIGHT_CAP else str(n)
    return counts


@login_required
@organization_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    form = RunFilterForm(request.GET or None)
    status = 200
    if form.is_bound and not form.is_valid():
        page, status = EMPTY, 422
    else:
        filters = form.filters() if form.is_bound else selectors.RunFilters()
        page = page_or_first(
            selectors.run_page,
            cursor=request.GET.get("cursor"),
            organization=org,
            filters=filters,
            limit=PAGE_SIZE,
        )
    return render(
        request,
        "runs/list.html",
        {
            "page": page,
            "form": form,
            "paged": bool(request.GET.get("cursor")),
        },
        status=status,
    )


@login_required
@organization_required
@require_GET
def run_row(request: HttpRequest, run_id) -> HttpResponse:
    """One row of the run list, polled by htmx while the run is queued or running."""
    run = selectors.run_get(organization=request.principal.organization, run_id=run_id)
    return render(request, "runs/list.html#run-row", {"run": run})


@dataclass
class TimelineStep:
    step: RunStep
    offset: float
    width: float


def timeline(run: AgentRun, steps: list[RunStep], now: datetime) -> tuple[list[TimelineStep], int]:
    """Each step's start and length as percentages of the run's span, drawn to scale."""
    if not steps:
        return [], 0
    origin = min(s.started_at for s in steps)
    ends = [s.finished_at or now for s in steps] + ([run.finished_at] if run.finished_at else [])
    span = max(1.0, (max(ends) - origin).total_seconds() * 1000)
    rows = []
    for s in steps:
        start = (s.started_at - origin).total_seconds() * 1000
        length = ((s.finished_at or now) - s.started_at).total_seconds() * 1000
        offset = min(99.5, 100 * start / span)
        rows.append(
            TimelineStep(
                step=s, offset=offset, width=max(0.5, min(100 - offset, 100 * length / span))
            )
        )
    return rows, round(span)


def _detail_version(run, steps, now) -> str:
    """What the run page shows, in a few bytes: it changes when the run or a step does.

    While a step is running its bar grows with the clock, so the version also moves every
    five seconds then.
    """
    state = [
        run.status,
        run.attempt,
        run.updated_at,
        run.cost,
        run.cancel_requested_at,
        run.next_attempt_at,
    ]
    state += [(step.pk, step.status, step.finished_at) for step in steps]
    if any(step.finished_at is None for step in steps):
        state.append(int(now.timestamp()) // 5)
    return hashlib.blake2b(repr(state).encode(), digest_size=8).hexdigest()


@login_required
@organization_required
@require_GET
def run_detail(request: HttpRequest, run_id) -> HttpResponse:
    run = selectors.run_get(organization=request.principal.organization, run_id=run_id)
    steps = selectors.run_steps(run=run)
    now = timezone.now()
    version = _detail_version(run, steps, now)
    if request.htmx and request.GET.get("v") == version:
        # The poll of an active run: nothing changed, so nothing is swapped (focus, scroll, an
        # open <details> and a text selection stay as they are).
        return HttpResponse(status=204)
    rows, span_ms = timeline(run, steps, now)
    can_retry, retry_reason = hooks.retry_verdict(run) if run.is_terminal else (False, "")
    context = {
        "run": run,
        "error_context": selectors.run_error_context(run=run, user=request.user),
        "timeline": rows,
        "span_ms": span_ms,
        "children": selectors.run_children(run=run),
        "can_cancel": run.status in ACTIVE_STATUSES and not run.cancel_requested_at,
        "can_retry": can_retry,
        "retry_reason": retry_reason,
        "version": version,
    }
    template = "runs/detail.html#run-body" if request.htmx else "runs/detail.html"
    return render(request, template, context)
