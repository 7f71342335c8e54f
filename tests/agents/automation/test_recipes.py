"""Commerce recipes: Shopify events (signed webhooks) schedule, cancel and skip messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.audience.models import Contact
from agents.automation import recipes
from agents.automation.inbound import Event, RequestFacts, events_accept
from agents.automation.models import (
    DeliveryStatus,
    RecipeAction,
    RecipeActionStatus,
    RecipeKind,
    WebhookDelivery,
)
from agents.executor import execute_run
from connectors.models import OutboundMessage
from runs.models import AgentRun
from tests.agents.conftest import fixture

pytestmark = pytest.mark.django_db


def _url(connector) -> str:
    return reverse("hooks:provider", args=["shopify", connector.pk])


def _switch_on(org, kind, **options):
    recipe = recipes.recipe_get(organization=org, kind=kind)
    return recipes.recipe_update(recipe=recipe, enabled=True, options=options or None)


def _event(org, connector, topic, data, event_id):
    return events_accept(
        facts=RequestFacts(),
        organization=org,
        connector=connector,
        events=[Event(source=f"shopify.{topic}", event_id=event_id, data=data)],
    )


def _due_now(run):
    AgentRun.objects.filter(pk=run.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    execute_run(run.pk)
    run.refresh_from_db()
    return run


def test_a_checkout_schedules_one_follow_up_after_the_delay(hooks, org, shopify, smtp):
    recipe = _switch_on(org, RecipeKind.ABANDONED_CHECKOUT)
    checkout = fixture("shopify", "recipe_checkouts_create.json")
    resp = hooks.shopify(_url(shopify), checkout, topic="checkouts/create", event_id="c-1")
    assert resp.status_code == 200
    action = RecipeAction.objects.get(recipe=recipe)
    assert (action.status, action.channel, action.recipient) == (
        "scheduled",
        "email",
        "example@email.com",
    )
    run = action.run
    assert (run.agent, run.intent, run.status) == ("email", "send", "queued")
    assert run.is_scheduled
    wait = (run.next_attempt_at - timezone.now()).total_seconds()
    assert 3500 < wait <= 3600  # the default delay: one hour
    variables = run.input["recipients"][0]["variables"]
    assert variables["checkout_url"] == checkout["abandoned_checkout_url"]
    assert variables["items"] == "2 × Example T-Shirt"
    assert variables["first_name"] == "John"
    delivery = WebhookDelivery.objects.get(event_id="c-1")
    assert delivery.status == DeliveryStatus.ACCEPTED
    assert "1 message(s) scheduled" in delivery.reason

    # Updated twice more (new event ids): still one follow-up for the checkout token.
    for n in (2, 3):
        hooks.shopify(_url(shopify), checkout, topic="checkouts/update", event_id=f"c-{n}")
    assert RecipeAction.objects.filter(recipe=recipe).count() == 1
    assert AgentRun.objects.filter(agent="email").count() == 1

    # When due, the email goes out with the link.
    run = _due_now(run)
    assert run.status == "completed" and run.output["sent"] == 1
    sent = OutboundMessage.objects.get(run_id=run.pk)
    assert sent.target == "example@email.com"
    counts, rows = recipes.activity(recipe=recipe)
    assert counts["sent"] == 1 and rows[0]["state"] == "sent"


def test_the_order_completing_first_cancels_the_follow_up(hooks, org, shopify, smtp):
    recipe = _switch_on(org, RecipeKind.ABANDONED_CHECKOUT)
    hooks.shopify(
        _url(shopify),
        fixture("shopify", "recipe_checkouts_create.json"),
        topic="checkouts/create",
        event_id="c-1",
    )
    action = RecipeAction.objects.get(recipe=recipe)
    resp = hooks.shopify(
        _url(shopify),
        fixture("shopify", "recipe_orders_paid.json"),
        topic="orders/paid",
        event_id="o-1",
    )
    assert resp.status_code == 200
    action.refresh_from_db()
    assert action.status == RecipeActionStatus.CANCELLED
    assert "#9999" in action.reason
    assert action.run.status == "cancelled"
    execute_run(action.run.pk)  # the woken task finds nothing to send
    assert not OutboundMessage.objects.exists()
    counts, _ = recipes.activity(recipe=recipe)
    assert counts["cancelled"] == 1


def test_an_order_naming_only_the_checkout_id_cancels_too(org, shopify, smtp):
    recipe = _switch_on(org, RecipeKind.ABANDONED_CHECKOUT)
    checkout = fixture("shopify", "recipe_checkouts_create.json")
    _event(org, shopify, "checkouts/create", checkout, "c-1")
    order = {"id": 1, "name": "#1", "checkout_id": checkout["id"]}
    _event(org, shopify, "orders/create", order, "o-1")
    assert RecipeAction.objects.get(recipe=recipe).status == "cancelled"


def test_a_completed_checkout_cancels_and_schedules_nothing_new(org, shopify, smtp):
    recipe = _switch_on(org, RecipeKind.ABANDONED_CHECKOUT)
    checkout = fixture("shopify", "recipe_checkouts_create.json")
    _event(org, shopify, "checkouts/create", checkout, "c-1")
    done = {**checkout, "completed_at": "2021-12-31T19:30:00-05:00"}
    _event(org, shopify, "checkouts/update", done, "c-2")
    assert list(RecipeAction.objects.filter(recipe=recipe).values_list("status", flat=True)) == [
        "cancelled"
    ]


def test_no_marketing_consent_or_no_address_schedules_nothing(org, shopify, smtp):
    recipe = _switch_on(org, RecipeKind.ABANDONED_CHECKOUT)
    checkout = {
        **fixture("shopify", "recipe_checkouts_create.json"),
        "buyer_accepts_marketing": False,
    }
    _event(org, shopify, "checkouts/create", checkout, "c-1")
    action = RecipeAction.objects.get(recipe=recipe)
    assert action.status == "skipped" and "not accepted email marketing" in action.reason
    assert not AgentRun.objects.exists()
    # The shopper ticks the box later: the same checkout is followed up then.
    _event(org, shopify, "checkouts/update", {**checkout, "buyer_accepts_marketing": True}, "c-2")
    action.refresh_from_db()
    assert action.status == "scheduled" and action.run is not None


def test_a_switched_off_recipe_does_nothing(org, shopify, smtp):
    recipes.recipes_of(organization=org)
    _event(
        org, shopify, "checkouts/create", fixture("shopify", "recipe_checkouts_create.json"), "c"
    )
    assert not RecipeAction.objects.exists() and not AgentRun.objects.exists()


def test_the_gate_refuses_at_send_time_when_consent_was_withdrawn(org, shopify, smtp):
    recipe = _switch_on(org, RecipeKind.ABANDONED_CHECKOUT)
    _event(
        org, shopify, "checkouts/create", fixture("shopify", "recipe_checkouts_create.json"), "c"
    )
    Contact.objects.create(
        organization=org, email="example@email.com", consent={"email": {"status": "revoked"}}
    )
    run = _due_now(RecipeAction.objects.get(recipe=recipe).run)
    assert run.output["sent"] == 0
    counts, rows = recipes.activity(recipe=recipe)
    assert counts["refused"] == 1
    assert "revoked consent" in rows[0]["text"]


def test_quiet_hours_hold_an_sms_follow_up(org, shopify, twilio_sms):
    org.settings = {"quiet_hours": {"start": "00:00", "end": "23:59"}}
    org.save(update_fields=["settings"])
    recipe = _switch_on(
        org,
        RecipeKind.ABANDONED_CHECKOUT,
        channel="sms",
        steps=[{"delay_minutes": 30, "subject": "", "body": "Your cart: {{checkout_url}}"}],
    )
    checkout = {
        **fixture("shopify", "recipe_checkouts_create.json"),
        "buyer_accepts_sms_marketing": True,
        "sms_marketing_phone": "+14155550123",
    }
    _event(org, shopify, "checkouts/create", checkout, "c-1")
    action = RecipeAction.objects.get(recipe=recipe)
    assert action.recipient == "+14155550123"
    assert action.run.input["body"].startswith("Your cart: https://checkout.local/")
    run = _due_now(action.run)
    assert (run.status, run.error_code) == ("queued", "POLICY_BLOCKED")
    assert "Quiet hours" in run.error_message
    assert not OutboundMessage.objects.filter(status="sent").exists()
    _, rows = recipes.activity(recipe=recipe)
    assert rows[0]["state"] == "scheduled" and rows[0]["text"].startswith("Held: Quiet hours")


def test_review_request_after_fulfilment_with_the_link(org, shopify, smtp):
    recipe = _switch_on(
        org,
        RecipeKind.REVIEW_REQUEST,
        link_template="https://shop.example.com/products/{{product_id}}#reviews",
    )
    order = fixture("shopify", "recipe_orders_fulfilled.json")
    _event(org, shopify, "orders/fulfilled", order, "f-1")
    _event(
        org,
        shopify,
        "fulfillments/create",
        {"order_id": order["id"], "email": order["email"]},
        "f-2",
    )
    action = RecipeAction.objects.get(recipe=recipe)
    assert action.subject == f"order:{order['id']}"
    run = action.run
    days = (run.next_attempt_at - timezone.now()).total_seconds() / 86400
    assert 6.99 < days <= 7
    variables = run.input["recipients"][0]["variables"]
    assert variables["review_url"] == "https://shop.example.com/products/632910392#reviews"
    assert variables["order_name"] == "#9999"


def test_welcome_sequence_schedules_each_step_and_stops_after_unsubscribe(org, shopify, smtp):
    recipe = _switch_on(org, RecipeKind.WELCOME_SEQUENCE)
    _event(
        org, shopify, "customers/create", fixture("shopify", "recipe_customers_create.json"), "w"
    )
    actions = list(RecipeAction.objects.filter(recipe=recipe).order_by("step"))
    assert [a.step for a in actions] == [0, 1, 2]
    offsets = [
        round((a.run.next_attempt_at - timezone.now()).total_seconds() / 86400) for a in actions
    ]
    assert offsets == [0, 2, 5]
    first = _due_now(actions[0].run)
    assert first.output["sent"] == 1
    # The customer withdraws consent: the next step is refused by the gate when it is due.
    Contact.objects.update_or_create(
        organization=org,
        email="bob@biller.com",
        defaults={"consent": {"email": {"status": "revoked"}}},
    )
    second = _due_now(actions[1].run)
    assert second.output["sent"] == 0
    assert OutboundMessage.objects.filter(target="bob@biller.com", status="sent").count() == 1


def test_settings_are_checked_field_by_field():
    from neonhub.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as bad:
        recipes.options_validate(
            RecipeKind.ABANDONED_CHECKOUT,
            {"channel": "fax", "steps": [{"delay_minutes": -1, "subject": "", "body": "{{nope}}"}]},
        )
    fields = {d["field"] for d in bad.value.details}
    assert {"channel", "steps.0.delay_minutes", "steps.0.body"} <= fields


def test_preview_renders_a_sample_payload():
    steps = recipes.preview(kind=RecipeKind.ABANDONED_CHECKOUT, options={})
    assert steps[0]["body"].startswith("Hi Jane,")
    assert "https://example.myshopify.com/checkouts/sample/recover" in steps[0]["body"]


def test_deleting_its_shop_switches_a_recipe_off_and_the_confirmation_says_so(org, shopify):
    from agents.automation.dependents import connector_dependents_find
    from connectors.services import connector_delete

    recipe = recipes.recipe_get(organization=org, kind=RecipeKind.WELCOME_SEQUENCE)
    recipes.recipe_update(recipe=recipe, enabled=True, connector=shopify)
    [group] = [g for g in connector_dependents_find(shopify) if g.kind.startswith("Recipes")]
    assert group.count == 1 and group.items[0].label == "Welcome sequence"
    connector_delete(connector=shopify)
    recipe.refresh_from_db()
    assert (recipe.enabled, recipe.connector_id) == (False, None)


def test_a_signed_fulfillments_create_webhook_reaches_the_review_request(hooks, org, shopify):
    recipe = _switch_on(org, RecipeKind.REVIEW_REQUEST)
    order = fixture("shopify", "recipe_orders_fulfilled.json")
    body = {"id": 255858046, "order_id": order["id"], "email": order["email"], "status": "success"}
    resp = hooks.shopify(_url(shopify), body, topic="fulfillments/create", event_id="ff-1")
    assert resp.status_code == 200
    action = RecipeAction.objects.get(recipe=recipe)
    assert action.subject == f"order:{order['id']}"
