"""Pages: batches with a live progress bar, schedules with their next five times, and webhook
triggers with the deliveries they refused.

Every page looks the object up in the organization first (another organization's id is a
404), then checks the method and the role.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from agents import services as agent_services
from agents.audience import selectors as audience_selectors
from agents.automation import batches, calendar, feed, recipes, schedules, selectors, services
from agents.automation.forms import (
    BatchForm,
    ScheduleEditForm,
    ScheduleForm,
    TriggerEditForm,
    TriggerForm,
)
from agents.automation.inbound import excerpt_redact
from agents.automation.models import (
    Batch,
    DeliveryStatus,
    ItemStatus,
    Recipe,
    RecipeKind,
    RecurringSchedule,
    Trigger,
)
from agents.automation.schemas import trigger_webhook_url
from agents.automation.sources import source_label
from agents.campaigns.selectors import campaign_get
from agents.views import agent_catalog
from connectors.registry import get_provider_class
from connectors.selectors import connector_list
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput, NeonHubError
from neonhub.core.forms import errors_to_form
from neonhub.core.views_util import organization_required, page_or_first
from runs import selectors as run_selectors
from runs.models import AgentRun

# A list page shows its form to everyone and saves it for a role that writes.
FORM_PAGE = {"methods": ("GET", "POST"), "reads": ("GET",)}
PAGE_SIZE = 50
# The lists inside a page (a batch's failed inputs, the refused deliveries) are shorter.
SECTION_PAGE_SIZE = 20


def _cursor(request: HttpRequest) -> str | None:
    return request.GET.get("cursor") or None


# --- batches --------------------------------------------------------------------------------


@login_required
@organization_required
@page_requires("write", "look at batches but not change them", **FORM_PAGE)
def batch_list(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    catalog = agent_catalog()
    lists = list(audience_selectors.contact_list_all(organization=org))
    form = BatchForm(
        request.POST or None,
        request.FILES or None,
        catalog=catalog,
        lists=lists,
        organization=org,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                batch = _batch_create(request, form, lists)
            except NeonHubError as exc:
                errors_to_form(form, exc.details, exc.message)
            else:
                return redirect("automation:batch-detail", batch_id=batch.pk)
        status = 422
    page = page_or_first(
        selectors.batch_page, cursor=_cursor(request), organization=org, limit=PAGE_SIZE
    )
    return render(
        request,
        "automation/batch_list.html",
        {"page": page, "paged": bool(_cursor(request)), "form": form},
        status=status,
    )


def _batch_create(request: HttpRequest, form: BatchForm, lists: list):
    agent, intent = form.agent_intent()
    common = {
        "organization": request.principal.organization,
        "name": form.cleaned_data["name"],
        "agent": agent,
        "intent": intent,
        "mapping": form.cleaned_data["mapping"],
        "defaults": form.cleaned_data["defaults"],
        "created_by": request.user,
        "campaign": form.cleaned_data.get("campaign"),
    }
    if form.cleaned_data.get("file"):
        return batches.batch_create_csv(upload=form.cleaned_data["file"], **common)
    if form.cleaned_data.get("segment"):
        return batches.batch_create_segment(segment=form.cleaned_data["segment"], **common)
    chosen = next(lst for lst in lists if str(lst.pk) == form.cleaned_data["contact_list"])
    return batches.batch_create_list(contact_list=chosen, **common)


def _batch_context(batch) -> dict:
    return {"batch": batch, "progress": batches.batch_progress(batch), "active": batch.is_active}


ITEM_STATUSES = [("", "All")] + [(v, label) for v, label in ItemStatus.choices]


@login_required
@organization_required
@require_GET
def batch_detail(request: HttpRequest, batch_id) -> HttpResponse:
    """A batch: its progress and actions (live while it runs), and every input with its result
    and its run, paginated, filtered by ``?status=``."""
    batch = selectors.batch_get(organization=request.principal.organization, batch_id=batch_id)
    chosen = request.GET.get("status", "")
    if chosen not in ItemStatus.values:
        chosen = ""
    items = page_or_first(
        selectors.batch_item_page,
        cursor=_cursor(request),
        batch=batch,
        status=chosen or None,
        limit=SECTION_PAGE_SIZE,
    )
    return render(
        request,
        "automation/batch_detail.html",
        {
            **_batch_context(batch),
            "items": items,
            "item_status": chosen,
            "item_statuses": ITEM_STATUSES,
            "paged": bool(_cursor(request)),
        },
    )


@login_required
@organization_required
@require_GET
def batch_progress(request: HttpRequest, batch_id) -> HttpResponse:
    """The progress fragment the batch page polls every two seconds while the batch is going.
    When the batch's status is no longer the one the page shows (``?shown=``), the answer also
    replaces the actions (out of band): a finished batch offers no Pause or Cancel."""
    batch = selectors.batch_get(organization=request.principal.organization, batch_id=batch_id)
    context = {**_batch_context(batch), "changed": request.GET.get("shown") != batch.status}
    return render(request, "automation/batch_detail.html#live", context)


@login_required
@organization_required
@require_GET
def batch_item_row(request: HttpRequest, batch_id, index: int) -> HttpResponse:
    """One input's row, polled while it is queued (it stops once the input is finished)."""
    batch = selectors.batch_get(organization=request.principal.organization, batch_id=batch_id)
    item = selectors.batch_item_get(batch=batch, index=index)
    return render(request, "automation/batch_detail.html#item-row", {"batch": batch, "item": item})


