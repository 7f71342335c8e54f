"""A commerce recipe end to end: a signed Shopify checkout webhook schedules a follow-up, a real
qcluster sends it by SMTP (aiosmtpd) once its delay has passed, and a checkout whose order
arrives first is never followed up."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django_q.conf import Conf

from agents.automation import recipes
from agents.automation.models import RecipeAction, RecipeKind
from connectors.providers.shopify import shopify_signature
from connectors.services import connector_create
from runs.models import AgentRun, RunStatus
from tests.connectors.providers.smtp_server import Mailbox, smtp_server
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shopify"
SECRET = "shpss_recipe_e2e_secret"


@pytest.fixture
def broker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)


def _post(client, connector, topic: str, body: dict, event_id: str):
    raw = json.dumps(body).encode()
    return client.post(
        reverse("hooks:provider", args=["shopify", connector.pk]),
        data=raw,
        content_type="application/json",
        headers={
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": shopify_signature(SECRET, raw),
            "X-Shopify-Shop-Domain": "acme-store.myshopify.com",
            "X-Shopify-Event-Id": event_id,
        },
    )


def test_a_checkout_follow_up_is_sent_after_the_delay_and_a_completed_one_never(
    broker, worker, client, org
):
    checkout = json.loads((FIXTURES / "recipe_checkouts_create.json").read_text())
    order = json.loads((FIXTURES / "recipe_orders_paid.json").read_text())
    mailbox = Mailbox()
    with smtp_server(mailbox, mode="none", auth=False) as server:
        shop = connector_create(
            organization=org,
            provider="shopify",
            name="Store",
            mode="live",
            credentials={"access_token": "shpat_e2e", "webhook_secret": SECRET},
            config={"shop_domain": "acme-store.myshopify.com"},
        )
        connector_create(
            organization=org,
            provider="smtp_email",
            name="Mail",
            mode="live",
            credentials={},
            config={
                "host": "127.0.0.1",
                "port": server.port,
                "tls_mode": "none",
                "from_address": "shop@acme.example",
            },
        )
        recipe = recipes.recipe_get(organization=org, kind=RecipeKind.ABANDONED_CHECKOUT)
        steps = [{"delay_minutes": 1, "subject": "Your cart", "body": "Finish: {{checkout_url}}"}]
        recipes.recipe_update(recipe=recipe, enabled=True, options={"steps": steps})
        worker()
        started = time.monotonic()
        # Checkout A is abandoned; checkout B is completed (its order comes) before its delay.
        assert _post(client, shop, "checkouts/create", checkout, "a-1").status_code == 200
        other = {
            **checkout,
            "id": 981820079255243538,
            "token": "456456456",
            "email": "second@example.com",
        }
        assert _post(client, shop, "checkouts/create", other, "b-1").status_code == 200
        paid = {**order, "id": 2, "checkout_token": "456456456", "checkout_id": other["id"]}
        assert _post(client, shop, "orders/paid", paid, "b-2").status_code == 200
        first = RecipeAction.objects.get(subject="checkout:123123123")
        second = RecipeAction.objects.get(subject="checkout:456456456")
        assert second.status == "cancelled"

        wait_for(lambda: mailbox.messages, timeout=120, interval=0.5)
        waited = time.monotonic() - started
        wait_for(
            lambda: AgentRun.objects.get(pk=first.run_id).status == RunStatus.COMPLETED,
            timeout=30,
        )
        time.sleep(1)
    assert waited >= 55  # not before the one-minute delay
    assert [m["rcpt_tos"] for m in mailbox.messages] == [["example@email.com"]]
    message = mailbox.messages[0]["message"]
    assert message["Subject"] == "Your cart"
    # Click tracking (on by default) sends the link through the site, on to the checkout.
    text = message.get_body(("plain",)).get_content()
    link = next(word for word in text.split() if "/m/c/" in word)
    assert parse_qs(urlsplit(link).query)["u"][0].startswith(checkout["abandoned_checkout_url"])
    assert AgentRun.objects.get(pk=second.run_id).status == RunStatus.CANCELLED
    counts, _ = recipes.activity(recipe=recipe)
    assert (counts["sent"], counts["cancelled"]) == (1, 1)
