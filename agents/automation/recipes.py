"""Commerce recipes: ready-made automations a marketer switches on for a Shopify shop.

Each recipe listens to the signed Shopify webhooks (``/hooks/shopify/<connector id>``) that
``agents.automation.inbound`` records, and answers an event by *scheduling* messages: a run of
the Email agent's ``send`` or the Messaging agent's ``send-sms`` with ``next_attempt_at`` set to
when it is due.  The run is an ordinary run (on the calendar, cancellable, retried), and its
message passes the compliance gate (``agents.audience.compliance.message_gate``) when it is
*sent*: a contact who unsubscribed or withdrew consent in the meantime gets nothing, and quiet
hours move an SMS to their end.

- **Abandoned checkout** (``checkouts/create``, ``checkouts/update``): one follow-up per
  checkout token, after the marketer's delay; cancelled when ``orders/create``/``orders/paid``
  names the checkout (``checkout_token`` or ``checkout_id``) or the checkout has ``completed_at``.
- **Review request** (``orders/fulfilled``, ``fulfillments/create``): one per order.
- **Welcome sequence** (``customers/create``): one run per step, each at its own delay.

A recipe acts only on a contact who accepted marketing in the payload (``buyer_accepts_marketing``,
``email_marketing_consent``/``sms_marketing_consent`` state ``subscribed``).  What it decided is a
``RecipeAction`` (unique per recipe, subject and step: the idempotency of a checkout updated ten
times); what became of a scheduled message is read from its run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import phonenumbers
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from agents.automation.models import Recipe, RecipeAction, RecipeActionStatus, RecipeKind
from agents.campaigns.services import conversion_from_order
from agents.writer import PLACEHOLDER_RE
from connectors.models import Connector
from neonhub.core.errors import InvalidInput, NeonHubError
from neonhub.core.models import Organization
from runs.models import AgentRun, RunStatus
from runs.models import Trigger as RunTrigger

logger = logging.getLogger(__name__)

PROVIDER = "shopify"
CHANNELS = ("email", "sms")
MAX_STEPS = 5
MAX_DELAY_MINUTES = 60 * 24 * 60  # 60 days
CHECKOUT_TOPICS = ("checkouts/create", "checkouts/update")
ORDER_TOPICS = ("orders/create", "orders/paid")
FULFILLED_TOPICS = ("orders/fulfilled", "fulfillments/create")
CUSTOMER_TOPICS = ("customers/create",)


@dataclass(frozen=True)
class RecipeSpec:
    kind: str
    title: str
    description: str
    topics: tuple[str, ...]
    placeholders: tuple[str, ...]
    defaults: dict
    fixed_steps: bool = True  # one message (a delay and a text); False: an editable sequence


COMMON = ("first_name", "last_name", "email", "shop_domain")
SPECS: dict[str, RecipeSpec] = {
    RecipeKind.ABANDONED_CHECKOUT: RecipeSpec(
        kind=RecipeKind.ABANDONED_CHECKOUT,
        title="Abandoned checkout follow-up",
        description=(
            "When a shopper starts a checkout with an email or phone number and accepts "
            "marketing, send one reminder with a link back to their cart after the delay you "
            "choose. If the order is completed first, the reminder is cancelled."
        ),
        topics=(*CHECKOUT_TOPICS, *ORDER_TOPICS),
        placeholders=(*COMMON, "checkout_url", "items", "total_price", "currency"),
        defaults={
            "channel": "email",
            "steps": [
                {
                    "delay_minutes": 60,
                    "subject": "You left something in your cart",
                    "body": "Hi {{first_name|there}},\n\nYou left {{items}} in your cart. "
                    "Finish your order here: {{checkout_url}}",
                }
            ],
        },
    ),
    RecipeKind.REVIEW_REQUEST: RecipeSpec(
        kind=RecipeKind.REVIEW_REQUEST,
        title="Review request",
        description=(
            "When an order is fulfilled, ask the customer for a review after the delay you "
            "choose (7 days by default), with a link to where reviews are written."
        ),
        topics=FULFILLED_TOPICS,
        placeholders=(*COMMON, "order_name", "product_title", "product_id", "review_url"),
        defaults={
            "channel": "email",
            "link_template": "https://{{shop_domain}}/products/{{product_id}}#reviews",
            "steps": [
                {
                    "delay_minutes": 7 * 24 * 60,
                    "subject": "How was your order {{order_name}}?",
                    "body": "Hi {{first_name|there}},\n\nHow do you like {{product_title}}? "
                    "A short review helps other shoppers: {{review_url}}",
                }
            ],
        },
    ),
    RecipeKind.WELCOME_SEQUENCE: RecipeSpec(
        kind=RecipeKind.WELCOME_SEQUENCE,
        title="Welcome sequence",
        description=(
            "When a new customer signs up and accepts marketing, send a short series of "
            "messages. Each one is checked when it is due: someone who unsubscribed or "
            "withdrew consent gets no further message."
        ),
        topics=CUSTOMER_TOPICS,
        placeholders=COMMON,
        fixed_steps=False,
        defaults={
            "channel": "email",
            "steps": [
                {
                    "delay_minutes": 0,
                    "subject": "Welcome, {{first_name|friend}}!",
                    "body": "Thanks for joining us. Here is what to expect from us.",
                },
                {
                    "delay_minutes": 2 * 24 * 60,
                    "subject": "Our most loved products",
                    "body": "Hi {{first_name|there}}, here are the products our customers love.",
                },
                {
                    "delay_minutes": 5 * 24 * 60,
                    "subject": "A little something for you",
                    "body": "Hi {{first_name|there}}, thanks for being with us.",
                },
            ],
        },
    ),
}


# --- settings -------------------------------------------------------------------------------


def recipe_options(recipe: Recipe) -> dict:
    """The recipe's settings, its kind's defaults where nothing was chosen."""
    spec = SPECS[recipe.kind]
    return {**spec.defaults, **(recipe.options or {})}


def _placeholders(text: str) -> list[tuple[str, str | None]]:
    return [(m.group(1), m.group(2)) for m in PLACEHOLDER_RE.finditer(text or "")]


def options_validate(kind: str, options: dict) -> dict:
    """The settings a marketer gave, checked; raises ``InvalidInput`` naming each bad field."""
    spec = SPECS[kind]
    merged = {**spec.defaults, **options}
    problems: list[dict] = []

    def bad(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    channel = merged.get("channel")
    if channel not in CHANNELS:
        bad("channel", "must be email or sms")
    steps = merged.get("steps")
    if not isinstance(steps, list) or not steps:
        bad("steps", "give at least one message")
        steps = []
    elif len(steps) > (1 if spec.fixed_steps else MAX_STEPS):
        bad("steps", f"at most {1 if spec.fixed_steps else MAX_STEPS} messages")
    allowed = set(spec.placeholders) | {"unsubscribe_url"}
    clean_steps = []
    for index, step in enumerate(steps):
        where = f"steps.{index}"
        if not isinstance(step, dict):
            bad(where, "must be an object with delay_minutes, subject and body")
            continue
        delay = step.get("delay_minutes")
        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
            bad(f"{where}.delay_minutes", "must be a whole number of minutes, 0 or more")
        elif delay > MAX_DELAY_MINUTES:
            bad(f"{where}.delay_minutes", "must be at most 60 days")
        subject = str(step.get("subject") or "").strip()
        body = str(step.get("body") or "").strip()
        if channel == "email" and not subject:
            bad(f"{where}.subject", "an email needs a subject")
        if len(subject) > 300:
            bad(f"{where}.subject", "at most 300 characters")
        if not body:
            bad(f"{where}.body", "write the message")
        if len(body) > (1600 if channel == "sms" else 20000):
            bad(f"{where}.body", "too long for the channel")
        for field, text in (("subject", subject), ("body", body)):
            unknown = sorted({n for n, _ in _placeholders(text)} - allowed)
            if unknown:
                bad(
                    f"{where}.{field}",
                    f"unknown placeholder {{{{{unknown[0]}}}}}; use "
                    + ", ".join(f"{{{{{n}}}}}" for n in spec.placeholders),
                )
        clean_steps.append({"delay_minutes": delay, "subject": subject, "body": body})
    clean = {"channel": channel, "steps": clean_steps}
    if kind == RecipeKind.REVIEW_REQUEST:
        link = str(merged.get("link_template") or "").strip()
        if not link.startswith(("https://", "http://")):
            bad("link_template", "must be a web address starting with https://")
        unknown = sorted({n for n, _ in _placeholders(link)} - set(spec.placeholders))
        if unknown:
            bad("link_template", f"unknown placeholder {{{{{unknown[0]}}}}}")
        clean["link_template"] = link[:500]
    if problems:
        raise InvalidInput(
            f"The {spec.title.lower()} settings are not valid: {problems[0]['field']} "
            f"{problems[0]['message']}",
            details=problems,
        )
    return clean


# --- reading the shop's payloads ------------------------------------------------------------


def _subscribed(consent: Any) -> bool:
    return isinstance(consent, dict) and str(consent.get("state") or "").lower() == "subscribed"


def _customer(data: dict) -> dict:
    customer = data.get("customer")
    return customer if isinstance(customer, dict) else {}


def _address(data: dict) -> dict:
    for key in ("billing_address", "shipping_address", "destination", "default_address"):
        found = data.get(key)
        if isinstance(found, dict):
            return found
    return {}


def consent_given(data: dict, channel: str) -> bool:
    """Whether the payload says the person accepted marketing on ``channel``."""
    customer = _customer(data)
    if channel == "email":
        return bool(
            data.get("buyer_accepts_marketing") is True
            or data.get("accepts_marketing") is True
            or _subscribed(data.get("email_marketing_consent"))
            or _subscribed(customer.get("email_marketing_consent"))
        )
    return bool(
        data.get("buyer_accepts_sms_marketing") is True
        or _subscribed(data.get("sms_marketing_consent"))
        or _subscribed(customer.get("sms_marketing_consent"))
    )


def recipient_of(data: dict, channel: str) -> str:
    """The address to write to on ``channel`` ("" when the payload has none usable)."""
    customer = _customer(data)
    if channel == "email":
        for value in (data.get("email"), data.get("contact_email"), customer.get("email")):
            if isinstance(value, str) and "@" in value:
                return value.strip().lower()
        return ""
    consent = data.get("sms_marketing_consent") or customer.get("sms_marketing_consent") or {}
    candidates = (
        data.get("sms_marketing_phone"),
        data.get("phone"),
        consent.get("consent_collected_from_phone") if isinstance(consent, dict) else None,
        customer.get("phone"),
        _address(data).get("phone"),
    )
    for value in candidates:
        if not isinstance(value, str) or not value.strip():
            continue
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ""


def _items(data: dict) -> str:
    lines = data.get("line_items") if isinstance(data.get("line_items"), list) else []
    parts = []
    for line in lines[:10]:
        if isinstance(line, dict):
            title = str(line.get("title") or line.get("name") or "").strip()
            quantity = line.get("quantity") or 1
            if title:
                parts.append(f"{quantity} × {title}" if quantity != 1 else title)
    return ", ".join(parts)


def variables_of(kind: str, data: dict, options: dict) -> dict[str, str]:
    """The values of the recipe's placeholders for one event (only those the payload has)."""
    customer = _customer(data)
    address = _address(data)
    values = {
        "first_name": data.get("first_name")
        or customer.get("first_name")
        or address.get("first_name"),
        "last_name": data.get("last_name") or customer.get("last_name") or address.get("last_name"),
        "email": recipient_of(data, "email"),
        "shop_domain": data.get("shop_domain"),
        "checkout_url": data.get("abandoned_checkout_url"),
        "items": _items(data),
        "total_price": data.get("total_price"),
        "currency": data.get("currency") or data.get("presentment_currency"),
        "order_name": data.get("name") if kind == RecipeKind.REVIEW_REQUEST else None,
    }
    lines = data.get("line_items") if isinstance(data.get("line_items"), list) else []
    first = next((line for line in lines if isinstance(line, dict)), {})
    values["product_title"] = first.get("title") or first.get("name")
    values["product_id"] = first.get("product_id")
    found = {
        name: str(value)
        for name, value in values.items()
        if name in SPECS[kind].placeholders and value not in (None, "")
    }
    if kind == RecipeKind.REVIEW_REQUEST:
        found["review_url"] = fill(options.get("link_template") or "", found)
    return found


