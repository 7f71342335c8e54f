"""Contacts in a real Chromium: an admin adds a contact with SMS consent, puts them on a new
list, opens their timeline, downloads their data and erases them."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from agents.audience.models import ConsentEvent, Contact
from neonhub.core.models import Role
from tests.factories import MembershipFactory, OrganizationFactory, OutboundMessageFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin(transactional_db):
    org = OrganizationFactory(slug="acme", name="Acme")
    return MembershipFactory(organization=org, role=Role.ADMIN).user


def _expected_422s(browser_page) -> None:
    """A refused form answers 422, which Chromium logs as a failed resource: that and nothing else."""
    assert browser_page.errors and all("422" in e for e in browser_page.errors), browser_page.errors
    browser_page.errors.clear()


def test_add_list_timeline_export_and_erase_a_contact(browser_page, admin):
    org = admin.memberships.get().organization
    page = browser_page.page
    browser_page.login(admin)

    browser_page.goto("/contacts/")
    page.get_by_role("link", name="Add contact").click()
    page.get_by_label("Name", exact=True).fill("Ada Lovelace")
    page.get_by_label("Email", exact=True).fill("ada@example.com")
    page.get_by_label("Phone", exact=True).fill("415 555 0100")
    page.get_by_label("SMS consent").select_option("granted")
    page.get_by_role("button", name="Add contact").click()
    # A number without its country code is refused next to the field.
    expect(page.locator("#id_phone_error")).to_contain_text("country code")
    browser_page.shot("phone-error")
    _expected_422s(browser_page)
    page.get_by_label("Phone", exact=True).fill("+1 415 555 0100")
    page.get_by_label("Tags", exact=True).fill("vip")
    page.get_by_role("button", name="Add contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")
    contact = Contact.objects.get()
    assert ConsentEvent.objects.get().source == f"entered by {admin.email}"

    # A new list, then the contact added to it from the contact page.
    page.get_by_role("link", name="Manage lists").click()
    page.get_by_role("textbox", name="Name").fill("Newsletter")
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Newsletter")
    page.get_by_label("Search").fill("ada")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Add Ada Lovelace to the list").click()
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    browser_page.shot("list")

    # The timeline: a message sent by a run, and the consent entered above.
    OutboundMessageFactory(
        organization=org, contact_id=contact.pk, target=contact.phone, run_id=contact.pk
    )
    page.get_by_role("link", name="Ada Lovelace").click()
    timeline = page.locator(".contact-timeline")
    expect(timeline).to_contain_text("Sent")
    expect(timeline).to_contain_text(f"entered by {admin.email}")
    expect(page.locator("#lists")).to_contain_text("Newsletter")
    browser_page.shot("timeline")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export data (JSON)").click()
    data = json.loads(open(download.value.path()).read())
    assert data["contact"]["email"] == "ada@example.com" and len(data["messages_sent"]) == 1

    page.get_by_role("link", name="Erase…").click()
    page.get_by_label("Type the contact's name to confirm").fill("Ada")
    page.get_by_role("button", name="Erase this person's data").click()
    expect(page.locator("#id_confirm_error")).to_be_visible()
    _expected_422s(browser_page)
    page.get_by_label("Type the contact's name to confirm").fill("Ada Lovelace")
    page.get_by_role("button", name="Erase this person's data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erased contact")
    expect(page.locator(".contact-timeline")).to_contain_text("[erased]")
    expect(page.locator("main")).not_to_contain_text("ada@example.com")
    browser_page.shot("erased")
    contact.refresh_from_db()
    assert contact.erased_at and contact.email == ""
