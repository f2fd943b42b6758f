"""GET /api/docs: the interactive reference of /api/openapi.json, from same-origin assets only."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "data-openapi-url"):
            if attrs.get(name):
                self.urls.append(attrs[name])
        self._in_script = tag == "script"
        if tag == "script" and not attrs.get("src"):
            self.inline_scripts += 1

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1


def _page(gateway_client):
    response = gateway_client.get("/api/docs")
    links = _Links()
    links.feed(response.get_data(as_text=True))
    return response, links


def test_the_page_is_html_and_points_only_at_same_origin_assets_and_the_document(gateway_client):
    response, links = _page(gateway_client)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "/api/openapi.json" in links.urls
    assert links.urls and all(re.fullmatch(r"/api/[\w./-]+", url) for url in links.urls), links.urls
    assert links.inline_scripts == 0


def test_every_asset_of_the_page_answers_with_its_content_type(gateway_client):
    _, links = _page(gateway_client)
    expected = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    assets = [url for url in links.urls if url.startswith("/api/docs/assets/")]
    assert {url.rsplit("/", 1)[1] for url in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css", "init.js"}
    for url in assets:
        response = gateway_client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == expected[url[url.rindex(".") :]], url
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_allows_only_same_origin_scripts_styles_and_requests(gateway_client):
    response, _ = _page(gateway_client)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_file_that_is_no_asset_of_the_page_is_a_json_404(gateway_client):
    for name in ("index.template.html", "..%2f__init__.py", "oauth2-redirect.html"):
        response = gateway_client.get(f"/api/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.get_json()["error"]["code"] == "not_found"
