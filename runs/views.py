"""Server-rendered run pages: the overview, the run list with live rows, and a run's detail.

Times are shown in the organization's timezone (activated by the organization middleware).
Starting, cancelling and retrying need the agents, so those pages live in ``agents/views.py``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from neonhub.core.errors import InvalidInput
from neonhub.core.pagination import EMPTY, cursor_encode
from neonhub.core.views_util import organization_required, page_or_first
from runs import charts, hooks, readable, selectors
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
    """Queued and running runs right now, counted through the status index and capped.

    A scheduled run (queued for a time still to come, ``AgentRun.is_scheduled``) is not in
    flight: it is counted apart, as "scheduled".
    """
    now = timezone.now()
    counts = {}
    for key, status in (("queued", RunStatus.QUEUED), ("running", RunStatus.RUNNING)):
        qs = selectors.run_queryset(
            organization=org, filters=selectors.RunFilters(status=status, agent=agent)
        )
        if status == RunStatus.QUEUED:
            counts["scheduled"] = _capped(qs.scheduled(now=now))
            qs = qs.not_scheduled(now=now)
        counts[key] = _capped(qs)
    return counts


def _capped(qs) -> str:
    n = qs.order_by()[: IN_FLIGHT_CAP + 1].count()
    return f"{IN_FLIGHT_CAP}+" if n > IN_FLIGHT_CAP else str(n)


def _filter_data(request: HttpRequest):
    """The query string without its cursors: a form bound to a bare ?cursor= would read as
    "filtered", and the live poll's address carries the filters, not the page."""
    data = request.GET.copy()
    for name in ("cursor", "after"):
        data.pop(name, None)
    return data


def _filter_form(request: HttpRequest) -> RunFilterForm:
    return RunFilterForm(_filter_data(request) or None)


def _filters(form: RunFilterForm) -> selectors.RunFilters:
    return form.filters() if form.is_bound else selectors.RunFilters()


def _list_context(request: HttpRequest, form: RunFilterForm, page) -> dict:
    newest = page.prev_cursor is None  # nothing newer: the live page
    return {
        "page": page,
        "form": form,
        "paged": bool(request.GET.get("cursor")),
        "live": newest and not form.errors,
        "after": cursor_encode(page.items[0]) if page.items else "",
        "filter_query": _filter_query(request),
        "chosen_agent": form.chosen("agent"),
        "chosen_intent": form.chosen("intent"),
    }


@login_required
@organization_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    """The run list: filtered, paged both ways, and live on its newest page (``run_newer``)."""
    org = request.principal.organization
    form = _filter_form(request)
    status = 200
    if form.is_bound and not form.is_valid():
        page, status = EMPTY, 422
    else:
        page = page_or_first(
            selectors.run_page,
            cursor=request.GET.get("cursor"),
            organization=org,
            filters=_filters(form),
            limit=PAGE_SIZE,
        )
    return render(request, "runs/list.html", _list_context(request, form, page), status=status)


@login_required
@organization_required
@require_GET
def run_newer(request: HttpRequest) -> HttpResponse:
    """The live list's poll: the runs newer than the newest row shown (``after``) that match
    the list's filters, as rows to put on top, with the poller's next ``after``.

    Nothing new is 204 (htmx swaps nothing).  More new runs than a page, or a list that was
    empty, answers the whole list instead (retargeted), so no run is skipped between them.
    """
    org = request.principal.organization
    form = _filter_form(request)
    if form.is_bound and not form.is_valid():
        return HttpResponse(status=204)
    filters = _filters(form)
    after = request.GET.get("after") or ""
    try:
        items, overflow = (
            selectors.run_newer(organization=org, filters=filters, cursor=after, limit=PAGE_SIZE)
            if after
            else ([], True)
        )
    except InvalidInput:
        return HttpResponse(status=204)
    if not after or overflow:
        page = selectors.run_page(organization=org, filters=filters, limit=PAGE_SIZE)
        if not page.items:
            return HttpResponse(status=204)
        response = render(request, "runs/list.html#runs-list", _list_context(request, form, page))
        response["HX-Retarget"] = "#runs-list"
        response["HX-Reswap"] = "outerHTML"
        return response
    if not items:
        return HttpResponse(status=204)
    return render(
        request,
        "runs/list.html#runs-newer",
        {
            "runs": items,
            "after": cursor_encode(items[0]),
            "filter_query": _filter_query(request),
            "live": True,
        },
    )


def _filter_query(request: HttpRequest) -> str:
    return _filter_data(request).urlencode()


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
        run.would_cost,
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
    # The timeline is drawn to its own scale; the run's duration is the one in its facts.
    rows, _ = timeline(run, steps, now)
    can_retry, retry_reason = hooks.retry_verdict(run) if run.is_terminal else (False, "")
    context = {
        "run": run,
        "error_context": selectors.run_error_context(run=run, user=request.user),
        "timeline": rows,
        "children": selectors.run_children(run=run),
        "can_cancel": (run.status in ACTIVE_STATUSES or run.status == RunStatus.AWAITING_APPROVAL)
        and not run.cancel_requested_at,
        "approval": selectors.run_approval(run=run),
        "can_retry": can_retry,
        "retry_reason": retry_reason,
        "version": version,
        "result": hooks.result_view(run),
        "input_fields": readable.input_fields(run.input),
        "metric_fields": readable.input_fields(run.metrics),
    }
    template = "runs/detail.html#run-body" if request.htmx else "runs/detail.html"
    return render(request, template, context)


@login_required
@organization_required
@require_GET
def run_download(request: HttpRequest, run_id, fmt: str) -> HttpResponse:
    """The text a run wrote, as a ``.md`` or ``.html`` file (404 when it wrote none)."""
    run = selectors.run_get(organization=request.principal.organization, run_id=run_id)
    if run.output is None and run.status != RunStatus.COMPLETED:
        return HttpResponse(
            "This run has not finished: it has no text to download yet.",
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    written = hooks.result_text(run)
    if written is None:
        raise Http404("This run wrote no text to download")
    response = HttpResponse(readable.document(written, fmt), content_type=readable.FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(
        True, readable.download_name(written, run_id=run.id, fmt=fmt)
    )
    return response
