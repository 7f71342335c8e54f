"""The Bounces page: where returned mail goes, the bounce mailbox, and what came back lately.

Everyone in the organization sees the page and the recent bounces; only owners and admins
see the inbound address and change the mailbox (it holds a password).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from agents.mail import bounces
from agents.mail import mailbox as imap
from agents.mail.models import InboundMail, TlsMode
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput
from neonhub.core.forms import errors_to_form
from neonhub.core.views_util import organization_required

RECENT = 50


class BounceMailboxForm(forms.Form):
    bounce_address = forms.EmailField(
        required=False,
        max_length=254,
        label="Bounce address",
        help_text="Returned mail goes to this address, with each message's own code after a "
        "“+”. Leave empty to use the installation's address.",
    )
    host = forms.CharField(
        required=False, max_length=253, label="IMAP server", help_text="e.g. imap.example.com"
    )
    port = forms.IntegerField(min_value=1, max_value=65535, initial=993, label="Port")
    tls_mode = forms.ChoiceField(choices=TlsMode.choices, label="Encryption")
    username = forms.CharField(required=False, max_length=254, label="User name")
    password = forms.CharField(
        required=False,
        label="Password",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the saved password.",
    )
    folder = forms.CharField(max_length=200, initial="INBOX", label="Folder")
    enabled = forms.BooleanField(required=False, label="Check this mailbox every five minutes")


def _initial(mailbox) -> dict:
    return {
        "bounce_address": mailbox.bounce_address,
        "host": mailbox.host,
        "port": mailbox.port,
        "tls_mode": mailbox.tls_mode,
        "username": mailbox.username,
        "folder": mailbox.folder,
        "enabled": mailbox.enabled,
    }


def _page(request: HttpRequest, form: BounceMailboxForm, mailbox, status: int = 200):
    organization = request.principal.organization
    can_manage = request.principal.can_manage
    inbound_url = ""
    if can_manage:
        path = reverse("mail-public:inbound", args=[bounces.token_reveal(mailbox=mailbox)])
        inbound_url = f"{settings.NEONHUB_PUBLIC_URL}{path}"
    recent = InboundMail.objects.filter(organization=organization).select_related("message")
    return render(
        request,
        "mail/bounces.html",
        {
            "form": form,
            "mailbox": mailbox,
            "can_manage": can_manage,
            "inbound_url": inbound_url,
            "example_return_path": _example(bounces.bounce_address(organization=organization)),
            "recent": recent[:RECENT],
        },
        status=status,
    )


def _example(address: str) -> str:
    if "@" not in address:
        return ""
    local, domain = address.rsplit("@", 1)
    return f"{local.split('+', 1)[0]}+k3Xq9…@{domain}"


@login_required
@organization_required
@page_requires("manage", "change the bounce settings", methods=("GET", "POST"), reads=("GET",))
def bounce_settings(request: HttpRequest) -> HttpResponse:
    organization = request.principal.organization
    mailbox = bounces.mailbox_get(organization=organization)
    if request.method != "POST":
        return _page(request, BounceMailboxForm(initial=_initial(mailbox)), mailbox)
    form = BounceMailboxForm(request.POST)
    if form.is_valid():
        try:
            imap.mailbox_save(organization=organization, **form.cleaned_data)
        except InvalidInput as exc:
            errors_to_form(form, exc.details, exc.message)
        else:
            messages.success(request, "Bounce settings saved.")
            return redirect("mail:bounces")
    return _page(request, form, mailbox, status=422)


@login_required
@organization_required
@page_requires("manage", "test the bounce mailbox")
def bounce_test(request: HttpRequest) -> HttpResponse:
    mailbox = bounces.mailbox_get(organization=request.principal.organization)
    ok, text = imap.mailbox_test(mailbox=mailbox)
    (messages.success if ok else messages.error)(request, text)
    return redirect("mail:bounces")


@login_required
@organization_required
@page_requires("manage", "change the inbound address")
def bounce_rotate(request: HttpRequest) -> HttpResponse:
    mailbox = bounces.mailbox_get(organization=request.principal.organization)
    bounces.token_rotate(mailbox=mailbox)
    messages.success(
        request, "New inbound address made; the old one no longer works. Update your mail server."
    )
    return redirect("mail:bounces")