@login_required
@organization_required
@page_requires("write", "look at batches but not change them", find=selectors.batch_get)
def batch_action(request: HttpRequest, batch: Batch, action: str) -> HttpResponse:
    act = {
        "pause": batches.batch_pause,
        "resume": batches.batch_resume,
        "cancel": batches.batch_cancel,
    }[action]
    try:
        act(batch=batch)
    except NeonHubError as exc:
        messages.error(request, exc.message)
    return redirect("automation:batch-detail", batch_id=batch.pk)


# --- schedules ------------------------------------------------------------------------------


def _schedule_fields(form) -> dict:
    """A valid schedule form's answers as the schedule services take them."""
    agent, intent = form.agent_intent()
    data = form.cleaned_data
    return {
        "name": data["name"],
        "agent": agent,
        "intent": intent,
        "payload": data["payload"],
        "cron": data["cron"] or None,
        "interval_minutes": data["interval_minutes"],
        "timezone_name": data["timezone"],
        **({"campaign": data.get("campaign")} if "campaign" in form.fields else {}),
    }


@login_required
@organization_required
@page_requires("write", "look at schedules but not change them", **FORM_PAGE)
def schedule_list(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    form = ScheduleForm(
        request.POST or None,
        catalog=agent_catalog(),
        default_timezone=org.timezone,
        organization=org,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                schedules.schedule_create(
                    organization=org,
                    **_schedule_fields(form),
                    created_by=request.user,
                    principal=request.principal,
                    request=request,
                )
            except NeonHubError as exc:
                errors_to_form(form, exc.details, exc.message, prefix="")
            else:
                messages.success(request, f"Schedule {data['name']!r} saved.")
                return redirect("automation:schedule-list")
        status = 422
    rows = [
        {"schedule": s, "next": _next_times(s)} for s in selectors.schedule_list(organization=org)
    ]
    return render(
        request, "automation/schedule_list.html", {"rows": rows, "form": form}, status=status
    )


def _next_times(schedule) -> list:
    if schedule.paused:
        return []
    return schedules.schedule_times(
        kind=schedule.kind,
        cron=schedule.cron,
        interval_minutes=schedule.interval_minutes,
        tz=schedule.timezone,
        after=timezone.now(),
        anchor=schedule.created_at,
    )


@login_required
@organization_required
def schedule_preview(request: HttpRequest) -> HttpResponse:
    """The next five times for the form's cron or interval, shown before saving (an htmx fragment)."""
    data = request.POST if request.method == "POST" else request.GET
    interval = data.get("interval_minutes") or None
    context: dict = {"times": [], "error": ""}
    try:
        context["tz"] = data.get("timezone") or request.principal.organization.timezone
        context["times"] = schedules.schedules_preview(
            cron=data.get("cron") or None,
            interval_minutes=int(interval) if interval else None,
            tz=context["tz"],
        )
    except (InvalidInput, ValueError) as exc:
        context["error"] = getattr(exc, "message", "interval_minutes: a whole number of minutes")
    return render(request, "automation/schedule_list.html#preview", context)


@login_required
@organization_required
@page_requires("write", "look at schedules but not change them", find=selectors.schedule_get)
def schedule_action(request: HttpRequest, schedule: RecurringSchedule, action: str) -> HttpResponse:
    {
        "pause": schedules.schedule_pause,
        "resume": schedules.schedule_resume,
        "delete": schedules.schedule_delete,
    }[action](schedule=schedule, principal=request.principal, request=request)
    messages.success(request, f"Schedule {schedule.name!r}: {action}d.")
    return redirect("automation:schedule-list")


@login_required
@organization_required
@page_requires(
    "write",
    "look at schedules but not change them",
    find=selectors.schedule_get,
    **FORM_PAGE,
)
def schedule_edit(request: HttpRequest, schedule: RecurringSchedule) -> HttpResponse:
    """Change a schedule with the same checks as creating one; saved, the form shows what was
    saved (a redirect) and a message says so."""
    form = ScheduleEditForm(
        request.POST or None,
        initial=ScheduleEditForm.initial_of(schedule),
        catalog=agent_catalog(),
        default_timezone=schedule.timezone,
        organization=schedule.organization,
        campaign=schedule.campaign,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                schedules.schedule_update(
                    schedule=schedule,
                    **_schedule_fields(form),
                    principal=request.principal,
                    request=request,
                )
            except NeonHubError as exc:
                errors_to_form(form, exc.details, exc.message, prefix="")
            else:
                messages.success(request, f"Schedule {data['name']!r} saved.")
                return redirect("automation:schedule-edit", schedule_id=schedule.pk)
        status = 422
        schedule.refresh_from_db()  # the heading shows what is stored; the form, what was typed
    return render(
        request,
        "automation/schedule_edit.html",
        {"schedule": schedule, "form": form, "next": _next_times(schedule)},
        status=status,
    )


# --- triggers -------------------------------------------------------------------------------


@login_required
@organization_required
@page_requires("write", "look at triggers but not change them", **FORM_PAGE)
def trigger_list(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    connectors = list(connector_list(organization=org))
    form = TriggerForm(request.POST or None, catalog=agent_catalog(), connectors=connectors)
    status, secret = 200, None
    if request.method == "POST":
        if form.is_valid():
            secret, ok = _trigger_create(request, form, connectors)
            if ok:
                messages.success(request, f"Trigger {form.cleaned_data['name']!r} saved.")
                if secret is None:
                    return redirect("automation:trigger-list")
                # A generic trigger's secret is shown once, on this answer; the form starts over.
                form = TriggerForm(catalog=agent_catalog(), connectors=connectors)
        status = 200 if secret else 422
    triggers = [
        {"trigger": t, "url": trigger_webhook_url(t), "source": source_label(t.source)}
        for t in selectors.trigger_list(organization=org)
    ]
    return render(
        request,
        "automation/trigger_list.html",
        {
            "triggers": triggers,
            "form": form,
            "secret": secret,
            "connectors": [{"connector": c, "urls": _urls(c)} for c in connectors],
            **_deliveries(request, organization=org),
        },
        status=status,
    )


def _deliveries(request: HttpRequest, *, organization, trigger=None) -> dict:
    """The "Recent deliveries" section: newest first, filtered by ``?status=``."""
    chosen = request.GET.get("status", "")
    if chosen not in DeliveryStatus.values:
        chosen = ""
    return {
        "deliveries": page_or_first(
            selectors.delivery_page,
            cursor=_cursor(request),
            organization=organization,
            trigger=trigger,
            status=chosen or None,
            limit=SECTION_PAGE_SIZE,
        ),
        "delivery_status": chosen,
        "delivery_statuses": DeliveryStatus.choices,
        "refused_keep": settings.NEONHUB_WEBHOOK_REFUSED_KEEP,
        "paged": bool(_cursor(request)),
    }


def _urls(connector) -> dict:

    return get_provider_class(connector.provider).webhook_urls(connector.pk)


def _trigger_create(
    request: HttpRequest, form: TriggerForm, connectors: list
) -> tuple[str | None, bool]:
    agent, intent = form.agent_intent()
    data = form.cleaned_data
    connector = next((c for c in connectors if str(c.pk) == data["connector"]), None)
    try:
        _, secret = services.trigger_create(
            organization=request.principal.organization,
            name=data["name"],
            source=data["source"],
            connector=connector,
            agent=agent,
            intent=intent,
            mapping=data["mapping"],
            defaults=data["defaults"],
            created_by=request.user,
            principal=request.principal,
            request=request,
        )
    except NeonHubError as exc:
        errors_to_form(form, exc.details, exc.message)
        return None, False
    return secret, True


@login_required
@organization_required
@page_requires("write", "look at triggers but not change them", find=selectors.trigger_get)
def trigger_action(request: HttpRequest, trigger: Trigger, action: str) -> HttpResponse:
    who = {"principal": request.principal, "request": request}
    if action == "delete":
        services.trigger_delete(trigger=trigger, **who)
        messages.success(request, f"Trigger {trigger.name!r} deleted.")
    elif action == "rotate":
        secret = services.trigger_rotate_secret(trigger=trigger, **who)
        messages.success(request, "New signing secret made; the old one stopped working.")
        return _trigger_page(request, trigger, TriggerEditForm.initial_of(trigger), secret=secret)
    else:
        services.trigger_update(trigger=trigger, enabled=action == "enable", **who)
        messages.success(request, f"Trigger {trigger.name!r} {action}d.")
    return redirect("automation:trigger-list")


def _trigger_page(
    request: HttpRequest, trigger: Trigger, initial: dict, *, form=None, secret=None, status=200
) -> HttpResponse:
    form = form or TriggerEditForm(initial=initial, catalog=agent_catalog())
    org = request.principal.organization
    return render(
        request,
        "automation/trigger_edit.html",
        {
            "trigger": trigger,
            "form": form,
            "secret": secret,
            "url": trigger_webhook_url(trigger),
            "source": source_label(trigger.source),
            "connector_urls": _urls(trigger.connector) if trigger.connector else {},
            **_deliveries(request, organization=org, trigger=trigger),
        },
        status=status,
    )


@login_required
@organization_required
@page_requires(
    "write", "look at triggers but not change them", find=selectors.trigger_get, **FORM_PAGE
)
def trigger_edit(request: HttpRequest, trigger: Trigger) -> HttpResponse:
    """A trigger's page: change it (the same checks as creating it), its webhook URL, and its
    recent deliveries with why each did or did not start a run."""
    initial = TriggerEditForm.initial_of(trigger)
    if request.method != "POST":
        return _trigger_page(request, trigger, initial)
    form = TriggerEditForm(request.POST, initial=initial, catalog=agent_catalog())
    if form.is_valid():
        agent, intent = form.agent_intent()
        data = form.cleaned_data
        try:
            services.trigger_update(
                trigger=trigger,
                name=data["name"],
                agent=agent,
                intent=intent,
                mapping=data["mapping"],
                defaults=data["defaults"],
                enabled=data["enabled"],
                principal=request.principal,
                request=request,
            )
        except NeonHubError as exc:
            errors_to_form(form, exc.details, exc.message)
        else:
            messages.success(request, f"Trigger {data['name']!r} saved.")
            return redirect("automation:trigger-edit", trigger_id=trigger.pk)
    # Failed: the row on the page is as stored, the form keeps what was typed.
    trigger.refresh_from_db()
    return _trigger_page(request, trigger, initial, form=form, status=422)


@login_required
@organization_required
@require_GET
def delivery_detail(request: HttpRequest, delivery_id) -> HttpResponse:
    """One delivery: its status and reason, what came (headers and the redacted body excerpt),
    and the run it started."""
    delivery = selectors.delivery_get(
        organization=request.principal.organization, delivery_id=delivery_id
    )
    # Redacted when stored; again here for rows kept from before that.
    delivery.body_excerpt = excerpt_redact(delivery.body_excerpt)
    return render(request, "automation/delivery_detail.html", {"delivery": delivery})


# --- the calendar ---------------------------------------------------------------------------

CALENDAR_REACH_DAYS = 3660


def _calendar_params(request: HttpRequest, data) -> tuple[str, date, str]:
    """The view (week or month), the day it is around and the channel, from the query or a
    form's hidden fields; anything unreadable falls back to this week and every channel."""
    view = data.get("view") if data.get("view") in calendar.VIEWS else "week"
    today = timezone.localtime(timezone.now(), request.principal.organization.tz).date()
    try:
        anchor = date.fromisoformat(data.get("date") or "")
    except ValueError:
        anchor = today
    if abs((anchor - today).days) > CALENDAR_REACH_DAYS:
        anchor = today  # nothing is scheduled that far, and date arithmetic ends at year 9999
    channel = data.get("channel") if data.get("channel") in calendar.CHANNELS else ""
    return view, anchor, channel


def _calendar_page(
    request: HttpRequest, data, *, errors: dict | None = None, status: int = 200
) -> HttpResponse:
    org = request.principal.organization
    view, anchor, channel = _calendar_params(request, data)
    grid = calendar.calendar_grid(
        organization=org, view=view, anchor=anchor, channel=channel or None
    )
    feed_link = feed.feed_url(feed=feed.feed_get(organization=org))
    context = {
        "grid": grid,
        "channel": channel,
        "channels": calendar.CHANNELS,
        "today": timezone.localtime(timezone.now(), org.tz).date(),
        "errors": errors or {},
        "feed_url": feed_link,
    }
    template = "automation/calendar.html"
    # htmx navigation swaps the calendar only; restoring a history entry needs the whole page.
    if request.htmx and not request.htmx.history_restore_request and request.method == "GET":
        template += "#calendar-body"
    return render(request, template, context, status=status)


def _back_to_calendar(data) -> HttpResponse:
    view = data.get("view") if data.get("view") in calendar.VIEWS else "week"
    query = {"view": view, "date": data.get("date") or "", "channel": data.get("channel") or ""}
    return redirect(f"{reverse('automation:calendar')}?{urlencode(query)}")


@login_required
@organization_required
@require_GET
def calendar_page(request: HttpRequest) -> HttpResponse:
    return _calendar_page(request, request.GET)


def local_datetime(value: str, tz) -> datetime:
    """A ``datetime-local`` field's value (``2026-12-08T09:30``) as a time in ``tz``."""
    try:
        moment = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput.for_field("at", "enter a date and time, e.g. 2026-12-08 09:30") from None
    if timezone.is_aware(moment):
        return moment
    return moment.replace(tzinfo=tz)


@login_required
@organization_required
@page_requires("write", "look at the calendar but not change it", find=run_selectors.run_get)
def calendar_reschedule(request: HttpRequest, run: AgentRun) -> HttpResponse:
    try:
        at = local_datetime(request.POST.get("at", ""), request.principal.organization.tz)
        agent_services.run_reschedule(run=run, at=at)
    except InvalidInput as exc:
        message = exc.details[0]["message"] if exc.details else exc.message
        return _calendar_page(request, request.POST, errors={run.pk: message}, status=422)
    except NeonHubError as exc:
        messages.error(request, exc.message)
    else:
        local = timezone.localtime(at, request.principal.organization.tz)
        messages.success(request, f"Moved to {local:%a %-d %b %Y, %H:%M %Z}.")
    return _back_to_calendar(request.POST)


@login_required
@organization_required
@page_requires("write", "look at the calendar but not change it", find=run_selectors.run_get)
def calendar_cancel(request: HttpRequest, run: AgentRun) -> HttpResponse:
    try:
        agent_services.run_cancel(run=run)
    except NeonHubError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Cancelled; it will not go out.")
    return _back_to_calendar(request.POST)


@login_required
@organization_required
@page_requires("write", "look at the calendar but not change it", find=selectors.schedule_get)
def calendar_schedule_action(
    request: HttpRequest, schedule: RecurringSchedule, action: str
) -> HttpResponse:
    try:
        if action == "skip":
            following = schedules.schedule_skip_next(
                schedule=schedule, principal=request.principal, request=request
            )
            local = timezone.localtime(following, request.principal.organization.tz)
            messages.success(
                request, f"{schedule.name}: next run skipped; then {local:%a %-d %b, %H:%M}."
            )
        else:
            schedules.schedule_pause(
                schedule=schedule, principal=request.principal, request=request
            )
            messages.success(request, f"{schedule.name}: paused.")
    except NeonHubError as exc:
        messages.error(request, exc.message)
    return _back_to_calendar(request.POST)


@login_required
@organization_required
@page_requires("manage", "regenerate the calendar link")
def calendar_feed_regenerate(request: HttpRequest) -> HttpResponse:
    feed.feed_regenerate(organization=request.principal.organization)
    messages.success(request, "New calendar link made; the old one no longer works.")
    return _back_to_calendar(request.POST)


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The public iCalendar feed: the signed token is the only key, so any bad one is a 404."""
    organization = feed.feed_organization(token=token)
    if organization is None:
        raise Http404("No such calendar")
    response = HttpResponse(
        feed.feed_ics(organization=organization), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


# --- commerce recipes -----------------------------------------------------------------------

UNITS = {"minutes": 1, "hours": 60, "days": 1440}


def _delay_parts(minutes: int) -> tuple[int, str]:
    for unit in ("days", "hours"):
        if minutes and minutes % UNITS[unit] == 0:
            return minutes // UNITS[unit], unit
    return minutes, "minutes"


def _recipe_card(recipe) -> dict:
    spec = recipes.SPECS[recipe.kind]
    options = recipes.recipe_options(recipe)
    counts, rows = recipes.activity(recipe=recipe)
    return {
        "recipe": recipe,
        "spec": spec,
        "options": options,
        "steps": [
            {
                **step,
                "when": recipes.delay_words(step["delay_minutes"]),
                "amount": _delay_parts(step["delay_minutes"])[0],
                "unit": _delay_parts(step["delay_minutes"])[1],
            }
            for step in options["steps"]
        ],
        "counts": counts,
        "rows": rows,
    }


@login_required
@organization_required
def recipe_list(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    cards = [_recipe_card(r) for r in recipes.recipes_of(organization=org)]
    shops = [c for c in connector_list(organization=org) if c.provider == recipes.PROVIDER]
    return render(request, "automation/recipe_list.html", {"cards": cards, "shops": shops})


def _posted_options(request: HttpRequest, kind: str) -> dict:
    """The settings form as recipe options: a step whose text is empty is left out."""
    spec = recipes.SPECS[kind]
    steps = []
    for index in range(1 if spec.fixed_steps else recipes.MAX_STEPS):
        body = request.POST.get(f"step-{index}-body", "").strip()
        subject = request.POST.get(f"step-{index}-subject", "").strip()
        raw = request.POST.get(f"step-{index}-delay", "").strip()
        if not (body or subject) and index > 0:
            continue
        unit = UNITS.get(request.POST.get(f"step-{index}-unit", "minutes"), 1)
        try:
            delay = int(raw) * unit
        except ValueError:
            delay = -1  # named by the validation: "must be a whole number"
        steps.append({"delay_minutes": delay, "subject": subject, "body": body})
    options: dict = {"channel": request.POST.get("channel", "email"), "steps": steps}
    if kind == RecipeKind.REVIEW_REQUEST:
        options["link_template"] = request.POST.get("link_template", "")
    return options


def _recipe_of(request: HttpRequest, recipe_id):
    found = Recipe.objects.filter(organization=request.principal.organization, pk=recipe_id).first()
    if found is None:
        raise Http404("No such recipe")
    return found


@login_required
@organization_required
@page_requires(
    "write", "look at recipes but not change them", find=recipes.recipe_by_id, **FORM_PAGE
)
def recipe_edit(request: HttpRequest, recipe) -> HttpResponse:
    kind = recipe.kind
    org = request.principal.organization
    shops = [c for c in connector_list(organization=org) if c.provider == recipes.PROVIDER]
    errors: dict[str, str] = {}
    summary = ""
    status = 200
    if request.method == "POST":
        connector = None
        chosen = request.POST.get("connector", "")
        if chosen:
            connector = next((c for c in shops if str(c.pk) == chosen), None)
            if connector is None:
                errors["connector_id"] = "Choose one of your Shopify connectors"
        if not errors:
            try:
                recipes.recipe_update(
                    recipe=recipe,
                    enabled=request.POST.get("enabled") == "on",
                    options=_posted_options(request, kind),
                    connector=connector,
                    principal=request.principal,
                    request=request,
                )
            except InvalidInput as exc:
                summary = exc.message
                errors = {d["field"]: d["message"] for d in exc.details or []}
            else:
                state = "on" if recipe.enabled else "off"
                messages.success(
                    request, f"{recipes.SPECS[kind].title} saved and switched {state}."
                )
                return redirect("automation:recipe-list")
        status = 422
        recipe.refresh_from_db()
    card = _recipe_card(recipe)
    if request.method == "POST":  # show what was typed, not what is stored
        posted = _posted_options(request, kind)
        card["options"] = {**card["options"], **posted}
        card["steps"] = [
            {
                **s,
                "amount": request.POST.get(f"step-{i}-delay", ""),
                "unit": request.POST.get(f"step-{i}-unit", "minutes"),
            }
            for i, s in enumerate(posted["steps"])
        ]
    if not recipes.SPECS[kind].fixed_steps and len(card["steps"]) < recipes.MAX_STEPS:
        card["steps"] = [
            *card["steps"],
            {
                "delay_minutes": 0,
                "subject": "",
                "body": "",
                "amount": "",
                "unit": "days",
                "extra": True,
            },
        ]
    return render(
        request,
        "automation/recipe_edit.html",
        {"card": card, "shops": shops, "errors": errors, "summary": summary, "units": list(UNITS)},
        status=status,
    )


@login_required
@organization_required
def recipe_preview(request: HttpRequest, recipe_id) -> HttpResponse:
    """The settings form's messages rendered for a sample Shopify payload (htmx, as typed)."""
    kind = _recipe_of(request, recipe_id).kind
    try:
        steps = recipes.preview(kind=kind, options=_posted_options(request, kind))
        error = ""
    except InvalidInput as exc:
        steps, error = [], exc.message
    return render(
        request,
        "automation/_recipe_preview.html",
        {"steps": steps, "error": error, "channel": request.POST.get("channel", "email")},
    )


@login_required
@organization_required
@page_requires("write", "switch recipes on or off", find=recipes.recipe_by_id)
def recipe_switch(request: HttpRequest, recipe) -> HttpResponse:
    kind = recipe.kind
    try:
        recipes.recipe_update(
            recipe=recipe,
            enabled=request.POST.get("enabled") == "on",
            principal=request.principal,
            request=request,
        )
    except InvalidInput as exc:
        messages.error(request, exc.message)
    else:
        title = recipes.SPECS[kind].title
        messages.success(request, f"{title} switched {'on' if recipe.enabled else 'off'}.")
    return redirect("automation:recipe-list")


@login_required
@organization_required
@require_GET
def campaign_origins(request: HttpRequest, campaign_id) -> HttpResponse:
    """The batches and schedules that name a campaign: a fragment of the campaign's page."""
    org = request.principal.organization
    campaign = campaign_get(organization=org, campaign_id=campaign_id)
    batch_rows = list(
        Batch.objects.filter(organization=org, campaign=campaign).order_by("-created_at")[:20]
    )
    schedule_rows = list(
        RecurringSchedule.objects.filter(organization=org, campaign=campaign).order_by("name")
    )
    return render(
        request,
        "automation/_campaign_origins.html",
        {
            "campaign": campaign,
            "batches": batch_rows,
            "schedules": schedule_rows,
        },
    )
