"""The A/B test pages: the list, a new test, one test (review, start, results, pick, cancel),
the live audience count of the form, and the fragment the campaign page pulls in."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from agents.abtests import selectors, services
from agents.abtests.forms import ABTestForm
from agents.audience.models import ContactList
from agents.models import ABTest, ABTestMetric, ABTestStatus
from agents.segments.models import Segment
from neonhub.core.auth import page_requires
from neonhub.core.errors import Conflict, InvalidInput
from neonhub.core.views_util import organization_required

DENIED = "look at A/B tests but not create, start or change them"
LIVE = (ABTestStatus.TESTING, ABTestStatus.WAITING, ABTestStatus.SENDING)


@login_required
@organization_required
@require_GET
def abtest_list(request: HttpRequest) -> HttpResponse:
    tests = selectors.abtest_list(organization=request.principal.organization)[:200]
    return render(request, "abtests/list.html", {"tests": tests})


@login_required
@organization_required
@page_requires("write", DENIED, methods=("GET", "POST"), reads=("GET",))
def abtest_new(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    initial = {"campaign": request.GET.get("campaign")} if request.GET.get("campaign") else {}
    form = ABTestForm(request.POST or None, organization=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            test = services.abtest_create(
                organization=org,
                name=data["name"],
                variants=form.variants(),
                campaign=data["campaign"],
                segment=data["segment"],
                contact_list=data["contact_list"],
                metric=data["metric"],
                share_percent=data["share_percent"],
                window_hours=data["window_hours"],
                confidence=data["confidence"],
                no_winner=data["no_winner"],
                created_by=request.user,
            )
        except InvalidInput as exc:
            for detail in exc.details or [{"field": "", "message": exc.message}]:
                form.add_service_error(detail.get("field", ""), detail.get("message", ""))
        else:
            return redirect("abtests:detail", test_id=test.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "abtests/new.html", {"form": form}, status=status)


@login_required
@organization_required
@require_GET
def abtest_detail(request: HttpRequest, test_id: uuid.UUID) -> HttpResponse:
    test = selectors.abtest_get(organization=request.principal.organization, test_id=test_id)
    context = _results_context(test)
    if test.status == ABTestStatus.DRAFT:
        split = selectors.audience_split(test=test)
        context["preview"] = split.counts([v["key"] for v in test.variants])
    return render(request, "abtests/detail.html", context)


@login_required
@organization_required
@require_GET
def abtest_results(request: HttpRequest, test_id: uuid.UUID) -> HttpResponse:
    """The status and numbers, polled by htmx while the test runs."""
    test = selectors.abtest_get(organization=request.principal.organization, test_id=test_id)
    return render(request, "abtests/_results.html", _results_context(test))


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.abtest_get)
def abtest_start(request: HttpRequest, test: ABTest) -> HttpResponse:
    try:
        services.abtest_start(test=test, created_by=request.user)
    except (InvalidInput, Conflict) as exc:
        messages.error(request, f"The test was not started: {_plain(exc)}")
    else:
        messages.success(request, "The test share is on its way.")
    return redirect("abtests:detail", test_id=test.pk)


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.abtest_get)
def abtest_pick(request: HttpRequest, test: ABTest) -> HttpResponse:
    variant = (request.POST.get("variant") or "")[:8]
    try:
        services.abtest_pick(test=test, variant=variant, created_by=request.user)
    except (InvalidInput, Conflict) as exc:
        messages.error(request, _plain(exc))
    else:
        messages.success(request, f"Variant {variant} is going to everyone else.")
    return redirect("abtests:detail", test_id=test.pk)


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.abtest_get)
def abtest_cancel(request: HttpRequest, test: ABTest) -> HttpResponse:
    try:
        services.abtest_cancel(test=test)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The test is cancelled: nobody else will get an email from it.")
    return redirect("abtests:detail", test_id=test.pk)


@login_required
@organization_required
@require_GET
def audience_count(request: HttpRequest) -> HttpResponse:
    """The form's live line "1,234 contacts match" for the chosen segment or list."""
    org = request.principal.organization
    count, what = None, ""
    segment_id, list_id = request.GET.get("segment"), request.GET.get("contact_list")
    try:
        if segment_id:
            from agents.segments.selectors import segment_count

            segment = Segment.objects.get(organization=org, pk=uuid.UUID(segment_id))
            count, what = segment_count(segment=segment), segment.name
        elif list_id:
            contact_list = ContactList.objects.get(organization=org, pk=uuid.UUID(list_id))
            count = contact_list.memberships.filter(contact__erased_at__isnull=True).count()
            what = contact_list.name
    except (ValueError, Segment.DoesNotExist, ContactList.DoesNotExist):
        count = None
    return render(request, "abtests/_count.html", {"count": count, "what": what})


@login_required
@organization_required
@require_GET
def abtest_for_campaign(request: HttpRequest, campaign_id: uuid.UUID) -> HttpResponse:
    tests = selectors.abtest_for_campaign(
        organization=request.principal.organization, campaign_id=campaign_id
    )[:50]
    return render(
        request, "abtests/_for_campaign.html", {"tests": tests, "campaign_id": campaign_id}
    )


def _plain(exc: InvalidInput | Conflict) -> str:
    details = [d.get("message", "") for d in (exc.details or []) if isinstance(d, dict)]
    return details[0][:1].upper() + details[0][1:] + "." if details else exc.message


def _results_context(test: ABTest) -> dict:
    """The page's table: stored numbers after the decision, live ones before it."""
    if test.result:
        result = test.result
    elif test.status in (ABTestStatus.DRAFT, ABTestStatus.CANCELLED) and not test.started_at:
        result = {}
    else:
        result = services.abtest_verdict(test=test)
    rows = []
    for v in test.variants:
        numbers = next((r for r in result.get("variants", []) if r["key"] == v["key"]), {})
        rows.append({**v, **numbers, "is_winner": v["key"] == test.winner})
    return {
        "test": test,
        "rows": rows,
        "result": result,
        "summary": selectors.result_summary(test, result),
        "live": test.status in LIVE,
        "metric_word": "open" if test.metric == ABTestMetric.OPENS else "click",
        "took": _took(test),
        "overdue_pending": (
            selectors.test_share_pending(test=test)
            if test.status == ABTestStatus.WAITING
            and test.window_ends_at
            and test.window_ends_at <= timezone.now()
            else 0
        ),
    }


def _took(test: ABTest) -> str:
    if not (test.started_at and test.decided_at):
        return ""
    minutes = int((test.decided_at - test.started_at).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
