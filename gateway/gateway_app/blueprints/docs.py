"""GET /api/docs: an interactive reference of the gateway's OpenAPI document
(`/api/openapi.json`), drawn by Swagger UI.

Swagger UI's files come from the pinned PyPI package flask-swagger-ui (its `dist/` folder; its
blueprint is not used, as its page holds an inline script) and are served from here, under
/api/docs/assets/, with the page's own script (`gateway_app/api_docs/`): the browser loads
nothing from elsewhere, and the Content-Security-Policy says so.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, abort, render_template_string, send_from_directory, url_for

bp = Blueprint("api_docs", __name__)

OWN = Path(__file__).resolve().parent.parent / "api_docs"
SWAGGER_UI = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
# The files the page loads, and where each comes from.
ASSETS = {
    "swagger-ui-bundle.js": SWAGGER_UI,
    "swagger-ui.css": SWAGGER_UI,
    "favicon-32x32.png": SWAGGER_UI,
    "init.js": OWN,
}
OPENAPI_URL = "/api/openapi.json"
PAGE = (OWN / "index.html").read_text(encoding="utf-8")

# Same-origin scripts, styles and requests only (the document, "Try it out"); images also as
# data: URIs (Swagger UI's stylesheet draws its icons so). Never framed, no Referer.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@bp.get("/api/docs")
def page() -> str:
    return render_template_string(
        PAGE, openapi_url=OPENAPI_URL, asset=lambda name: url_for("api_docs.asset", name=name)
    )


@bp.get("/api/docs/assets/<name>")
def asset(name: str) -> Response:
    folder = ASSETS.get(name)
    if folder is None:
        abort(404)
    return send_from_directory(folder, name, max_age=3600)


@bp.after_request
def security_headers(response: Response) -> Response:
    for header, value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
    return response
