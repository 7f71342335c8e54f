"""The segments pages: the list with live counts, and the builder (new and saved segments).

The builder is one form of rows (see ``forms.py``); htmx adds a row (``segments:row``),
redraws a row when what it looks at changes, removes one, and asks ``segments:count`` for the
matching count and the first 20 contacts as the marketer edits (debounced).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from agents.segments import selectors, services
from agents.segments.forms import (
    SegmentForm,
    errors_by_row,
    new_key,
    plain_error,
    row_context,
    row_of,
    rows_from,
    rules_of,
)
from agents.segments.models import Segment
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput, NeonHubError, NotFound
from neonhub.core.forms import errors_to_form
from neonhub.core.ids import uuid_from
from neonhub.core.views_util import organization_required

DENIED = "look at segments but not change them"
FORM_PAGE = {"methods": ("GET", "POST"), "reads": ("GET",)}
CHANGED = "segment-changed"  # the htmx event that asks the count to refresh


@login_required
@organization_required
@require_GET
def segment_list(request: HttpRequest) -> HttpResponse:
    # One count per segment: about 10-75 ms each at 10,000 contacts (docs/SEGMENTS.md).
    segments = list(selectors.segment_list(organization=request.principal.organization))
    for segment in segments:
        segment.count = selectors.segment_count(segment=segment)
    return render(request, "segments/segment_list.html", {"segments": segments})


def _builder(
    request: HttpRequest,
    *,
    form: SegmentForm,
    rows: list[dict],
    segment: Segment | None = None,
    errors: dict | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    choices = selectors.builder_choices(organization=request.principal.organization)
    return render(
        request,
        "segments/segment_form.html",
        {
            "form": form,
            "segment": segment,
            "rows": [row_context(r, choices, (errors or {}).get(r["key"])) for r in rows],
            "general_errors": general or [],
        },
        status=status,
    )


def _save(request: HttpRequest, segment: Segment | None) -> HttpResponse:
    form = SegmentForm(request.POST)
    rows = rows_from(request.POST)
    if not form.is_valid():
        return _builder(request, form=form, rows=rows, segment=segment, status=422)
    rules = rules_of(form.cleaned_data["match"], rows)
    data = {"name": form.cleaned_data["name"], "description": form.cleaned_data["description"]}
    try:
        if segment is None:
            segment = services.segment_create(
                organization=request.principal.organization,
                rules=rules,
                created_by=request.user,
                **data,
            )
        else:
            services.segment_update(segment=segment, rules=rules, **data)
    except NeonHubError as exc:
        details = exc.details if isinstance(exc.details, list) else []
        placed: dict = {}
        general: list[str] = []
        if any(str(d.get("field", "")).startswith("rules") for d in details):
            placed, general = errors_by_row(details, rows)
        else:
            errors_to_form(form, exc.details, exc.message)
        if segment is not None:  # show the saved name in the heading, not the refused one
            segment = selectors.segment_get(
                organization=segment.organization, segment_id=segment.pk
            )
        return _builder(
            request,
            form=form,
            rows=rows,
            segment=segment,
            errors=placed,
            general=general,
            status=422,
        )
    messages.success(request, f"Saved the segment {segment.name}.")
    return redirect("segments:detail", segment_id=segment.pk)


@login_required
@organization_required
@page_requires("write", DENIED, **FORM_PAGE)
def segment_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    form = SegmentForm(initial={"match": "all"})
    return _builder(request, form=form, rows=[{"key": new_key(), "what": "tag"}])


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.segment_get, **FORM_PAGE)
def segment_detail(request: HttpRequest, segment: Segment) -> HttpResponse:
    if request.method == "POST":
        return _save(request, segment)
    form = SegmentForm(
        initial={
            "name": segment.name,
            "description": segment.description,
            "match": (segment.rules or {}).get("match", "all"),
        }
    )
    rows = [row_of(c) for c in (segment.rules or {}).get("conditions", [])]
    return _builder(request, form=form, rows=rows, segment=segment)


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.segment_get)
def segment_delete(request: HttpRequest, segment: Segment) -> HttpResponse:
    name = segment.name
    services.segment_delete(segment=segment)
    messages.success(request, f"Deleted the segment {name}. Its contacts were not changed.")
    return redirect("segments:list")


@login_required
@organization_required
@require_http_methods(["GET", "POST"])
def segment_count(request: HttpRequest) -> HttpResponse:
    """The builder's live answer (POST of the builder form): how many contacts match the rules
    as they stand, and the first 20; a condition not finished yet is said in plain words, never
    an error page.  ``GET ?segment=<id>`` answers a saved segment's count, for other apps'
    forms (an empty or unknown id says so)."""
    if request.method == "GET":
        return _saved_count(request)
    match = request.POST.get("match", "all")
    rules = rules_of(match, rows_from(request.POST))
    context: dict = {"rules": rules}
    try:
        context.update(
            selectors.rules_preview(organization=request.principal.organization, rules=rules)
        )
    except InvalidInput as exc:
        details = exc.details if isinstance(exc.details, list) else [{"message": exc.message}]
        context["problems"] = [plain_error(d) for d in details]
    return render(request, "segments/_matches.html", context)


def _saved_count(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("segment") or ""
    try:
        segment = selectors.segment_get(
            organization=request.principal.organization, segment_id=uuid_from(raw, field="segment")
        )
    except (InvalidInput, NotFound):
        return render(request, "segments/_saved_count.html", {"segment": None})
    count = selectors.segment_count(segment=segment)
    return render(request, "segments/_saved_count.html", {"segment": segment, "count": count})


@login_required
@organization_required
@require_GET
def segment_row(request: HttpRequest) -> HttpResponse:
    """One builder row: a new one (no ``key``), or one redrawn for what it now looks at."""
    rows = rows_from(request.GET)
    row = rows[0] if rows else {"key": new_key(), "what": request.GET.get("what", "tag")}
    if rows:
        # What the row looks at changed: keep only what still applies.
        row = {"key": row["key"], "what": row["what"]}
    choices = selectors.builder_choices(organization=request.principal.organization)
    response = render(request, "segments/_row.html", {"row": row_context(row, choices)})
    response["HX-Trigger"] = CHANGED
    return response


@login_required
@organization_required
@require_GET
def segment_row_remove(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("")
    response["HX-Trigger"] = CHANGED
    return response
