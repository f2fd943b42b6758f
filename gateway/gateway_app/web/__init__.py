"""The web pages of the customer center: server-rendered HTML, usable without JavaScript.

One blueprint, `web`, with its routes split by area (auth, customer, packages, merge, staff).
The session is the same JWT the API uses, kept in an HttpOnly, SameSite=Lax cookie and
verified by the API's TokenGuard (revocation included). Every POST carries a CSRF token
(`web.session`). Pages live outside /api/; errors are rendered as pages (`web.pages`).
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint(
    "web",
    __name__,
    static_folder="../static",
    static_url_path="/static",
)


def init_app(app: Flask) -> None:
    """Registers the pages and the languages (Flask-Babel) on the app."""
    # Routes register themselves on `bp` when their module is imported.
    from gateway_app.web import (  # noqa: F401
        auth,
        backoffice,
        customer,
        i18n,
        merge,
        packages,
        pages,
        session,
        staff,
    )

    i18n.init_app(app)
    app.jinja_env.globals["csrf_token"] = session.csrf_token
    # By status code, so it comes before the API's handler of every HTTPException (errors.py).
    app.register_error_handler(404, pages.not_found_anywhere)
    app.register_blueprint(bp)
