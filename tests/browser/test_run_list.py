"""The run list in a real Chromium: live new rows, drop-downs, short-id search, Newer/Older."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from runs.models import RunStatus
from tests.factories import AgentRunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_run_created_while_the_list_is_open_appears_without_a_reload(browser_page, marketer):
    org = marketer.memberships.get().organization
    AgentRunFactory(organization=org, status=RunStatus.COMPLETED, duration_ms=1200)
    page = browser_page.page
    browser_page.login(marketer)
    expect(page.locator("tbody tr")).to_have_count(1)
    browser_page.mark_document()
    new = AgentRunFactory(organization=org, agent="seo", intent="seo-audit")
    row = page.locator(f"#run-{new.id}")
    expect(row).to_be_visible(timeout=10_000)
    expect(page.locator("tbody tr").first).to_have_id(f"run-{new.id}")
    expect(page.locator("#runs-status")).to_have_text("1 new run at the top of the list")
    assert browser_page.same_document(), "the page reloaded instead of adding the row"
    browser_page.shot("new-run-appeared")
    # The new row is live too: it follows the run to its end.
    from runs.models import AgentRun

    AgentRun.objects.filter(pk=new.pk).update(status=RunStatus.COMPLETED, duration_ms=2500)
    expect(row).to_contain_text("completed", timeout=10_000)
    expect(row).to_contain_text("2.5 s")
    assert browser_page.same_document()


def test_the_agent_and_intent_drop_downs_filter_the_list(browser_page, marketer):
    org = marketer.memberships.get().organization
    triage = AgentRunFactory(organization=org, agent="support", intent="triage")
    AgentRunFactory(organization=org, agent="support", intent="macro-suggest")
    AgentRunFactory(organization=org, agent="seo", intent="seo-audit")
    page = browser_page.page
    browser_page.login(marketer)
    expect(page.locator("tbody tr")).to_have_count(3)
    page.get_by_label("Agent").select_option("support")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_label("Intent").select_option("triage")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator(f"#run-{triage.id}")).to_be_visible()
    expect(page.get_by_label("Agent")).to_have_value("support")
    expect(page.get_by_label("Intent")).to_have_value("triage")
    assert "agent=support" in page.url and "intent=triage" in page.url
    browser_page.shot("drop-downs-filtered")


def test_the_short_id_shown_in_the_table_finds_its_run(browser_page, marketer):
    org = marketer.memberships.get().organization
    runs = [AgentRunFactory(organization=org) for _ in range(4)]
    wanted = runs[1]
    page = browser_page.page
    browser_page.login(marketer)
    short = page.locator(f"#run-{wanted.id} code").inner_text()
    assert short == str(wanted.id)[:8]
    page.get_by_label("Run id").fill(short)
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator(f"#run-{wanted.id}")).to_be_visible()
    browser_page.shot("short-id-found")
    page.get_by_label("Run id").fill("zz")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#id_run_id-error")).to_contain_text("only the digits 0-9")
    browser_page.shot("short-id-invalid")
    # The invalid filter is answered 422 on purpose; the browser logs that, and nothing else.
    assert browser_page.errors == [
        "console: Failed to load resource: the server responded with a status of 422 "
        "(Unprocessable Entity)"
    ]
    browser_page.errors.clear()


def test_newer_and_older_pages(browser_page, marketer):
    org = marketer.memberships.get().organization
    start = timezone.now() - timedelta(hours=1)
    runs = [
        AgentRunFactory(organization=org, created_at=start + timedelta(seconds=i))
        for i in range(60)
    ]
    newest, oldest = runs[-1], runs[0]
    page = browser_page.page
    browser_page.login(marketer)
    expect(page.locator("tbody tr")).to_have_count(50)
    expect(page.locator("tbody tr").first).to_have_id(f"run-{newest.id}")
    expect(page.get_by_role("link", name="← Newer runs")).to_have_count(0)
    page.get_by_role("link", name="Older runs →").click()
    expect(page.locator("tbody tr")).to_have_count(10)
    expect(page.locator("tbody tr").last).to_have_id(f"run-{oldest.id}")
    expect(page.get_by_role("link", name="Older runs →")).to_have_count(0)
    browser_page.shot("older-page")
    page.get_by_role("link", name="← Newer runs").click()
    expect(page.locator("tbody tr")).to_have_count(50)
    expect(page.locator("tbody tr").first).to_have_id(f"run-{newest.id}")
    expect(page.get_by_role("link", name="← Newer runs")).to_have_count(0)
    browser_page.shot("back-to-newest")
