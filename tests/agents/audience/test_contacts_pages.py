"""Pages of single contacts and lists: add and edit with consent recorded as entered by the
user, the contact page's timeline, list management, export and erasure."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from agents.audience.models import ConsentEvent, Contact, ContactList, ContactListMembership
from tests.factories import (
    ContactFactory,
    ContactListFactory,
    InboundMessageFactory,
    MembershipFactory,
    OutboundMessageFactory,
)

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Ada Lovelace",
    "email": "ADA@example.com",
    "phone": "+1 415 555 0100",
    "tags": "vip, beta",
    "attributes": "first_name = Ada\nplan = pro",
    "consent_sms": "granted",
    "consent_whatsapp": "",
    "consent_email": "",
}


def test_add_a_contact_records_consent_as_entered_by_the_user(owner_client, owner, org):
    resp = owner_client.post(reverse("audience:contact-new"), FORM)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    contact = Contact.objects.get()
    assert contact.email == "ada@example.com" and contact.phone == "+14155550100"
    assert contact.tags == ["vip", "beta"] and contact.attributes == {
        "first_name": "Ada",
        "plan": "pro",
    }
    assert set(contact.consent) == {"sms"}  # nothing granted that was not chosen
    event = ConsentEvent.objects.get()
    assert event.source == f"entered by {owner.email}" and event.status == "granted"
    page = owner_client.get(resp["Location"]).content.decode()
    assert "Consent granted" in page and f"entered by {owner.email}" in page


def test_the_form_shows_errors_next_to_the_fields(owner_client, org):
    resp = owner_client.post(reverse("audience:contact-new"), {**FORM, "phone": "415 555 0100"})
    assert resp.status_code == 422
    assert 'id="id_phone_error"' in resp.content.decode()
    resp = owner_client.post(reverse("audience:contact-new"), {**FORM, "attributes": "nonsense"})
    assert resp.status_code == 422 and "name = value" in resp.content.decode()
    ContactFactory(organization=org, phone="+14155550100")
    resp = owner_client.post(reverse("audience:contact-new"), FORM)
    assert resp.status_code == 422 and "already used" in resp.content.decode()


def test_edit_withdraws_consent_and_keeps_the_history(owner_client, org):
    owner_client.post(reverse("audience:contact-new"), FORM)
    contact = Contact.objects.get()
    resp = owner_client.post(
        reverse("audience:contact-edit", args=[contact.pk]),
        {**FORM, "name": "Ada L", "consent_sms": "revoked"},
    )
    assert resp.status_code == 302
    contact.refresh_from_db()
    assert contact.name == "Ada L" and contact.consent["sms"]["status"] == "revoked"
    assert ConsentEvent.objects.filter(contact=contact).count() == 2


def test_contact_page_timeline_newest_first_with_run_links(owner_client, org):
    contact = ContactFactory(organization=org, name="Grace")
    old = OutboundMessageFactory(
        organization=org, contact_id=contact.pk, target=contact.phone, error="old failure"
    )
    type(old).objects.filter(pk=old.pk).update(created_at="2025-01-01T00:00Z")
    new = OutboundMessageFactory(
        organization=org, contact_id=contact.pk, target=contact.phone, run_id=old.pk
    )
    InboundMessageFactory(organization=org, address=contact.phone, body="A reply from Grace")
    OutboundMessageFactory(organization=org, target="+14155550999", error="someone else")
    html = owner_client.get(reverse("audience:contact-detail", args=[contact.pk])).content.decode()
    assert reverse("runs:detail", args=[new.run_id]) in html
    assert html.index("A reply from Grace") < html.index("old failure")
    assert html.count("<strong>Sent</strong>") == 2 and "someone else" not in html


def test_lists_create_rename_add_remove_and_delete(owner_client, org):
    resp = owner_client.post(reverse("audience:list-index"), {"name": "Newsletter"})
    contact_list = ContactList.objects.get()
    assert resp["Location"] == reverse("audience:list-detail", args=[contact_list.pk])
    assert (
        owner_client.post(reverse("audience:list-index"), {"name": "Newsletter"}).status_code == 422
    )
    ada = ContactFactory(organization=org, name="Ada", tags=["vip"])
    ContactFactory(organization=org, name="Bob", tags=["vip"])
    ContactFactory(organization=org, name="Cy")
    found = owner_client.get(
        reverse("audience:list-detail", args=[contact_list.pk]), {"find": "ada"}
    )
    assert "Add Ada to the list" in found.content.decode()
    owner_client.post(
        reverse("audience:list-members", args=[contact_list.pk]), {"contact_id": ada.pk}
    )
    assert contact_list.memberships.count() == 1
    resp = owner_client.post(
        reverse("audience:list-add-matching", args=[contact_list.pk]),
        {"q": "", "tag": "vip", "consent": ""},
        follow=True,
    )
    assert "Added 1 contact." in resp.content.decode()
    assert contact_list.memberships.count() == 2
    empty = owner_client.post(reverse("audience:list-add-matching", args=[contact_list.pk]), {})
    assert empty.status_code == 422 and "give a search" in empty.content.decode()
    owner_client.post(
        reverse("audience:list-members", args=[contact_list.pk]),
        {"contact_id": ada.pk, "action": "remove"},
    )
    assert contact_list.memberships.count() == 1
    owner_client.post(reverse("audience:list-rename", args=[contact_list.pk]), {"name": "News"})
    contact_list.refresh_from_db()
    assert contact_list.name == "News"
    owner_client.post(reverse("audience:list-delete", args=[contact_list.pk]))
    assert not ContactList.objects.exists() and Contact.objects.count() == 3


def test_add_and_remove_a_list_from_the_contact_page(owner_client, org, other_org):
    contact = ContactFactory(organization=org)
    mine, foreign = ContactListFactory(organization=org), ContactListFactory(organization=other_org)
    url = reverse("audience:contact-lists", args=[contact.pk])
    owner_client.post(url, {"list_id": mine.pk})
    assert ContactListMembership.objects.filter(contact=contact, contact_list=mine).exists()
    assert owner_client.post(url, {"list_id": foreign.pk}).status_code == 404
    owner_client.post(url, {"list_id": mine.pk, "action": "remove"})
    assert not ContactListMembership.objects.exists()


def test_export_and_erase_pages(owner_client, org):
    contact = ContactFactory(organization=org, name="Ada Lovelace", email="ada@example.com")
    InboundMessageFactory(organization=org, address=contact.phone, body="secret plans")
    export = owner_client.get(reverse("audience:contact-data-export", args=[contact.pk]))
    assert export["Content-Disposition"].startswith("attachment")
    assert json.loads(export.content)["messages_received"][0]["body"] == "secret plans"
    erase_url = reverse("audience:contact-erase", args=[contact.pk])
    assert "Type <strong>Ada Lovelace</strong>" in owner_client.get(erase_url).content.decode()
    wrong = owner_client.post(erase_url, {"confirm": "Ada"})
    assert wrong.status_code == 422 and 'id="id_confirm_error"' in wrong.content.decode()
    done = owner_client.post(erase_url, {"confirm": "Ada Lovelace"}, follow=True)
    html = done.content.decode()
    assert "Erased contact" in html and "secret plans" not in html and "[erased]" in html


def test_roles_viewers_read_members_write_admins_erase(client, org):
    contact = ContactFactory(organization=org, name="Ada")
    viewer = MembershipFactory(organization=org, role="viewer").user
    client.force_login(viewer)
    assert client.get(reverse("audience:contact-detail", args=[contact.pk])).status_code == 200
    assert client.post(reverse("audience:contact-new"), FORM).status_code == 403
    assert client.get(reverse("audience:contact-data-export", args=[contact.pk])).status_code == 403
    member = MembershipFactory(organization=org, role="member").user
    client.force_login(member)
    assert (
        client.post(
            reverse("audience:contact-erase", args=[contact.pk]), {"confirm": "Ada"}
        ).status_code
        == 403
    )
    Contact.objects.get(pk=contact.pk)


def test_the_admin_shows_the_consent_history_read_only(staff_client, org):
    from tests.factories import ConsentEventFactory

    event = ConsentEventFactory(contact=ContactFactory(organization=org), source="front desk")
    html = staff_client.get(
        reverse("admin:audience_contact_change", args=[event.contact_id])
    ).content.decode()
    assert "front desk" in html and 'name="consent_events-0-source"' not in html
