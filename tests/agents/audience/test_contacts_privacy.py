"""Single contacts: consent history with its source, lists filled from a filter, the privacy
export and erasure (nothing personal left in the contact's rows, its messages kept)."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from agents.audience import selectors
from agents.audience import services as contacts
from agents.audience.models import ConsentEvent, Contact, ContactListMembership, InboundMessage
from connectors.models import OutboundMessage, Suppression
from connectors.selectors import suppression_exists
from connectors.suppressions import suppression_add, suppression_remove
from neonhub.core.errors import Conflict, InvalidInput
from neonhub.core.models import AuditEvent
from tests.factories import (
    ContactFactory,
    ContactListFactory,
    ContactListMembershipFactory,
    InboundMessageFactory,
    OutboundMessageFactory,
)

pytestmark = pytest.mark.django_db


# --- consent history --------------------------------------------------------------------------


def test_consent_entered_by_a_person_is_recorded_with_its_source(org):
    contact = contacts.contact_create(
        organization=org,
        entered_by="ada@example.com",
        name="Grace",
        phone="+14155550100",
        consent={"sms": {"status": "granted"}},
    )
    assert contact.consent["sms"]["source"] == "entered by ada@example.com"
    assert "email" not in contact.consent  # never granted silently
    contacts.contact_update(
        contact=contact, entered_by="bob@example.com", consent={"email": {"status": "revoked"}}
    )
    contacts.contact_update(contact=contact, entered_by="bob@example.com", name="Grace H")
    history = list(selectors.contact_consent_history(organization=org, contact=contact))
    assert [(e.channel, e.status, e.source) for e in history] == [
        ("email", "revoked", "entered by bob@example.com"),
        ("sms", "granted", "entered by ada@example.com"),
    ]
    contact.refresh_from_db()
    assert contact.consent["sms"]["status"] == "granted"  # the other channel stays
    contacts.contact_consent_set(contact=contact, channel="sms", status="revoked", source="STOP")
    assert ConsentEvent.objects.filter(contact=contact).count() == 3


def test_a_csv_import_records_its_consent_in_the_history(org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "c.csv", b"phone,consent_sms,consent_source\n+14155550100,granted,checkout\n"
    )
    import_id = contacts.contacts_import_store(organization=org, upload=upload)
    contacts.contacts_import_commit(organization=org, import_id=import_id)
    event = ConsentEvent.objects.get()
    assert (event.channel, event.status, event.source) == ("sms", "granted", "checkout")


def test_a_national_number_is_refused_naming_the_phone(org):
    with pytest.raises(InvalidInput) as exc:
        contacts.contact_create(organization=org, phone="415 555 0100")
    assert exc.value.details[0]["field"] == "phone"
    assert "country code" in exc.value.details[0]["message"]


# --- lists ------------------------------------------------------------------------------------


def test_add_everyone_matching_a_filter_counts_only_new_members(org, other_org):
    vip = ContactListFactory(organization=org)
    granted = {"sms": {"status": "granted", "source": "x", "at": "2025-01-01T00:00:00+00:00"}}
    a = ContactFactory(organization=org, tags=["vip"], consent=granted)
    ContactFactory(organization=org, tags=["vip"])  # no consent
    c = ContactFactory(organization=org, tags=["vip"], consent=granted)
    ContactFactory(organization=org, tags=["other"], consent=granted)
    ContactFactory(organization=other_org, tags=["vip"], consent=granted)
    ContactFactory(organization=org, tags=["vip"], consent=granted, erased_at="2025-01-01T00:00Z")
    ContactListMembershipFactory(contact_list=vip, contact=a)

    added = contacts.contact_list_add_matching(contact_list=vip, tag="vip", consent="sms")
    assert added == 1
    assert set(vip.memberships.values_list("contact_id", flat=True)) == {a.pk, c.pk}
    assert contacts.contact_list_add_matching(contact_list=vip, tag="vip", consent="sms") == 0
    ContactFactory(organization=org, name="Zed Zimmer")
    assert contacts.contact_list_add_matching(contact_list=vip, search="zimmer") == 1
    with pytest.raises(InvalidInput):
        contacts.contact_list_add_matching(contact_list=vip)
    with pytest.raises(InvalidInput):
        contacts.contact_list_add_matching(contact_list=vip, consent="fax")


def test_adding_matching_is_one_insert_statement(org, django_assert_max_num_queries):
    vip = ContactListFactory(organization=org)
    for _ in range(30):
        ContactFactory(organization=org, tags=["vip"])
    # SAVEPOINT + the INSERT … SELECT + RELEASE, whatever the number of contacts.
    with django_assert_max_num_queries(3):
        assert contacts.contact_list_add_matching(contact_list=vip, tag="vip") == 30


def test_rename_a_list_refuses_a_used_name(org):
    one, two = ContactListFactory(organization=org), ContactListFactory(organization=org)
    assert contacts.contact_list_update(contact_list=one, name=" Renamed ").name == "Renamed"
    with pytest.raises(Conflict):
        contacts.contact_list_update(contact_list=two, name="Renamed")
    with pytest.raises(InvalidInput):
        contacts.contact_list_update(contact_list=two, name="  ")


# --- privacy ------------------------------------------------------------------------------------


def _person(org):
    contact = contacts.contact_create(
        organization=org,
        entered_by="staff@example.com",
        name="Ada Lovelace",
        email="ada@example.com",
        phone="+14155550100",
        tags=["vip"],
        attributes={"first_name": "Ada"},
        consent={"sms": {"status": "granted"}},
    )
    ContactListMembershipFactory(contact_list=ContactListFactory(organization=org), contact=contact)
    OutboundMessageFactory(
        organization=org,
        contact_id=contact.pk,
        target="+14155550100",
        response={"to": "+14155550100", "body": "Hi Ada"},
        error="+14155550100 is on the sms suppression list",
    )
    OutboundMessageFactory(organization=org, target="ada@example.com", action="send_email")
    InboundMessageFactory(organization=org, address="+14155550100", body="Thanks, Ada here")
    return contact


def test_export_holds_the_person_and_their_messages_but_no_secrets(org):
    contact = _person(org)
    data = selectors.contact_data(organization=org, contact=contact)
    assert data["contact"]["email"] == "ada@example.com"
    assert data["consent_history"][0]["source"] == "entered by staff@example.com"
    assert len(data["lists"]) == 1
    assert len(data["messages_sent"]) == 2 and len(data["messages_received"]) == 1
    text = json.dumps(data)
    assert "idempotency" not in text and "response" not in text and "Hi Ada" not in text


def test_erase_leaves_nothing_personal_and_keeps_the_message_count(org, owner):
    contact = _person(org)
    other = ContactFactory(organization=org, phone="+14155550199")
    OutboundMessageFactory(organization=org, contact_id=other.pk, target="+14155550199")
    suppression_add(organization=org, channel="sms", address="+14155550100", source="bounce")
    with pytest.raises(InvalidInput):
        contacts.contact_erase(contact=contact, confirm="Ada")
    counts = contacts.contact_erase(contact=contact, confirm="Ada Lovelace", principal=None)
    assert counts["messages_anonymised"] == 2 and counts["inbound_anonymised"] == 1

    contact.refresh_from_db()
    assert contact.erased_at and str(contact) == "Erased contact"
    assert OutboundMessage.objects.filter(contact_id=contact.pk).count() == 2
    assert InboundMessage.objects.filter(contact=contact).count() == 1
    assert not ContactListMembership.objects.filter(contact=contact).exists()
    assert not ConsentEvent.objects.filter(contact=contact).exists()
    # No personal datum left in any column of any row of these tables.
    personal = ["Ada", "ada@example.com", "14155550100", "Lovelace", "first_name", "vip"]
    with connection.cursor() as cursor:
        for table in (
            Contact._meta.db_table,
            OutboundMessage._meta.db_table,
            InboundMessage._meta.db_table,
            Suppression._meta.db_table,
            AuditEvent._meta.db_table,
            ConsentEvent._meta.db_table,
        ):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - a model's own table
            dump = json.dumps([list(map(str, row)) for row in cursor.fetchall()])
            for datum in personal:
                assert datum not in dump, (table, datum)
    # Still suppressed on every channel, by a keyed hash only; others untouched.
    for channel, address in [
        ("sms", "+14155550100"),
        ("whatsapp", "+14155550100"),
        ("email", "ada@example.com"),
    ]:
        assert suppression_exists(organization=org, channel=channel, address=address)
    assert not suppression_exists(organization=org, channel="sms", address="+14155550199")
    assert OutboundMessage.objects.get(contact_id=other.pk).target == "+14155550199"
    audit = AuditEvent.objects.get(action="contact.erase")
    assert audit.target_label == "Erased contact" and audit.changes["messages_anonymised"] == 2
    with pytest.raises(Conflict):
        contacts.contact_update(contact=contact, name="Ada again")
    # A START lifts the hashed suppression as it would the plain one.
    assert suppression_remove(organization=org, channel="sms", address="+14155550100")
    assert not suppression_exists(organization=org, channel="sms", address="+14155550100")
