"""The mail pages: the open pixel and click links recipients' mail programs fetch (public), and
the organization's tracking settings.

The public views are reached without logging in and answer with one or two small queries: the
message by its token, then the event.  The pixel answers the same GIF whatever the token (it
never tells whether a token exists); a click link whose signature does not match its message
and destination is a plain 404 page, never a redirect, so the site cannot be used to send
people anywhere a link of ours did not name.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from agents.audience.selectors import contact_get
from agents.mail import machines, selectors, services, tracking
from agents.mail.forms import FIELD_NAMES, TrackingSettingsForm
from neonhub.core.auth import page_requires
from neonhub.core.clientip import client_address
from neonhub.core.errors import InvalidInput
from neonhub.core.views_util import organization_required
from runs.selectors import run_get

RUN_EMAILS_SHOWN = 200
CONTACT_EVENTS_SHOWN = 50


def _hit(request: HttpRequest) -> machines.Hit:
    return machines.Hit(
        method=request.method or "GET",
        address=client_address(request),
        user_agent=request.headers.get("User-Agent", ""),
        at=timezone.now(),
    )


def _no_cache(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "HEAD"])
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    services.open_hit(token=token, hit=_hit(request))
    return _no_cache(HttpResponse(tracking.PIXEL_GIF, content_type="image/gif"))


@require_http_methods(["GET", "HEAD"])
def click(request: HttpRequest, token: str) -> HttpResponse:
    destination = tracking.click_destination(
        token=token, url=request.GET.get("u", ""), signature=request.GET.get("s", "")
    )
    if destination is None:
        return _no_cache(render(request, "mail/link_invalid.html", status=404))
    services.click_hit(token=token, url=destination, hit=_hit(request))
    return _no_cache(HttpResponseRedirect(destination))


@login_required
@organization_required
@page_requires(
    "manage",
    "look at the email tracking settings but not change them",
    methods=("GET", "POST"),
    reads=("GET",),
)
def tracking_settings(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    current = services.tracking_settings_of(organization=principal.organization)
    read_only = not principal.can_manage
    if request.method == "POST":
        form = TrackingSettingsForm(request.POST)
    else:
        form = TrackingSettingsForm(initial=TrackingSettingsForm.initial_from(current))
    if read_only:
        for each in form.fields.values():
            each.disabled = True
    context = {"form": form, "read_only": read_only, "current": current}
    if request.method == "GET":
        return render(request, "mail/settings.html", context)
    if form.is_valid():
        try:
            services.tracking_settings_save(
                principal=principal, values=form.values(), request=request
            )
        except InvalidInput as exc:
            for detail in exc.details or []:
                form.add_error(FIELD_NAMES.get(detail.get("field", "")), detail.get("message"))
        else:
            messages.success(request, "Tracking settings saved; the next email sent obeys them.")
            return redirect("mail:settings")
    return render(request, "mail/settings.html", context, status=422)


@login_required
@organization_required
@require_http_methods(["GET"])
def run_emails(request: HttpRequest, run_id: UUID) -> HttpResponse:
    """What happened to the emails of one run (opens, clicks, bounces...): an htmx fragment for
    the run page of an email send."""
    organization = request.principal.organization
    run = run_get(organization=organization, run_id=run_id)
    rows = selectors.run_messages(
        organization=organization, run_id=run.id, lineage_id=run.lineage_id
    )
    shown = list(rows[: RUN_EMAILS_SHOWN + 1])
    return render(
        request,
        "mail/_run_emails.html",
        {
            "run": run,
            "rows": shown[:RUN_EMAILS_SHOWN],
            "more": len(shown) > RUN_EMAILS_SHOWN,
        },
    )


@login_required
@organization_required
@require_http_methods(["GET"])
def message_detail(request: HttpRequest, message_id: UUID) -> HttpResponse:
    """One email and everything that happened to it, newest first."""
    organization = request.principal.organization
    message = selectors.message_get(organization=organization, message_id=message_id)
    events = selectors.message_events(organization=organization, message_id=message.pk)[:500]
    return render(
        request, "mail/message_detail.html", {"message": message, "rows": _event_rows(events)}
    )


@login_required
@organization_required
@require_http_methods(["GET"])
def contact_activity(request: HttpRequest, contact_id: UUID) -> HttpResponse:
    """The latest things that happened to one contact's emails: an htmx fragment for the
    contact's page."""
    organization = request.principal.organization
    contact = contact_get(organization=organization, contact_id=contact_id)
    events = selectors.contact_email_activity(organization=organization, contact=contact)
    return render(
        request,
        "mail/_contact_activity.html",
        {"contact": contact, "rows": _event_rows(events[:CONTACT_EVENTS_SHOWN])},
    )


def _event_rows(events) -> list[dict]:
    return [
        {
            "event": event,
            "why": machines.REASON_LABELS.get((event.detail or {}).get("reason", ""), "")
            if event.machine
            else "",
        }
        for event in events
    ]
