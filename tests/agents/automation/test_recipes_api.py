"""The recipes API: list, get, switch on/off and change settings, preview; scoped to the organization."""

from __future__ import annotations

import pytest

from connectors.services import connector_create
from neonhub.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _id(api, kind: str) -> str:
    return next(r["id"] for r in api.get("/recipes").json() if r["kind"] == kind)


def test_list_switch_on_and_change_the_delay(api, org, shopify):
    resp = api.get("/recipes")
    assert resp.status_code == 200
    kinds = [r["kind"] for r in resp.json()]
    assert kinds == ["abandoned_checkout", "review_request", "welcome_sequence"]
    assert all(not r["enabled"] for r in resp.json())
    steps = [{"delay_minutes": 90, "subject": "Still there?", "body": "{{checkout_url}}"}]
    rid = _id(api, "abandoned_checkout")
    resp = api.patch(
        f"/recipes/{rid}",
        {"enabled": True, "connector_id": str(shopify.pk), "steps": steps},
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["enabled"] and body["connector_id"] == str(shopify.pk)
    assert body["steps"] == steps and body["channel"] == "email"
    assert api.get(f"/recipes/{rid}").json()["steps"] == steps
    assert AuditEvent.objects.filter(action="recipe.update", organization=org).exists()


def test_bad_settings_answer_422_naming_the_field(api, org):
    resp = api.patch(
        f"/recipes/{_id(api, 'welcome_sequence')}",
        {"steps": [{"delay_minutes": 0, "subject": "Hi", "body": "Hello {{coupon}}"}]},
    )
    assert resp.status_code == 422
    assert any(d["field"] == "steps.0.body" for d in resp.json()["error"]["details"])
    resp = api.patch(f"/recipes/{_id(api, 'review_request')}", {"link_template": "ftp://x"})
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "link_template"


def test_foreign_recipe_and_connector_answer_404_and_a_wrong_provider_422(
    api, other_api, org, other_org, smtp
):
    theirs = other_api.get("/recipes").json()[0]["id"]
    assert api.get(f"/recipes/{theirs}").status_code == 404
    assert api.patch(f"/recipes/{theirs}", {"enabled": True}).status_code == 404
    rid = _id(api, "abandoned_checkout")
    resp = api.patch(f"/recipes/{rid}", {"connector_id": str(smtp.pk)})
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "connector_id"
    foreign = connector_create(
        organization=other_org,
        provider="shopify",
        name="Theirs",
        mode="sandbox",
        credentials={"access_token": "shpat_x", "webhook_secret": "s"},
        config={"shop_domain": "them.myshopify.com"},
    )
    resp = api.patch(f"/recipes/{rid}", {"connector_id": str(foreign.pk)})
    assert resp.status_code == 404


def test_a_viewer_reads_but_cannot_switch_on(viewer_api, org):
    rid = _id(viewer_api, "abandoned_checkout")
    assert viewer_api.patch(f"/recipes/{rid}", {"enabled": True}).status_code == 403


def test_preview_renders_the_text_for_a_sample(api, org):
    resp = api.post(
        f"/recipes/{_id(api, 'abandoned_checkout')}/preview",
        {"steps": [{"delay_minutes": 5, "subject": "Hi {{first_name}}", "body": "{{items}}"}]},
    )
    assert resp.status_code == 200
    assert resp.json()["steps"][0] == {
        "delay_minutes": 5,
        "subject": "Hi Jane",
        "body": "2 × Linen shirt, Canvas tote",
    }


def test_openapi_types_the_recipes(api):
    schema = api.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/recipes/{recipe_id}" in schema["paths"]
    assert "RecipeOut" in schema["components"]["schemas"]
