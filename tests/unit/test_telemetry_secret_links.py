"""The pages of links that carry a secret in their query string get no server span: a span
records the full URL, and the token would reach the trace collector (cc_common.telemetry)."""

from __future__ import annotations

from cc_common import telemetry
from flask import Flask

from tests.support.tracing import recording


def _app() -> Flask:
    app = Flask(__name__)

    @app.get("/password-reset")
    @app.get("/packages/sso")
    @app.get("/api/v1/products")
    def page() -> str:
        return "ok"

    telemetry.instrument_flask(app)
    return app


def test_no_span_holds_the_token_of_a_reset_or_start_link_while_other_requests_are_traced():
    client = _app().test_client()
    with recording() as exporter:
        assert client.get("/password-reset?token=SECRET-RESET").status_code == 200
        assert client.get("/packages/sso?token=SECRET-START").status_code == 200
        assert client.get("/api/v1/products?lang=de").status_code == 200
        spans = exporter.get_finished_spans()
    recorded = " ".join(f"{s.name} {dict(s.attributes or {})}" for s in spans)
    assert "SECRET" not in recorded
    assert [s.attributes.get("http.route") for s in spans] == ["/api/v1/products"]


def test_an_operators_excluded_urls_keep_the_secret_link_pages_excluded(monkeypatch):
    monkeypatch.setenv("OTEL_PYTHON_FLASK_EXCLUDED_URLS", "/metrics")
    excluded = telemetry.excluded_flask_urls().split(",")
    assert excluded[0] == "/metrics" and "/healthz$" not in excluded
    assert all(any(page in rule for rule in excluded) for page in telemetry.SECRET_LINK_PAGES)
