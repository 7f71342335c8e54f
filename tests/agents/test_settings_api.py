"""GET/PUT /api/v1/settings/compliance: the same schema as the page, 422 naming the field."""

from __future__ import annotations

import pytest

from agents.audience import compliance
from neonhub.core.errors import PolicyBlocked
from neonhub.core.models import AuditEvent, Role
from neonhub.core.services import api_key_create
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db

SETTINGS = {
    "frequency_caps": {"sms": {"day": 0}},
    "quiet_hours": {"start": "22:00", "end": "07:00", "channels": ["sms"], "days": ["sat", "sun"]},
    "require_consent": ["whatsapp"],
    "whatsapp_templates": [
        {"name": "welcome", "language": "en_GB", "category": "marketing", "body": "Hi {{1}}"}
    ],
}


@pytest.fixture
def admin_api(client, org):
    return ApiClient(client, api_key_create(organization=org, name="ci", role=Role.ADMIN).token)


def test_get_answers_defaults_then_put_replaces_and_the_gate_obeys(admin_api, org):
    body = admin_api.get("/settings/compliance").json()
    assert body == {
        "frequency_caps": {},
        "quiet_hours": None,
        "require_consent": [],
        "whatsapp_templates": [],
    }
    resp = admin_api._call("put", "/settings/compliance", SETTINGS)
    assert resp.status_code == 200, resp.json()
    assert resp.json()["whatsapp_templates"][0]["content_sid"] == ""
    assert admin_api.get("/settings/compliance").json() == resp.json()
    org.refresh_from_db()
    assert org.settings["frequency_caps"] == {"sms": {"day": 0}}
    with pytest.raises(PolicyBlocked, match="Frequency cap"):
        compliance.message_check(organization=org, channel="sms", address="+14155550100")
    event = AuditEvent.objects.get(organization=org, action="settings.compliance")
    assert event.actor.startswith("API key ci")


def test_bad_values_are_422_naming_the_field(admin_api, org):
    bad = {**SETTINGS, "quiet_hours": {**SETTINGS["quiet_hours"], "end": "7pm"}}
    resp = admin_api._call("put", "/settings/compliance", bad)
    assert resp.status_code == 422
    fields = [d["field"] for d in resp.json()["error"]["details"]]
    assert "quiet_hours.end" in fields
    resp = admin_api._call(
        "put", "/settings/compliance", {"frequency_caps": {"sms": {"day": 9, "week": 1}}}
    )
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"].startswith("frequency_caps.sms")
    org.refresh_from_db()
    assert "quiet_hours" not in org.settings and "frequency_caps" not in org.settings


def test_members_read_but_may_not_replace(api, org):
    assert api.get("/settings/compliance").status_code == 200
    resp = api._call("put", "/settings/compliance", SETTINGS)
    assert resp.status_code == 403
    org.refresh_from_db()
    assert "require_consent" not in org.settings
