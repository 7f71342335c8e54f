"""The API keys page: the token once, then never again; revoking with a confirmation; members
read the list without secrets and without the form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from neonhub.core.models import ApiKey, AuditEvent, Role
from neonhub.core.services import api_key_create
from tests.conftest import ApiClient
from tests.factories import MembershipFactory

URL = "/settings/api-keys/"


@pytest.fixture
def admin(org):
    return MembershipFactory(organization=org, role=Role.ADMIN).user


def _create(client, **fields):
    data = {"name": "CI deploys", "role": "member", "expiry": "90", "rate_limit": ""}
    data.update(fields)
    return client.post(URL, data)


def test_creating_shows_the_token_once_and_never_again(client, org, admin):
    client.force_login(admin)
    page = _create(client, scopes=["runs:read", "runs:write"])
    assert page.status_code == 200
    token = page.context["issued"].token
    html = page.content.decode()
    assert token in html and "You will not see it again" in html
    assert "no-store" in page["Cache-Control"] or "no-cache" in page["Cache-Control"]
    key = ApiKey.objects.get(organization=org, name="CI deploys")
    assert key.scopes == ["runs:read", "runs:write"] and key.created_by == admin
    assert timedelta(days=89) < key.expires_at - timezone.now() <= timedelta(days=90)
    # The token works within its scopes, then never shows again anywhere.
    assert ApiClient(Client(), token).get("/runs").status_code == 200
    secret = token.split(".", 1)[1]
    for url in (
        URL,
        f"{URL}{key.id}/",
        f"{URL}{key.id}/revoke/",
        "/settings/audit/",
        "/api/v1/api-keys",
    ):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert secret not in answer.content.decode(), url
    assert AuditEvent.objects.filter(action="api_key.create", actor_user=admin).exists()


def test_the_list_shows_what_a_key_is_and_does(client, org, admin):
    api_key_create(organization=org, name="Legacy", role=Role.VIEWER)
    revoked = api_key_create(organization=org, name="Gone").api_key
    revoked.revoked_at = timezone.now()
    revoked.save()
    client.force_login(admin)
    html = client.get(URL).content.decode()
    assert "Legacy" in html and "all of its role" in html and "command line" in html
    assert "status-revoked" in html and "status-active" in html
    assert "never" in html  # never used


def test_a_date_expiry_and_its_errors_sit_next_to_the_fields(client, org, admin):
    client.force_login(admin)
    missing = _create(client, expiry="date")
    assert missing.status_code == 422
    assert missing.context["form"].errors["expires_on"]
    past = _create(client, expiry="date", expires_on="2001-01-01")
    assert past.status_code == 422
    assert "in the future" in str(past.context["form"].errors["expires_on"])
    beyond = _create(client, role="viewer", scopes=["runs:write"])
    assert beyond.status_code == 422
    assert "viewer key cannot hold runs:write" in str(beyond.context["form"].errors["scopes"])
    too_high = _create(client, role="owner")
    assert too_high.status_code == 422 and "role" in too_high.context["form"].errors
    bad_rate = _create(client, rate_limit="fast")
    assert bad_rate.status_code == 422 and "rate_limit" in bad_rate.context["form"].errors
    on_day = _create(client, expiry="date", expires_on="2099-05-01")
    assert on_day.status_code == 200
    assert ApiKey.objects.get(name="CI deploys").expires_at.isoformat().startswith("2099-05-01")


def test_revoking_asks_first_then_the_key_is_refused(client, org, admin):
    issued = api_key_create(organization=org, name="old")
    client.force_login(admin)
    confirm = client.get(f"{URL}{issued.api_key.id}/revoke/")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert ApiClient(Client(), issued.token).get("/runs").status_code == 200
    done = client.post(f"{URL}{issued.api_key.id}/revoke/")
    assert done.status_code == 302
    assert ApiClient(Client(), issued.token).get("/runs").status_code == 401
    assert AuditEvent.objects.filter(action="api_key.revoke", actor_user=admin).count() == 1


def test_changing_the_rate_limit_on_the_page(client, org, admin):
    key = api_key_create(organization=org, name="bulk").api_key
    client.force_login(admin)
    bad = client.post(f"{URL}{key.id}/", {"name": "bulk", "rate_limit": "lots"})
    assert bad.status_code == 422 and "rate_limit" in bad.context["form"].errors
    ok = client.post(f"{URL}{key.id}/", {"name": "bulk import", "rate_limit": "20/second"})
    assert ok.status_code == 302
    key.refresh_from_db()
    assert (key.name, key.rate_limit) == ("bulk import", "20/second")


def test_members_read_the_list_but_may_not_create_or_revoke(client, org):
    issued = api_key_create(organization=org, name="theirs")
    member = MembershipFactory(organization=org, role=Role.MEMBER).user
    client.force_login(member)
    page = client.get(URL)
    assert page.status_code == 200
    assert "theirs" in page.content.decode() and page.context["form"] is None
    assert 'id="api-key-form"' not in page.content.decode()
    assert _create(client).status_code == 403
    assert client.post(f"{URL}{issued.api_key.id}/revoke/").status_code == 403
    assert client.get(f"{URL}{issued.api_key.id}/").status_code == 403
    assert not ApiKey.objects.filter(name="CI deploys").exists()


def test_another_organizations_key_is_a_404(client, org, other_org, admin):
    theirs = api_key_create(organization=other_org, name="theirs").api_key
    client.force_login(admin)
    assert client.get(f"{URL}{theirs.id}/revoke/").status_code == 404
    assert client.post(f"{URL}{theirs.id}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_the_settings_hub_links_the_page(client, org, admin):
    client.force_login(admin)
    assert URL in client.get("/settings/").content.decode()
