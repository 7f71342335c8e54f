"""The campaign pages: the list, the form, and a campaign's page with its numbers over time.

The page's numbers are an htmx fragment (``campaign_numbers``) it reloads every 30 seconds, so
opens, clicks, bounces and conversions appear as they arrive.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from agents.campaigns import charts, selectors, services
from agents.campaigns.forms import CampaignForm, ConversionForm
from agents.campaigns.models import CHANNELS, Campaign, CampaignStatus, ConversionSource
from agents.fields import CHOICE_LABELS
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput, NeonHubError
from neonhub.core.forms import errors_to_form
from neonhub.core.views_util import organization_required, page_or_first

DENIED = "look at campaigns but not change them"
CHART_MAX_DAYS = 90


def _channels(campaign: Campaign) -> list[str]:
    return [CHANNELS.get(c, c) for c in campaign.channels or []]


@login_required
@organization_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    status = request.GET.get("status") or ""
    if status not in CampaignStatus.values:
        status = ""
    page = page_or_first(
        selectors.campaign_page,
        cursor=request.GET.get("cursor"),
        organization=org,
        status=status or None,
        limit=50,
    )
    totals = selectors.campaigns_totals(organization=org, campaigns=page.items)
    for campaign in page.items:
        campaign.totals = totals[campaign.pk]
        campaign.channel_names = _channels(campaign)
    return render(
        request,
        "campaigns/list.html",
        {"page": page, "status": status, "statuses": CampaignStatus.choices},
    )


def _save(request: HttpRequest, form: CampaignForm, campaign: Campaign | None) -> Campaign | None:
    try:
        if campaign is None:
            return services.campaign_create(
                organization=request.principal.organization,
                created_by=request.user,
                **form.campaign_data(),
            )
        return services.campaign_update(campaign=campaign, **form.campaign_data())
    except NeonHubError as exc:
        errors_to_form(form, getattr(exc, "details", None), exc.message)
        return None


@login_required
@organization_required
@page_requires("write", DENIED, methods=("GET", "POST"), reads=("GET",))
def campaign_new(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = _save(request, form, None)
        if campaign is not None:
            messages.success(request, f"Campaign “{campaign.name}” created.")
            return redirect("campaigns:detail", campaign_id=campaign.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "campaigns/form.html", {"form": form}, status=status)


@login_required
@organization_required
@page_requires(
    "write", DENIED, find=selectors.campaign_get, methods=("GET", "POST"), reads=("GET",)
)
def campaign_edit(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    form = CampaignForm(request.POST or None, initial=CampaignForm.initial_for(campaign))
    if request.method == "POST" and form.is_valid():
        if _save(request, form, campaign) is not None:
            messages.success(request, f"Saved “{campaign.name}”.")
            return redirect("campaigns:detail", campaign_id=campaign.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "campaigns/form.html", {"form": form, "campaign": campaign}, status=status
    )


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.campaign_get)
def campaign_delete(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    try:
        services.campaign_delete(campaign=campaign)
    except NeonHubError as exc:
        messages.error(request, exc.message)
        return redirect("campaigns:detail", campaign_id=campaign.pk)
    messages.success(request, f"Deleted “{campaign.name}”.")
    return redirect("campaigns:list")


def _numbers_context(request: HttpRequest, campaign: Campaign) -> dict:
    since, until = selectors.series_range(campaign=campaign)
    if (until - since).days >= CHART_MAX_DAYS:
        since = until - timedelta(days=CHART_MAX_DAYS - 1)
    days = selectors.campaign_series(campaign=campaign, since=since, until=until)
    totals = selectors.campaign_totals(campaign=campaign)
    return {
        "campaign": campaign,
        "totals": totals,
        "chart": charts.day_chart(days),
        "since": since,
        "until": until,
        "over_budget": campaign.budget is not None
        and campaign.currency == "USD"
        and totals.cost > campaign.budget,
    }


@login_required
@organization_required
@require_GET
def campaign_detail(request: HttpRequest, campaign_id) -> HttpResponse:
    org = request.principal.organization
    campaign = selectors.campaign_get(organization=org, campaign_id=campaign_id)
    page = page_or_first(
        selectors.campaign_messages, cursor=request.GET.get("cursor"), campaign=campaign
    )
    context = {
        **_numbers_context(request, campaign),
        "channel_names": _channels(campaign),
        "runs": selectors.campaign_runs(campaign=campaign),
        "posts": selectors.campaign_post_rows(campaign=campaign),
        "messages_page": page,
        "conversions": selectors.campaign_conversions(campaign=campaign),
        "conversion_form": ConversionForm(initial={"currency": campaign.currency}),
        "platform_names": CHOICE_LABELS,
    }
    for post in context["posts"]:
        post.name = CHOICE_LABELS.get(post.platform, post.platform)
    return render(request, "campaigns/detail.html", context)


@login_required
@organization_required
@require_GET
def campaign_numbers(request: HttpRequest, campaign_id) -> HttpResponse:
    """The tiles and the chart (the page polls it)."""
    campaign = selectors.campaign_get(
        organization=request.principal.organization, campaign_id=campaign_id
    )
    return render(request, "campaigns/_numbers.html", _numbers_context(request, campaign))


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.campaign_get)
def conversion_add(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    """A conversion entered by hand (an order taken by phone, a signed contract)."""
    form = ConversionForm(request.POST)
    if form.is_valid():
        try:
            _, created = services.conversion_record(
                campaign=campaign,
                value=form.cleaned_data["value"],
                currency=form.cleaned_data["currency"],
                reference=form.cleaned_data["reference"],
                email=form.cleaned_data["email"],
                source=ConversionSource.MANUAL,
            )
        except InvalidInput as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                "Conversion counted."
                if created
                else "That reference was already counted; it is not counted twice.",
            )
    else:
        name, errors = next(iter(form.errors.items()))
        label = form.fields[name].label if name in form.fields else "Conversion"
        messages.error(request, f"{label}: {errors[0]}")
    return redirect(reverse("campaigns:detail", args=[campaign.pk]) + "#conversions")
