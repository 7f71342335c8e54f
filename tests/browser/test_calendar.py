"""The calendar in a real Chromium: a social post scheduled for tomorrow to two channels shows
on the week and the month, is moved from the page, and another one is cancelled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agents import services as agent_services
from runs.models import AgentRun
from tests.helpers import sandbox_connectors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def schedule_post(org, user, text: str, when) -> AgentRun:
    """A social publish with publishAt, through the real service: its run makes the child."""
    if not org.connectors.exists():  # a publish is started only with a connector per platform
        sandbox_connectors(org, ("facebook_page", "reddit"))
    parent, _ = agent_services.run_start(
        organization=org,
        agent="social",
        intent="publish",
        payload={
            "text": text,
            "platforms": ["facebook_page", "reddit"],
            "reddit": {"subreddit": "acme"},
            "publishAt": when.isoformat(),
        },
        trigger="ui",
        created_by=user,
    )
    parent.refresh_from_db()
    assert parent.status == "completed", parent.error_message
    return AgentRun.objects.get(pk=parent.output["scheduledRunId"])


def test_a_scheduled_post_on_the_week_and_month_moved_and_another_cancelled(browser_page, marketer):
    org = marketer.memberships.get().organization
    tz = org.tz
    tomorrow = (timezone.now().astimezone(tz) + timedelta(days=1)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    launch = schedule_post(org, marketer, "Winter launch: 20% off everything", tomorrow)
    other = schedule_post(org, marketer, "Behind the scenes video", tomorrow + timedelta(hours=3))
    page = browser_page.page
    browser_page.login(marketer)

    browser_page.goto(f"/calendar/?view=week&date={tomorrow:%Y-%m-%d}")
    expect(page).to_have_title("Calendar · NeonHub")
    grid = page.locator("#calendar-grid")
    day = grid.locator(f'td[data-date="{tomorrow:%Y-%m-%d}"]')
    expect(day.get_by_role("link", name="Winter launch")).to_be_visible()
    expect(day).to_contain_text("09:30")
    expect(day).to_contain_text("Facebook Page, Reddit")
    expect(grid.get_by_role("columnheader").first).to_be_visible()
    browser_page.shot("week")

    browser_page.mark_document()
    page.locator("#calendar-month").click()
    expect(page.locator("#calendar")).to_have_attribute("data-view", "month")
    assert browser_page.same_document(), "the month view came by htmx, not a reload"
    assert "view=month" in page.url
    month_day = page.locator(f'#calendar-grid td[data-date="{tomorrow:%Y-%m-%d}"]')
    expect(month_day.get_by_role("link", name="Winter launch")).to_be_visible()
    browser_page.settled()
    browser_page.shot("month")

    # One channel at a time: nothing of these goes to Instagram.
    page.get_by_label("Channel").select_option("instagram")
    expect(page.get_by_role("heading", name="Nothing scheduled on Instagram")).to_be_visible()
    assert "channel=instagram" in page.url and browser_page.same_document()
    browser_page.settled()
    page.get_by_label("Channel").select_option("reddit")
    month_day = page.locator(f'#calendar-grid td[data-date="{tomorrow:%Y-%m-%d}"]')
    expect(month_day.get_by_role("link", name="Winter launch")).to_be_visible()
    browser_page.settled()

    # The feed's link, copied with one press.
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#feed-copied")).not_to_be_empty()
    assert "/calendar/feed/" in page.get_by_label("Calendar link").input_value()

    # Keyboard: the entry is a link, so it takes the focus like any other.
    month_day.get_by_role("link", name="Winter launch").focus()
    expect(month_day.get_by_role("link", name="Winter launch")).to_be_focused()

    # Move the launch to the day after, 11:15 in the organization's timezone.
    moved = (tomorrow + timedelta(days=1)).replace(hour=11, minute=15)
    row = page.locator(f"#entry-run-{launch.id}")
    row.get_by_label("New time for Winter launch").fill(f"{moved:%Y-%m-%dT%H:%M}")
    row.get_by_role("button", name="Reschedule").click()
    expect(page.locator(".messages")).to_contain_text("Moved to")
    launch.refresh_from_db()
    assert launch.next_attempt_at == moved and launch.status == "queued"
    expect(
        page.locator(f'#calendar-grid td[data-date="{moved:%Y-%m-%d}"]').get_by_role(
            "link", name="Winter launch"
        )
    ).to_be_visible()
    browser_page.settled()
    browser_page.shot("rescheduled")

    # A past time is refused next to the field.
    row = page.locator(f"#entry-run-{launch.id}")
    row.get_by_label("New time for Winter launch").fill("2020-01-01T09:00")
    row.get_by_role("button", name="Reschedule").click()
    expect(page.locator(f"#at-{launch.id}-error")).to_have_text("must be in the future")
    # The refused form answers 422 on purpose, which Chromium logs as a failed resource.
    assert [e for e in browser_page.errors if "status of 422" in e] == browser_page.errors
    browser_page.errors.clear()
    browser_page.settled()
    browser_page.shot("reschedule-refused")

    page.locator(f"#entry-run-{other.id}").get_by_role("button", name="Cancel").click()
    expect(page.locator(".messages")).to_contain_text("Cancelled")
    other.refresh_from_db()
    assert other.status == "cancelled"
    expect(page.locator(f"#entry-run-{other.id}")).to_have_count(0)
    browser_page.shot("cancelled")

    # The run page says when, and who scheduled it.
    browser_page.goto(f"/runs/{launch.id}/")
    expect(page.locator("#run-status")).to_contain_text(
        f"Scheduled for {moved:%a %-d %b %Y, %H:%M}"
    )
    expect(page.get_by_text("Scheduled by run")).to_be_visible()
    browser_page.shot("run-page")
