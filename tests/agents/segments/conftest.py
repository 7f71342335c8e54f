"""Rows the segment tests share: contacts, email messages and their events."""

from __future__ import annotations

import secrets

import pytest
from django.utils import timezone

from agents.campaigns.models import Campaign
from agents.mail.models import EmailEvent, EmailMessage, MessageStatus


@pytest.fixture
def campaign(org):
    return Campaign.objects.create(organization=org, name="Spring sale")


def email_message(contact, *, campaign=None, status=MessageStatus.SENT, **fields):
    return EmailMessage.objects.create(
        organization=contact.organization,
        contact=contact,
        campaign=campaign,
        to=contact.email or "someone@example.com",
        token=secrets.token_urlsafe(16),
        status=status,
        sent_at=timezone.now() if status != MessageStatus.PENDING else None,
        **fields,
    )


def email_event(contact, kind, *, days_ago=0, machine=False, campaign=None):
    message = email_message(contact, campaign=campaign)
    return EmailEvent.objects.create(
        organization=contact.organization,
        message=message,
        contact=contact,
        campaign=campaign,
        kind=kind,
        machine=machine,
        at=timezone.now() - timezone.timedelta(days=days_ago),
    )
