"""Server-rendered run pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from neonhub.core.errors import InvalidInput, NotFound
from neonhub.core.views_util import organization_required
from runs import selectors
from runs.models import RunStatus, Trigger


@login_required
@organization_required
def run_list(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    filters = selectors.RunFilters(
        agent=request.GET.get("agent") or None,
        status=request.GET.get("status") if request.GET.get("status") in RunStatus.values else None,
        trigger=request.GET.get("trigger") if request.GET.get("trigger") in Trigger.values else None,
        intent=request.GET.get("intent") or None,
    )
    try:
        page = selectors.run_page(organization=org, filters=filters, cursor=request.GET.get("cursor"), limit=50)
    except InvalidInput:
        page = selectors.run_page(organization=org, filters=filters, limit=50)
    return render(request, "runs/list.html", {
        "page": page, "filters": filters, "statuses": RunStatus.choices, "triggers": Trigger.choices,
    })


@login_required
@organization_required
def run_detail(request: HttpRequest, run_id) -> HttpResponse:
    try:
        run = selectors.run_get(organization=request.principal.organization, run_id=run_id)
    except NotFound:
        return render(request, "404.html", {"message": "Run not found"}, status=404)
    context = {"run": run, "steps": selectors.run_steps(run=run), "children": selectors.run_children(run=run)}
    template = "runs/detail.html#run-body" if request.htmx else "runs/detail.html"
    return render(request, template, context)
