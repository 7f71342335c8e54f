"""Chromium from the operating system, driven by Playwright, against a live test server.

No browser is downloaded: the tests use the ``chromium`` binary on PATH and are skipped,
saying why, when there is none.  Every page's console must stay free of errors, and each
test saves screenshots under ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django_q.conf import Conf
from playwright.sync_api import expect

from neonhub.core.models import Role
from tests.e2e.conftest import worker  # noqa: F401 - a real qcluster for the browser tests that need one
from tests.factories import MembershipFactory, OrganizationFactory

# Playwright's expectations wait 5 s by default; on two busy cores (CI's PostgreSQL pass, with
# a worker and a live server beside Chromium) a page's first render has taken longer. A
# passing expectation returns as soon as it holds, so a longer ceiling costs nothing.
expect.set_options(timeout=15_000)

SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pw-123456"  # tests.factories.UserFactory's password


@pytest.fixture(scope="session")
def chromium():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip(
            "No chromium binary on PATH; install the operating system's chromium package to run browser tests"
        )
    # Playwright's sync API keeps an event loop in this thread; the tests' own database calls
    # between browser steps are ordinary synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class BrowserPage:
    """A page with console-error collection and named screenshots."""

    def __init__(self, page, base_url: str, test_name: str):
        self.page, self.base_url, self.test_name = page, base_url, test_name
        self.errors: list[str] = []
        page.on(
            "console",
            lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        return response

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}--{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def login(self, user) -> None:
        self.goto("/login/")
        self.page.get_by_label("Email").fill(user.username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(self.base_url + "/")

    def mark_document(self) -> None:
        """Tag the current document, so a later check can prove no reload happened."""
        self.page.evaluate("window.__neonhub_same_document = true")

    def same_document(self) -> bool:
        return bool(self.page.evaluate("window.__neonhub_same_document === true"))

    def settled(self) -> None:
        """Wait until htmx has finished every request, swap and settle.

        htmx wires up the hx-* attributes of swapped-in content only when it settles (about
        20 ms after the swap), so a control used in that window is not yet listened to.
        """
        self.page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
        )


@pytest.fixture
def browser_page(chromium, live_server, request):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(10_000)
    page = BrowserPage(context.new_page(), live_server.url, request.node.name)
    yield page
    context.close()
    assert page.errors == [], "the browser console reported errors"


@pytest.fixture
def phone_page(chromium, live_server, request):
    context = chromium.new_context(
        viewport={"width": 375, "height": 740},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    context.set_default_timeout(10_000)
    page = BrowserPage(context.new_page(), live_server.url, request.node.name + "-phone")
    yield page
    context.close()
    assert page.errors == [], "the browser console reported errors"


@pytest.fixture
def marketer(transactional_db):
    org = OrganizationFactory(slug="acme", name="Acme", timezone="Europe/Berlin")
    return MembershipFactory(organization=org, role=Role.MEMBER).user


@pytest.fixture
def broker(monkeypatch):
    """Runs are enqueued into the real broker for a real worker, instead of running inline."""
    monkeypatch.setattr(Conf, "SYNC", False)
