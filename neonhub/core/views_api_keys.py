"""The API keys page: everyone reads the list (never a secret); owners and admins create,
change and revoke.  A new key's token is shown in the answer to its creation only."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from neonhub.core import scopes as scope_set
from neonhub.core import selectors, services
from neonhub.core.api import key_status
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput
from neonhub.core.forms import errors_to_form
from neonhub.core.models import ApiKey, Role
from neonhub.core.views_util import organization_required

EXPIRY_CHOICES = [
    ("never", "Never"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In 365 days"),
    ("date", "On a date"),
]
RATE_HELP = "Requests per window, e.g. 600/minute or 50000/day; blank: the server's default"


def _role_choices(principal) -> list[tuple[str, str]]:
    """Roles a key may have: none higher than its creator's."""
    rank = services.ROLE_RANK[principal.role]
    return [(v, label) for v, label in Role.choices if services.ROLE_RANK[v] <= rank]


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses the key, e.g. “CI deploys”")
    role = forms.ChoiceField(help_text="What the key may do at most; never more than your role")
    scopes = forms.MultipleChoiceField(
        required=False,
        choices=[(s.name, s.name) for s in scope_set.SCOPES],
        widget=forms.CheckboxSelectMultiple,
    )
    expiry = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90", label="Expires")
    expires_on = forms.DateField(
        required=False,
        label="Expiry date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="With “On a date”: the key stops working at the start of that day (UTC)",
    )
    rate_limit = forms.CharField(required=False, max_length=32, help_text=RATE_HELP)

    def __init__(self, *args, principal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(principal)
        self.fields["role"].initial = Role.MEMBER if principal.can_write else Role.VIEWER

    def expires_at(self) -> datetime | None:
        choice = self.cleaned_data["expiry"]
        if choice == "never":
            return None
        if choice == "date":
            day = self.cleaned_data.get("expires_on")
            if day is None:
                raise InvalidInput.for_field("expires_on", "Choose the day the key expires")
            return datetime.combine(day, time.min, tzinfo=UTC)
        return timezone.now() + timedelta(days=int(choice))


class ApiKeyEditForm(forms.Form):
    name = forms.CharField(max_length=100)
    rate_limit = forms.CharField(required=False, max_length=32, help_text=RATE_HELP)


def _rows(organization) -> list[dict]:
    return [
        {"key": key, "status": key_status(key)}
        for key in selectors.api_key_list(organization=organization)
    ]


def _page(request: HttpRequest, form: ApiKeyForm | None, *, issued=None, status=200):
    principal = request.principal
    return render(
        request,
        "core/api_keys.html",
        {
            "rows": _rows(principal.organization),
            "form": form,
            "scope_groups": scope_set.grouped(),
            "chosen_scopes": set(form["scopes"].value() or []) if form is not None else set(),
            "issued": issued,
            "default_rate_limit": _default_rate(),
        },
        status=status,
    )


def _default_rate() -> str:
    return settings.NEONHUB_API_RATE_LIMIT


@login_required
@organization_required
@never_cache
@page_requires("manage", "create API keys", methods=("GET", "POST"), reads=("GET",))
def api_key_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    if request.method == "GET":
        form = ApiKeyForm(principal=principal) if principal.can_manage else None
        return _page(request, form)
    form = ApiKeyForm(request.POST, principal=principal)
    if not form.is_valid():
        return _page(request, form, status=422)
    try:
        issued = services.api_key_create(
            organization=principal.organization,
            name=form.cleaned_data["name"],
            role=form.cleaned_data["role"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.expires_at(),
            rate_limit=form.cleaned_data["rate_limit"],
            created_by=principal.user,
            principal=principal,
            request=request,
        )
    except InvalidInput as exc:
        # The service's expires_at is this form's date field.
        details = [
            {**d, "field": "expires_on" if d.get("field") == "expires_at" else d.get("field")}
            for d in (exc.details if isinstance(exc.details, list) else [])
        ]
        errors_to_form(form, details, exc.message)
        return _page(request, form, status=422)
    # The token is in this answer only (never stored, never in a URL, not cached: never_cache).
    return _page(request, ApiKeyForm(principal=principal), issued=issued)


@login_required
@organization_required
@never_cache
@page_requires(
    "manage",
    "change API keys",
    find=selectors.api_key_get,
    methods=("GET", "POST"),
)
def api_key_edit(request: HttpRequest, api_key: ApiKey) -> HttpResponse:
    if request.method == "GET":
        form = ApiKeyEditForm(initial={"name": api_key.name, "rate_limit": api_key.rate_limit})
        return _edit_page(request, api_key, form)
    form = ApiKeyEditForm(request.POST)
    if not form.is_valid():
        return _edit_page(request, api_key, form, status=422)
    try:
        services.api_key_update(
            api_key=api_key,
            name=form.cleaned_data["name"],
            rate_limit=form.cleaned_data["rate_limit"],
            principal=request.principal,
            request=request,
        )
    except InvalidInput as exc:
        errors_to_form(form, exc.details, exc.message)
        return _edit_page(request, api_key, form, status=422)
    messages.success(request, f"Saved the key “{api_key.name}”.")
    return redirect("api-keys")


def _edit_page(request, api_key, form, *, status=200):
    return render(
        request,
        "core/api_key_edit.html",
        {
            "api_key": api_key,
            "status": key_status(api_key),
            "form": form,
            "default_rate_limit": _default_rate(),
        },
        status=status,
    )


@login_required
@organization_required
@page_requires(
    "manage",
    "revoke API keys",
    find=selectors.api_key_get,
    methods=("GET", "POST"),
)
def api_key_revoke(request: HttpRequest, api_key: ApiKey) -> HttpResponse:
    if request.method == "GET":
        return render(
            request,
            "core/api_key_revoke.html",
            {"api_key": api_key, "status": key_status(api_key)},
        )
    services.api_key_revoke(api_key=api_key, principal=request.principal, request=request)
    messages.success(
        request, f"Revoked the key “{api_key.name}”: its next request is refused (401)."
    )
    return redirect("api-keys")