def fill(template: str, values: dict[str, str]) -> str:
    """``{{name}}``/``{{name|default}}`` filled from ``values``; a name with no value and no
    default becomes empty (a missing first name must not stop a reminder)."""

    def one(match) -> str:
        name, default = match.group(1), match.group(2)
        return values.get(name) or (default if default is not None else "")

    return PLACEHOLDER_RE.sub(one, template)


def _complete(values: dict[str, str], *texts: str) -> dict[str, str]:
    """``values`` plus an empty value for each placeholder used without a default and with no
    value, so the send renders "" there instead of refusing the message."""
    done = dict(values)
    for text in texts:
        for name, default in _placeholders(text):
            if name not in done and default is None and name != "unsubscribe_url":
                done[name] = ""
    return done


# --- recipes of an organization -------------------------------------------------------------


def recipes_of(*, organization: Organization) -> list[Recipe]:
    """Every recipe kind for the organization (switched off until someone switches it on)."""
    found = {r.kind: r for r in Recipe.objects.filter(organization=organization)}
    missing = [Recipe(organization=organization, kind=kind) for kind in SPECS if kind not in found]
    if missing:
        Recipe.objects.bulk_create(missing, ignore_conflicts=True)
        found = {r.kind: r for r in Recipe.objects.filter(organization=organization)}
    return [found[kind] for kind in SPECS]


