"""Marketer pages in a real Chromium: log in, start and watch a run, filter and share, retry."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from agents import executor
from agents import services as agent_services
from neonhub.core.models import Role
from runs import services as run_services
from runs.models import AgentRun, RunStatus
from tests.factories import AgentRunFactory, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_and_see_the_overview(browser_page, marketer):
    page = browser_page.page
    browser_page.goto("/overview/")
    expect(page).to_have_title("Log in · NeonHub")
    browser_page.shot("login")
    page.get_by_label("Email").fill(marketer.username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_title("Overview · NeonHub")
    expect(
        page.get_by_role("heading", name="No finished runs in the last 24 hours")
    ).to_be_visible()
    browser_page.shot("overview-empty")


def test_start_a_run_from_the_form_and_watch_it_finish_without_reloading(
    browser_page, marketer, broker, worker
):
    cluster = worker()  # a real qcluster process executes the run
    page = browser_page.page
    browser_page.login(marketer)
    page.get_by_role("link", name="Start a run").first.click()
    expect(page).to_have_title("Start a run · NeonHub")
    page.get_by_label("Agent and intent").select_option("support/triage")
    expect(page.get_by_label("Content")).to_be_visible()  # fields swapped in by htmx
    assert "task=support%2Ftriage" in page.url or "task=support/triage" in page.url
    page.get_by_label("Content").fill("Checkout is down for every customer, urgent!")
    page.get_by_label("Channel").select_option("email")
    browser_page.shot("start-form")
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    browser_page.mark_document()
    browser_page.shot("run-started")
    expect(page.locator("#run-status")).to_have_text("completed", timeout=45_000)
    assert browser_page.same_document(), "the page reloaded instead of updating in place"
    expect(page.locator("pre[aria-labelledby=output-title]")).to_contain_text(
        '"priority": "urgent"'
    )
    expect(page.locator(".timeline .step")).to_have_count(1)
    browser_page.shot("run-completed")
    cluster.kill()  # nothing left for it to do; a graceful stop takes seconds
    run = AgentRun.objects.get()
    assert (run.status, run.trigger, run.created_by_id) == (RunStatus.COMPLETED, "ui", marketer.pk)


def test_filter_the_run_list_and_share_the_url(browser_page, chromium, live_server, marketer):
    org = marketer.memberships.get().organization
    failed = AgentRunFactory(
        organization=org,
        agent="support",
        intent="triage",
        status=RunStatus.FAILED,
        error_code="CONNECTOR_AUTH",
    )
    AgentRunFactory(organization=org, agent="support", intent="triage", status=RunStatus.COMPLETED)
    AgentRunFactory(organization=org, agent="seo", intent="seo-audit", status=RunStatus.FAILED)
    page = browser_page.page
    browser_page.login(marketer)
    expect(page.locator("tbody tr")).to_have_count(3)
    page.get_by_label("Agent").select_option("support")
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator(f"#run-{failed.id}")).to_contain_text("CONNECTOR_AUTH")
    shared = page.url
    assert "agent=support" in shared and "status=failed" in shared
    browser_page.shot("runs-filtered")

    # A colleague in the same organization opens the shared link and sees the same view.
    colleague = MembershipFactory(organization=org, role=Role.VIEWER).user
    context = chromium.new_context()
    other = context.new_page()
    other.goto(
        live_server.url + "/login/?next=" + shared.removeprefix(live_server.url).replace("&", "%26")
    )
    other.get_by_label("Email").fill(colleague.username)
    other.get_by_label("Password").fill("pw-123456")
    other.get_by_role("button", name="Log in").click()
    expect(other.locator("tbody tr")).to_have_count(1)
    expect(other.get_by_label("Status")).to_have_value("failed")
    assert other.url == shared
    context.close()


def test_rows_of_active_runs_update_live(browser_page, marketer):
    org = marketer.memberships.get().organization
    run, _ = run_services.run_create(
        organization=org,
        agent="testing",
        intent="echo",
        payload={"text": "hi"},
        trigger="api",
        max_attempts=1,
    )
    done = AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    page = browser_page.page
    browser_page.login(marketer)
    row = page.locator(f"#run-{run.id}")
    expect(row).to_contain_text("queued")
    browser_page.mark_document()
    polled: list[str] = []
    page.on("request", lambda r: polled.append(r.url) if "/row/" in r.url else None)
    executor.execute_run(run.id)  # the worker's work, done here
    expect(row).to_contain_text("completed", timeout=10_000)
    assert browser_page.same_document()
    assert polled and all(str(run.id) in url for url in polled)  # only the active row polled
    assert not any(str(done.id) in url for url in polled)
    count = len(polled)
    page.wait_for_timeout(2500)
    assert len(polled) == count, "a finished row kept polling"
    browser_page.shot("runs-live")


def test_keyboard_focus_survives_the_live_updates_of_a_run(browser_page, marketer):
    org = marketer.memberships.get().organization
    run, _ = run_services.run_create(
        organization=org,
        agent="testing",
        intent="echo",
        payload={"text": "hi"},
        trigger="api",
        max_attempts=1,
    )
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto(f"/runs/{run.id}/")
    polls: list[int] = []
    page.on(
        "response", lambda r: polls.append(r.status) if f"/runs/{run.id}/?v=" in r.url else None
    )
    page.locator("#run-cancel").focus()
    page.wait_for_timeout(2500)
    assert polls and set(polls) == {204}, polls  # polled, and nothing to swap
    expect(page.locator("#run-cancel")).to_be_focused()
    run_services.run_claim(run_id=run.id)  # a worker takes it: the body changes and is swapped
    expect(page.locator("#run-status")).to_have_text("running", timeout=5_000)
    expect(page.locator("#run-cancel")).to_be_focused()
    page.keyboard.press("Enter")  # still where the user left it: cancel by keyboard
    expect(page.locator("#run-body .notice")).to_contain_text("Cancel requested")


def test_open_a_failed_run_and_retry_it(browser_page, marketer, django_capture_on_commit_callbacks):
    org = marketer.memberships.get().organization
    # An unexpected error: a retry may get past it, so Retry is offered (a refused input or
    # post is not: tests/browser/test_forms.py).
    failed, _ = agent_services.run_start(
        organization=org, agent="testing", intent="boom", payload={"text": "x"}
    )
    page = browser_page.page
    browser_page.login(marketer)
    expect(page.locator(f"#run-{failed.id}")).to_contain_text("failed")
    page.locator(f"#run-{failed.id} a").click()
    expect(page.get_by_role("heading", name="INTERNAL")).to_be_visible()
    expect(page.get_by_role("region", name="INTERNAL")).to_contain_text(
        "Internal error (RuntimeError)"
    )
    browser_page.shot("run-failed")
    page.get_by_role("button", name="Retry").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    expect(
        page.get_by_text("Retry started; what the failed run already sent is not sent again.")
    ).to_be_visible()
    expect(page.get_by_text("Retry of")).to_be_visible()
    retry = AgentRun.objects.get(parent=failed)
    assert page.url.endswith(f"/runs/{retry.id}/") and retry.trigger == "retry"
    browser_page.shot("run-retried")


def test_overview_charts_and_keyboard_use(browser_page, marketer, run_now):
    org = marketer.memberships.get().organization
    for text in ("a", "b", "c"):
        agent_services.run_start(
            organization=org, agent="testing", intent="echo", payload={"text": text}
        )
    agent_services.run_start(
        organization=org, agent="testing", intent="reject", payload={"text": "x"}
    )
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto("/overview/")
    expect(page.locator("svg[role=img]")).to_have_count(1)  # no cost chart: these runs cost nothing
    expect(page.get_by_text("No cost recorded in this window")).to_be_visible()
    expect(page.locator(".stat").first).to_contain_text("4")
    expect(page.get_by_text("75.0%").first).to_be_visible()
    browser_page.shot("overview")
    # Keyboard: the first Tab reaches the skip link, which is visible when focused.
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.get_by_role("link", name="7 days").click()
    expect(page).to_have_url(re.compile(r"window=7d"))


def test_pages_fit_a_phone(phone_page, marketer):
    org = marketer.memberships.get().organization
    run, _ = agent_services.run_start(
        organization=org, agent="testing", intent="reject", payload={"text": "x"}
    )
    phone_page.login(marketer)
    for path, name in (
        ("/", "runs"),
        (f"/runs/{run.id}/", "run"),
        ("/overview/", "overview"),
        ("/runs/new/?task=support/triage", "start"),
        ("/connectors/", "connectors"),
    ):
        phone_page.goto(path)
        width = phone_page.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide on a 375px screen"
        phone_page.shot(name)


def test_a_viewer_in_two_organizations_switches_and_changes_nothing(browser_page, marketer):
    second = OrganizationFactory(name="Globex", slug="globex")
    MembershipFactory(organization=second, user=marketer, role=Role.VIEWER)
    theirs = AgentRunFactory(organization=second, status=RunStatus.FAILED)
    page = browser_page.page
    browser_page.login(marketer)
    page.get_by_label("Organization").select_option(label="Globex")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator(f"#run-{theirs.id}")).to_be_visible()
    expect(page.locator(".role")).to_have_text("viewer")
    page.locator(f"#run-{theirs.id} a").click()
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    browser_page.shot("viewer-run")


def test_test_connectors_inline(browser_page, marketer, httpserver):
    from connectors.services import connector_create

    org = marketer.memberships.get().organization
    httpserver.expect_request("/ok/me").respond_with_json({"account": "acct_main"})
    httpserver.expect_request("/revoked/me").respond_with_json(
        {"error": {"code": "401", "message": "token revoked"}}, status=401
    )
    made = {}
    for name, path in (("Good", "ok"), ("Revoked", "revoked")):
        made[name] = connector_create(
            organization=org,
            provider="fake",
            name=name,
            mode="live",
            credentials={"api_token": "tok_live_4f9a2c7e1b3d5f60", "account": "acct_main"},
            config={"base_url": httpserver.url_for(f"/{path}")},
        )
    connector_create(organization=org, provider="fake", name="Try-out", mode="sandbox")
    page = browser_page.page
    browser_page.login(marketer)
    page.get_by_role("link", name="Connectors").click()
    expect(page.locator(".badge.sandbox")).to_have_count(1)
    browser_page.mark_document()
    good, revoked = (page.locator(f"#connector-{made[n].id}") for n in ("Good", "Revoked"))
    good.get_by_role("button", name="Test Good").click()
    expect(good.locator("output")).to_have_text("✓ Passed: Connected to acct_main")
    revoked.get_by_role("button", name="Test Revoked").click()
    expect(revoked.locator("output")).to_contain_text("✗ Failed")
    expect(revoked.locator(".badge")).to_have_text("Needs reconnect")
    assert browser_page.same_document()
    assert "tok_live_4f9a2c7e1b3d5f60" not in page.content()
    browser_page.shot("connectors-tested")


def test_an_owner_adds_a_sandbox_connector(browser_page, marketer):
    membership = marketer.memberships.get()
    membership.role = Role.OWNER
    membership.save()
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto("/connectors/")
    expect(page.get_by_role("heading", name="No connectors yet")).to_be_visible()
    page.get_by_role("link", name="Add a connector").click()
    page.get_by_role("link", name="Fake Messaging").click()
    page.get_by_label("Name").fill("Try-out line")
    page.get_by_label("Mode").select_option("sandbox")
    page.get_by_label("Sender").fill("Acme")
    browser_page.shot("connector-form")
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_text("Try-out line saved.")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    browser_page.shot("connectors")
