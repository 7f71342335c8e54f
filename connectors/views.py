"""Connector pages: the list with health and a Test button, and add and edit forms.

Forms come from the provider's schemas (``connectors.forms``); secrets are write-only (a
blank field keeps what is stored; only masks are shown).  Viewers read, members test,
owners and admins add and edit.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from connectors import selectors, services
from connectors.forms import (
    ConnectorForm,
    config_field_names,
    connector_form_class,
    credential_field_names,
)
from connectors.health import effective_health
from connectors.hooks import connector_dependents
from connectors.models import Connector, Health, OAuthLink
from connectors.oauth.services import oauth_buttons
from connectors.reconnect import reconnect_url
from connectors.registry import all_provider_classes, get_provider_class
from connectors.schemas import webhook_subscriptions_of
from neonhub.core.auth import page_requires
from neonhub.core.errors import Conflict, InvalidInput
from neonhub.core.views_util import organization_required


class PageConnectorForm(ConnectorForm):
    """The admin's form without the organization field: pages act for the current one."""

    class Meta(ConnectorForm.Meta):
        fields = ["name", "mode", "enabled", "token_expires_at"]
        widgets = {
            "token_expires_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            )
        }
        help_texts = {
            "token_expires_at": "When the access token expires, if the provider says; "
            "the connector shows as expiring 7 days before."
        }


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, context, status=status)


# Connectors whose access needs a person: the list's banner names them.
ATTENTION = (Health.EXPIRING, Health.NEEDS_RECONNECT)


def _row(connector: Connector) -> dict:
    health = effective_health(connector)
    return {
        "connector": connector,
        "health": health,
        "health_label": Health(health).label,
        "provider": _describe(_provider_or_none(connector.provider)),
        "reconnect": reconnect_url(connector),
    }


def _describe(provider_cls) -> dict | None:
    """What pages show of a provider class (templates would call a class, so not the class)."""
    if provider_cls is None:
        return None
    return {
        "slug": provider_cls.slug,
        "label": provider_cls.label,
        "auth_kind": provider_cls.auth_kind,
        "docs_url": provider_cls.docs_url,
        "actions": len(provider_cls.actions),
    }


def _catalog() -> list[dict]:
    return [_describe(cls) for cls in all_provider_classes()]


def _provider_or_none(slug: str):
    try:
        return get_provider_class(slug)
    except InvalidInput:  # a provider removed from the registry; its rows still show
        return None