def recipe_get(*, organization: Organization, kind: str) -> Recipe:
    from neonhub.core.errors import NotFound

    if kind not in SPECS:
        raise NotFound(f"No recipe {kind!r}")
    return next(r for r in recipes_of(organization=organization) if r.kind == kind)


def recipe_by_id(*, organization: Organization, recipe_id) -> Recipe:
    """The organization's recipe; another organization's id answers 404 like an unknown one."""
    from neonhub.core.errors import NotFound

    found = (
        Recipe.objects.select_related("connector")
        .filter(organization=organization, pk=recipe_id)
        .first()
    )
    if found is None:
        raise NotFound("Recipe not found")
    return found


def recipes_switch_off_for(*, connector: Connector) -> int:
    """The connector a recipe listens to is being deleted: the recipe is switched off (else,
    its connector set to null, it would start listening to every Shopify connector)."""
    return Recipe.objects.filter(connector=connector, enabled=True).update(
        enabled=False, updated_at=timezone.now()
    )


def _snapshot(recipe: Recipe) -> dict:
    return {
        "enabled": recipe.enabled,
        "connector": str(recipe.connector_id) if recipe.connector_id else None,
        "options": recipe.options,
    }


def recipe_update(
    *,
    recipe: Recipe,
    enabled: bool | None = None,
    options: dict | None = None,
    connector: Connector | None | object = ...,
    principal=None,
    request=None,
) -> Recipe:
    """Switch a recipe on/off and change its settings (checked as a whole, 422 naming fields);
    the change is in the audit log."""
    from neonhub.core.audit import audit_record, changes_between

    before = _snapshot(recipe)
    if options is not None:
        recipe.options = options_validate(recipe.kind, {**recipe_options(recipe), **options})
    if connector is not ...:
        if connector is not None and connector.provider != PROVIDER:
            raise InvalidInput.for_field("connector_id", "must be a Shopify connector")
        recipe.connector = connector
    if enabled is not None:
        recipe.enabled = enabled
    user = getattr(principal, "user", None)
    if getattr(user, "pk", None) and getattr(principal, "api_key", None) is None:
        recipe.updated_by = user
    recipe.save()
    changes = changes_between(before, _snapshot(recipe))
    if changes:
        audit_record(
            action="recipe.update",
            principal=principal,
            organization=recipe.organization,
            target=recipe,
            changes=changes,
            request=request,
        )
    return recipe


