"""The alert pages under Settings › Alerts: the rules with their state, a rule's form, the
destinations (a webhook's secret shown once), "send a test notification", the deliveries log.
Everyone reads; owners and admins change."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from agents.registry import all_agents
from connectors.models import Connector
from neonhub.alerts import selectors, services
from neonhub.alerts.forms import DestinationEditForm, DestinationForm, RuleForm
from neonhub.alerts.models import AlertRule
from neonhub.core.auth import page_requires
from neonhub.core.errors import Conflict, InvalidInput
from neonhub.core.forms import errors_to_form
from neonhub.core.views_util import organization_required

# The service's field names that the form names differently.
FORM_FIELD = {
    "connector_id": "connector",
    "destination_ids": "destinations",
    "window_minutes": "window_hours",
}


def _rule_form(request: HttpRequest, data=None, initial=None) -> RuleForm:
    organization = request.principal.organization
    return RuleForm(
        data,
        initial=initial,
        agents=[(a.slug, a.slug) for a in all_agents()],
        connectors=[
            (str(c.pk), f"{c.name} ({c.provider})")
            for c in Connector.objects.filter(organization=organization).order_by("name")
        ],
        destinations=[
            (str(d.pk), str(d)) for d in selectors.destination_list(organization=organization)
        ],
    )


def _form_errors(form, exc: InvalidInput | Conflict) -> None:
    details = [
        {**d, "field": FORM_FIELD.get(d.get("field"), d.get("field"))}
        for d in (exc.details if isinstance(exc.details, list) else [])
    ]
    errors_to_form(form, details, exc.message)


def _list_page(request, *, destination_form=None, issued=None, status=200):
    organization = request.principal.organization
    return render(
        request,
        "alerts/list.html",
        {
            "rules": selectors.rule_list(organization=organization),
            "destinations": selectors.destination_list(organization=organization),
            "deliveries": selectors.delivery_list(organization=organization)[:20],
            "destination_form": destination_form
            or (DestinationForm() if request.principal.can_manage else None),
            "issued": issued,
        },
        status=status,
    )


@login_required
@organization_required
@never_cache
@page_requires("manage", "add alert destinations", methods=("GET", "POST"), reads=("GET",))
def alert_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _list_page(request)
    form = DestinationForm(request.POST)
    if not form.is_valid():
        return _list_page(request, destination_form=form, status=422)
    try:
        destination, secret = services.destination_create(
            organization=request.principal.organization,
            principal=request.principal,
            request=request,
            **form.cleaned_data,
        )
    except (InvalidInput, Conflict) as exc:
        _form_errors(form, exc)
        return _list_page(request, destination_form=form, status=422)
    issued = {"destination": destination, "secret": secret} if secret else None
    if not issued:
        messages.success(request, f"Added the destination “{destination.name}”.")
    return _list_page(request, issued=issued)


@login_required
@organization_required
@never_cache
@page_requires("manage", "create alert rules", methods=("GET", "POST"))
def rule_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _rule_page(request, None, _rule_form(request))
    form = _rule_form(request, request.POST)
    if not form.is_valid():
        return _rule_page(request, None, form, status=422)
    try:
        rule = services.rule_create(
            organization=request.principal.organization,
            destination_ids=form.cleaned_data["destinations"],
            principal=request.principal,
            request=request,
            **form.rule_fields(),
        )
    except (InvalidInput, Conflict) as exc:
        _form_errors(form, exc)
        return _rule_page(request, None, form, status=422)
    messages.success(request, f"Created the alert “{rule.name}”; it is judged within a minute.")
    return redirect("alerts:list")


@login_required
@organization_required
@never_cache
@page_requires(
    "manage", "change alert rules", find=selectors.rule_get, methods=("GET", "POST"), reads=("GET",)
)
def rule_detail(request: HttpRequest, rule: AlertRule) -> HttpResponse:
    if request.method == "GET":
        return _rule_page(request, rule, _rule_form(request, initial=RuleForm.initial_of(rule)))
    form = _rule_form(request, request.POST)
    if not form.is_valid():
        return _rule_page(request, rule, form, status=422)
    try:
        services.rule_update(
            rule=rule,
            destination_ids=form.cleaned_data["destinations"],
            principal=request.principal,
            request=request,
            **form.rule_fields(),
        )
    except (InvalidInput, Conflict) as exc:
        _form_errors(form, exc)
        return _rule_page(request, rule, form, status=422)
    messages.success(request, f"Saved the alert “{rule.name}”.")
    return redirect("alerts:list")


def _rule_page(request, rule, form, *, status=200):
    deliveries = (
        selectors.delivery_list(organization=request.principal.organization, rule=rule)[:20]
        if rule is not None
        else []
    )
    return render(
        request,
        "alerts/rule.html",
        {"rule": rule, "form": form, "deliveries": deliveries},
        status=status,
    )


@login_required
@organization_required
@page_requires("manage", "delete alert rules", find=selectors.rule_get)
def rule_delete(request: HttpRequest, rule: AlertRule) -> HttpResponse:
    services.rule_delete(rule=rule, principal=request.principal, request=request)
    messages.success(request, f"Deleted the alert “{rule.name}”.")
    return redirect("alerts:list")


@login_required
@organization_required
@never_cache
@page_requires(
    "manage",
    "change alert destinations",
    find=selectors.destination_get,
    methods=("GET", "POST"),
    reads=("GET",),
)
def destination_edit(request: HttpRequest, destination) -> HttpResponse:
    """Rename, readdress or switch off a destination; a webhook can be given a new secret."""
    issued = None
    if request.method == "GET":
        form = DestinationEditForm(
            initial={
                "name": destination.name,
                "target": destination.target,
                "enabled": destination.enabled,
            }
        )
    elif "new_secret" in request.POST and destination.kind == "webhook":
        secret = services.destination_rotate_secret(
            destination=destination, principal=request.principal, request=request
        )
        issued = {"destination": destination, "secret": secret}
        form = DestinationEditForm(
            initial={
                "name": destination.name,
                "target": destination.target,
                "enabled": destination.enabled,
            }
        )
    else:
        form = DestinationEditForm(request.POST)
        status = 422
        if form.is_valid():
            try:
                services.destination_update(
                    destination=destination,
                    principal=request.principal,
                    request=request,
                    **form.cleaned_data,
                )
            except (InvalidInput, Conflict) as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, f"Saved the destination “{destination.name}”.")
                return redirect("alerts:list")
        return render(
            request,
            "alerts/destination.html",
            {"destination": destination, "form": form, "issued": None},
            status=status,
        )
    return render(
        request,
        "alerts/destination.html",
        {"destination": destination, "form": form, "issued": issued},
    )


@login_required
@organization_required
@page_requires("manage", "send test notifications", find=selectors.destination_get)
def destination_test(request: HttpRequest, destination) -> HttpResponse:
    delivery = services.test_notification(
        destination=destination, principal=request.principal, request=request
    )
    if delivery.status == "sent":
        messages.success(request, f"Sent a test notification to “{destination.name}”.")
    else:
        messages.error(
            request, f"The test notification to “{destination.name}” failed: {delivery.error}"
        )
    return redirect("alerts:list")


@login_required
@organization_required
@page_requires("manage", "delete alert destinations", find=selectors.destination_get)
def destination_delete(request: HttpRequest, destination) -> HttpResponse:
    services.destination_delete(
        destination=destination, principal=request.principal, request=request
    )
    messages.success(request, f"Deleted the destination “{destination.name}”.")
    return redirect("alerts:list")


@login_required
@organization_required
def delivery_log(request: HttpRequest) -> HttpResponse:
    rows = selectors.delivery_list(organization=request.principal.organization)[:200]
    return render(request, "alerts/deliveries.html", {"deliveries": rows})
