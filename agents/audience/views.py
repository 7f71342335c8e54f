"""Pages: contacts, their CSV import and export, and the public unsubscribe page.

Every page looks the object up in the organization first (another organization's id is a
404), then checks the method and the role.
"""

from __future__ import annotations

import json
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from agents.audience import selectors, services
from agents.audience.forms import (
    ContactForm,
    ContactImportForm,
    ContactListForm,
    EraseForm,
    ListFilterForm,
)
from agents.audience.unsubscribe import unsubscribe_target
from connectors.suppressions import suppression_add
from neonhub.core.audit import actor_of
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput, NeonHubError, NotFound
from neonhub.core.forms import errors_to_form
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


# --- one contact: add, edit, its page, privacy export and erasure ------------------------------

ERASE_DENIED = "erase a person's data"


def _entered_by(request: HttpRequest) -> str:
    return actor_of(request.principal)


def _form_error(form, exc: NeonHubError) -> None:
    errors_to_form(form, getattr(exc, "details", None), exc.message)


@login_required
@organization_required
@page_requires("write", CONTACTS_DENIED, methods=("GET", "POST"), reads=("GET",))
def contact_new(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                organization=request.principal.organization,
                entered_by=_entered_by(request),
                **form.contact_data(),
            )
        except NeonHubError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Added {contact}.")
            return redirect("audience:contact-detail", contact_id=contact.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "audience/contact_form.html", {"form": form}, status=status)


@login_required
@organization_required
@page_requires(
    "write",
    CONTACTS_DENIED,
    find=selectors.contact_get,
    methods=("GET", "POST"),
    reads=("GET",),
)
def contact_edit(request: HttpRequest, contact) -> HttpResponse:
    if contact.erased_at:
        return redirect("audience:contact-detail", contact_id=contact.pk)
    form = ContactForm(request.POST or None, initial=ContactForm.initial_for(contact))
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(
                contact=contact, entered_by=_entered_by(request), **form.contact_data()
            )
        except NeonHubError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Saved {contact}.")
            return redirect("audience:contact-detail", contact_id=contact.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "audience/contact_form.html", {"form": form, "contact": contact}, status=status
    )


@login_required
@organization_required
@require_GET
def contact_detail(request: HttpRequest, contact_id) -> HttpResponse:
    org = request.principal.organization
    contact = selectors.contact_get(organization=org, contact_id=contact_id)
    on_lists = list(selectors.contact_lists_of(organization=org, contact=contact))
    return render(
        request,
        "audience/contact_detail.html",
        {
            "contact": contact,
            "on_lists": on_lists,
            "other_lists": selectors.contact_list_all(organization=org).exclude(
                pk__in=[cl.pk for cl in on_lists]
            ),
            "events": selectors.contact_events(organization=org, contact=contact),
        },
    )


@login_required
@organization_required
@page_requires("write", CONTACTS_DENIED, find=selectors.contact_get)
def contact_lists_change(request: HttpRequest, contact) -> HttpResponse:
    """Add the contact to a list or take it off one (the contact page's list section)."""
    org = request.principal.organization
    try:
        contact_list = selectors.contact_list_get(
            organization=org, list_id=uuid_from(request.POST.get("list_id"), field="list_id")
        )
    except (InvalidInput, NotFound):
        return not_found(request, "Contact list not found")
    if request.POST.get("action") == "remove":
        services.contact_list_remove(contact_list=contact_list, contact_ids=[contact.pk])
        messages.success(request, f"Removed from {contact_list.name}.")
    else:
        try:
            services.contact_list_add(contact_list=contact_list, contact_ids=[contact.pk])
        except NeonHubError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Added to {contact_list.name}.")
    return redirect("audience:contact-detail", contact_id=contact.pk)


@login_required
@organization_required
@page_requires("write", "export a person's data", find=selectors.contact_get, methods=("GET",))
def contact_data_export(request: HttpRequest, contact) -> HttpResponse:
    data = selectors.contact_data(organization=request.principal.organization, contact=contact)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
    return response


@login_required
@organization_required
@page_requires(
    "manage", ERASE_DENIED, find=selectors.contact_get, methods=("GET", "POST"), reads=("GET",)
)
def contact_erase(request: HttpRequest, contact) -> HttpResponse:
    if contact.erased_at:
        return redirect("audience:contact-detail", contact_id=contact.pk)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            counts = services.contact_erase(
                contact=contact,
                confirm=form.cleaned_data["confirm"],
                principal=request.principal,
                request=request,
            )
        except NeonHubError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request,
                f"Erased. {counts['messages_anonymised'] + counts['inbound_anonymised']} "
                "message(s) kept, anonymised.",
            )
            return redirect("audience:contact-detail", contact_id=contact.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "audience/contact_erase.html",
        {
            "form": form,
            "contact": contact,
            "expected": contact.name or contact.email or contact.phone,
        },
        status=status,
    )