# --- answering events -----------------------------------------------------------------------


def recipes_on_event(
    *, organization: Organization, connector: Connector | None, source: str, data: dict
) -> list[str]:
    """Act on one first delivery of a Shopify event; answers what was done, in words."""
    if connector is None or connector.provider != PROVIDER or not source.startswith("shopify."):
        return []
    topic = source.removeprefix("shopify.")
    done: list[str] = []
    if topic == "orders/create":
        # A campaign's conversion: the buyer clicked one of its emails in the last 7 days.
        conversion = conversion_from_order(organization=organization, data=data)
        if conversion is not None:
            done.append(f"counted as a conversion of campaign {conversion.campaign.name!r}")
    if topic in ORDER_TOPICS or (topic in CHECKOUT_TOPICS and data.get("completed_at")):
        cancelled = followups_cancel(organization=organization, data=data, topic=topic)
        if cancelled:
            done.append(f"cancelled {cancelled} checkout follow-up(s): the order was completed")
        if topic in CHECKOUT_TOPICS:
            return done
    active = [
        r
        for r in Recipe.objects.filter(organization=organization, enabled=True)
        if topic in SPECS[r.kind].topics
        and topic not in ORDER_TOPICS
        and (r.connector_id is None or r.connector_id == connector.pk)
    ]
    for recipe in active:
        done.append(_act(recipe, topic, data))
    return [d for d in done if d]


