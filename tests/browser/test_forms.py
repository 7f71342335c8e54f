"""The start-a-run form in a real Chromium: platform checkboxes, the date-time picker in the
organization's timezone, a pre-run check's message next to its field, and Duplicate."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from connectors.registry import get_provider_class
from connectors.services import connector_create, placeholders
from runs.models import AgentRun, RunStatus
from tests.factories import AgentRunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sandbox(org, provider):
    cls = get_provider_class(provider)
    return connector_create(
        organization=org,
        provider=provider,
        name=f"{cls.label} sandbox",
        mode="sandbox",
        credentials=placeholders(cls.Credentials),
        config=placeholders(cls.Config),
    )


def _org(user):
    return user.memberships.get().organization


def test_publish_with_platform_checkboxes_and_a_time_in_the_organizations_zone(
    browser_page, marketer
):
    org = _org(marketer)
    _sandbox(org, "facebook_page")
    _sandbox(org, "instagram")
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto("/runs/new/?task=social/publish")
    expect(page.get_by_role("group", name="Platforms")).to_be_visible()
    page.get_by_label("Post text").fill("Our spring collection is here.")
    page.get_by_label("Facebook Page", exact=True).check()
    page.get_by_label("Instagram", exact=True).check()
    page.get_by_label("Image URL").fill("https://cdn.example.com/spring.jpg")
    when = (
        (timezone.now() + timedelta(days=3))
        .astimezone(org.tz)
        .replace(hour=9, minute=30, second=0, microsecond=0)
    )
    picker = page.get_by_label("Publish at")
    assert picker.get_attribute("type") == "datetime-local"
    picker.fill(when.strftime("%Y-%m-%dT%H:%M"))
    expect(page.locator("#id_input-publishAt_zone")).to_have_text("Europe/Berlin")
    expect(
        page.get_by_text("Leave empty to publish now. Times are in Europe/Berlin.")
    ).to_be_visible()
    # A platform's options show only while it is ticked.
    expect(page.locator("#options-reddit")).to_be_hidden()
    expect(page.get_by_label("Publish as a story")).to_be_visible()
    # Internal fields stay out of the way.
    expect(page.get_by_label("Created by")).to_have_count(0)
    expect(page.get_by_label("Instagram connector")).to_be_hidden()  # under Advanced
    browser_page.shot("publish-form")
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    browser_page.shot("publish-scheduled")
    run = AgentRun.objects.filter(parent__isnull=True).get()
    assert run.input["platforms"] == ["facebook_page", "instagram"]
    assert run.input["publishAt"] == when.isoformat()  # 09:30 in Berlin, with Berlin's offset


def test_a_private_url_is_refused_next_to_its_field_and_no_run_exists(
    browser_page, marketer, settings
):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    _sandbox(_org(marketer), "instagram")
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto("/runs/new/?task=social/publish")
    page.get_by_label("Post text").fill("Look at this")
    page.get_by_label("Instagram", exact=True).check()
    page.get_by_label("Image URL").fill("http://127.0.0.1/private.jpg")
    page.get_by_role("button", name="Start run").click()
    error = page.locator("#id_input-imageUrl_error")
    expect(error).to_have_text("Image URL points to a private or local address; use a public one.")
    expect(page.get_by_label("Image URL")).to_have_attribute("aria-invalid", "true")
    expect(
        page.get_by_text("The run was not started: fix the fields marked below.")
    ).to_be_visible()
    # What was typed is kept: the box stays ticked.
    expect(page.get_by_label("Instagram", exact=True)).to_be_checked()
    browser_page.shot("private-url-refused")
    assert not AgentRun.objects.exists()
    # The refusal is the page's 422 answer, which Chromium logs; nothing else may be logged.
    assert [e for e in browser_page.errors if "status of 422" not in e] == []
    browser_page.errors.clear()


def test_duplicate_a_completed_run(browser_page, marketer):
    org = _org(marketer)
    _sandbox(org, "reddit")
    run = AgentRunFactory(
        organization=org,
        agent="social",
        intent="publish",
        status=RunStatus.COMPLETED,
        finished_at=timezone.now(),
        input={"text": "Spring sale", "platforms": ["reddit"], "reddit": {"subreddit": "acme"}},
        output={"status": "published", "results": {}},
    )
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto(f"/runs/{run.id}/")
    expect(page.get_by_role("link", name="Edit and run again")).to_be_visible()
    browser_page.shot("completed-run-actions")
    page.get_by_role("link", name="Duplicate").click()
    page.wait_for_url(re.compile(r"/runs/new/\?duplicate="))
    expect(page.get_by_label("Post text")).to_have_value("Spring sale")
    expect(page.get_by_label("Reddit", exact=True)).to_be_checked()
    expect(page.get_by_label("Subreddit")).to_have_value("acme")
    expect(page.locator("#prefill-note")).to_contain_text("A copy of the input of run")
    browser_page.shot("duplicate-form")
    page.get_by_label("Post text").fill("Spring sale, second week")
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    new = AgentRun.objects.exclude(pk=run.pk).get()
    assert new.input == {
        "text": "Spring sale, second week",
        "platforms": ["reddit"],
        "reddit": {"subreddit": "acme"},
    }


def test_a_failure_a_retry_cannot_fix_says_why_and_offers_edit_and_run_again(
    browser_page, marketer
):
    from agents import services

    org = _org(marketer)
    failed, _ = services.run_start(
        organization=org, agent="testing", intent="reject", payload={"text": "x"}
    )
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto(f"/runs/{failed.id}/")
    expect(page.get_by_role("heading", name="CONNECTOR_REJECTED")).to_be_visible()
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    expect(page.locator("#retry-reason")).to_contain_text("nothing has changed since")
    browser_page.shot("no-retry-reason")
    page.get_by_role("link", name="Edit and run again").click()
    expect(page.get_by_role("heading", name="Edit and run again")).to_be_visible()
    expect(page.get_by_label("Text")).to_have_value("x")
