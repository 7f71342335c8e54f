"""Reading a run's result in a real Chromium: an article, an SEO audit, social posts."""

from __future__ import annotations

import re

import pytest
from django.utils.text import slugify
from playwright.sync_api import expect

from agents import services as agent_services
from runs import services as run_services
from runs.models import AgentRun, RunStatus
from tests.factories import AgentRunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUDITED_PAGE = (
    '<html lang="en"><head><title>Release planning for small marketing teams</title>'
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
    "<body><h1>Release planning</h1><p>Release planning keeps launches calm.</p>"
    '<img src="/hero.png"></body></html>'
)


def _finished(org, agent, intent, payload) -> AgentRun:
    run, _ = agent_services.run_start(organization=org, agent=agent, intent=intent, payload=payload)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error_message
    return run


def test_read_copy_and_download_a_generated_article(browser_page, marketer, live_server):
    org = marketer.memberships.get().organization
    run = _finished(
        org,
        "content",
        "generate-draft",
        {"topic": "Calm release planning", "primaryKeyword": "release planning"},
    )
    page = browser_page.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    browser_page.login(marketer)
    browser_page.goto(f"/runs/{run.id}/")
    article = page.locator("#result-article")
    heading = next(line[3:] for line in run.output["body"].splitlines() if line.startswith("## "))
    expect(article.get_by_role("heading", name=heading, level=2)).to_be_visible()
    expect(page.locator("#result-generator")).to_have_text("Template text, no AI model")
    expect(page.get_by_role("heading", name="Quality")).to_be_visible()
    expect(page.locator("#run-output")).to_be_hidden()  # the raw JSON waits behind its tab
    browser_page.shot("article")

    copy = page.get_by_role("button", name="Copy Markdown")
    copy.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".copy-status").first).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == run.output["body"]

    with page.expect_download() as download:
        page.get_by_role("link", name="Download .md").click()
    assert (
        download.value.suggested_filename == f"{slugify(run.output['title'])}-{str(run.id)[:8]}.md"
    )
    expect(page.get_by_role("link", name="post", exact=True)).to_have_attribute(
        "href", f"/runs/new/?task=social/publish&use_output_of={run.id}"
    )

    # The Raw JSON tab, by keyboard: arrows move between the tabs, as in every tab list.
    readable = page.locator("#output-tab-readable")
    readable.focus()
    page.keyboard.press("ArrowRight")
    raw = page.get_by_role("tab", name="Raw JSON").first
    expect(raw).to_be_focused()
    expect(raw).to_have_attribute("aria-selected", "true")
    expect(page.locator("#run-output")).to_be_visible()
    expect(page.locator("#run-output")).to_contain_text('"draftId"')
    expect(article).to_be_hidden()
    browser_page.shot("article-raw")
    page.keyboard.press("Home")
    expect(readable).to_be_focused()
    expect(article).to_be_visible()

    # The input reads as fields too, with its raw JSON behind the same kind of tab.
    fields = page.locator("#input-fields")
    expect(fields.get_by_text("Primary keyword")).to_be_visible()
    expect(page.locator("#run-input")).to_be_hidden()


def test_an_seo_audit_is_a_scored_checklist(browser_page, marketer):
    org = marketer.memberships.get().organization
    run = _finished(org, "seo", "seo-audit", {"html": AUDITED_PAGE, "keyword": "release planning"})
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto(f"/runs/{run.id}/")
    expect(page.locator("#result-score .value")).to_have_text(str(run.output["score"]))
    high = page.locator("section.priority-high")
    expect(high.get_by_role("heading", name=re.compile("High priority"))).to_be_visible()
    expect(high.get_by_text("Meta description", exact=True)).to_be_visible()
    passed = page.locator(
        "section.checklist", has=page.get_by_role("heading", name=re.compile("Passed"))
    )
    expect(passed.get_by_text("Mobile viewport")).to_be_visible()
    browser_page.shot("seo-audit")


