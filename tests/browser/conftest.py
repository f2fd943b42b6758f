"""Browser tests: Playwright (sync API) driving Debian's chromium (/usr/bin/chromium, never a
browser download) against the five real processes of tests/e2e (`suite`).

Every test is marked `browser` (and `e2e`, as it starts the suite) and saves screenshots under
test-results/browser/. Without chromium the tests skip with the reason; under CI=true they fail.
"""

from __future__ import annotations

import email
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import conftest as e2e
from tests.e2e.harness import Suite

# The end-to-end fixtures, reused: the five real processes, started once per xdist worker.
_shared_suites = e2e._shared_suites
suite_factory = e2e.suite_factory
suite = e2e.suite

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "browser"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_call_failed = report.failed  # read by open_browser: a screenshot of the failure
    return report


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        message = f"{CHROMIUM} is missing: `make system-deps` installs chromium and chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Browser:
    """One browser context (its own cookies) on the suite, with a screenshot helper."""

    def __init__(self, context, suite: Suite, name: str) -> None:
        self.context = context
        self.page = context.new_page()
        self.page.set_default_timeout(20_000)
        self.suite = suite
        self.name = name
        self.shots = 0

    def go(self, path: str):
        self.page.goto(self.suite.url(path))
        return self.page

    def shot(self, label: str) -> Path:
        self.shots += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def login_customer(self, number: str, password: str, lang: str | None = None):
        page = self.go("/login" + (f"?lang={lang}" if lang else ""))
        page.fill("#f-customer_number", number)
        page.fill("#f-password", password)
        page.click("main form button[type=submit]")
        page.wait_for_url("**/customer")
        return page


@pytest.fixture
def open_browser(browser, suite, request) -> Iterator:
    """open_browser(locale="en") -> a fresh Browser (own cookies) on the shared suite."""
    contexts = []
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", request.node.name)[:80]

    def open_one(locale: str = "en-GB") -> Browser:
        context = browser.new_context(
            locale=locale, accept_downloads=True, viewport={"width": 1280, "height": 900}
        )
        contexts.append(context)
        return Browser(context, suite, f"{safe}-{len(contexts)}" if contexts[1:] else safe)

    opened: list[Browser] = []

    def remember(locale: str = "en-GB") -> Browser:
        one = open_one(locale)
        opened.append(one)
        return one

    yield remember
    # Every test leaves a screenshot of where each of its browsers ended (or failed).
    failed = getattr(request.node, "browser_call_failed", False)
    for one in opened:
        try:
            one.shot("failure" if failed else "end")
        except Exception:  # noqa: BLE001 - a screenshot must not hide the test's own result
            pass
    for context in contexts:
        context.close()


def mail_text(data: bytes) -> str:
    """The text of a mail, transfer encodings undone."""
    message = email.message_from_bytes(data)
    parts = message.walk() if message.is_multipart() else [message]
    texts = []
    for part in parts:
        payload = part.get_payload(decode=True)
        if payload:
            texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(texts)