def _subject(kind: str, topic: str, data: dict) -> tuple[str, str]:
    """(subject, reference): what one action is about, for its idempotency."""
    if kind == RecipeKind.ABANDONED_CHECKOUT:
        token = data.get("token") or data.get("cart_token") or ""
        return (f"checkout:{token}" if token else "", str(data.get("id") or ""))
    if kind == RecipeKind.REVIEW_REQUEST:
        order_id = data.get("order_id") if topic == "fulfillments/create" else data.get("id")
        return (f"order:{order_id}" if order_id else "", "")
    customer_id = data.get("id")
    return (f"customer:{customer_id}" if customer_id else "", "")


def _act(recipe: Recipe, topic: str, data: dict) -> str:
    spec = SPECS[recipe.kind]
    options = recipe_options(recipe)
    channel = options["channel"]
    subject, reference = _subject(recipe.kind, topic, data)
    if not subject:
        return ""
    recipient = recipient_of(data, channel)
    skip = ""
    if not recipient:
        skip = (
            f"No {'email address' if channel == 'email' else 'mobile number'} in the {topic} event"
        )
    elif not consent_given(data, channel):
        skip = f"The customer has not accepted {channel} marketing"
    now = timezone.now()
    values = variables_of(recipe.kind, data, options)
    scheduled = 0
    for step, message in enumerate(options["steps"]):
        existing = RecipeAction.objects.filter(recipe=recipe, subject=subject, step=step).first()
        if existing is not None and existing.status != RecipeActionStatus.SKIPPED:
            continue  # already scheduled (or cancelled, or refused): never a second message
        fields = {
            "organization": recipe.organization,
            "recipe": recipe,
            "subject": subject[:255],
            "reference": reference[:64],
            "step": step,
            "channel": channel,
            "recipient": recipient[:254],
        }
        try:
            with transaction.atomic():
                action = existing or RecipeAction(**fields)
                if skip:
                    action.status, action.reason = RecipeActionStatus.SKIPPED, skip[:300]
                    action.save()
                    continue
                due = now + timedelta(minutes=message["delay_minutes"])
                action.recipient, action.channel, action.due_at = recipient, channel, due
                try:
                    run = _schedule(recipe, subject, step, channel, recipient, message, values, due)
                except NeonHubError as exc:
                    action.status = RecipeActionStatus.FAILED
                    action.reason = f"Could not schedule: {exc.message}"[:300]
                else:
                    action.status, action.run, action.reason = RecipeActionStatus.SCHEDULED, run, ""
                    scheduled += 1
                action.save()
        except IntegrityError:
            continue  # the same event handled at the same moment elsewhere: once is enough
    if skip:
        return f"{spec.title}: skipped ({skip})"
    return f"{spec.title}: {scheduled} message(s) scheduled" if scheduled else ""


