from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from connectors.base import Provider
from connectors.models import Connector
from connectors.registry import (
    PROVIDERS,
    all_paths,
    all_provider_classes,
    get_provider_class,
    message_kind,
    providers_of,
    reply_action,
    webhook_sources,
)
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


@pytest.mark.parametrize("slug", sorted(all_paths()))
def test_every_provider_that_calls_us_declares_a_complete_webhook(slug):
    cls = get_provider_class(slug)
    if not cls.webhook_routes:
        assert not cls.webhook_events and not cls.status_route
        return
    assert cls.webhook_verify is not Provider.webhook_verify
    assert cls.webhook_parse is not Provider.webhook_parse
    assert cls.webhook_prefix() != "generic"  # the generic trigger's own path
    assert not cls.status_route or cls.status_route in cls.webhook_routes
    for source in cls.webhook_sources():
        assert source.startswith(f"{slug}.") and len(source) <= 40  # Trigger.source's column


def test_providers_that_share_a_webhook_path_are_the_vendors_own():
    by_path: dict[str, set[str]] = {}
    for cls in all_provider_classes():
        if cls.webhook_routes:
            by_path.setdefault(cls.webhook_prefix(), set()).add(cls.slug)
    assert by_path["twilio"] == {"twilio_sms", "twilio_whatsapp"}
    assert by_path["meta"] == {"facebook_page", "instagram"}
    assert by_path["fake_hooks"] == {"fake_hooks"}  # default: the slug


def test_message_actions_and_channels_come_from_the_providers():
    assert message_kind("twilio_sms", "send_sms").channel == "sms"
    assert message_kind("twilio_sms", "get_message") is None
    assert message_kind("carrier_pigeon", "send") is None
    assert providers_of("whatsapp") == ["twilio_whatsapp"]
    assert providers_of("email") == ["smtp_email"]
    assert reply_action("sms") == ("twilio_sms", "send_sms")
    assert reply_action("whatsapp") == ("twilio_whatsapp", "send_message")
    assert reply_action("email") is None


def test_webhook_sources_name_their_provider():
    sources = webhook_sources()
    assert sources["shopify.orders/paid"][0] == "shopify"
    assert sources["twilio_whatsapp.inbound"][1].default_mapping["from"] == "From"
    assert "generic" not in sources
