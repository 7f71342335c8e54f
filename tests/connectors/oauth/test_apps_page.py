"""Settings › Connected apps: the redirect URL to register, an organization's own app with its
secret encrypted and shown masked, the audit log, who may change it; and how the connector
pages and API show a connected account."""

from __future__ import annotations

import json

import pytest

from connectors import crypto
from connectors.models import Connector, Health, OAuthApp, OAuthLink
from connectors.oauth.services import app_credentials
from connectors.runtime import credentials_store
from neonhub.core.models import AuditEvent, Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.usefixtures("apps")
SECRET = "org-own-secret-9f8e7d6c5b4a"


def test_the_page_shows_each_apps_redirect_url(owner_client):
    response = owner_client.get("/settings/connected-apps/")
    text = response.content.decode()
    assert response.status_code == 200
    for app in ("meta", "google", "linkedin", "tiktok", "reddit"):
        assert f"https://hub.example.com/connectors/oauth/{app}/callback/" in text
    assert "This installation&#x27;s app" in text or "This installation's app" in text


def test_an_owner_enters_the_organizations_own_app(owner_client, org):
    response = owner_client.post(
        "/settings/connected-apps/",
        {"app": "linkedin", "client_id": "86ownclient", "client_secret": SECRET},
    )
    assert response.status_code == 302
    row = OAuthApp.objects.get(organization=org, app="linkedin")
    assert SECRET not in row.client_secret
    assert crypto.decrypt(row.client_secret, aad=row.pk.bytes) == SECRET
    credentials = app_credentials(organization=org, app="linkedin")
    assert credentials.client_id == "86ownclient" and credentials.own_app
    page = owner_client.get("/settings/connected-apps/").content.decode()
    assert "org-…5b4a" in page and SECRET not in page
    event = AuditEvent.objects.get(action="oauth_app.save")
    assert SECRET not in json.dumps(event.changes)

    # A blank secret keeps the stored one; removing goes back to the installation's app.
    owner_client.post(
        "/settings/connected-apps/",
        {"app": "linkedin", "client_id": "86renamed", "client_secret": ""},
    )
    assert app_credentials(organization=org, app="linkedin").client_secret == SECRET
    owner_client.post("/settings/connected-apps/", {"app": "linkedin", "delete": "1"})
    assert not app_credentials(organization=org, app="linkedin").own_app


def test_a_new_app_needs_both_fields(owner_client, org):
    response = owner_client.post(
        "/settings/connected-apps/", {"app": "tiktok", "client_id": "aw1", "client_secret": ""}
    )
    assert response.status_code == 422 and "client_secret" in response.content.decode()
    assert not OAuthApp.objects.exists()


def test_members_read_but_cannot_change_the_apps(client, org):
    client.force_login(MembershipFactory(organization=org, role=Role.MEMBER).user)
    assert client.get("/settings/connected-apps/").status_code == 200
    response = client.post(
        "/settings/connected-apps/", {"app": "reddit", "client_id": "x", "client_secret": "y"}
    )
    assert response.status_code == 403 and not OAuthApp.objects.exists()


def _connected(org, **fields) -> Connector:
    connector = Connector(organization=org, provider="reddit", name="u/acme_bot", **fields)
    credentials_store(
        connector,
        {
            "client_id": "redditweb1",
            "client_secret": "s" * 20,
            "username": "acme_bot",
            "refresh_token": "r" * 20,
        },
    )
    connector.save()
    OAuthLink.objects.create(
        connector=connector,
        target="reddit",
        account_id="acme_bot",
        account_name="u/acme_bot",
        scopes=["identity", "submit"],
    )
    return connector


def test_the_list_names_connectors_to_reconnect_with_a_button(owner_client, org):
    connector = _connected(
        org, health=Health.NEEDS_RECONNECT, last_error="Renewing the token failed"
    )
    text = owner_client.get("/connectors/").content.decode()
    assert 'id="reconnect-banner"' in text and "needs reconnecting" in text
    assert f'name="connector" value="{connector.pk}"' in text
    assert "Connect with YouTube" in text and "Connect with Facebook and Instagram" in text
    detail = owner_client.get(f"/connectors/{connector.pk}/").content.decode()
    assert 'id="reconnect-notice"' in detail and "Connected with Reddit" in detail


def test_the_api_shows_the_connection_and_where_to_reconnect(api, org):
    connector = _connected(org)
    body = api.get(f"/connectors/{connector.pk}").json()
    assert body["connection"]["target"] == "reddit"
    assert body["connection"]["scopes"] == ["identity", "submit"]
    assert body["reconnect_url"] == "/connectors/oauth/reddit/start/"
    assert "r" * 20 not in json.dumps(body)


def test_an_overlong_client_id_is_refused_by_name(owner_client):
    response = owner_client.post(
        "/settings/connected-apps/", {"app": "google", "client_id": "x" * 300, "client_secret": "s"}
    )
    assert response.status_code == 422 and "client_id" in response.content.decode()
    assert not OAuthApp.objects.exists()
