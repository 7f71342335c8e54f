from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST, require_safe
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from neonhub.core import audit, health
from neonhub.core import metrics as metrics_registry
from neonhub.core.auth import page_requires
from neonhub.core.clientip import address_in, client_address
from neonhub.core.middleware import SESSION_ORG_KEY
from neonhub.core.views_util import organization_required, page_or_first

AUDIT_PAGE_SIZE = 50


@require_safe  # GET, and HEAD for probes that ask only for the status
def healthz(request: HttpRequest) -> JsonResponse:
    """Health for load balancers, compose and monitoring (``neonhub.core.health``): 200 when every
    check asked for passes, 503 otherwise. ``?check=live`` (the process answers), ``ready`` (what
    serving needs), ``all`` (the default: adds the workers) or a comma-separated list of checks.
    Failure reasons (which may name a host or a path) are shown to staff only."""
    try:
        names = health.parse_selection(request.GET.get("check"))
    except ValueError as exc:
        return JsonResponse(
            {
                "error": {
                    "code": "INVALID_INPUT",
                    "message": str(exc),
                    "details": [{"field": "check", "message": str(exc)}],
                }
            },
            status=422,
        )
    user = getattr(request, "user", None)
    report = health.run_checks(names, detail=bool(user and user.is_staff))
    resp = JsonResponse(report, status=200 if report["status"] == "ok" else 503)
    resp["Cache-Control"] = "no-store"
    return resp


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text, for a scraper that passes every check configured (see settings): every
    process's counts and the database's numbers now (``neonhub.core.metrics``)."""
    token = settings.NEONHUB_METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            resp = _metrics_refused("UNAUTHENTICATED", "Send 'Authorization: Bearer <token>'", 401)
            resp["WWW-Authenticate"] = "Bearer"
            return resp
    allowed = settings.NEONHUB_METRICS_ALLOWED_IPS  # empty only when a token guards it
    if allowed and not address_in(client_address(request), allowed):
        return _metrics_refused("FORBIDDEN", "Metrics are not served to this address", 403)
    body = generate_latest(metrics_registry.scrape_registry())
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def _metrics_refused(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "details": None}}, status=status
    )


@login_required
@require_POST
def organization_switch(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("organization", "")
    if any(str(m.organization_id) == wanted for m in request.memberships):
        request.session[SESSION_ORG_KEY] = wanted
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


@login_required
@organization_required
@require_GET
def settings_home(request: HttpRequest) -> HttpResponse:
    """The organization's settings, one link per page; each page says who may change it."""
    return render(request, "core/settings.html", {})


@login_required
@organization_required
@page_requires("manage", "read the audit log", methods=("GET",))
def audit_log(request: HttpRequest) -> HttpResponse:
    page = page_or_first(
        audit.audit_page,
        cursor=request.GET.get("cursor"),
        organization=request.principal.organization,
        limit=AUDIT_PAGE_SIZE,
    )
    rows = [(event, audit.change_lines(event.changes)) for event in page.items]
    return render(request, "core/audit_list.html", {"page": page, "rows": rows})
