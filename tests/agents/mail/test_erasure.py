"""Erasing a contact erases its email record too, and keeps the campaign's counts."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from agents.audience import services as contacts
from agents.mail.models import EmailEvent, EmailMessage
from agents.mail.services import message_record
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_erasing_a_contact_anonymises_its_emails_and_their_events(org):
    ada = ContactFactory(organization=org, name="Ada Lovelace", email="ada@example.com")
    grace = ContactFactory(organization=org, name="Grace", email="grace@example.com")
    mine = message_record(organization=org, to="ada@example.com", subject="Hello Ada")
    theirs = message_record(organization=org, to="grace@example.com", subject="Hello Grace")
    assert mine.contact_id == ada.pk and theirs.contact_id == grace.pk
    EmailEvent.objects.create(
        organization=org,
        message=mine,
        contact=ada,
        kind="click",
        url="https://shop.example.com/?who=ada@example.com",
        user_agent="Ada's phone",
    )

    counts = contacts.contact_erase(contact=ada, confirm="Ada Lovelace")

    assert counts["emails_anonymised"] == 1
    assert EmailMessage.objects.filter(organization=org).count() == 2
    assert EmailEvent.objects.filter(message=mine, kind="click").count() == 1
    with connection.cursor() as cursor:
        for model in (EmailMessage, EmailEvent):
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")  # noqa: S608 - own table
            dump = json.dumps([list(map(str, row)) for row in cursor.fetchall()])
            for datum in ("Hello Ada", "ada@example.com", "Ada's phone"):
                assert datum not in dump, (model, datum)
    theirs.refresh_from_db()
    assert theirs.to == "grace@example.com" and theirs.subject == "Hello Grace"
