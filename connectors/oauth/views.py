"""The pages of "Connect with …": the start (a POST that leaves for the provider), the
callback, the account chooser, and Settings › Connected apps.

Everything a person can run into (consent denied, a stale or replayed link, a failed
exchange, an app not set up) ends on ``connectors/oauth_error.html`` saying what happened and
what to do, with a 4xx status, never a 500.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from connectors import selectors
from connectors import services as connector_services
from connectors.models import OAuthApp
from connectors.oauth import services
from connectors.oauth.services import FlowError
from connectors.oauth.specs import APPS, TARGETS, redirect_uri
from connectors.registry import all_paths
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput, NotFound
from neonhub.core.views_util import organization_required


def _error(request: HttpRequest, exc: FlowError) -> HttpResponse:
    return render(
        request,
        "connectors/oauth_error.html",
        {"message": exc.message, "advice": exc.advice, "code": exc.code},
        status=exc.status,
    )


@login_required
@organization_required
@page_requires("manage", "connect accounts")
def oauth_start(request: HttpRequest, target: str) -> HttpResponse:
    """POST from a Connect (or Reconnect) button: off to the provider's consent page."""
    organization = request.principal.organization
    reconnect = None
    if request.POST.get("connector"):
        try:
            reconnect = selectors.connector_get(
                organization=organization, connector_id=uuid.UUID(request.POST["connector"])
            )
        except (NotFound, ValueError):
            return _error(
                request,
                FlowError(
                    "The connector to reconnect does not exist in this organization.",
                    "Go back to the connectors page.",
                    status=404,
                ),
            )
    try:
        url = services.flow_start(
            session=request.session, organization=organization, target=target, reconnect=reconnect
        )
    except FlowError as exc:
        return _error(request, exc)
    return redirect(url)


@login_required
@organization_required
@page_requires("manage", "connect accounts", methods=("GET",))
def oauth_callback(request: HttpRequest, app: str) -> HttpResponse:
    """Where the provider sends the person back with ``code`` and ``state`` (or ``error``)."""
    if app not in APPS:
        return _error(request, FlowError("Unknown connection.", "Start again.", status=404))
    try:
        grant = services.flow_callback(
            session=request.session,
            organization=request.principal.organization,
            user=request.user,
            app=app,
            params=request.GET,
        )
    except FlowError as exc:
        return _error(request, exc)
    return redirect("connectors:oauth-choose", grant_id=grant.pk)


@login_required
@organization_required
@page_requires("manage", "connect accounts", methods=("GET", "POST"))
def oauth_choose(request: HttpRequest, grant_id) -> HttpResponse:
    """The accounts the sign-in can act for; choosing one creates or updates its connector."""
    try:
        grant = services.grant_get(
            organization=request.principal.organization, user=request.user, grant_id=grant_id
        )
    except FlowError as exc:
        return _error(request, exc)
    target = TARGETS[grant.target]
    error = ""
    if request.method == "POST":
        try:
            chosen = services.grant_choose(
                grant=grant,
                account_id=request.POST.get("account", ""),
                principal=request.principal,
                request=request,
            )
        except FlowError as exc:
            return _error(request, exc)
        except InvalidInput as exc:
            error = exc.message
        else:
            return _after_choice(request, chosen)
    return render(
        request,
        "connectors/oauth_choose.html",
        {
            "grant": grant,
            "target": target,
            "accounts": grant.accounts,
            "error": error,
            "preselected": _preselected(grant),
        },
        status=422 if error else 200,
    )


def _preselected(grant) -> str:
    if grant.reconnect is None:
        return grant.accounts[0]["id"] if len(grant.accounts) == 1 else ""
    config = grant.reconnect.config
    for key in ("page_id", "ig_user_id", "channel_id", "author_urn", "open_id"):
        if config.get(key) and any(a["id"] == config[key] for a in grant.accounts):
            return str(config[key])
    return ""


def _after_choice(request: HttpRequest, chosen) -> HttpResponse:
    connector = chosen.connector
    verb = "connected" if chosen.created else "reconnected"
    if connector.provider not in all_paths():
        # A provider this installation does not have yet: saved, nothing to test it with.
        messages.success(request, f"{connector.name} {verb}.")
        return redirect("connectors:detail", connector_id=connector.pk)
    result = connector_services.connector_test(connector=connector)
    if result.ok:
        messages.success(request, f"{connector.name} {verb} and tested: {result.message}")
    else:
        messages.error(request, f"{connector.name} {verb}, but its test failed: {result.message}")
    return redirect("connectors:detail", connector_id=connector.pk)


# --- Settings › Connected apps ------------------------------------------------------------------


def _apps(organization) -> list[dict]:
    own = {row.app: row for row in OAuthApp.objects.filter(organization=organization)}
    rows = []
    for key, app in APPS.items():
        row = own.get(key)
        installation = bool(app.setting("client_id") and app.setting("client_secret"))
        rows.append(
            {
                "key": key,
                "label": app.label,
                "redirect_uri": redirect_uri(key),
                "console_url": app.console_url,
                "own": row,
                "installation": installation,
                "targets": [t.label for t in TARGETS.values() if t.app == key],
                "scopes": sorted(
                    {s for t in TARGETS.values() if t.app == key for s in t.scope_list()}
                ),
            }
        )
    return rows


@login_required
@organization_required
@page_requires("manage", "change the connected apps", methods=("GET", "POST"), reads=("GET",))
def oauth_apps(request: HttpRequest) -> HttpResponse:
    """Each provider app: the redirect URL to register, whose credentials are used, and a form
    for the organization's own (the secret write-only, shown masked)."""
    organization = request.principal.organization
    errors: dict[str, dict[str, str]] = {}
    if request.method == "POST":
        app = request.POST.get("app", "")
        if app not in APPS:
            return _error(request, FlowError("Unknown app.", "Go back to Settings.", status=404))
        try:
            if request.POST.get("delete"):
                services.oauth_app_delete(
                    organization=organization, app=app, principal=request.principal, request=request
                )
                messages.success(request, f"{APPS[app].label}: your own app removed.")
            else:
                services.oauth_app_save(
                    organization=organization,
                    app=app,
                    client_id=request.POST.get("client_id", ""),
                    client_secret=request.POST.get("client_secret", ""),
                    principal=request.principal,
                    request=request,
                )
                messages.success(request, f"{APPS[app].label} app saved.")
            return redirect("connectors:oauth-apps")
        except InvalidInput as exc:
            errors[app] = {d["field"]: d["message"] for d in exc.details or []} or {"": exc.message}
    return render(
        request,
        "connectors/oauth_apps.html",
        {"apps": _apps(organization), "errors": errors},
        status=422 if errors else 200,
    )