# --- contact lists ------------------------------------------------------------------------------


@login_required
@organization_required
@page_requires("write", CONTACTS_DENIED, methods=("GET", "POST"), reads=("GET",))
def list_index(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    form = ContactListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_list = services.contact_list_create(organization=org, **form.cleaned_data)
        except NeonHubError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Created the list {contact_list.name}.")
            return redirect("audience:list-detail", list_id=contact_list.pk)
    return render(
        request,
        "audience/list_index.html",
        {"form": form, "lists": selectors.contact_list_sized(organization=org)},
        status=422 if request.method == "POST" else 200,
    )


@login_required
@organization_required
@require_GET
def list_detail(request: HttpRequest, list_id) -> HttpResponse:
    org = request.principal.organization
    contact_list = selectors.contact_list_get(organization=org, list_id=list_id)
    return _list_page(request, contact_list)


def _list_page(request, contact_list, *, rename=None, matching=None, status=200) -> HttpResponse:
    org = request.principal.organization
    find = (request.GET.get("find") or "").strip()[:100]
    page = page_or_first(
        selectors.contact_page,
        cursor=request.GET.get("cursor"),
        organization=org,
        contact_list=contact_list,
        limit=50,
    )
    found = (
        selectors.contact_filter(organization=org, search=find)
        .exclude(memberships__contact_list=contact_list)
        .order_by("name")[:20]
        if find
        else []
    )
    return render(
        request,
        "audience/list_detail.html",
        {
            "contact_list": contact_list,
            "page": page,
            "size": contact_list.memberships.count(),
            "find": find,
            "found": found,
            "rename_form": rename
            or ContactListForm(
                initial={"name": contact_list.name, "description": contact_list.description}
            ),
            "matching_form": matching or ListFilterForm(),
        },
        status=status,
    )


@login_required
@organization_required
@page_requires("write", CONTACTS_DENIED, find=selectors.contact_list_get)
def list_rename(request: HttpRequest, contact_list) -> HttpResponse:
    form = ContactListForm(request.POST)
    if form.is_valid():
        try:
            services.contact_list_update(contact_list=contact_list, **form.cleaned_data)
        except NeonHubError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Saved the list.")
            return redirect("audience:list-detail", list_id=contact_list.pk)
    contact_list.refresh_from_db()
    return _list_page(request, contact_list, rename=form, status=422)


@login_required
@organization_required
@page_requires("write", CONTACTS_DENIED, find=selectors.contact_list_get)
def list_delete(request: HttpRequest, contact_list) -> HttpResponse:
    name = contact_list.name
    services.contact_list_delete(contact_list=contact_list)
    messages.success(request, f"Deleted the list {name}; its contacts stay.")
    return redirect("audience:list-index")


@login_required
@organization_required
@page_requires("write", CONTACTS_DENIED, find=selectors.contact_list_get)
def list_members(request: HttpRequest, contact_list) -> HttpResponse:
    """Add or remove one contact (the list page's search results and member table)."""
    try:
        contact_id = uuid_from(request.POST.get("contact_id"), field="contact_id")
        if request.POST.get("action") == "remove":
            services.contact_list_remove(contact_list=contact_list, contact_ids=[contact_id])
            messages.success(request, "Removed from the list.")
        else:
            services.contact_list_add(contact_list=contact_list, contact_ids=[contact_id])
            messages.success(request, "Added to the list.")
    except (InvalidInput, NotFound):
        return not_found(request, "Contact not found")
    return redirect("audience:list-detail", list_id=contact_list.pk)


@login_required
@organization_required
@page_requires("write", CONTACTS_DENIED, find=selectors.contact_list_get)
def list_add_matching(request: HttpRequest, contact_list) -> HttpResponse:
    form = ListFilterForm(request.POST)
    if form.is_valid():
        try:
            added = services.contact_list_add_matching(
                contact_list=contact_list,
                search=form.cleaned_data["q"],
                tag=form.cleaned_data["tag"],
                consent=form.cleaned_data["consent"],
            )
        except NeonHubError as exc:
            errors_to_form(
                form,
                [
                    {**d, "field": "q" if d.get("field") == "search" else d.get("field")}
                    for d in (getattr(exc, "details", None) or [])
                ],
                exc.message,
            )
        else:
            messages.success(request, f"Added {added} contact{'s' if added != 1 else ''}.")
            return redirect("audience:list-detail", list_id=contact_list.pk)
    return _list_page(request, contact_list, matching=form, status=422)


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
