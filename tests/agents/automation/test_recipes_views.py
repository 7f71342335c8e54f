"""The Recipes page: each recipe in words, switched on and configured from the browser."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.automation import recipes
from agents.automation.inbound import Event, RequestFacts, events_accept
from agents.automation.models import Recipe, RecipeKind
from tests.agents.conftest import fixture

pytestmark = pytest.mark.django_db


def _rid(org, kind) -> str:
    return str(recipes.recipe_get(organization=org, kind=kind).pk)


def test_the_page_lists_the_recipes_and_switches_one_on(owner_client, org, shopify):
    page = owner_client.get(reverse("automation:recipe-list"))
    assert page.status_code == 200
    html = page.content.decode()
    for title in ("Abandoned checkout follow-up", "Review request", "Welcome sequence"):
        assert title in html
    assert "checkouts/create" in html and "after 1 hour" in html
    resp = owner_client.post(
        reverse("automation:recipe-switch", args=[_rid(org, "abandoned_checkout")]),
        {"enabled": "on"},
    )
    assert resp.status_code == 302
    assert Recipe.objects.get(organization=org, kind="abandoned_checkout").enabled


def test_settings_form_saves_words_and_names_bad_fields(owner_client, org, shopify):
    url = reverse("automation:recipe-edit", args=[_rid(org, "abandoned_checkout")])
    assert owner_client.get(url).status_code == 200
    bad = owner_client.post(
        url,
        {
            "enabled": "on",
            "channel": "email",
            "step-0-delay": "2",
            "step-0-unit": "hours",
            "step-0-subject": "Hi",
            "step-0-body": "Use {{coupon}}",
        },
    )
    assert bad.status_code == 422
    assert "unknown placeholder" in bad.content.decode()
    good = owner_client.post(
        url,
        {
            "enabled": "on",
            "connector": str(shopify.pk),
            "channel": "email",
            "step-0-delay": "2",
            "step-0-unit": "hours",
            "step-0-subject": "Your cart",
            "step-0-body": "Back to it: {{checkout_url}}",
        },
    )
    assert good.status_code == 302
    recipe = Recipe.objects.get(organization=org, kind="abandoned_checkout")
    assert recipe.enabled and recipe.connector == shopify
    assert recipe.options["steps"][0]["delay_minutes"] == 120


def test_welcome_steps_can_be_added_and_the_preview_renders(owner_client, org):
    url = reverse("automation:recipe-edit", args=[_rid(org, "welcome_sequence")])
    form = {"channel": "email"}
    for i, (days, subject) in enumerate([(0, "Welcome"), (3, "Tips"), (7, "Thanks")]):
        form |= {
            f"step-{i}-delay": str(days),
            f"step-{i}-unit": "days",
            f"step-{i}-subject": subject,
            f"step-{i}-body": f"Hi {{{{first_name}}}}, {subject.lower()}",
        }
    preview = owner_client.post(
        reverse("automation:recipe-preview", args=[_rid(org, "welcome_sequence")]), form
    )
    assert "Hi Jane, tips" in preview.content.decode()
    assert owner_client.post(url, form).status_code == 302
    steps = Recipe.objects.get(organization=org, kind="welcome_sequence").options["steps"]
    assert [s["delay_minutes"] for s in steps] == [0, 3 * 1440, 7 * 1440]


def test_activity_shows_what_happened(owner_client, org, shopify, smtp):
    recipe = recipes.recipe_get(organization=org, kind=RecipeKind.ABANDONED_CHECKOUT)
    recipes.recipe_update(recipe=recipe, enabled=True)
    checkout = fixture("shopify", "recipe_checkouts_create.json")
    events_accept(
        facts=RequestFacts(),
        organization=org,
        connector=shopify,
        events=[Event(source="shopify.checkouts/create", event_id="c", data=checkout)],
    )
    events_accept(
        facts=RequestFacts(),
        organization=org,
        connector=shopify,
        events=[
            Event(
                source="shopify.orders/paid",
                event_id="o",
                data=fixture("shopify", "recipe_orders_paid.json"),
            )
        ],
    )
    html = owner_client.get(reverse("automation:recipe-list")).content.decode()
    assert "1 cancelled because the order was completed" in html
    assert "Order #9999 was placed before the follow-up was due" in html


def test_a_viewer_sees_but_cannot_change(viewer_client, org):
    assert viewer_client.get(reverse("automation:recipe-list")).status_code == 200
    resp = viewer_client.post(
        reverse("automation:recipe-switch", args=[_rid(org, "abandoned_checkout")]),
        {"enabled": "on"},
    )
    assert resp.status_code == 403
    missing = "00000000-0000-0000-0000-000000000000"
    assert viewer_client.get(reverse("automation:recipe-edit", args=[missing])).status_code == 404
