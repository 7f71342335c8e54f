"""The connect flows, start to connector, with the providers faked at the requests seam.

Each provider's authorization URL, token request and account reads are checked against the
shapes its documentation gives (docs/CONNECTORS.md cites the pages)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.utils import timezone

from connectors.models import Connector, Health, OAuthGrant, OAuthLink
from connectors.runtime import credentials_load
from neonhub.core.models import AuditEvent
from tests.connectors.oauth.conftest import CLIENTS, callback, payload, start

pytestmark = pytest.mark.usefixtures("apps")
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
CHANNELS = "https://www.googleapis.com/youtube/v3/channels"
META_TOKEN = "https://graph.facebook.com/v26.0/oauth/access_token"
META_ACCOUNTS = "https://graph.facebook.com/v26.0/me/accounts"
TIKTOK_TOKEN = "https://open.tiktokapis.com/v2/oauth/token/"
REDDIT_TOKEN = "https://www.reddit.com/api/v1/access_token"


def form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body or "").items()}


def query(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def choose(client, response, account_id: str):
    assert response.status_code == 302, response.content[:600]
    page = client.get(response["Location"])
    assert page.status_code == 200
    return client.post(response["Location"], {"account": account_id})


# --- YouTube (Google) ------------------------------------------------------------------------


@responses.activate
def test_youtube_connects_with_pkce_and_creates_a_tested_connector(owner_client, org):
    url, params = start(owner_client, "youtube")
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert params["client_id"] == CLIENTS["google"][0]
    assert params["redirect_uri"] == "https://hub.example.com/connectors/oauth/google/callback/"
    assert params["response_type"] == "code"
    assert params["access_type"] == "offline" and params["prompt"] == "consent"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["scope"].split() == [
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube.force-ssl",
    ]
    responses.post(GOOGLE_TOKEN, json=payload("google_token"))
    responses.get(CHANNELS, json=payload("youtube_channels_mine"))

    response = callback(owner_client, "google", code="4/0Adeu5BW", state=params["state"])
    exchange = form(responses.calls[0])
    assert exchange["grant_type"] == "authorization_code" and exchange["code"] == "4/0Adeu5BW"
    assert exchange["client_id"] == CLIENTS["google"][0]
    assert exchange["client_secret"] == CLIENTS["google"][1]
    assert exchange["redirect_uri"] == params["redirect_uri"]
    # PKCE: the verifier sent hashes to the challenge sent earlier.
    digest = hashlib.sha256(exchange["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == params["code_challenge"]
    assert query(responses.calls[1]) == {"part": "snippet", "mine": "true"}
    assert responses.calls[1].request.headers["Authorization"] == (
        "Bearer ya29.a0AfH6SMBx-google-access-0001"
    )

    done = choose(owner_client, response, "UC_x5XG1OV2P6uZZ5FSM9Ttw")
    connector = Connector.objects.get(organization=org, provider="youtube")
    assert done["Location"] == f"/connectors/{connector.pk}/"
    assert connector.name == "Acme Videos" and connector.mode == "live"
    assert connector.config["channel_id"] == "UC_x5XG1OV2P6uZZ5FSM9Ttw"
    stored = credentials_load(connector=connector)
    assert stored["refresh_token"] == "1//04google-refresh-token-0001"
    assert stored["client_id"] == CLIENTS["google"][0]
    assert "1//04google" not in connector.credentials  # encrypted at rest
    assert connector.health == Health.HEALTHY  # tested after connecting
    link = OAuthLink.objects.get(connector=connector)
    assert link.target == "youtube" and link.account_name == "Acme Videos"
    assert not OAuthGrant.objects.exists()


# --- Facebook Pages and Instagram (Meta) -----------------------------------------------------


@responses.activate
def test_facebook_exchanges_for_a_long_lived_token_and_offers_pages_and_instagram(
    owner_client, org
):
    url, params = start(owner_client, "facebook")
    assert url.startswith("https://www.facebook.com/v26.0/dialog/oauth?")
    assert "code_challenge" not in params  # Meta's PKCE is only in its OIDC flow
    assert params["scope"].split(",")[:2] == ["pages_show_list", "pages_read_engagement"]
    responses.get(META_TOKEN, json=payload("meta_token"))
    responses.get(META_TOKEN, json=payload("meta_long_lived"))
    responses.get(META_ACCOUNTS, json=payload("meta_accounts"))

    response = callback(owner_client, "meta", code="AQDcode", state=params["state"])
    exchange, long_lived, accounts = (query(call) for call in responses.calls)
    assert exchange["code"] == "AQDcode" and exchange["client_secret"] == CLIENTS["meta"][1]
    assert exchange["redirect_uri"] == "https://hub.example.com/connectors/oauth/meta/callback/"
    assert long_lived == {
        "grant_type": "fb_exchange_token",
        "client_id": CLIENTS["meta"][0],
        "client_secret": CLIENTS["meta"][1],
        "fb_exchange_token": "EAAGshortlivedusertoken0001",
    }
    assert "instagram_business_account{id,username}" in accounts["fields"]
    assert (
        responses.calls[2].request.headers["Authorization"] == "Bearer EAAGlonglivedusertoken0002"
    )

    page = owner_client.get(response["Location"])
    text = page.content.decode()
    assert "Acme Coffee" in text and "@acmecoffee" in text and "Acme Beans" in text
    assert "EAAG" not in text  # no token on the page

    responses.get(
        "https://graph.facebook.com/v26.0/17841400000000001",
        json={"id": "17841400000000001", "username": "acmecoffee"},
    )
    owner_client.post(response["Location"], {"account": "17841400000000001"})
    connector = Connector.objects.get(organization=org, provider="instagram")
    assert connector.config["ig_user_id"] == "17841400000000001"
    # The Page's token, derived from the long-lived user token: it does not expire.
    assert credentials_load(connector=connector) == {"access_token": "EAAGpagetoken-acme-0003"}
    assert connector.token_expires_at is None


# --- LinkedIn ----------------------------------------------------------------------------------


@responses.activate
def test_linkedin_offers_the_member_and_saves_the_contract_fields(owner_client, org, settings):
    settings.NEONHUB_OAUTH["linkedin"]["scopes"] = (
        "openid profile w_member_social rw_organization_admin"
    )
    url, params = start(owner_client, "linkedin")
    assert url.startswith("https://www.linkedin.com/oauth/v2/authorization?")
    assert "code_challenge" not in params
    assert params["scope"] == "openid profile w_member_social rw_organization_admin"
    token = {
        **payload("linkedin_token"),
        "scope": "openid,profile,w_member_social,rw_organization_admin",
    }
    responses.post("https://www.linkedin.com/oauth/v2/accessToken", json=token)
    responses.get("https://api.linkedin.com/v2/userinfo", json=payload("linkedin_userinfo"))
    responses.get(
        "https://api.linkedin.com/rest/organizationAcls", json=payload("linkedin_org_acls")
    )
    responses.get(
        "https://api.linkedin.com/rest/organizations/2414183",
        json={"id": 2414183, "localizedName": "Acme Coffee Co.", "vanityName": "acme-coffee"},
    )

    response = callback(owner_client, "linkedin", code="AQTcode", state=params["state"])
    exchange = form(responses.calls[0])
    assert exchange["client_id"] == CLIENTS["linkedin"][0]
    assert exchange["client_secret"] == CLIENTS["linkedin"][1]
    acl = responses.calls[2].request
    assert query(responses.calls[2]) == {
        "q": "roleAssignee",
        "role": "ADMINISTRATOR",
        "state": "APPROVED",
    }
    assert acl.headers["X-Restli-Protocol-Version"] == "2.0.0" and acl.headers["LinkedIn-Version"]

    assert responses.calls[3].request.headers["LinkedIn-Version"]
    grant = OAuthGrant.objects.get()
    assert grant.accounts[1]["name"] == "Acme Coffee Co."
    assert [a["id"] for a in grant.accounts] == [
        "urn:li:person:782bbtaQ",
        "urn:li:organization:2414183",
    ]
    owner_client.post(response["Location"], {"account": "urn:li:organization:2414183"})
    connector = Connector.objects.get(organization=org, provider="linkedin")
    assert connector.config["author_urn"] == "urn:li:organization:2414183"
    assert credentials_load(connector=connector) == {"access_token": "AQUvlinkedin-access-0001"}
    assert connector.token_expires_at is not None  # 60 days, no refresh token: shown expiring later


# --- TikTok ------------------------------------------------------------------------------------


@responses.activate
def test_tiktok_sends_client_key_and_verifier_and_saves_open_id(owner_client, org):
    url, params = start(owner_client, "tiktok")
    assert url.startswith("https://www.tiktok.com/v2/auth/authorize/?")
    assert params["client_key"] == CLIENTS["tiktok"][0]
    assert params["scope"] == "user.info.basic,video.publish,video.upload,video.list"
    assert params["code_challenge_method"] == "S256"
    responses.post(TIKTOK_TOKEN, json=payload("tiktok_token"))
    responses.get("https://open.tiktokapis.com/v2/user/info/", json=payload("tiktok_user_info"))

    response = callback(owner_client, "tiktok", code="tiktok-code", state=params["state"])
    exchange = form(responses.calls[0])
    assert exchange["client_key"] == CLIENTS["tiktok"][0]
    assert exchange["client_secret"] == CLIENTS["tiktok"][1]
    assert exchange["grant_type"] == "authorization_code" and exchange["code_verifier"]
    assert query(responses.calls[1])["fields"] == "open_id,display_name,avatar_url"

    open_id = "-000OhR7n4ME6GDtmKuf4HRmRZn3sz0qsBZdAlN0a2RW"
    choose(owner_client, response, open_id)
    connector = Connector.objects.get(organization=org, provider="tiktok")
    # The provider's defaults (the upload chunk size) are saved beside the account chosen.
    assert connector.name == "Acme Coffee" and connector.config["open_id"] == open_id
    assert credentials_load(connector=connector) == {
        "access_token": "act.example12345Example12345Example",
        "refresh_token": "rft.example12345Example12345Example",
    }
    assert connector.credentials_masks["refresh_token"] == "rft.…mple"
    # The connection lasts as long as the refresh token (a year); the access token a day.
    assert connector.token_expires_at > timezone.now() + timedelta(days=364)
    link = OAuthLink.objects.get(connector=connector)
    assert link.access_expires_at < timezone.now() + timedelta(hours=25)


# --- Reddit ------------------------------------------------------------------------------------


@responses.activate
def test_reddit_asks_for_a_permanent_grant_and_renews_with_the_refresh_token(owner_client, org):
    url, params = start(owner_client, "reddit")
    assert url.startswith("https://www.reddit.com/api/v1/authorize?")
    assert params["duration"] == "permanent" and params["scope"] == "identity read submit"
    responses.post(REDDIT_TOKEN, json=payload("reddit_token"))
    responses.get("https://oauth.reddit.com/api/v1/me", json=payload("reddit_me"))

    response = callback(owner_client, "reddit", code="reddit-code", state=params["state"])
    exchange = responses.calls[0].request
    basic = base64.b64encode(f"{CLIENTS['reddit'][0]}:{CLIENTS['reddit'][1]}".encode()).decode()
    assert exchange.headers["Authorization"] == f"Basic {basic}"
    assert "client_secret" not in form(responses.calls[0])
    assert "neonhub" in exchange.headers["User-Agent"]

    choose(owner_client, response, "acme_bot")
    connector = Connector.objects.get(organization=org, provider="reddit")
    stored = credentials_load(connector=connector)
    assert stored["username"] == "acme_bot" and "password" not in stored
    assert stored["refresh_token"] == "144302218-reddit-refresh-0001"
    # The connector's test renewed the access token with the refresh token grant.
    renew = [c for c in responses.calls if c.request.url == REDDIT_TOKEN][-1]
    assert form(renew) == {
        "grant_type": "refresh_token",
        "refresh_token": "144302218-reddit-refresh-0001",
    }
    assert connector.health == Health.HEALTHY


# --- reconnecting ------------------------------------------------------------------------------


@responses.activate
def test_reconnecting_keeps_the_connector_and_audits_without_secrets(owner_client, org):
    responses.post(TIKTOK_TOKEN, json=payload("tiktok_token"))
    responses.get("https://open.tiktokapis.com/v2/user/info/", json=payload("tiktok_user_info"))
    _, params = start(owner_client, "tiktok")
    choose(
        owner_client,
        callback(owner_client, "tiktok", code="c1", state=params["state"]),
        "-000OhR7n4ME6GDtmKuf4HRmRZn3sz0qsBZdAlN0a2RW",
    )
    connector = Connector.objects.get(provider="tiktok")
    Connector.objects.filter(pk=connector.pk).update(
        health=Health.NEEDS_RECONNECT, last_error="TikTok: access_token_invalid"
    )

    responses.replace(responses.POST, TIKTOK_TOKEN, json=payload("tiktok_refresh"))
    # A reconnected connector is tested at once: TikTok's creator info answers the test.
    creator_info = json.loads(
        (Path(__file__).parents[2] / "fixtures" / "tiktok" / "creator_info.json").read_text()
    )
    responses.post(
        "https://open.tiktokapis.com/v2/post/publish/creator_info/query/", json=creator_info
    )
    _, params = start(owner_client, "tiktok", connector=str(connector.pk))
    response = callback(owner_client, "tiktok", code="c2", state=params["state"])
    page = owner_client.get(response["Location"])
    assert "Reconnecting" in page.content.decode() and "checked" in page.content.decode()
    owner_client.post(
        response["Location"], {"account": "-000OhR7n4ME6GDtmKuf4HRmRZn3sz0qsBZdAlN0a2RW"}
    )

    assert Connector.objects.filter(provider="tiktok").count() == 1
    connector.refresh_from_db()
    assert credentials_load(connector=connector)["access_token"].startswith("act.rotated")
    assert connector.health == Health.HEALTHY and connector.last_error == ""
    event = AuditEvent.objects.filter(action="connector.reconnect").get()
    assert event.target_id == str(connector.pk)
    dumped = json.dumps(event.changes)
    assert "act." not in dumped and "rft." not in dumped
    assert "user.info.basic" in dumped
    assert event.changes["account"][0].startswith("Acme Coffee (-000OhR7n4")  # the account before


# --- what a person can run into ----------------------------------------------------------------


def test_denied_consent_says_so_and_creates_nothing(owner_client):
    _, params = start(owner_client, "youtube")
    response = callback(owner_client, "google", error="access_denied", state=params["state"])
    assert response.status_code == 400
    text = response.content.decode()
    assert "did not give NeonHub access" in text and "start again" in text.lower()
    assert not Connector.objects.exists() and not OAuthGrant.objects.exists()


@responses.activate
def test_a_replayed_state_is_refused(owner_client):
    responses.post(TIKTOK_TOKEN, json=payload("tiktok_token"))
    responses.get("https://open.tiktokapis.com/v2/user/info/", json=payload("tiktok_user_info"))
    _, params = start(owner_client, "tiktok")
    assert callback(owner_client, "tiktok", code="c", state=params["state"]).status_code == 302
    again = callback(owner_client, "tiktok", code="c", state=params["state"])
    assert again.status_code == 400 and "already used" in again.content.decode()
    assert len(responses.calls) == 2  # the replay never reached TikTok


def test_an_unknown_state_and_a_state_from_another_session_are_refused(
    owner_client, client, org, django_user_model
):
    _, params = start(owner_client, "reddit")
    assert callback(owner_client, "reddit", code="c", state="forged").status_code == 400
    from tests.factories import MembershipFactory

    other = MembershipFactory(organization=org, role="owner").user
    from django.test import Client

    stranger = Client()
    stranger.force_login(other)
    response = callback(stranger, "reddit", code="c", state=params["state"])
    assert response.status_code == 400 and "not valid" in response.content.decode()


def test_an_expired_state_is_refused(owner_client, settings, monkeypatch):
    import time

    _, params = start(owner_client, "reddit")
    later = time.time() + settings.NEONHUB_OAUTH_STATE_MINUTES * 60 + 5
    monkeypatch.setattr(time, "time", lambda: later)
    response = callback(owner_client, "reddit", code="c", state=params["state"])
    assert response.status_code == 400 and "expired" in response.content.decode()


def test_a_state_started_in_another_organization_is_refused(owner_client, owner, other_org):
    from tests.factories import MembershipFactory

    _, params = start(owner_client, "reddit")
    MembershipFactory(organization=other_org, user=owner, role="owner")
    session = owner_client.session
    session["organization_id"] = str(other_org.pk)
    session.save()
    owner_client.post("/org/switch/", {"organization": str(other_org.pk)})
    response = callback(owner_client, "reddit", code="c", state=params["state"])
    assert response.status_code == 400
    assert "another organization" in response.content.decode()


@responses.activate
def test_a_failed_code_exchange_says_what_to_check(owner_client):
    responses.post(
        GOOGLE_TOKEN,
        status=401,
        json={"error": "invalid_client", "error_description": "The OAuth client was not found."},
    )
    _, params = start(owner_client, "youtube")
    response = callback(owner_client, "google", code="bad", state=params["state"])
    assert response.status_code == 502
    text = response.content.decode()
    assert "invalid_client" in text and "redirect URL" in text
    assert not OAuthGrant.objects.exists()


def test_an_app_not_configured_explains_where_to_set_it(owner_client, settings):
    settings.NEONHUB_OAUTH = {**settings.NEONHUB_OAUTH, "linkedin": {}}
    response = owner_client.post("/connectors/oauth/linkedin/start/")
    assert response.status_code == 400
    text = response.content.decode()
    assert "not set up yet" in text and "Connected apps" in text


def test_members_cannot_start_a_connection(client, org):
    from tests.factories import MembershipFactory

    client.force_login(MembershipFactory(organization=org, role="member").user)
    assert client.post("/connectors/oauth/youtube/start/").status_code == 403


@responses.activate
def test_an_account_not_offered_is_refused_by_name(owner_client):
    responses.post(REDDIT_TOKEN, json=payload("reddit_token"))
    responses.get("https://oauth.reddit.com/api/v1/me", json=payload("reddit_me"))
    _, params = start(owner_client, "reddit")
    response = callback(owner_client, "reddit", code="c", state=params["state"])
    refused = owner_client.post(response["Location"], {"account": "someone_else"})
    assert refused.status_code == 422 and "Choose one of the accounts" in refused.content.decode()
    assert not Connector.objects.exists()


@responses.activate
def test_another_users_grant_is_not_found(owner_client, org):
    responses.post(REDDIT_TOKEN, json=payload("reddit_token"))
    responses.get("https://oauth.reddit.com/api/v1/me", json=payload("reddit_me"))
    _, params = start(owner_client, "reddit")
    location = callback(owner_client, "reddit", code="c", state=params["state"])["Location"]
    from django.test import Client

    from tests.factories import MembershipFactory

    other = Client()
    other.force_login(MembershipFactory(organization=org, role="owner").user)
    assert other.get(location).status_code == 404


@responses.activate
def test_an_answer_not_shaped_as_documented_ends_on_the_error_page(owner_client):
    responses.post(TIKTOK_TOKEN, json=payload("tiktok_token"))
    responses.get("https://open.tiktokapis.com/v2/user/info/", json={"data": ["not", "a", "map"]})
    _, params = start(owner_client, "tiktok")
    response = callback(owner_client, "tiktok", code="c", state=params["state"])
    assert response.status_code == 502
    assert "does not understand" in response.content.decode()


@responses.activate
def test_facebook_follows_the_pages_of_me_accounts(owner_client):
    first = payload("meta_accounts")
    first["paging"]["next"] = f"{META_ACCOUNTS}?after=QVFIUl&limit=100"
    second = {
        "data": [{"id": "5555555555555", "name": "Acme Tea", "access_token": "EAAGpage-tea-0005"}],
        "paging": {"cursors": {"before": "x", "after": "y"}},
    }
    responses.get(META_TOKEN, json=payload("meta_token"))
    responses.get(META_TOKEN, json=payload("meta_long_lived"))
    responses.get(
        META_ACCOUNTS,
        json=second,
        match=[responses.matchers.query_param_matcher({"after": "QVFIUl", "limit": "100"})],
    )
    responses.get(META_ACCOUNTS, json=first)
    _, params = start(owner_client, "facebook")
    callback(owner_client, "meta", code="AQDcode", state=params["state"])
    names = [a["name"] for a in OAuthGrant.objects.get().accounts]
    assert names == ["Acme Coffee", "@acmecoffee", "Acme Beans", "Acme Tea"]
