"""Connector admin: forms from provider schemas, write-only secrets, Test connection, filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors.models import Connector, Health, OutboundMessage, Suppression
from connectors.runtime import credentials_load
from connectors.services import connector_mark
from tests.connectors.conftest import TOKEN

pytestmark = pytest.mark.django_db

ADD = reverse("admin:connectors_connector_add")
CHANGELIST = reverse("admin:connectors_connector_changelist")


def change_url(connector) -> str:
    return reverse("admin:connectors_connector_change", args=[connector.pk])


def add_form(org, **overrides) -> dict:
    data = {
        "organization": str(org.pk),
        "name": "Main",
        "mode": "live",
        "enabled": "on",
        "token_expires_at": "",
        "cred__api_token": TOKEN,
        "cred__account": "acct_main",
        "conf__base_url": "",
        "conf__sender": "NeonHub",
        "conf__region": "us",
    }
    data.update(overrides)
    return data


def test_adding_starts_by_choosing_a_provider(admin_client):
    page = admin_client.get(ADD).content.decode()
    assert "Choose a provider" in page
    assert "?provider=twilio_sms" in page and "?provider=fake" in page
    assert "Choose a provider" in admin_client.get(ADD + "?provider=nope").content.decode()


def test_add_form_is_built_from_the_provider_schemas(admin_client):
    page = admin_client.get(ADD + "?provider=fake").content.decode()
    assert 'name="cred__api_token"' in page and 'type="password"' in page
    assert (
        'name="cred__account"' in page
        and 'name="conf__region"' in page
        and 'name="conf__base_url"' in page
    )
    assert "Fake Messaging credentials (write-only)" in page
    twilio = admin_client.get(ADD + "?provider=twilio_sms").content.decode()
    assert 'name="cred__auth_token"' in twilio and 'name="conf__from_number"' in twilio


def test_adding_saves_through_the_service_with_encrypted_credentials(admin_client, org):
    resp = admin_client.post(ADD + "?provider=fake", add_form(org), follow=True)
    assert resp.status_code == 200
    connector = Connector.objects.get()
    assert (connector.provider, connector.organization, connector.mode) == ("fake", org, "live")
    assert credentials_load(connector=connector)["api_token"] == TOKEN
    assert TOKEN not in connector.credentials
    assert TOKEN not in resp.content.decode()


def test_add_errors_are_shown_next_to_the_fields(admin_client, org):
    resp = admin_client.post(
        ADD + "?provider=fake", add_form(org, cred__account="nope", conf__region="mars")
    )
    assert resp.status_code == 200
    errors = resp.context["adminform"].form.errors
    assert "cred__account" in errors and "conf__region" in errors
    assert not Connector.objects.exists()
    resp = admin_client.post(ADD + "?provider=fake", add_form(org, cred__api_token=""))
    assert "cred__api_token" in resp.context["adminform"].form.errors


def test_private_base_url_is_an_error_on_its_field(admin_client, org, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    resp = admin_client.post(
        ADD + "?provider=fake", add_form(org, conf__base_url="http://127.0.0.1:9")
    )
    assert "conf__base_url" in resp.context["adminform"].form.errors


def test_duplicate_name_is_an_error_on_the_name(admin_client, org, make_connector):
    make_connector(name="Main")
    resp = admin_client.post(ADD + "?provider=fake", add_form(org))
    assert "name" in resp.context["adminform"].form.errors
    assert Connector.objects.count() == 1


def test_sandbox_connectors_can_be_added_without_credentials(admin_client, org):
    admin_client.post(
        ADD + "?provider=fake", add_form(org, mode="sandbox", cred__api_token="", cred__account="")
    )
    connector = Connector.objects.get()
    assert connector.mode == "sandbox" and connector.credentials == ""


def test_change_page_shows_masks_never_secrets(admin_client, make_connector):
    connector = make_connector("https://api.example.com")
    page = admin_client.get(change_url(connector)).content.decode()
    assert TOKEN not in page
    assert "tok_…5f60" in page
    assert 'value="https://api.example.com"' in page  # config is not secret
    assert "Test connection" in page


def test_blank_secrets_keep_what_is_stored_and_a_name_edit_keeps_health(
    admin_client, org, make_connector
):
    connector = make_connector()
    connector_mark(connector=connector, health=Health.NEEDS_RECONNECT, error="revoked")
    data = add_form(org, name="Renamed", cred__api_token="", cred__account="")
    resp = admin_client.post(change_url(connector), data)
    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else resp
    connector.refresh_from_db()
    assert connector.name == "Renamed"
    assert credentials_load(connector=connector) == {"api_token": TOKEN, "account": "acct_main"}
    assert connector.health == Health.NEEDS_RECONNECT


def test_new_secret_replaces_the_old_and_heals(admin_client, org, make_connector):
    connector = make_connector()
    connector_mark(connector=connector, health=Health.NEEDS_RECONNECT, error="revoked")
    admin_client.post(
        change_url(connector), add_form(org, cred__api_token="tok_brand_new_1234", cred__account="")
    )
    connector.refresh_from_db()
    assert credentials_load(connector=connector)["api_token"] == "tok_brand_new_1234"
    # Cleared, but not known to work until a test or a call says so.
    assert connector.health == Health.UNTESTED
    assert connector.credentials_masks["api_token"] == "tok_…1234"


def test_edit_errors_are_shown(admin_client, org, make_connector):
    connector = make_connector()
    resp = admin_client.post(
        change_url(connector), add_form(org, cred__account="bad", conf__sender="x" * 20)
    )
    errors = resp.context["adminform"].form.errors
    assert "cred__account" in errors and "conf__sender" in errors


def test_test_connection_action_and_button(admin_client, httpserver, live):
    httpserver.expect_request("/me").respond_with_json({"account": "acct_main"})
    resp = admin_client.post(
        CHANGELIST, {"action": "test_connection", "_selected_action": [str(live.pk)]}, follow=True
    )
    assert "Main: test passed. Connected to acct_main" in resp.content.decode()
    test_url = reverse("admin:connectors_connector_test", args=[live.pk])
    resp = admin_client.post(test_url, follow=True)
    assert resp.redirect_chain[-1][0] == change_url(live)
    assert "test passed" in resp.content.decode()
    assert admin_client.get(test_url).status_code == 403
    live.refresh_from_db()
    assert live.last_tested_at is not None


def test_failed_test_shows_the_reason(admin_client, httpserver, live):
    httpserver.expect_request("/me").respond_with_json(
        {"error": {"code": "x", "message": "revoked"}}, status=401
    )
    resp = admin_client.post(
        reverse("admin:connectors_connector_test", args=[live.pk]), follow=True
    )
    page = resp.content.decode()
    assert "test failed. Fake: revoked" in page


def test_changelist_shows_health_and_filters(admin_client, make_connector):
    expiring = make_connector(name="Expiring", token_expires_at=timezone.now() + timedelta(days=1))
    broken = make_connector(name="Broken")
    connector_mark(connector=broken, health=Health.NEEDS_RECONNECT, error="token revoked")
    make_connector(name="Sandboxed", mode="sandbox")
    page = admin_client.get(CHANGELIST).content.decode()
    assert (
        "Needs reconnect" in page
        and "token revoked" in page
        and "SANDBOX" in page
        and "Expiring" in page
    )
    names = lambda resp: [c.name for c in resp.context["cl"].result_list]  # noqa: E731
    assert names(admin_client.get(CHANGELIST, {"health": "expiring"})) == [expiring.name]
    assert names(admin_client.get(CHANGELIST, {"health": "needs_reconnect"})) == [broken.name]
    assert names(admin_client.get(CHANGELIST, {"mode__exact": "sandbox"})) == ["Sandboxed"]
    assert TOKEN not in page


def test_outbox_admin_is_read_only(admin_client, make_connector, steps):
    from connectors.services import connector_execute

    connector = make_connector(mode="sandbox")
    connector_execute(
        connector=connector,
        action="send",
        input={"to": "+14155550100", "text": "hi"},
        recorder=steps,
        idempotency_key="k",
    )
    row = OutboundMessage.objects.get()
    assert (
        admin_client.get(reverse("admin:connectors_outboundmessage_changelist")).status_code == 200
    )
    url = reverse("admin:connectors_outboundmessage_change", args=[row.pk])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"status": "failed"}).status_code == 403
    assert admin_client.get(reverse("admin:connectors_outboundmessage_add")).status_code == 403


def test_staff_can_suppress_an_address(admin_client, org):
    url = reverse("admin:connectors_suppression_add")
    resp = admin_client.post(
        url,
        {
            "organization": str(org.pk),
            "channel": "sms",
            "address": "+1 (415) 555-0100",
            "reason": "",
        },
    )
    assert resp.status_code == 302
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.source) == ("+14155550100", "staff")
    assert suppression.reason.startswith("Added by")
    again = admin_client.post(
        url, {"organization": str(org.pk), "channel": "sms", "address": "+14155550100"}
    )
    assert again.status_code == 200 and Suppression.objects.count() == 1
    bad = admin_client.post(
        url, {"organization": str(org.pk), "channel": "email", "address": "nope"}
    )
    assert "address" in bad.context["adminform"].form.errors
    change = reverse("admin:connectors_suppression_change", args=[suppression.pk])
    admin_client.post(change, {"reason": "asked by phone"})
    suppression.refresh_from_db()
    assert suppression.reason == "asked by phone"


def test_a_new_address_with_a_blank_secret_is_an_error_on_the_secret(
    admin_client, org, make_connector
):
    connector = make_connector("https://api.fake.example")
    data = add_form(
        org, cred__api_token="", cred__account="", conf__base_url="https://evil.example"
    )
    resp = admin_client.post(change_url(connector), data)
    errors = resp.context["adminform"].form.errors
    assert "stored secrets do not follow a new address" in errors["cred__api_token"][0]
    connector.refresh_from_db()
    assert connector.config["base_url"] == "https://api.fake.example"
