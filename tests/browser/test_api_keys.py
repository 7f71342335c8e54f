"""API keys in a real Chromium: an admin creates a scoped key, copies its token (shown once),
the key works within its scope, and is revoked after a confirmation."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from neonhub.core.models import ApiKey, Role
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _call(base_url: str, token: str, path: str) -> int:
    request = urllib.request.Request(
        f"{base_url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the live server
            json.load(answer)
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_create_a_scoped_key_copy_it_and_revoke_it(browser_page):
    org = OrganizationFactory(slug="acme", name="Acme")
    admin = MembershipFactory(organization=org, role=Role.ADMIN).user
    page = browser_page.page
    browser_page.login(admin)

    # From the Settings hub.
    browser_page.goto("/settings/")
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="No API keys yet")).to_be_visible()

    page.get_by_label("Name").fill("Reporting script")
    page.get_by_label("Role").select_option("viewer")
    page.get_by_label("runs:read").check()
    page.get_by_label("Expires").select_option("30")
    browser_page.shot("form")
    page.get_by_role("button", name="Create key").click()

    # The token, once, with a copy button.
    box = page.locator("#new-token")
    expect(box).to_contain_text("You will not see it again")
    token = page.get_by_label("The new API key").input_value()
    assert token.startswith("nh_")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#token-copied")).not_to_be_empty()
    row = page.locator("#api-keys tbody tr", has_text="Reporting script")
    expect(row).to_contain_text("runs:read")
    expect(row).to_contain_text("Viewer")
    expect(row).to_contain_text("active")
    browser_page.shot("created")

    # It works within its scope only.
    base = browser_page.base_url
    assert _call(base, token, "/runs") == 200
    assert _call(base, token, "/contacts") == 403

    # Coming back never shows it again (the token was in the creation's answer only).
    browser_page.goto("/settings/api-keys/")
    expect(page.locator("#new-token")).to_have_count(0)
    assert token.split(".", 1)[1] not in page.content()

    # Revoke, after a confirmation, by keyboard.
    row = page.locator("#api-keys tbody tr", has_text="Reporting script")
    row.get_by_role("link", name="Revoke Reporting script").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Revoke the key “Reporting script”?")).to_be_visible()
    browser_page.shot("confirm")
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.get_by_text("its next request is refused")).to_be_visible()
    expect(page.locator("#api-keys tbody tr", has_text="Reporting script")).to_contain_text(
        "revoked"
    )
    browser_page.shot("revoked")
    assert _call(base, token, "/runs") == 401
    assert ApiKey.objects.get(name="Reporting script").revoked_at is not None