def _schedule(
    recipe: Recipe,
    subject: str,
    step: int,
    channel: str,
    recipient: str,
    message: dict,
    values: dict[str, str],
    due,
) -> AgentRun:
    from agents import queue
    from agents.services import run_start

    if channel == "email":
        variables = _complete(values, message["subject"], message["body"])
        agent, intent = "email", "send"
        payload: dict = {
            "subject": message["subject"],
            "body": message["body"],
            "recipients": [{"email": recipient, "variables": variables}],
        }
    else:
        agent, intent = "messaging", "send-sms"
        payload = {"to": recipient, "body": fill(message["body"], values)}
    run, created = run_start(
        organization=recipe.organization,
        agent=agent,
        intent=intent,
        payload=payload,
        trigger=RunTrigger.WEBHOOK,
        idempotency_key=f"recipe:{recipe.pk}:{subject}:{step}"[:255],
        next_attempt_at=due,
    )
    if created:
        # The run is claimed only once due: a one-off task wakes it then (as scheduled posts).
        queue.enqueue_run_at(run.id, due)
    return run


def followups_cancel(*, organization: Organization, data: dict, topic: str) -> int:
    """Cancel the checkout follow-ups an order (or a completed checkout) makes pointless."""
    if topic in CHECKOUT_TOPICS:
        tokens, ids = [data.get("token")], [data.get("id")]
        why = "The checkout was completed before the follow-up was due"
    else:
        tokens, ids = (
            [data.get("checkout_token"), data.get("cart_token")],
            [data.get("checkout_id")],
        )
        why = f"Order {data.get('name') or data.get('id') or ''} was placed before the follow-up was due"
    match = Q(subject__in=[f"checkout:{t}" for t in tokens if t]) | Q(
        reference__in=[str(i) for i in ids if i]
    )
    from agents import queue
    from runs.services import run_request_cancel

    cancelled = 0
    actions = RecipeAction.objects.filter(
        match,
        organization=organization,
        recipe__kind=RecipeKind.ABANDONED_CHECKOUT,
        status=RecipeActionStatus.SCHEDULED,
    ).select_related("run")
    for action in actions:
        run = action.run
        if run is not None and run.status in (RunStatus.QUEUED, RunStatus.AWAITING_APPROVAL):
            run = run_request_cancel(run=run)
            if run.status == RunStatus.CANCELLED:
                queue.timed_tasks_drop(run.id)
        if run is None or run.status == RunStatus.CANCELLED:
            RecipeAction.objects.filter(pk=action.pk).update(
                status=RecipeActionStatus.CANCELLED, reason=why[:300], updated_at=timezone.now()
            )
            cancelled += 1
    return cancelled


# --- what happened --------------------------------------------------------------------------


@dataclass
class Outcome:
    state: str  # scheduled | sent | cancelled | refused | failed | skipped | running
    text: str


