"""The API docs in a real Chromium with every request outside the app refused: Swagger UI
renders the whole document from the app's own static files."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_offline(browser_page, marketer):
    page = browser_page.page
    outside: list[str] = []

    def only_the_app(route):
        if route.request.url.startswith(browser_page.base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    browser_page.login(marketer)
    browser_page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("NeonHub API")
    # The operations, under their short ids' tags, and the error answers of one of them.
    operation = page.locator("#operations-runs-runs_create")
    expect(operation).to_be_visible()
    operation.locator(".opblock-summary").click()
    expect(operation.locator(".responses-table")).to_contain_text("422")
    expect(operation.locator(".responses-table")).to_contain_text("Invalid input")
    browser_page.shot("runs-create")
    assert outside == []