def test_social_posts_preview_against_their_platform(browser_page, marketer):
    org = marketer.memberships.get().organization
    good = _finished(
        org,
        "social",
        "generate-post",
        {"content": "We launched calmer release planning", "platform": "twitter"},
    )
    too_long = AgentRunFactory(
        organization=org,
        agent="social",
        intent="generate-post",
        status=RunStatus.COMPLETED,
        input={"content": "x", "platform": "twitter"},
        output={"content": "Calm releases. " * 20, "hashtags": [], "model": "gpt-4o"},
    )
    published = AgentRunFactory(
        organization=org,
        agent="social",
        intent="publish",
        status=RunStatus.COMPLETED,
        input={"text": "We launched.", "platforms": ["reddit", "instagram"]},
        output={
            "status": "partial",
            "results": {
                "reddit": {
                    "status": "published",
                    "postId": "t3_abc",
                    "permalink": "https://www.reddit.com/r/pm/comments/abc/we_launched/",
                    "sandbox": True,
                },
                "instagram": {"status": "failed", "message": "Media URL could not be fetched"},
            },
        },
    )
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto(f"/runs/{good.id}/")
    preview = page.get_by_role("figure", name="X (Twitter) preview")
    expect(preview).to_contain_text("We launched calmer release planning")
    expect(page.locator("#result-post-chars")).to_have_text(re.compile(r"^\d+ / 280 characters$"))
    expect(page.get_by_role("link", name="Publish this post")).to_be_visible()
    browser_page.shot("post")

    browser_page.goto(f"/runs/{too_long.id}/")
    expect(page.locator("#result-post-chars")).to_have_text(
        "300 / 280 characters: too long for X (Twitter)"
    )
    expect(page.locator("#result-post")).to_have_class(re.compile("over-limit"))
    expect(page.locator("#result-generator")).to_have_text("Written by gpt-4o")
    browser_page.shot("post-too-long")

    browser_page.goto(f"/runs/{published.id}/")
    expect(page.get_by_role("link", name=re.compile("View the post on Reddit"))).to_have_attribute(
        "href", "https://www.reddit.com/r/pm/comments/abc/we_launched/"
    )
    expect(page.locator("#output-readable .error")).to_have_text("Media URL could not be fetched")
    browser_page.shot("publish")


def test_without_javascript_the_result_and_the_raw_json_are_both_there(
    chromium, live_server, marketer
):
    org = marketer.memberships.get().organization
    run = _finished(org, "support", "triage", {"content": "Checkout is down, urgent!"})
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.goto(live_server.url + "/login/")
    page.get_by_label("Email").fill(marketer.username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/runs/{run.id}/")
    expect(page.get_by_text("Priority: urgent")).to_be_visible()  # outage language
    expect(page.get_by_role("heading", name="Recommended actions")).to_be_visible()
    expect(page.locator("#run-output")).to_be_visible()
    expect(page.get_by_role("tablist")).to_have_count(0)  # hidden: no tabs without a script
    expect(page.get_by_role("button", name=re.compile("Copy"))).to_have_count(0)
    context.close()


def test_the_result_appears_with_working_tabs_when_a_live_run_completes(browser_page, marketer):
    org = marketer.memberships.get().organization
    run, _ = run_services.run_create(
        organization=org,
        agent="support",
        intent="triage",
        payload={"content": "Checkout is down, urgent!"},
        trigger="api",
        max_attempts=1,
    )
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto(f"/runs/{run.id}/")
    browser_page.mark_document()
    expect(page.locator("#output-title")).to_have_count(0)
    claimed = run_services.run_claim(run_id=run.id)
    run_services.run_complete(
        run=claimed,
        output={
            "category": "general_question",
            "priority": "high",
            "sentiment": "negative",
            "recommendedActions": ["Escalate to on-call"],
        },
        metrics={},
    )
    expect(page.locator("#run-status")).to_have_text("completed", timeout=10_000)
    assert browser_page.same_document(), "the page reloaded instead of updating in place"
    expect(page.get_by_text("Priority: high")).to_be_visible()  # the output written above
    expect(page.locator("#run-output")).to_be_hidden()  # the tabs were set up on the new content
    page.get_by_role("tab", name="Raw JSON").first.click()
    expect(page.locator("#run-output")).to_be_visible()
    browser_page.shot("completed-live")


def test_results_fit_a_phone(phone_page, marketer):
    org = marketer.memberships.get().organization
    article = _finished(
        org,
        "content",
        "generate-draft",
        {"topic": "Calm release planning", "primaryKeyword": "release planning"},
    )
    keywords = _finished(org, "seo", "keyword-research", {"seeds": ["release planning"]})
    phone_page.login(marketer)
    for run, name in ((article, "article"), (keywords, "keywords")):
        phone_page.goto(f"/runs/{run.id}/")
        width = phone_page.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the {name} result is {width}px wide on a 375px screen"
        phone_page.shot(name)