@login_required
@organization_required
def connector_list(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    connectors = selectors.connector_list(organization=request.principal.organization)
    rows = [_row(c) for c in connectors.select_related("oauth_link")]
    return _page(
        request,
        "connectors/list.html",
        {
            "rows": rows,
            "connect_targets": oauth_buttons(),
            "attention": [r for r in rows if r["health"] in ATTENTION],
        },
    )


@login_required
@organization_required
@page_requires("write", "look at connectors but not test them", find=selectors.connector_get)
def connector_test(request: HttpRequest, connector: Connector) -> HttpResponse:
    """The Test button: answers inline (htmx swaps the row) or, without script, on the list."""
    result = services.connector_test(connector=connector)
    if request.htmx:
        return _page(
            request, "connectors/list.html#connector-row", {**_row(connector), "result": result}
        )
    (messages.success if result.ok else messages.error)(
        request, f"{connector.name}: {result.message}"
    )
    return redirect("connectors:list")


@login_required
@organization_required
@page_requires("manage", "add connectors", methods=("GET", "POST"))
def connector_add(request: HttpRequest) -> HttpResponse:
    """Choose a provider (``?provider=`` unset), then fill in its form."""
    slug = request.GET.get("provider", "")
    if not slug:
        return _page(request, "connectors/choose.html", {"providers": _catalog()})
    provider_cls = _provider_or_none(slug)
    if provider_cls is None:
        return _page(
            request,
            "connectors/choose.html",
            {"providers": _catalog(), "error": f"There is no provider called {slug!r}."},
            status=404,
        )
    form_class = connector_form_class(provider_cls, base=PageConnectorForm)
    return _form_page(request, form_class, provider_cls, connector=None)


@login_required
@organization_required
@page_requires("manage", "change connectors", find=selectors.connector_get, methods=("GET", "POST"))
def connector_edit(request: HttpRequest, connector: Connector) -> HttpResponse:
    provider_cls = _provider_or_none(connector.provider)
    if provider_cls is None:
        return _page(
            request,
            "404.html",
            {"message": f"The {connector.provider} provider is not installed"},
            status=404,
        )
    form_class = connector_form_class(provider_cls, connector=connector, base=PageConnectorForm)
    return _form_page(request, form_class, provider_cls, connector=connector)


def _form_page(
    request: HttpRequest, form_class, provider_cls, *, connector: Connector | None
) -> HttpResponse:
    organization = request.principal.organization
    form = form_class(request.POST or None, instance=connector, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            saved = form.save_connector(
                created_by=request.user, principal=request.principal, request=request
            )
        except Conflict as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"{saved.name} saved.")
            return redirect("connectors:list")
    context = {
        "form": form,
        "provider": _describe(provider_cls),
        "connector": connector,
        "general": [form[name] for name in PageConnectorForm.Meta.fields],
        "credential_fields": [form[name] for name in credential_field_names(provider_cls)],
        "config_fields": [form[name] for name in config_field_names(provider_cls)],
        "recent": selectors.outbox_for_connector(
            organization=organization, connector=connector, limit=10
        )
        if connector is not None
        else [],
        "webhook_urls": provider_cls.webhook_urls(connector.pk) if connector is not None else {},
    }
    status = 422 if request.method == "POST" else 200
    return _page(request, "connectors/form.html", context, status=status)


def _settings(connector: Connector, provider_cls) -> list[tuple[str, object]]:
    """The non-secret settings: the provider's config, then each credential as its mask."""
    rows: list[tuple[str, object]] = [
        (name.replace("_", " ").capitalize(), value) for name, value in connector.config.items()
    ]
    masks = connector.credentials_masks or {}
    names = list(provider_cls.Credentials.model_fields) if provider_cls is not None else list(masks)
    for name in names:
        rows.append((name.replace("_", " ").capitalize(), masks.get(name) or "not set"))
    return rows


@login_required
@organization_required
@require_GET
def connector_detail(request: HttpRequest, connector_id) -> HttpResponse:
    """One connector: provider, mode, health (last test, last use, last error, scrubbed when
    it was stored), its non-secret settings, webhook URLs, recent outbox rows and what
    depends on it."""
    organization = request.principal.organization
    connector = selectors.connector_get(organization=organization, connector_id=connector_id)
    provider_cls = _provider_or_none(connector.provider)
    return _page(
        request,
        "connectors/detail.html",
        {
            **_row(connector),
            "settings": _settings(connector, provider_cls),
            "webhook_urls": provider_cls.webhook_urls(connector.pk) if provider_cls else {},
            "webhook_subscriptions": webhook_subscriptions_of(connector),
            "recent": selectors.outbox_for_connector(
                organization=organization, connector=connector, limit=20
            ),
            "dependents": connector_dependents(connector),
            "oauth_link": OAuthLink.objects.filter(connector=connector).first(),
        },
    )


@login_required
@organization_required
@page_requires("manage", "delete connectors", find=selectors.connector_get, methods=("GET", "POST"))
def connector_delete(request: HttpRequest, connector: Connector) -> HttpResponse:
    """GET: the confirmation naming what depends on the connector and what happens to each;
    POST: delete it (as ``DELETE /api/v1/connectors/{id}`` does)."""
    if request.method == "POST":
        name = connector.name
        services.connector_delete(connector=connector, principal=request.principal, request=request)
        messages.success(request, f"{name} deleted.")
        return redirect("connectors:list")
    return _page(
        request,
        "connectors/delete.html",
        {
            **_row(connector),
            "dependents": connector_dependents(connector),
            "webhook_subscriptions": webhook_subscriptions_of(connector),
        },
    )
