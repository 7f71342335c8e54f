"""A marketer who has never seen JSON, working only in the browser: write a draft, read it, fix
it, have it approved, schedule it to two channels, see it on the calendar, and read what went
out (issue "A marketer's tool", "Done when").

Two people take part: the marketer (a member) and an admin of the same organization, who
approves in a browser of their own.  Connectors are sandbox connectors, the product's own
"send nothing" mode.  The only step not taken in a browser is time passing: instead of waiting
for tomorrow, the test moves the scheduled run's time to now and runs the worker's task for it,
as the worker's timed task would.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agents import tasks
from agents.models import ContentDraft
from neonhub.core.models import Role
from runs.models import AgentRun, RunStatus
from tests.browser.conftest import BrowserPage
from tests.factories import MembershipFactory
from tests.helpers import sandbox_connectors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOPIC = "How small garden centres can win spring shoppers"
KEYWORD = "garden centre"
FIX = "Visit us this Saturday for free seed swaps."


@pytest.fixture
def approver_page(chromium, live_server, request):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    page = BrowserPage(context.new_page(), live_server.url, request.node.name + "-approver")
    yield page
    context.close()
    assert page.errors == [], "the approver's browser console reported errors"


def test_write_fix_approve_schedule_to_two_channels_and_read_what_went_out(
    browser_page, approver_page, marketer
):
    org = marketer.memberships.get().organization
    admin = MembershipFactory(organization=org, role=Role.ADMIN).user
    sandbox_connectors(org, ("facebook_page", "reddit"))
    org.settings = {"approvals": {"social_platforms": ["facebook_page", "reddit"]}}
    org.save()
    page = browser_page.page
    page.set_default_timeout(15_000)
    browser_page.login(marketer)

    # 1. Write a draft.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Start a run").click()
    page.locator("#task").select_option("content/generate-draft")
    page.get_by_label("Topic").fill(TOPIC)
    page.get_by_label("Main keyword").fill(KEYWORD)
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    expect(page.locator("#run-status")).to_have_text("completed", timeout=30_000)

    # 2. Read it: an article, not JSON, and honest about who wrote it.
    readable = page.locator("#output-readable")
    expect(readable.get_by_role("heading", level=2).first).to_be_visible()
    expect(readable).not_to_contain_text("\\n")
    expect(page.get_by_text("Template text, no AI model").first).to_be_visible()
    browser_page.shot("1-draft-written")

    # 3. Fix it on the draft's page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Drafts").click()
    page.locator("tbody tr a").first.click()
    page.get_by_role("link", name="Edit").click()
    body = page.get_by_label("Body")
    body.fill(body.input_value() + f"\n\n{FIX}\n")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("article")).to_contain_text(FIX)
    browser_page.shot("2-draft-fixed")

    # 4. Send it to publishing on two channels, tomorrow at 10:00 in the organization's zone.
    page.get_by_role("link", name="Send to publishing").click()
    expect(page.get_by_label("Post text")).to_have_value(re.compile(re.escape(FIX)))
    page.get_by_label("Facebook Page", exact=True).check()
    page.get_by_label("Reddit", exact=True).check()
    page.get_by_label("Subreddit").fill("r/gardening")
    when = (timezone.now().astimezone(org.tz) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    page.get_by_label("Publish at").fill(when.strftime("%Y-%m-%dT%H:%M"))
    browser_page.shot("3-publish-form")
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    expect(page.locator("#run-status")).to_have_text("awaiting_approval")
    expect(page.locator("#output-readable")).to_have_count(0)  # nothing went out yet
    held = page.get_by_role("region", name="Awaiting approval")
    expect(held).to_contain_text("Facebook Page")
    expect(held).to_contain_text("Reddit")
    expect(held).to_contain_text(FIX)  # exactly what will go out
    publish_url = page.url
    browser_page.shot("4-awaiting-approval")

    # 5. The admin approves it from their inbox.
    approver = approver_page.page
    approver_page.login(admin)
    approver.locator("#nav-approvals").click()
    approver.locator("tbody tr a").first.click()
    approver.get_by_label("Note").fill("Lovely, go ahead")
    approver.get_by_role("button", name="Approve and send").click()
    expect(approver.locator("#run-status")).to_have_text("completed", timeout=30_000)
    approver_page.shot("5-approved")

    # 6. The marketer sees the approval, and the post on the calendar, on both channels.
    page.goto(publish_url)
    expect(page.get_by_role("region", name="Approval: approved")).to_contain_text(
        "Lovely, go ahead"
    )
    expect(page.locator("#output-readable")).to_contain_text(
        "Scheduled to Facebook Page, Reddit for"
    )
    scheduled = AgentRun.objects.get(parent__isnull=False, trigger="schedule")
    assert scheduled.is_scheduled and scheduled.next_attempt_at == when
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    page.goto(f"{browser_page.base_url}/calendar/?view=week&date={when:%Y-%m-%d}")
    day = page.locator(f'#calendar-grid td[data-date="{when:%Y-%m-%d}"]')
    expect(day).to_contain_text("10:00")
    expect(day).to_contain_text("Facebook Page, Reddit")
    browser_page.shot("6-calendar")

    # Time passes: it is tomorrow 10:00 (the run's due time and its publishAt are now), and the
    # worker's timed task fires.
    now = timezone.now()
    AgentRun.objects.filter(pk=scheduled.pk).update(
        next_attempt_at=now, input={**scheduled.input, "publishAt": now.isoformat()}
    )
    tasks.execute_run(str(scheduled.pk))
    scheduled.refresh_from_db()
    assert scheduled.status == RunStatus.COMPLETED, scheduled.error_message

    # 7. Read what went out: one line per channel, in words.
    page.goto(f"{browser_page.base_url}/runs/{scheduled.pk}/")
    expect(page.locator("#run-status")).to_have_text("completed")
    went_out = page.locator("#output-readable")
    expect(went_out).to_contain_text("Facebook Page")
    expect(went_out).to_contain_text("Reddit")
    expect(went_out).not_to_contain_text('"status"')
    browser_page.shot("7-what-went-out")
    draft = ContentDraft.objects.get(organization=org)
    assert FIX in draft.body
