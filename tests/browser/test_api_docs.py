"""/api/docs in a real browser: Swagger UI draws the gateway's own OpenAPI document, loads
nothing from elsewhere, and breaks no rule of the page's Content-Security-Policy (a violation
is a console error)."""

from __future__ import annotations

from urllib.parse import urlsplit


def test_the_api_reference_renders_the_operations_with_no_console_error(open_browser, suite):
    one = open_browser()
    page = one.page
    errors: list[str] = []
    outside: list[str] = []
    origin = urlsplit(suite.url("/")).netloc
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if urlsplit(request.url).scheme in ("http", "https") and urlsplit(request.url).netloc != origin
            else None
        ),
    )

    one.go("/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any(path.replace("\u200b", "").endswith("/auth/customer-login") for path in paths), paths[:10]
    assert len(paths) >= 20
    # One operation opened: its parameters and responses are drawn from the document too.
    page.locator(".opblock-summary-path", has_text="customer-login").first.click()
    page.wait_for_selector(".opblock.is-open .responses-wrapper")
    one.shot("api-docs")

    assert errors == []
    assert outside == []
