"""The calendar as an iCalendar feed, on a signed link per organization.

The link's token is ``django.core.signing`` over the organization's id and its feed's
``nonce``: it cannot be forged without the server's key, and "Regenerate link" draws a new
nonce, after which every old link answers 404 like a forged one.  The feed says what goes out
and when, never to whom: no recipients' addresses, no connector secrets.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from agents.automation.calendar import calendar_window
from agents.automation.models import CalendarFeed
from neonhub.core.models import Organization

SALT = "neonhub.automation.calendar-feed"
PAST = timedelta(days=7)
AHEAD = timedelta(days=60)
EVENT_LENGTH = timedelta(minutes=15)


def feed_get(*, organization: Organization) -> CalendarFeed:
    """The organization's feed, made on first use."""
    feed, _ = CalendarFeed.objects.get_or_create(
        organization=organization, defaults={"nonce": secrets.token_urlsafe(18)}
    )
    return feed


def feed_regenerate(*, organization: Organization) -> CalendarFeed:
    """A new link; the old one stops working at once."""
    feed = feed_get(organization=organization)
    feed.nonce = secrets.token_urlsafe(18)
    feed.save(update_fields=["nonce", "updated_at"])
    return feed


def feed_token(*, feed: CalendarFeed) -> str:
    return signing.dumps([str(feed.organization_id), feed.nonce], salt=SALT)


def feed_organization(*, token: str) -> Organization | None:
    """The organization a token is for, or None for a bad, tampered or replaced token."""
    try:
        organization_id, nonce = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    try:
        feed = (
            CalendarFeed.objects.select_related("organization")
            .filter(organization_id=str(organization_id), nonce=str(nonce))
            .first()
        )
    except ValidationError:
        return None
    return feed.organization if feed is not None else None


def feed_url(*, feed: CalendarFeed) -> str:
    path = reverse("automation:calendar-feed", args=[feed_token(feed=feed)])
    return f"{settings.NEONHUB_PUBLIC_URL}{path}"


def feed_ics(*, organization: Organization, now: datetime | None = None) -> bytes:
    """The past week and the next 60 days as text/calendar; times in UTC."""
    now = now or timezone.now()
    window = calendar_window(organization=organization, start=now - PAST, end=now + AHEAD, now=now)
    cal = Calendar()
    cal.add("prodid", "-//NeonHub//Calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"NeonHub · {organization.name}")
    cal.add("x-wr-timezone", organization.timezone)
    stamp = now.astimezone(UTC)
    for entry in window.entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.due_at.astimezone(UTC))
        event.add("dtend", entry.due_at.astimezone(UTC) + EVENT_LENGTH)
        event.add("summary", entry.title)
        description = entry.summary
        if entry.status != "scheduled":
            description += f" ({entry.status})"
        event.add("description", description)
        event.add("url", settings.NEONHUB_PUBLIC_URL + entry.page)
        if entry.channel_labels:
            event.add("categories", entry.channel_labels)
        cal.add_component(event)
    return cal.to_ical()
