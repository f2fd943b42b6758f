"""The browser session and CSRF protection of the web pages.

- `cc_session`: the JWT of a login (the same token the API issues), HttpOnly, SameSite=Lax,
  Secure when the request came over https. It is verified on every page with the API's
  TokenGuard, so a revoked token (logout, password change, merged number) is dead at once.
- `cc_csrf`: a random value per browser, HttpOnly. Every form carries
  HMAC(secret, value) in the hidden field `csrf_token`; a POST whose field does not match its
  cookie (or has none) is refused with a 400 page. The secret is derived from the gateway's
  signing key, so no extra secret has to be configured, and a cookie planted by a sibling
  domain cannot be paired with a valid form token.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import Any, TypeVar, cast

from cc_common.errors import Forbidden, Unauthenticated
from cc_common.tokens import Principal
from cryptography.hazmat.primitives import serialization
from flask import Response, current_app, g, redirect, request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response as BaseResponse

from gateway_app.proxy import secure_cookies
from gateway_app.security import guard
from gateway_app.web import bp

SESSION_COOKIE = "cc_session"
# The signed-in customer's language for the pages (gateway_app/web/i18n.py); ends with the session.
PREFERENCE_COOKIE = "cc_pref_lang"
CSRF_COOKIE = "cc_csrf"
CSRF_FIELD = "csrf_token"
_SECRET_KEY = "web_csrf_secret"

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R", bound=BaseResponse)  # flask's Response, or werkzeug's from redirect()


class CsrfError(BadRequest):
    description = "csrf"


# --- CSRF ---------------------------------------------------------------------------------


def _secret() -> bytes:
    secret = current_app.extensions.get(_SECRET_KEY)
    if secret is None:
        signer = guard().signer
        assert signer is not None
        raw = signer._key.private_bytes(  # noqa: SLF001 - the gateway's own key, never sent anywhere
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        secret = hmac.new(raw, b"customer-center web csrf v1", hashlib.sha256).digest()
        current_app.extensions[_SECRET_KEY] = secret
    return secret


def _form_token(value: str) -> str:
    return hmac.new(_secret(), value.encode(), hashlib.sha256).hexdigest()


def _csrf_value() -> str:
    if "csrf_value" not in g:
        value = request.cookies.get(CSRF_COOKIE, "")
        if not (16 <= len(value) <= 128):
            value = secrets.token_urlsafe(32)
            g.csrf_new = True
        g.csrf_value = value
    return cast(str, g.csrf_value)


def csrf_token() -> str:
    """The value of the hidden `csrf_token` field of every form (templates call it)."""
    return _form_token(_csrf_value())


@bp.before_request
def check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.endpoint in ("web.merge_legal_proof", "web.customer_contact"):
        # The signed form (or a contact request's PDF) may be up to 5 MB (the API's limit);
        # raised before the form is parsed.
        from gateway_app.uploads import FORM_OVERHEAD
        from gateway_app.use_cases import MAX_LEGAL_PROOF_BYTES

        request.max_content_length = MAX_LEGAL_PROOF_BYTES + FORM_OVERHEAD
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.form.get(CSRF_FIELD, "")
    if not cookie or not sent or not hmac.compare_digest(sent, _form_token(cookie)):
        raise CsrfError()


# The pages load nothing from elsewhere and run no script; they are never framed (clickjacking),
# and a reset token in a URL never leaves in a Referer header.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@bp.after_request
def set_csrf_cookie(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.cookies.get(SESSION_COOKIE) or g.get("web_principal") is not None:
        response.headers["Cache-Control"] = "no-store"  # personal data stays out of shared caches
    if g.get("csrf_new"):
        response.set_cookie(CSRF_COOKIE, g.csrf_value, **cookie_flags())
    return response


# --- the session cookie -------------------------------------------------------------------


def cookie_flags(*, httponly: bool = True) -> dict[str, Any]:
    """The flags of every cookie of the pages: the whole site, SameSite=Lax, and Secure when the
    request came over https."""
    return {"path": "/", "samesite": "Lax", "secure": secure_cookies(), "httponly": httponly}


def start_session(response: R, token: str) -> R:
    signer = guard().signer
    response.set_cookie(SESSION_COOKIE, token, max_age=signer.ttl if signer else None, **cookie_flags())
    return response


def end_session(response: R) -> R:
    for name in (SESSION_COOKIE, PREFERENCE_COOKIE):
        response.delete_cookie(name, **cookie_flags())
    return response


def session_principal() -> Principal | None:
    """The verified principal of the session cookie, or None (no, bad, expired or revoked
    token). ServiceUnavailable (identity's revocation state unknown) is raised."""
    if "web_principal" in g:
        return cast("Principal | None", g.web_principal)
    principal = None
    if token := request.cookies.get(SESSION_COOKIE, ""):
        with suppress(Unauthenticated):
            principal = guard().authenticate(token)
    g.web_principal = principal
    return principal


LOGIN_PAGE = {"customer": "web.login", "package": "web.package_login", "staff": "web.staff_login"}


def login_redirect(kind: str) -> BaseResponse:
    """To the login page of `kind`; a session that was there but is no longer valid is
    explained on that page."""
    notice = "session_expired" if request.cookies.get(SESSION_COOKIE) else None
    response = redirect(url_for(LOGIN_PAGE.get(kind, "web.login"), notice=notice))
    return end_session(response)


def login_page(rule: str, *kinds: str, methods: Iterable[str] = ("GET",)) -> Callable[[F], F]:
    """A page at `rule` that needs a session of one of `kinds`; without one the browser goes to
    the login page of the first kind. A session of another kind sees a 403 page (Forbidden,
    rendered by the pages' error handler). Sets g.principal."""
    allowed = frozenset(kinds)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            principal = session_principal()
            if principal is None:
                return login_redirect(kinds[0])
            if principal.kind not in allowed:
                raise Forbidden("You may not open this page with this login.")  # pages.py: 403 page
            g.principal = principal
            return view(*args, **kwargs)

        return cast(F, bp.route(rule, methods=list(methods))(wrapped))

    return decorate
