"""Help and contact: the service team's contact channels, for everyone (logged in
or not), linked from the footer of every page and from the customer area's menu."""

from __future__ import annotations

from typing import Any

from cc_common.errors import DomainError

from gateway_app.web import bp
from gateway_app.web.pages import page
from gateway_app.web.session import session_principal


@bp.get("/help")
def help_page() -> Any:
    try:
        session_principal()  # the header shows the login, if there is one
    except DomainError:
        pass  # identity's revocation state unknown: the page is shown without the login
    return page("help.html")
