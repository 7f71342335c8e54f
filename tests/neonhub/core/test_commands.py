from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from neonhub.core.models import ApiKey, Membership, Organization
from neonhub.core.selectors import api_key_authenticate

pytestmark = pytest.mark.django_db


def test_createorg_with_owner_login():
    out = StringIO()
    call_command(
        "createorg",
        "acme",
        "--name",
        "Acme",
        "--owner-email",
        "o@acme.test",
        "--owner-password",
        "s3cret-pw",
        "--timezone",
        "Europe/Berlin",
        stdout=out,
    )
    org = Organization.objects.get(slug="acme")
    assert org.timezone == "Europe/Berlin"
    membership = Membership.objects.get(organization=org)
    assert membership.role == "owner" and membership.user.check_password("s3cret-pw")
    assert "acme" in out.getvalue()


@pytest.mark.parametrize(
    "args,message",
    [
        (["dup", "--name", "X"], "already exists"),
        (["tz", "--name", "X", "--timezone", "Mars/Olympus"], "timezone"),
        (["pw", "--name", "X", "--owner-password", "x"], "--owner-email"),
    ],
)
def test_createorg_refuses_bad_input(args, message):
    call_command("createorg", "dup", "--name", "Dup")
    with pytest.raises(CommandError, match=message):
        call_command("createorg", *args)


def test_createapikey_prints_the_key_alone_on_the_last_line():
    call_command("createorg", "acme", "--name", "Acme")
    out = StringIO()
    call_command("createapikey", "acme", "--name", "ci", "--role", "viewer", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    key = api_key_authenticate(token=token)
    assert key is not None and key.role == "viewer" and key.name == "ci"
    assert token not in ApiKey.objects.values_list("hashed_secret", flat=True)[0]
    with pytest.raises(CommandError):
        call_command("createapikey", "nope", "--name", "x")


def test_createapikey_takes_scopes_an_expiry_and_a_rate_limit():
    call_command("createorg", "acme", "--name", "Acme")
    out = StringIO()
    call_command(
        "createapikey",
        "acme",
        "--name",
        "ci",
        "--scope",
        "runs:read",
        "--scope",
        "runs:write",
        "--expires-days",
        "30",
        "--rate-limit",
        "60/minute",
        stdout=out,
    )
    key = api_key_authenticate(token=out.getvalue().strip().splitlines()[-1])
    assert key.scopes == ["runs:read", "runs:write"] and key.rate_limit == "60/minute"
    assert key.expires_at is not None
    with pytest.raises(CommandError, match="cannot hold"):
        call_command(
            "createapikey", "acme", "--name", "v", "--role", "viewer", "--scope", "runs:write"
        )


def test_demo_creates_once_and_reuses(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    settings.NEONHUB_DEMO_HOOKS = []
    first, second = StringIO(), StringIO()
    call_command("demo", stdout=first)
    call_command("demo", stdout=second)
    assert Organization.objects.filter(slug="demo").count() == 1
    assert first.getvalue() == second.getvalue()
    line = next(x for x in first.getvalue().splitlines() if "Log in as" in x)
    email, password = line.split("Log in as ")[1].split(" with password ")
    user = get_user_model().objects.get(username=email)
    assert user.check_password(password)


def test_the_demo_owner_runs_the_team_from_the_pages_and_is_not_staff(tmp_path, settings, client):
    settings.VAR_DIR = tmp_path
    settings.NEONHUB_DEMO_HOOKS = []
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    out = StringIO()
    call_command("demo", stdout=out)
    assert "createsuperuser" in out.getvalue()
    line = next(x for x in out.getvalue().splitlines() if "Log in as" in x)
    email, password = line.split("Log in as ")[1].split(" with password ")
    user = get_user_model().objects.get(username=email)
    assert not user.is_staff and not user.is_superuser
    assert client.post("/login/", {"username": email, "password": password}).status_code == 302
    assert client.get("/settings/team/").status_code == 200
    resp = client.post(
        "/settings/team/invite/", {"email": "colleague@example.com", "role": "admin"}
    )
    assert resp.status_code == 302
    assert client.get("/settings/audit/").status_code == 200
    assert client.get("/admin/").status_code == 302  # the admin is for staff
