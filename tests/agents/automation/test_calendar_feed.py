"""The iCalendar feed on its signed link: parsed back with icalendar, 404 for a bad or old link,
one organization per link, no addresses."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from agents.automation import feed
from neonhub.core.models import Role
from tests.agents.automation.test_calendar import scheduled_publish
from tests.factories import AgentRunFactory, MembershipFactory, RecurringScheduleFactory

pytestmark = pytest.mark.django_db


def feed_path(org) -> str:
    token = feed.feed_token(feed=feed.feed_get(organization=org))
    return reverse("automation:calendar-feed", args=[token])


def events(resp) -> list:
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(resp.content).walk("VEVENT")


def test_the_feed_has_each_entry_as_an_event_in_utc(client, org):
    when = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    run = scheduled_publish(org, when, text="Spring collection is live")
    schedule = RecurringScheduleFactory(organization=org, name="Weekly digest", cron="0 9 * * 1")
    found = events(client.get(feed_path(org)))
    publish = next(e for e in found if str(e["uid"]).startswith("run-"))
    digests = sorted(
        (e for e in found if str(e["uid"]).startswith("schedule-")),
        key=lambda e: e.decoded("dtstart"),
    )
    assert str(publish["uid"]) == f"run-{run.id}@neonhub"
    assert publish.decoded("dtstart") == when.astimezone(UTC)
    assert publish.decoded("dtstart").tzinfo is not None
    assert publish.decoded("dtstart").utcoffset() == timedelta(0)
    assert str(publish["summary"]) == "Spring collection is live"
    assert "Facebook Page, Reddit" in str(publish["description"])
    assert str(publish["url"]).endswith(f"/runs/{run.id}/")
    # About nine Mondays in 60 days, each its own stable uid.
    assert 8 <= len(digests) <= 9
    assert str(digests[0]["uid"]) == (
        f"schedule-{schedule.id}-{int(schedule.next_run_at.timestamp())}@neonhub"
    )


def test_the_same_event_keeps_its_uid_when_the_run_moves(client, org):
    from agents import services

    run = scheduled_publish(org, timezone.now() + timedelta(days=1))
    before = {str(e["uid"]) for e in events(client.get(feed_path(org)))}
    services.run_reschedule(run=run, at=timezone.now() + timedelta(days=3))
    after = events(client.get(feed_path(org)))
    assert before == {str(e["uid"]) for e in after}
    assert after[0].decoded("dtstart") > timezone.now() + timedelta(days=2)


def test_the_feed_carries_no_recipient_address(client, org):
    AgentRunFactory(
        organization=org,
        agent="messaging",
        intent="send-sms",
        next_attempt_at=timezone.now() + timedelta(hours=3),
        input={"to": "+14155550100", "body": "Your table is ready"},
    )
    AgentRunFactory(
        organization=org,
        agent="email",
        intent="send",
        next_attempt_at=timezone.now() + timedelta(hours=4),
        input={"to": ["ada@example.com"], "subject": "December news", "body": "Hello"},
    )
    resp = client.get(feed_path(org))
    assert len(events(resp)) == 2
    text = resp.content.decode()
    assert "+14155550100" not in text and "ada@example.com" not in text
    assert "December news" in text and "SMS" in text


def test_a_bad_or_tampered_signature_is_404(client, org):
    path = feed_path(org)
    assert client.get(path.replace(".ics", "x.ics")).status_code == 404
    assert client.get(reverse("automation:calendar-feed", args=["nonsense"])).status_code == 404
    forged = signing.dumps([str(org.pk), feed.feed_get(organization=org).nonce], salt="other")
    assert client.get(reverse("automation:calendar-feed", args=[forged])).status_code == 404


def test_a_regenerated_link_replaces_the_old_one(client, org):
    old = feed_path(org)
    feed.feed_regenerate(organization=org)
    assert client.get(old).status_code == 404
    assert client.get(feed_path(org)).status_code == 200


def test_each_link_shows_only_its_organizations_entries(client, org, other_org):
    mine = scheduled_publish(org, timezone.now() + timedelta(hours=3))
    theirs = scheduled_publish(other_org, timezone.now() + timedelta(hours=3))
    assert [str(e["uid"]) for e in events(client.get(feed_path(org)))] == [f"run-{mine.id}@neonhub"]
    assert [str(e["uid"]) for e in events(client.get(feed_path(other_org)))] == [
        f"run-{theirs.id}@neonhub"
    ]
    # One organization's nonce under another's id is not a link.
    crossed = signing.dumps(
        [str(other_org.pk), feed.feed_get(organization=org).nonce], salt=feed.SALT
    )
    assert client.get(reverse("automation:calendar-feed", args=[crossed])).status_code == 404


def test_only_admins_may_regenerate_the_link(client, org):
    member = MembershipFactory(organization=org, role=Role.MEMBER).user
    client.force_login(member)
    old = feed_path(org)
    assert client.post(reverse("automation:calendar-feed-regenerate")).status_code == 403
    assert client.get(old).status_code == 200
    admin = MembershipFactory(organization=org, role=Role.ADMIN).user
    client.force_login(admin)
    assert client.post(reverse("automation:calendar-feed-regenerate")).status_code == 302
    assert client.get(old).status_code == 404
