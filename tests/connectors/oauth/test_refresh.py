"""Keeping connections connected: the refresh schedule, a refused token renewed once, health
moving to needs_reconnect, and a refresh racing a send without losing a token."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.db import connection as db_connection
from django.utils import timezone

from connectors.models import Connector, Health, OAuthLink
from connectors.oauth import services
from connectors.oauth.tasks import REFRESH_SCHEDULE_NAME, ensure_schedules
from connectors.runtime import connector_persist, credentials_load, credentials_store
from connectors.services import connector_execute
from tests.connectors.oauth.conftest import CLIENTS, payload
from tests.connectors.recorders import ListRecorder

TIKTOK_TOKEN = "https://open.tiktokapis.com/v2/oauth/token/"
API = "https://api.fake-oauth.invalid"
OLD = {
    "access_token": "act.old-access-000000000000",
    "refresh_token": "rft.old-refresh-00000000000",
}


@pytest.fixture(autouse=True)
def _providers(apps, settings):
    settings.NEONHUB_EXTRA_PROVIDERS = {
        **settings.NEONHUB_EXTRA_PROVIDERS,
        "fake_oauth": "tests.connectors.oauth.oauth_provider.OAuthTestProvider",
    }


def linked(
    org,
    *,
    provider="fake_oauth",
    target="tiktok",
    creds=None,
    expires_in=timedelta(hours=2),
    name="",
    **fields,
):
    """A connector connected with a flow: its access token expires in ``expires_in``; the
    connection ends then too when there is no refresh token (as the flow records it)."""
    creds = dict(OLD if creds is None else creds)
    access_expires_at = timezone.now() + expires_in if expires_in is not None else None
    connector = Connector(
        organization=org,
        provider=provider,
        name=name or f"{provider} account",
        token_expires_at=None if creds.get("refresh_token") else access_expires_at,
        **fields,
    )
    credentials_store(connector, creds)
    connector.save()
    OAuthLink.objects.create(
        connector=connector, target=target, account_id="acct", access_expires_at=access_expires_at
    )
    return connector


def form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body or "").items()}


@responses.activate
def test_refresh_saves_the_rotated_refresh_token_with_the_access_token(org):
    connector = linked(org)
    responses.post(TIKTOK_TOKEN, json=payload("tiktok_refresh"))

    assert services.connector_refresh(connector_id=connector.pk).ok
    assert form(responses.calls[0]) == {
        "grant_type": "refresh_token",
        "refresh_token": OLD["refresh_token"],
        "client_key": CLIENTS["tiktok"][0],
        "client_secret": CLIENTS["tiktok"][1],
    }
    connector.refresh_from_db()
    assert credentials_load(connector=connector) == {
        "access_token": "act.rotated67890Rotated67890Rotated",
        "refresh_token": "rft.rotated67890Rotated67890Rotated",
    }
    link = OAuthLink.objects.get(connector=connector)
    assert link.refreshed_at is not None
    # The new access token's day, and the rotated refresh token's year for the connection.
    assert abs((link.access_expires_at - timezone.now()) - timedelta(hours=24)) < timedelta(
        minutes=1
    )
    assert connector.token_expires_at > timezone.now() + timedelta(days=364)


@responses.activate
def test_a_refused_refresh_token_needs_reconnect_and_keeps_the_tokens(org):
    connector = linked(org)
    responses.post(
        TIKTOK_TOKEN,
        status=400,
        json={
            "error": "invalid_grant",
            "error_description": "Refresh token is invalid or expired.",
            "log_id": "2022",
        },
    )
    result = services.connector_refresh(connector_id=connector.pk)
    assert not result.ok and "invalid_grant" in result.message
    connector.refresh_from_db()
    assert connector.health == Health.NEEDS_RECONNECT
    assert "reconnect" in connector.last_error and "rft." not in connector.last_error
    assert credentials_load(connector=connector) == OLD  # nothing half-saved
    assert "invalid_grant" in OAuthLink.objects.get(connector=connector).refresh_error


@responses.activate
def test_an_unreachable_token_endpoint_changes_nothing(org):
    connector = linked(org, health=Health.HEALTHY)
    responses.post(TIKTOK_TOKEN, status=503, body="upstream down")
    assert not services.connector_refresh(connector_id=connector.pk).ok
    connector.refresh_from_db()
    assert connector.health == Health.HEALTHY and credentials_load(connector=connector) == OLD


@responses.activate
def test_the_schedule_renews_only_what_expires_soon(org):
    soon = linked(org)
    later = linked(org, provider="tiktok", expires_in=timedelta(days=10), name="later")
    youtube = linked(org, provider="youtube", target="youtube", name="yt")
    sandbox = linked(org, name="sandbox", mode="sandbox")
    responses.post(TIKTOK_TOKEN, json=payload("tiktok_refresh"))

    assert services.refresh_due() == {"renewed": 1, "failed": 0}
    assert len(responses.calls) == 1
    for untouched in (later, youtube, sandbox):
        untouched.refresh_from_db()
        assert credentials_load(connector=untouched) == OLD
    soon.refresh_from_db()
    assert credentials_load(connector=soon)["refresh_token"].startswith("rft.rotated")


def test_an_expired_token_without_a_refresh_token_needs_reconnect(org):
    connector = linked(
        org,
        provider="linkedin",
        target="linkedin",
        creds={"access_token": "AQU-expired-0000000"},
        expires_in=timedelta(minutes=-5),
    )
    services.refresh_due()
    connector.refresh_from_db()
    assert connector.health == Health.NEEDS_RECONNECT and "expired" in connector.last_error


def test_the_refresh_schedule_is_created_once(db):
    from django_q.models import Schedule

    ensure_schedules()
    ensure_schedules()
    schedule = Schedule.objects.get(name=REFRESH_SCHEDULE_NAME)
    assert schedule.func == "connectors.oauth.tasks.refresh_due" and schedule.minutes == 15


# --- a "token expired" answer ----------------------------------------------------------------


@responses.activate
def test_a_refused_token_is_renewed_once_and_the_call_retried(org):
    connector = linked(org, health=Health.HEALTHY)
    responses.post(f"{API}/posts", status=401, json={"error": "token expired"})
    responses.post(f"{API}/posts", json={"id": "post-1"})
    responses.post(TIKTOK_TOKEN, json=payload("tiktok_refresh"))

    result = connector_execute(
        connector=connector, action="post", input={"text": "hi"}, recorder=ListRecorder()
    )
    assert result.provider_id == "post-1"
    posts = [c for c in responses.calls if c.request.url == f"{API}/posts"]
    assert [c.request.headers["Authorization"] for c in posts] == [
        f"Bearer {OLD['access_token']}",
        "Bearer act.rotated67890Rotated67890Rotated",
    ]
    connector.refresh_from_db()
    assert connector.health == Health.HEALTHY


@responses.activate
def test_a_token_still_refused_after_renewal_needs_reconnect(org):
    from neonhub.core.errors import ConnectorAuth

    connector = linked(org, health=Health.HEALTHY)
    responses.post(f"{API}/posts", status=401, json={"error": "revoked"})
    responses.post(TIKTOK_TOKEN, json=payload("tiktok_refresh"))
    with pytest.raises(ConnectorAuth):
        connector_execute(
            connector=connector, action="post", input={"text": "hi"}, recorder=ListRecorder()
        )
    assert (
        len([c for c in responses.calls if c.request.url == f"{API}/posts"]) == 2
    )  # once more only
    assert len([c for c in responses.calls if c.request.url == TIKTOK_TOKEN]) == 1
    connector.refresh_from_db()
    assert connector.health == Health.NEEDS_RECONNECT


@responses.activate
def test_a_connector_not_connected_with_oauth_is_not_renewed(org):
    from neonhub.core.errors import ConnectorAuth

    connector = linked(org, health=Health.HEALTHY)
    OAuthLink.objects.filter(connector=connector).delete()
    responses.post(f"{API}/posts", status=401, json={"error": "revoked"})
    with pytest.raises(ConnectorAuth):
        connector_execute(
            connector=connector, action="post", input={"text": "hi"}, recorder=ListRecorder()
        )
    assert len(responses.calls) == 1


# --- a refresh racing a send -------------------------------------------------------------------


def _in_thread(target, errors):
    def run():
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            db_connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
@responses.activate
def test_a_send_renewing_its_token_during_a_refresh_keeps_the_rotated_refresh_token(org):
    """The send loaded the connector before the refresh rotated the refresh token and saves its
    own renewed access token after: the rotated refresh token survives."""
    connector = linked(org, health=Health.HEALTHY)
    in_flight, refreshed = threading.Event(), threading.Event()

    def me(request):
        in_flight.set()
        assert refreshed.wait(10)
        return 200, {}, '{"new_access_token": "act.renewed-by-the-send-0000"}'

    responses.add_callback(responses.GET, f"{API}/me", callback=me)
    responses.post(TIKTOK_TOKEN, json=payload("tiktok_refresh"))
    errors: list = []
    send = _in_thread(
        lambda: connector_execute(
            connector=Connector.objects.get(pk=connector.pk),
            action="read",
            input={},
            recorder=ListRecorder(),
        ),
        errors,
    )
    assert in_flight.wait(10)
    refresh = _in_thread(lambda: services.connector_refresh(connector_id=connector.pk), errors)
    refresh.join(10)
    refreshed.set()
    send.join(10)
    assert not errors, errors
    stored = credentials_load(connector=Connector.objects.get(pk=connector.pk))
    assert stored == {
        "access_token": "act.renewed-by-the-send-0000",
        "refresh_token": "rft.rotated67890Rotated67890Rotated",
    }


@pytest.mark.django_db(transaction=True)
@responses.activate
def test_a_refresh_finishing_after_a_send_saved_keeps_both_tokens_of_the_refresh(org):
    connector = linked(org, health=Health.HEALTHY)
    asked, saved = threading.Event(), threading.Event()

    def token(request):
        asked.set()
        assert saved.wait(10)
        return 200, {}, json_text(payload("tiktok_refresh"))

    responses.add_callback(responses.POST, TIKTOK_TOKEN, callback=token)
    errors: list = []
    refresh = _in_thread(lambda: services.connector_refresh(connector_id=connector.pk), errors)
    assert asked.wait(10)

    def send():
        stale = Connector.objects.get(pk=connector.pk)
        from connectors.runtime import provider_build

        provider = provider_build(connector=stale, recorder=ListRecorder())
        provider.updated_credentials = {"access_token": "act.renewed-by-the-send-0000"}
        connector_persist(connector=stale, provider=provider)

    sender = _in_thread(send, errors)
    sender.join(10)
    saved.set()
    refresh.join(10)
    assert not errors, errors
    stored = credentials_load(connector=Connector.objects.get(pk=connector.pk))
    assert stored == {
        "access_token": "act.rotated67890Rotated67890Rotated",
        "refresh_token": "rft.rotated67890Rotated67890Rotated",
    }


def json_text(value) -> str:
    import json

    return json.dumps(value)


@responses.activate
def test_a_sixty_day_token_is_renewed_in_its_last_week_once_a_day(org):
    stale = linked(org, expires_in=timedelta(days=5), name="stale")
    OAuthLink.objects.filter(connector=stale).update(
        refreshed_at=timezone.now() - timedelta(days=2)
    )
    fresh = linked(org, expires_in=timedelta(days=5), name="fresh")
    OAuthLink.objects.filter(connector=fresh).update(
        refreshed_at=timezone.now() - timedelta(hours=1)
    )
    responses.post(TIKTOK_TOKEN, json=payload("tiktok_refresh"))

    assert services.refresh_due() == {"renewed": 1, "failed": 0}
    stale.refresh_from_db()
    assert credentials_load(connector=stale)["refresh_token"].startswith("rft.rotated")


@responses.activate
def test_a_pasted_instagram_login_token_is_renewed_before_it_expires(org):
    from connectors.services import connector_create

    connector = connector_create(
        organization=org,
        provider="instagram",
        name="IG",
        credentials={"access_token": "IGAAold-long-lived-token-0000"},
        config={"ig_user_id": "17841400000000001", "base_url": "https://graph.instagram.com"},
        token_expires_at=timezone.now() + timedelta(days=3),
    )
    responses.get(
        "https://graph.instagram.com/refresh_access_token",
        json={
            "access_token": "IGAAnew-long-lived-token-1111",
            "token_type": "bearer",
            "expires_in": 5183944,
        },
    )
    assert services.refresh_due() == {"renewed": 1, "failed": 0}
    call = responses.calls[0]
    assert "grant_type=ig_refresh_token" in call.request.url
    connector.refresh_from_db()
    assert credentials_load(connector=connector)["access_token"] == "IGAAnew-long-lived-token-1111"
    assert connector.token_expires_at > timezone.now() + timedelta(days=59)


def test_the_schedule_prunes_connections_abandoned_before_an_account_was_chosen(org):
    from tests.factories import OAuthGrantFactory

    old = OAuthGrantFactory(organization=org, expires_at=timezone.now() - timedelta(minutes=1))
    waiting = OAuthGrantFactory(organization=org)
    services.refresh_due()
    from connectors.models import OAuthGrant

    assert list(OAuthGrant.objects.values_list("pk", flat=True)) == [waiting.pk]
    assert not OAuthGrant.objects.filter(pk=old.pk).exists()
