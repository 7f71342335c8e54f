"""Brute-force protection on /login/ and /admin/login/ (django-axes, database handler)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456"  # tests.factories.UserFactory's


def _login(client, username, password, *, path="/login/", address="198.51.100.1", **headers):
    return client.post(
        path, {"username": username, "password": password}, REMOTE_ADDR=address, headers=headers
    )


def _fail(client, username, times, **kwargs):
    for n in range(1, times + 1):
        # The failure that reaches the limit is answered with the lockout page already.
        expected = 429 if n >= settings.AXES_FAILURE_LIMIT else 200
        assert _login(client, username, "wrong", **kwargs).status_code == expected


def test_the_right_password_is_refused_once_an_account_is_locked(client, settings, owner):
    _fail(client, owner.username, settings.AXES_FAILURE_LIMIT)
    resp = _login(client, owner.username, PASSWORD)
    assert resp.status_code == 429
    page = resp.content.decode()
    assert "Login locked" in page and "Too many failed login attempts" in page
    assert "ask a staff member" in page
    assert client.get("/").status_code == 302  # not logged in


def test_admin_login_is_locked_too(client, settings, django_user_model):
    staff = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    _fail(client, "root", settings.AXES_FAILURE_LIMIT, path="/admin/login/")
    resp = _login(client, "root", PASSWORD, path="/admin/login/")
    assert resp.status_code == 429 and b"Login locked" in resp.content
    # Failures on one form count for the other.
    assert _login(client, staff.username, PASSWORD).status_code == 429


def test_one_account_is_locked_whatever_address_the_guesses_come_from(client, settings, owner):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(client, owner.username, "wrong", address=f"203.0.113.{n + 1}")
    assert _login(client, owner.username, PASSWORD, address="192.0.2.200").status_code == 429


def test_one_address_is_locked_whatever_accounts_it_tries(client, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(client, f"user{n}@example.com", "wrong")
    someone = UserFactory()
    assert _login(client, someone.username, PASSWORD).status_code == 429
    assert _login(client, someone.username, PASSWORD, address="192.0.2.7").status_code == 302


def test_a_forged_forwarded_for_header_does_not_change_the_address(client, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(client, f"user{n}@example.com", "wrong", **{"X-Forwarded-For": f"10.0.0.{n}"})
    someone = UserFactory()
    forged = {"X-Forwarded-For": "10.9.9.9"}
    assert _login(client, someone.username, PASSWORD, **forged).status_code == 429


def test_a_success_resets_the_count(client, settings, owner):
    _fail(client, owner.username, settings.AXES_FAILURE_LIMIT - 1)
    assert _login(client, owner.username, PASSWORD).status_code == 302
    client.logout()
    _fail(client, owner.username, settings.AXES_FAILURE_LIMIT - 1)
    assert _login(client, owner.username, PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off(client, settings, owner):
    _fail(client, owner.username, settings.AXES_FAILURE_LIMIT)
    assert _login(client, owner.username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert _login(client, owner.username, PASSWORD).status_code == 302


def test_staff_unlock_an_account_with_the_command(client, settings, owner):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(client, owner.username, "wrong", address=f"203.0.113.{n + 1}")
    assert _login(client, owner.username, PASSWORD).status_code == 429
    call_command("axes_reset_username", owner.username)
    assert _login(client, owner.username, PASSWORD).status_code == 302


def test_staff_see_lockouts_in_the_admin(staff_client, settings, owner):
    _fail(Client(), owner.username, settings.AXES_FAILURE_LIMIT)
    page = staff_client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and owner.username in page.content.decode()
