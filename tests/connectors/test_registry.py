from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from connectors.base import Provider
from connectors.models import Connector
from connectors.registry import PROVIDERS, all_provider_classes, get_provider_class
from connectors.services import demo_connectors_ensure
from neonhub.core.errors import InvalidInput


@pytest.mark.parametrize("slug", sorted(PROVIDERS))
def test_every_registered_provider_imports_and_is_complete(slug):
    cls = get_provider_class(slug)
    assert issubclass(cls, Provider) and cls.slug == slug and cls.label
    assert cls.actions, f"{slug} declares no actions"
    for action in cls.actions.values():
        assert action.schema.model_json_schema()["type"] == "object"
    assert "base_url" in cls.Config.model_fields
    assert cls.sandbox is not Provider.sandbox and cls.test is not Provider.test


def test_unknown_provider_is_invalid_input_naming_the_field():
    with pytest.raises(InvalidInput) as err:
        get_provider_class("carrier_pigeon")
    assert err.value.details[0]["field"] == "provider"


def test_a_registry_entry_that_cannot_be_imported_fails_clearly(settings):
    settings.NEONHUB_EXTRA_PROVIDERS = {"ghost": "connectors.providers.ghost.Ghost"}
    with pytest.raises(
        ImproperlyConfigured, match="'ghost' is registered as connectors.providers.ghost.Ghost"
    ):
        get_provider_class("ghost")


def test_a_registry_entry_of_the_wrong_kind_fails_clearly(settings):
    settings.NEONHUB_EXTRA_PROVIDERS = {"broken": "tests.connectors.fake_provider.BrokenProvider"}
    with pytest.raises(ImproperlyConfigured, match="not a Provider with slug 'broken'"):
        get_provider_class("broken")


def test_extra_providers_join_the_registry():
    assert "fake" in {cls.slug for cls in all_provider_classes()}


@pytest.mark.django_db
def test_demo_organization_gets_a_sandbox_connector_for_every_provider(org):
    created = demo_connectors_ensure(org)
    assert {c.provider for c in created} == set(PROVIDERS) | {"fake", "fake_hooks"}
    assert all(c.mode == "sandbox" for c in Connector.objects.filter(organization=org))
    assert demo_connectors_ensure(org) == []
