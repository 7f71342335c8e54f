"""Campaigns and the email records their numbers are made of, written directly."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.campaigns.services import campaign_create
from agents.mail.models import EmailEvent, EmailMessage


@pytest.fixture
def campaign(org):
    return campaign_create(organization=org, name="Spring sale", channels=["email"])


def message(campaign, to: str, *, sent_at=..., status="sent", **fields) -> EmailMessage:
    """One email of ``campaign``, sent ``sent_at`` (default: an hour ago; None: never sent)."""
    return EmailMessage.objects.create(
        organization_id=campaign.organization_id,
        campaign=campaign,
        to=to,
        subject="Spring is here",
        token=secrets.token_urlsafe(16),
        status=status,
        sent_at=timezone.now() - timedelta(hours=1) if sent_at is ... else sent_at,
        **fields,
    )


def event(msg: EmailMessage, kind: str, *, machine: bool = False, at=None, **fields) -> EmailEvent:
    """An event of ``msg``, with the message's counters kept in step as the mail app does."""
    at = at or timezone.now()
    if kind == "open":
        if machine:
            msg.machine_opens += 1
        else:
            msg.opens += 1
            msg.first_opened_at = msg.first_opened_at or at
    elif kind == "click":
        if machine:
            msg.machine_clicks += 1
        else:
            msg.clicks += 1
            msg.first_clicked_at = msg.first_clicked_at or at
    elif kind == "bounce":
        if fields.get("detail", {}).get("kind") == "soft":
            msg.soft_bounces += 1
            msg.bounce_kind = "soft"
        else:
            msg.status, msg.bounce_kind = "bounced", "hard"
        msg.bounced_at = at
    elif kind == "reply":
        msg.replied_at = at
    elif kind == "unsubscribe":
        msg.unsubscribed_at = at
    elif kind == "complaint":
        msg.complained_at, msg.status = at, "complained"
    msg.save()
    return EmailEvent.objects.create(
        organization_id=msg.organization_id,
        message=msg,
        campaign=msg.campaign,
        contact=msg.contact,
        kind=kind,
        machine=machine,
        at=at,
        **fields,
    )
