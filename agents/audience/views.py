"""Pages: contacts, their CSV import and export, and the public unsubscribe page.

Every page looks the object up in the organization first (another organization's id is a
404), then checks the method and the role.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from agents.audience import selectors, services
from agents.audience.forms import ContactImportForm
from agents.audience.unsubscribe import unsubscribe_target
from connectors.suppressions import suppression_add
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput, NeonHubError, NotFound
from neonhub.core.ids import uuid_from
from neonhub.core.models import Organization
from neonhub.core.views_util import not_found, organization_required, page_or_first

CONTACTS_DENIED = "look at contacts but not change them"


# --- contacts -------------------------------------------------------------------------------


@login_required
@organization_required
@require_GET
def contact_list(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    search = (request.GET.get("q") or "").strip()[:100]
    page = page_or_first(
        selectors.contact_page,
        cursor=request.GET.get("cursor"),
        organization=org,
        search=search,
        limit=50,
    )
    return render(
        request,
        "audience/contact_list.html",
        {
            "page": page,
            "q": search,
            "lists": selectors.contact_list_all(organization=org),
            "import_form": ContactImportForm(),
        },
    )


@login_required
@organization_required
@page_requires("write", CONTACTS_DENIED)
def contact_import(request: HttpRequest) -> HttpResponse:
    form = ContactImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a CSV file to import.")
        return redirect("audience:contact-list")
    try:
        import_id = services.contacts_import_store(
            organization=request.principal.organization, upload=form.cleaned_data["file"]
        )
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("audience:contact-list")
    return redirect("audience:contact-import-preview", import_id=import_id)


@login_required
@organization_required
@page_requires("write", CONTACTS_DENIED, methods=("GET", "POST"), reads=("GET",))
def contact_import_preview(request: HttpRequest, import_id: str) -> HttpResponse:
    org = request.principal.organization
    try:
        preview = services.contacts_import_preview(organization=org, import_id=import_id)
    except NotFound:
        return not_found(request, "Import not found (it may have been imported already)")
    except InvalidInput as exc:
        preview = {"import_id": import_id, "fatal": exc.message}
    if request.method == "POST":
        return _import_commit(request, import_id, preview)
    return render(
        request,
        "audience/contact_import.html",
        {"preview": preview, "lists": selectors.contact_list_all(organization=org)},
    )


def _import_commit(request: HttpRequest, import_id: str, preview: dict) -> HttpResponse:
    org = request.principal.organization
    list_id = request.POST.get("list_id") or None
    try:
        contact_list = (
            selectors.contact_list_get(
                organization=org, list_id=uuid_from(list_id, field="list_id")
            )
            if list_id
            else None
        )
        result = services.contacts_import_commit(
            organization=org, import_id=import_id, contact_list=contact_list
        )
    except NeonHubError as exc:
        messages.error(request, exc.message)
        return render(
            request,
            "audience/contact_import.html",
            {"preview": preview, "lists": selectors.contact_list_all(organization=org)},
            status=422,
        )
    messages.success(
        request, f"Imported {result['create']} new and updated {result['update']} contacts."
    )
    return redirect("audience:contact-list")


@login_required
@organization_required
@require_GET
def contact_export(request: HttpRequest) -> StreamingHttpResponse:
    lines = services.contacts_export_lines(organization=request.principal.organization)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contacts.csv"'
    return response


# --- the public unsubscribe page ---------------------------------------------------------------
# Reached from outside without logging in.  GET shows a confirmation page (link scanners and
# previews follow GETs, so a GET never unsubscribes); POST unsubscribes.  Mail clients send the
# RFC 8058 one-click POST (``List-Unsubscribe=One-Click``) without a CSRF token or a session,
# so this view alone is exempt from CSRF: the signed token in the URL is the proof of intent.

logger = logging.getLogger(__name__)
UNSUBSCRIBE_TEMPLATE = "audience/unsubscribe.html"


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    target = unsubscribe_target(token)
    organization = (
        Organization.objects.filter(pk=target.organization_id).first() if target else None
    )
    if target is None or organization is None:
        return render(request, UNSUBSCRIBE_TEMPLATE, {"state": "invalid"}, status=404)
    context = {"organization": organization, "address": _masked(target.address), "token": token}
    if request.method == "GET":
        return render(request, UNSUBSCRIBE_TEMPLATE, {**context, "state": "confirm"})
    try:
        suppression_add(
            organization=organization,
            channel=target.channel,
            address=target.address,
            reason="Unsubscribed with the link in an email",
            source="unsubscribe_link",
        )
    except InvalidInput:
        return render(request, UNSUBSCRIBE_TEMPLATE, {"state": "invalid"}, status=404)
    logger.info("unsubscribe link used for organization %s (%s)", organization.pk, target.channel)
    return render(request, UNSUBSCRIBE_TEMPLATE, {**context, "state": "done"})


def _masked(address: str) -> str:
    """Enough to recognise one's own address on a page anyone holding the link can open."""
    name, _, domain = address.partition("@")
    return f"{name[:2]}…@{domain}" if domain else f"…{address[-4:]}"