def outcome(action: RecipeAction) -> Outcome:
    """What became of one action, in words, from its run."""
    if action.status == RecipeActionStatus.SKIPPED:
        return Outcome("skipped", action.reason)
    if action.status == RecipeActionStatus.CANCELLED:
        return Outcome("cancelled", action.reason)
    if action.status == RecipeActionStatus.FAILED:
        return Outcome("failed", action.reason)
    run = action.run
    if run is None:
        return Outcome("failed", "Its run was deleted")
    if run.status == RunStatus.QUEUED and run.is_scheduled:
        return Outcome("scheduled", "Due")
    if run.status == RunStatus.QUEUED and run.error_code == "POLICY_BLOCKED":
        # Quiet hours: the gate put the run back until they end.
        return Outcome("scheduled", f"Held: {run.error_message}")
    if run.status in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.AWAITING_APPROVAL):
        return Outcome("running", run.get_status_display())
    if run.status == RunStatus.CANCELLED:
        return Outcome("cancelled", run.error_message or "Cancelled")
    if run.status == RunStatus.FAILED:
        if run.error_code == "POLICY_BLOCKED":
            return Outcome("refused", run.error_message)
        return Outcome("failed", run.error_message or run.error_code)
    output = run.output if isinstance(run.output, dict) else {}
    skipped = output.get("skipped") or []
    if output.get("sent", 1) == 0 and skipped:
        first = skipped[0] if isinstance(skipped[0], dict) else {}
        return Outcome("refused", str(first.get("message") or first.get("reason") or "refused"))
    return Outcome("sent", "Sent")


def activity(*, recipe: Recipe, limit: int = 20) -> tuple[dict[str, int], list[dict]]:
    """A recipe's counts by outcome and its newest actions."""
    actions = list(
        RecipeAction.objects.filter(recipe=recipe)
        .select_related("run")
        .order_by("-created_at")[:500]
    )
    counts = {"scheduled": 0, "sent": 0, "cancelled": 0, "refused": 0, "skipped": 0, "failed": 0}
    rows = []
    for action in actions:
        found = outcome(action)
        if found.state in counts:
            counts[found.state] += 1
        if len(rows) < limit:
            rows.append({"action": action, "state": found.state, "text": found.text})
    return counts, rows


SAMPLES: dict[str, dict] = {
    RecipeKind.ABANDONED_CHECKOUT: {
        "token": "sample-token",
        "email": "jane@example.com",
        "abandoned_checkout_url": "https://example.myshopify.com/checkouts/sample/recover",
        "line_items": [
            {"title": "Linen shirt", "quantity": 2},
            {"title": "Canvas tote", "quantity": 1},
        ],
        "customer": {"first_name": "Jane", "last_name": "Doe"},
        "total_price": "84.00",
        "currency": "EUR",
        "shop_domain": "example.myshopify.com",
    },
    RecipeKind.REVIEW_REQUEST: {
        "id": 1001,
        "name": "#1001",
        "email": "jane@example.com",
        "customer": {"first_name": "Jane", "last_name": "Doe"},
        "line_items": [{"title": "Linen shirt", "product_id": 632910392, "quantity": 1}],
        "shop_domain": "example.myshopify.com",
    },
    RecipeKind.WELCOME_SEQUENCE: {
        "id": 207119551,
        "email": "jane@example.com",
        "first_name": "Jane",
        "last_name": "Doe",
        "shop_domain": "example.myshopify.com",
    },
}


def preview(*, kind: str, options: dict) -> list[dict]:
    """Each step's subject and text as a sample customer would get it."""
    clean = options_validate(kind, options)
    values = variables_of(kind, SAMPLES[kind], clean)
    values.setdefault("email", "jane@example.com")
    values["unsubscribe_url"] = "https://example.com/unsubscribe"
    return [
        {
            "delay_minutes": step["delay_minutes"],
            "subject": fill(step["subject"], values),
            "body": fill(step["body"], values),
        }
        for step in clean["steps"]
    ]


def delay_words(minutes: int) -> str:
    if minutes == 0:
        return "at once"
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"after {days} day" + ("s" if days != 1 else "")
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"after {hours} hour" + ("s" if hours != 1 else "")
    return f"after {minutes} minute" + ("s" if minutes != 1 else "")
