"""Optional TOTP two-factor: enrolment on /account/, the code step of signing in, wrong codes
counted by django-axes, and an organization that requires it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from neonhub.core.models import AuditEvent, Organization, Role
from neonhub.core.services import api_key_create
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456"  # tests.factories.UserFactory's


def _code(device: TOTPDevice) -> str:
    return (
        f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"
    )


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code does not delay the next in these tests


@pytest.fixture
def enrolled(owner):
    return TOTPDevice.objects.create(user=owner, name="app", confirmed=True)


def test_enrolment_shows_a_qr_code_and_is_confirmed_by_a_code(owner_client, owner):
    page = owner_client.get("/account/")
    body = page.content.decode()
    assert page.status_code == 200 and "<svg" in body and 'id="totp-secret"' in body
    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    wrong = owner_client.post("/account/", {"action": "confirm", "code": "12"})
    assert wrong.status_code == 422 and 'id="id_code_error"' in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=owner, confirmed=True).exists()
    resp = owner_client.post("/account/", {"action": "confirm", "code": _code(device)})
    assert resp.status_code == 302
    assert TOTPDevice.objects.get(user=owner).confirmed
    assert AuditEvent.objects.filter(action="account.two_factor_enable").exists()
    assert "Turn two-factor off" in owner_client.get("/account/").content.decode()


def test_signing_in_asks_for_the_code_after_the_password(client, owner, enrolled):
    resp = client.post("/login/", {"username": owner.username, "password": PASSWORD})
    assert resp.status_code == 302 and resp["Location"] == "/login/code/"
    assert client.get("/").status_code == 302  # not signed in yet
    wrong = client.post("/login/code/", {"code": "000000" if _code(enrolled) != "000000" else "1"})
    assert wrong.status_code == 422 and "did not match" in wrong.content.decode()
    resp = client.post("/login/code/", {"code": _code(enrolled)})
    assert resp.status_code == 302
    assert client.get("/").status_code == 200


def test_without_a_device_the_password_is_enough(client, owner):
    resp = client.post("/login/", {"username": owner.username, "password": PASSWORD})
    assert resp.status_code == 302 and resp["Location"] != "/login/code/"
    assert client.get("/").status_code == 200


def test_the_code_page_without_a_password_first_goes_back_to_login(client):
    assert client.get("/login/code/")["Location"] == "/login/"


def test_wrong_codes_lock_the_account_like_wrong_passwords(client, owner, enrolled):
    client.post("/login/", {"username": owner.username, "password": PASSWORD})
    statuses = [
        client.post("/login/code/", {"code": "99999999"}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[-1] == 429 and statuses[0] == 422
    resp = client.post("/login/code/", {"code": _code(enrolled)})
    assert resp.status_code == 429
    assert client.get("/").status_code == 302


def test_an_organization_can_require_two_factor(client, org, owner, viewer):
    MembershipFactory(organization=org, role=Role.OWNER)
    client.force_login(viewer)
    assert client.post("/settings/team/two-factor/", {"required": "on"}).status_code == 403
    client.force_login(owner)
    resp = client.post("/settings/team/two-factor/", {"required": "on"})
    assert resp.status_code == 302
    assert Organization.objects.get(pk=org.pk).settings["require_two_factor"] is True
    assert AuditEvent.objects.filter(action="settings.two_factor").exists()
    # The owner has no device either: sent to enrol, before anything else.
    assert client.get("/")["Location"] == "/account/"
    api = client.get("/api/v1/runs")
    assert api.status_code == 403 and api.json()["error"]["code"] == "TWO_FACTOR_REQUIRED"
    assert "require" in client.get("/account/").content.decode()
    # API keys are not affected.
    token = api_key_create(organization=org, name="ci").token
    assert (
        client.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    client.get("/account/")
    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    client.post("/account/", {"action": "confirm", "code": _code(device)})
    assert client.get("/").status_code == 200


def test_a_device_holder_in_a_new_session_confirms_with_a_code(client, org, owner, enrolled):
    org.settings = {"require_two_factor": True}
    org.save()
    client.force_login(owner)  # a session that did not pass the code step
    assert client.get("/")["Location"] == "/account/"
    resp = client.post("/account/", {"action": "verify", "code": _code(enrolled)})
    assert resp.status_code == 302
    assert client.get("/").status_code == 200


def test_the_code_step_is_over_once_signed_in(client, owner, enrolled):
    client.post("/login/", {"username": owner.username, "password": PASSWORD})
    client.post("/login/code/", {"code": _code(enrolled)})
    assert "neonhub_2fa_user" not in client.session
    client.logout()
    assert client.get("/login/code/")["Location"] == "/login/"
