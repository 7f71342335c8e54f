"""The retention setting: the Data retention page and GET/PUT /api/v1/settings/retention,
owners and admins change it, everyone reads it, every change audited."""

from __future__ import annotations

import pytest

from neonhub.core.models import AuditEvent, Role
from neonhub.core.services import api_key_create
from tests.conftest import ApiClient
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(client, org):
    return ApiClient(client, api_key_create(organization=org, name="ci", role=Role.ADMIN).token)


def _login(client, org, role):
    client.force_login(MembershipFactory(organization=org, role=role).user)
    return client


def test_the_page_shows_the_default_and_an_owner_sets_the_days_audited(client, org, settings):
    settings.NEONHUB_RETENTION_DAYS = 90
    owner = _login(client, org, Role.OWNER)
    page = owner.get("/settings/retention/").content.decode()
    assert "Kept now: <strong>90 days</strong> (the installation's default)" in page
    assert "/settings/retention/" in owner.get("/settings/").content.decode()

    resp = owner.post("/settings/retention/", {"days": "30"})
    assert resp.status_code == 302
    org.refresh_from_db()
    assert org.settings["retention"] == {"days": 30}
    event = AuditEvent.objects.get(organization=org, action="settings.retention")
    assert event.changes == {"retention_days": [None, 30]}
    assert (
        "Kept now: <strong>30 days</strong>" in owner.get("/settings/retention/").content.decode()
    )

    assert owner.post("/settings/retention/", {"days": ""}).status_code == 302
    org.refresh_from_db()
    assert "retention" not in org.settings


def test_too_few_days_come_back_next_to_the_field(client, org):
    owner = _login(client, org, Role.ADMIN)
    resp = owner.post("/settings/retention/", {"days": "3"})
    assert resp.status_code == 422
    assert "greater than or equal to 7" in resp.content.decode()
    org.refresh_from_db()
    assert "retention" not in org.settings
    assert not AuditEvent.objects.filter(action="settings.retention").exists()


def test_members_read_it_but_cannot_change_it(client, org):
    member = _login(client, org, Role.MEMBER)
    assert 'id="read-only-note"' in member.get("/settings/retention/").content.decode()
    assert member.post("/settings/retention/", {"days": "30"}).status_code == 403


def test_the_api_reads_and_sets_it(admin_api, org, settings):
    settings.NEONHUB_RETENTION_DAYS = 90
    assert admin_api.get("/settings/retention").json() == {
        "days": None,
        "default_days": 90,
        "effective_days": 90,
    }
    resp = admin_api.put("/settings/retention", {"days": 14})
    assert resp.status_code == 200, resp.json()
    assert resp.json()["effective_days"] == 14
    assert AuditEvent.objects.get(action="settings.retention").actor.startswith("API key ci")
    assert admin_api.put("/settings/retention", {"days": None}).json()["effective_days"] == 90


def test_the_api_refuses_bad_days_naming_the_field(admin_api, viewer_key, client):
    resp = admin_api.put("/settings/retention", {"days": 5000})
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "days"
    assert admin_api.put("/settings/retention", {"days": 30, "hours": 1}).status_code == 422
    viewer = ApiClient(client, viewer_key)
    assert viewer.get("/settings/retention").status_code == 200
    assert viewer.put("/settings/retention", {"days": 30}).status_code == 403
