"""Every model of ours has a factory in tests/factories.py, and every factory makes a valid row."""

from __future__ import annotations

import factory
import pytest
from django.apps import apps

from connectors.runtime import credentials_load
from tests import factories

OUR_APPS = ("core", "connectors", "runs", "agents", "audience", "triggers", "analytics", "ops")

# Models no test builds by hand, each with the reason; a factory would only invite tests to
# skip the service that owns the rows.
EXEMPT = {
    "core.ApiKey": "issued by api_key_create, which answers the one-time token a test needs",
    "core.QueueLane": "written only by neonhub.core.lanes, the turn tokens under test",
    "core.ApiKeyWindow": "written only by rate_limit_hit, the counter under test",
    "connectors.BudgetUsage": "written only by budget_consume, the counter under test",
    "triggers.WebhookDelivery": "written only by the webhook endpoints, as they record a delivery",
    "runs.RetentionMark": "written only by the retention job, the mark under test",
    "analytics.TrackedPost": "made by post_track with its checkpoints, as a publish succeeds",
    "analytics.MetricsCollection": "made by post_track beside its post, one per checkpoint",
    "analytics.PostMetric": "written only by the collector, the numbers under test",
    "triggers.RecipeAction": "written only by the recipes, as they answer a Shopify event",
}

FACTORIES = sorted(
    (
        obj
        for obj in vars(factories).values()
        if isinstance(obj, type)
        and issubclass(obj, factory.django.DjangoModelFactory)
        and obj._meta.model is not None
    ),
    key=lambda f: f.__name__,
)


def _label(model) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def test_every_model_of_our_apps_has_a_factory_or_a_reason():
    ours = {_label(m) for label in OUR_APPS for m in apps.get_app_config(label).get_models()}
    covered = {_label(f._meta.model) for f in FACTORIES}
    assert sorted(ours - covered - EXEMPT.keys()) == []
    assert sorted(EXEMPT.keys() - ours) == [], "an exempt model no longer exists"
    assert sorted(EXEMPT.keys() & covered) == [], "an exempt model has a factory now"


@pytest.mark.django_db
@pytest.mark.parametrize("model_factory", FACTORIES, ids=lambda f: f.__name__)
def test_each_factory_creates_valid_rows(model_factory):
    first, second = model_factory.create_batch(2)
    for row in (first, second):
        row.full_clean()
        assert type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.django_db
def test_connector_factory_encrypts_credentials_through_the_service():
    connector = factories.ConnectorFactory(health="needs_reconnect")
    assert "test-auth-token" not in connector.credentials
    assert credentials_load(connector=connector)["auth_token"] == "test-auth-token-01"
    assert connector.credentials_masks["auth_token"] != "test-auth-token-01"
    connector.refresh_from_db()
    assert connector.health == "needs_reconnect"


def test_an_unsaved_connector_is_encrypted_too():
    connector = factories.ConnectorFactory.build()
    assert connector.credentials and "test-auth-token" not in connector.credentials
    assert credentials_load(connector=connector)["account_sid"] == factories.TWILIO_SID


@pytest.mark.django_db
def test_a_generic_trigger_gets_an_encrypted_signing_secret():
    trigger = factories.TriggerFactory()
    assert trigger.source == "generic"
    assert trigger.secret and not trigger.secret.startswith("whsec_")
    assert trigger.secret_mask
