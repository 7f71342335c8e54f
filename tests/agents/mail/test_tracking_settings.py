"""The tracking settings: the page mail:settings and GET/PUT /api/v1/settings/email-tracking."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.mail.models import MailSettings
from neonhub.core.models import AuditEvent, Role
from neonhub.core.services import api_key_create
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db

URL = "/email/tracking/"
SAVE = {"opens": "", "clicks": "on", "utm": "on", "utm_source": "newsletter", "utm_medium": "email"}


def test_url_name_and_tabs(owner_client):
    assert reverse("mail:settings") == URL
    page = owner_client.get(URL).content.decode()
    assert 'aria-current="page">Tracking settings</a>' in page
    assert "Track opens" in page and "Apple Mail" in page and 'id="tracking-save"' in page
    assert reverse("mail:settings") in owner_client.get("/settings/").content.decode()


def test_owner_switches_opens_off_and_it_is_audited(owner_client, org):
    resp = owner_client.post(URL, {k: v for k, v in SAVE.items() if v})
    assert resp.status_code == 302 and resp["Location"] == URL
    chosen = MailSettings.objects.get(organization=org)
    assert (chosen.track_opens, chosen.track_clicks, chosen.add_utm) == (False, True, True)
    assert chosen.utm_source == "newsletter"
    event = AuditEvent.objects.get(organization=org, action="settings.email_tracking")
    assert event.changes == {"track_opens": [True, False], "utm_source": ["neonhub", "newsletter"]}
    assert "saved" in owner_client.get(URL).content.decode()


def test_an_empty_utm_source_is_a_form_error(owner_client, org):
    resp = owner_client.post(URL, {**SAVE, "utm_source": "  "})
    assert resp.status_code == 422
    assert "field-error" in resp.content.decode()
    assert not MailSettings.objects.filter(organization=org).exists()


def test_viewers_read_but_cannot_save(viewer_client, org):
    page = viewer_client.get(URL)
    assert page.status_code == 200 and 'id="read-only-note"' in page.content.decode()
    assert 'id="tracking-save"' not in page.content.decode()
    assert viewer_client.post(URL, SAVE).status_code == 403
    assert not MailSettings.objects.filter(organization=org).exists()


@pytest.fixture
def admin_api(client, org):
    return ApiClient(client, api_key_create(organization=org, name="ci", role=Role.ADMIN).token)


def test_api_answers_defaults_then_put_replaces(admin_api, org):
    assert admin_api.get("/settings/email-tracking").json() == {
        "opens": True,
        "clicks": True,
        "utm": True,
        "utmSource": "neonhub",
        "utmMedium": "email",
    }
    body = {"opens": False, "clicks": False, "utm": True, "utmSource": "nl", "utmMedium": "mail"}
    resp = admin_api.put("/settings/email-tracking", body)
    assert resp.status_code == 200 and resp.json() == body
    assert admin_api.get("/settings/email-tracking").json() == body
    chosen = MailSettings.objects.get(organization=org)
    assert (chosen.track_opens, chosen.track_clicks, chosen.utm_medium) == (False, False, "mail")


def test_api_bad_values_are_422_naming_the_field(admin_api, org):
    resp = admin_api.put("/settings/email-tracking", {"utmSource": ""})
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "utmSource"
    resp = admin_api.put("/settings/email-tracking", {"opens": "sometimes"})
    assert resp.status_code == 422 and "opens" in str(resp.json())
    assert not MailSettings.objects.filter(organization=org).exists()


def test_api_members_read_but_may_not_replace(api, org):
    assert api.get("/settings/email-tracking").status_code == 200
    assert api.put("/settings/email-tracking", {"opens": False}).status_code == 403
    assert not MailSettings.objects.filter(organization=org).exists()


def test_api_settings_are_per_organization(admin_api, other_api, org):
    admin_api.put("/settings/email-tracking", {"opens": False})
    assert other_api.get("/settings/email-tracking").json()["opens"] is True
