"""Approvals and drafts in a real Chromium: an admin holds Facebook publishing for approval,
starts a sandbox publish, sees it wait with exactly what will go out, approves it and watches it
complete; then reads, edits and approves a draft."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from connectors.registry import get_provider_class
from connectors.services import connector_create, placeholders
from neonhub.core.models import Role
from runs.models import AgentRun, RunApproval, RunStatus
from tests.factories import ContentDraftFactory
from tests.helpers import sandbox_connectors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin(marketer):
    membership = marketer.memberships.get()
    membership.role = Role.ADMIN
    membership.save()
    return marketer


def test_hold_a_publish_for_approval_then_approve_it(browser_page, admin):
    org = admin.memberships.get().organization
    cls = get_provider_class("facebook_page")
    connector_create(
        organization=org,
        provider="facebook_page",
        name="Acme page",
        mode="sandbox",
        credentials=placeholders(cls.Credentials),
        config=placeholders(cls.Config),
    )
    page = browser_page.page
    browser_page.login(admin)
    browser_page.goto("/settings/approvals/")
    expect(page.get_by_role("heading", name="Approval settings")).to_be_visible()
    page.get_by_label("Facebook Page").check()
    page.get_by_label("Cancel a run nobody approved after (hours)").fill("24")
    browser_page.shot("settings")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Approval settings saved")).to_be_visible()
    expect(page.get_by_label("Facebook Page")).to_be_checked()

    browser_page.goto("/runs/new/?task=social/publish")
    page.get_by_label("Post text").fill("Calmer releases, now for every team.")
    page.get_by_label("Facebook Page", exact=True).check()
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    expect(page.locator("#run-status")).to_have_text("awaiting_approval")
    approval = page.get_by_role("region", name="Awaiting approval")
    expect(approval).to_contain_text("Publishing to Facebook Page needs approval")
    expect(approval).to_contain_text("create_post")
    expect(approval).to_contain_text("Calmer releases, now for every team.")
    expect(page.locator("#nav-approvals .count")).to_have_text("1")
    browser_page.shot("awaiting-approval")

    page.locator("#nav-approvals").click()
    expect(page.get_by_role("heading", name="Approvals")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("facebook_page")
    browser_page.shot("inbox")
    page.locator("tbody tr a").first.click()

    page.get_by_label("Note").fill("Good to go")
    page.get_by_role("button", name="Approve and send").click()
    expect(page.get_by_text("Approved; the run is queued and carries on.")).to_be_visible()
    expect(page.locator("#run-status")).to_have_text("completed", timeout=30_000)
    expect(page.get_by_role("region", name="Approval: approved")).to_contain_text("Good to go")
    browser_page.shot("approved-completed")
    run = AgentRun.objects.get()
    assert run.status == RunStatus.COMPLETED and run.output["status"] == "published"
    assert RunApproval.objects.get(run=run).decided_by == admin


def test_reject_with_a_note(browser_page, admin):
    org = admin.memberships.get().organization
    org.settings = {"approvals": {"email_send": True}}
    org.save()
    sandbox_connectors(org, ("smtp_email",))  # a send is started only with a connector
    from agents import services

    run, _ = services.run_start(
        organization=org,
        agent="email",
        intent="send",
        payload={"subject": "Hi", "body": "Hello", "recipients": ["ann@example.org"]},
    )
    page = browser_page.page
    browser_page.login(admin)
    browser_page.goto(f"/runs/{run.id}/")
    expect(page.get_by_role("region", name="Awaiting approval")).to_contain_text("ann@example.org")
    page.get_by_label("Note").fill("Wrong list")
    browser_page.shot("reject-note")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator("#run-status")).to_have_text("cancelled")
    expect(page.get_by_role("region", name="Approval: rejected")).to_contain_text("Wrong list")
    browser_page.shot("rejected")


def test_read_edit_and_approve_a_draft(browser_page, admin):
    org = admin.memberships.get().organization
    draft = ContentDraftFactory(
        organization=org,
        title="Spring launch",
        body="# Spring is here\n\nOur **new** collection.",
        status="generated",
    )
    page = browser_page.page
    browser_page.login(admin)
    page.get_by_role("link", name="Drafts").click()
    page.get_by_label("Status").select_option("generated")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    browser_page.shot("draft-list")
    page.get_by_role("link", name="Spring launch").click()
    expect(page.get_by_role("heading", name="Spring is here")).to_be_visible()
    expect(page.locator("article strong")).to_have_text("new")
    expect(page.get_by_role("link", name="Send to publishing")).to_have_attribute(
        "href", f"/runs/new/?task=social/publish&use_draft={draft.id}"
    )
    browser_page.shot("draft-read")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill("Spring launch, final")
    page.get_by_label("Keyword").fill("spring collection")
    browser_page.shot("draft-edit")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Spring launch, final")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#draft-status")).to_have_text("Approved")
    browser_page.shot("draft-approved")
    draft.refresh_from_db()
    assert (draft.title, draft.primary_keyword, draft.status) == (
        "Spring launch, final",
        "spring collection",
        "approved",
    )
