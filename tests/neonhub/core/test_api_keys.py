"""The API keys API: owners and admins list, create, change and revoke; the token is in the
creation answer only; every change is audited."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from neonhub.core.models import ApiKey, AuditEvent, Role
from neonhub.core.services import api_key_create
from tests.conftest import ApiClient


@pytest.fixture
def admin_api(client, org):
    return ApiClient(client, api_key_create(organization=org, name="admin", role=Role.ADMIN).token)


def test_an_admin_creates_a_scoped_key_and_sees_its_token_once(client, org, admin_api):
    created = admin_api.post(
        "/api-keys",
        {
            "name": "CI",
            "role": "member",
            "scopes": ["runs:write", "runs:read"],
            "rate_limit": "100/minute",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    token = body["token"]
    assert token.startswith(body["prefix"] + ".")
    assert body["scopes"] == ["runs:read", "runs:write"]
    assert body["status"] == "active" and body["rate_limit"] == "100/minute"
    # The token works, within its scopes.
    ci = ApiClient(client, token)
    assert ci.get("/runs").status_code == 200
    assert ci.get("/contacts").status_code == 403
    # It never appears again: not in the list, not in the audit log.
    listed = admin_api.get("/api-keys")
    assert listed.status_code == 200
    secret = token.split(".", 1)[1]
    assert secret not in listed.content.decode()
    assert "hashed_secret" not in listed.content.decode()
    assert {k["name"] for k in listed.json()} == {"admin", "CI"}
    event = AuditEvent.objects.get(action="api_key.create", target_id=body["id"])
    assert secret not in str(event.changes)
    assert event.actor.startswith("API key admin")


def test_revoking_answers_401_on_the_next_use(client, org, admin_api):
    issued = api_key_create(organization=org, name="old", role=Role.MEMBER)
    old = ApiClient(client, issued.token)
    assert old.get("/runs").status_code == 200
    assert admin_api.delete(f"/api-keys/{issued.api_key.id}").status_code == 204
    refused = old.get("/runs")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "UNAUTHENTICATED"
    assert AuditEvent.objects.filter(
        action="api_key.revoke", target_id=str(issued.api_key.id)
    ).exists()
    listed = {k["name"]: k for k in admin_api.get("/api-keys").json()}
    assert listed["old"]["status"] == "revoked"


def test_a_key_may_not_outrank_its_creator_nor_hold_scopes_beyond_its_role(admin_api):
    owner = admin_api.post("/api-keys", {"name": "x", "role": "owner"})
    assert owner.status_code == 422
    assert owner.json()["error"]["details"][0]["field"] == "role"
    viewer = admin_api.post("/api-keys", {"name": "x", "role": "viewer", "scopes": ["runs:write"]})
    assert viewer.status_code == 422
    assert viewer.json()["error"]["details"][0]["field"] == "scopes"
    unknown = admin_api.post("/api-keys", {"name": "x", "scopes": ["runs:everything"]})
    assert unknown.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x", "rate_limit": "lots"}, "rate_limit"),
        ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "role": "boss"}, "role"),
        ({"name": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_names_the_field(admin_api, body, field):
    response = admin_api.post("/api-keys", body)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == field


def test_members_and_viewers_may_not_manage_keys(api, viewer_api):
    assert api.get("/api-keys").status_code == 403
    assert api.post("/api-keys", {"name": "x"}).status_code == 403
    assert viewer_api.get("/api-keys").status_code == 403


def test_another_organizations_key_is_not_found(admin_api, other_org):
    theirs = api_key_create(organization=other_org, name="theirs").api_key
    assert admin_api.delete(f"/api-keys/{theirs.id}").status_code == 404
    assert admin_api.patch(f"/api-keys/{theirs.id}", {"name": "mine"}).status_code == 404
    assert admin_api.delete(f"/api-keys/{uuid.uuid4()}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None and theirs.name == "theirs"


def test_changing_the_rate_limit_is_audited(org, admin_api):
    key = api_key_create(organization=org, name="bulk").api_key
    changed = admin_api.patch(f"/api-keys/{key.id}", {"rate_limit": "5/second"})
    assert changed.status_code == 200
    assert changed.json()["rate_limit"] == "5/second"
    event = AuditEvent.objects.get(action="api_key.update", target_id=str(key.id))
    assert event.changes == {"rate_limit": ["", "5/second"]}
    bad = admin_api.patch(f"/api-keys/{key.id}", {"rate_limit": "5 per second"})
    assert bad.status_code == 422


def test_expired_keys_show_as_expired_and_answer_401(client, org, admin_api):
    issued = api_key_create(
        organization=org, name="soon", expires_at=timezone.now() + timedelta(seconds=30)
    )
    ApiKey.objects.filter(pk=issued.api_key.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert ApiClient(client, issued.token).get("/runs").status_code == 401
    listed = {k["name"]: k for k in admin_api.get("/api-keys").json()}
    assert listed["soon"]["status"] == "expired"


def test_a_key_created_from_the_command_line_is_audited_as_the_system(org):
    issued = api_key_create(organization=org, name="cli")
    event = AuditEvent.objects.get(action="api_key.create", target_id=str(issued.api_key.id))
    assert event.actor == "system"


def test_an_expiry_without_an_offset_is_utc(admin_api):
    created = admin_api.post("/api-keys", {"name": "naive", "expires_at": "2099-01-02T03:04:05"})
    assert created.status_code == 201, created.content
    assert created.json()["expires_at"].startswith("2099-01-02T03:04:05")
    assert ApiKey.objects.get(name="naive").expires_at.utcoffset() == timedelta(0)
