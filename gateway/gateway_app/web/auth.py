"""The pages without a login: logins (customer, package, staff), "forgot password", password
reset, logout, and help and contact (the service team's channels, linked from every page)."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from cc_common.errors import DomainError, NotFound, ServiceUnavailable
from customercenter.v2 import identity_pb2
from flask import g, redirect, request, url_for
from flask_babel import gettext as _

from gateway_app.clients import contracts, identity, packages
from gateway_app.schemas.auth import CustomerLogin, PackageLogin, PasswordResetRequest, StaffLogin
from gateway_app.security import guard
from gateway_app.use_cases import (
    SignIn,
    complete_sign_in,
    send_password_reset,
    sign_in_customer,
    sign_in_staff,
)
from gateway_app.web import bp
from gateway_app.web.i18n import remember_preference
from gateway_app.web.pages import ERROR_MESSAGES, FormState, error_message, page
from gateway_app.web.session import LOGIN_PAGE, end_session, session_principal, start_session

HOME = {"customer": "web.customer_home", "staff": "web.staff_queue"}


def _home_of(principal: Any) -> str:
    if principal.kind == "package":
        return url_for("web.package_page", package_id=principal.package_id)
    return url_for(HOME[principal.kind])


def _signed_in(answer: dict[str, Any]) -> Any:
    principal = guard().authenticate(answer["access_token"])
    response = start_session(redirect(_home_of(principal)), answer["access_token"])
    if principal.kind == "customer":
        remember_preference(response, _customer_language(answer["access_token"]))
    return response


def _customer_language(token: str) -> str:
    """The language the signed-in customer chose (PATCH /api/v1/customer, the customer data
    page); "" when it chose none or contract-service cannot say: the pages then keep the
    browser's language."""
    try:
        return contracts.get_customer(token=token).language_preference
    except DomainError:
        return ""


def _second_step(kind: str, challenge: str, form: FormState | None = None, status: int = 200) -> Any:
    """The login's second step: a code from the authenticator app, or a recovery code."""
    return page(
        "second_factor_login.html",
        status,
        form=form or FormState(),
        challenge=challenge,
        action=url_for("web.login_second_factor" if kind == "customer" else "web.staff_login_second_factor"),
        title=_("Customer login") if kind == "customer" else _("Service team login"),
    )


def _password_step(kind: str, result: SignIn) -> Any:
    """After a right password: the session, or (a second factor is active) its step."""
    if isinstance(result, identity_pb2.SecondFactorChallenge):
        return _second_step(kind, result.challenge)
    return _signed_in(result)


def _complete(kind: str) -> Any:
    form = FormState.from_request("code", "recovery_code")
    challenge = request.form.get("challenge", "")
    code = form.get("code").strip() or form.get("recovery_code").strip()
    if not code:
        form.fail("code", _("Please fill in this field."))
    elif challenge:
        try:
            issued = complete_sign_in(challenge, code)
            if guard().authenticate(issued["access_token"]).kind == kind:
                return _signed_in(issued)
            form.fail(None, str(ERROR_MESSAGES["invalid_credentials"]))  # another kind's challenge
        except DomainError as error:
            form.fail(None, error_message(error))
    form.clear()  # a code is never sent back
    return _second_step(kind, challenge, form, 401)


@bp.post("/login/second-factor")
def login_second_factor() -> Any:
    return _complete("customer")


@bp.post("/staff/login/second-factor")
def staff_login_second_factor() -> Any:
    return _complete("staff")


@bp.get("/")
def index() -> Any:
    principal = session_principal()
    return redirect(_home_of(principal) if principal else url_for("web.login"))


def _login_page(template: str, form: FormState) -> Any:
    """A login form again: what was typed but the password; 401 for a refused login."""
    form.values["password"] = ""  # a password is never sent back
    return page(template, 200 if form.error is None else 401, form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = FormState.from_request("customer_number", "password")
    if request.method == "POST":
        form.values["customer_number"] = form.get("customer_number").strip()
        form.require("password")
        body = form.check(CustomerLogin, **form.values)
        if body is not None and form.ok:
            with form.caught():
                return _password_step("customer", sign_in_customer(body.customer_number, body.password))
    return _login_page("login.html", form)


@bp.route("/package-login", methods=["GET", "POST"])
def package_login() -> Any:
    form = FormState.from_request("domain", "password")
    if request.method == "POST":
        form.require("domain", "password")
        body = form.check(PackageLogin, **form.values)
        if body is not None and form.ok:
            with form.caught():
                try:
                    package_id = packages.resolve_domain(body.domain).id
                except NotFound:
                    package_id = ""  # identity checks a dummy hash: same answer, same cost
                pending = guard().pending_token()
                result = identity.package_login(body.domain, package_id, body.password, pending=pending)
                # No customer number in a package login: its password may be held by a third party.
                answer = guard().issue(
                    kind="package",
                    subject=result.subject,
                    generation=result.generation,
                    pending=pending,
                    package_id=identity.subject_name(result.subject) or package_id,
                )
                return _signed_in(answer)
    return _login_page("package_login.html", form)


@bp.route("/staff/login", methods=["GET", "POST"])
def staff_login() -> Any:
    form = FormState.from_request("username", "password")
    if request.method == "POST":
        form.require("username", "password")
        body = form.check(StaffLogin, **form.values)
        if body is not None and form.ok:
            with form.caught():
                return _password_step("staff", sign_in_staff(body.username, body.password))
    return _login_page("staff_login.html", form)


@bp.post("/logout")
def logout() -> Any:
    principal = session_principal()
    target = url_for(LOGIN_PAGE.get(principal.kind if principal else "", "web.login"), notice="signed_out")
    if principal is not None:
        try:
            # identity answers once every watcher (this gateway's too) has applied it.
            identity.revoke_own_token(token=principal.token)
        except ServiceUnavailable:
            g.logout_unconfirmed = True  # the cookie is dropped all the same
    return end_session(redirect(target))


# --- forgot password ---------------------------------------------------------------------------


@bp.route("/password-forgot", methods=["GET", "POST"])
def password_forgot() -> Any:
    form = FormState.from_request("customer_number")
    if request.method == "POST":
        form.values["customer_number"] = form.get("customer_number").strip()
        body = form.check(PasswordResetRequest, **form.values)
        if body is not None:
            with form.caught():
                send_password_reset(body.customer_number)
                return redirect(url_for("web.login", notice="reset_sent"))
    return page("password_forgot.html", form.status(), form=form)


@bp.route("/password-reset", methods=["GET", "POST"])
def password_reset() -> Any:
    token = request.values.get("token", "")
    form = FormState.from_request("new_password", "confirm_password")
    if request.method == "POST":
        new = form.check_new_password()
        if not token:
            form.fail(None, _("This link is no longer valid. Please ask for a new one."))
        if form.ok:
            with form.caught():
                identity.confirm_password_reset(token, new)
                return redirect(url_for("web.login", notice="reset_done"))
        form.values = {}
    return page("password_reset.html", form.status(), form=form, token=token)


@bp.get("/help")
def help_page() -> Any:
    with suppress(DomainError):  # identity's revocation state unknown: the page is shown without the login
        session_principal()  # the header shows the login, if there is one
    return page("help.html")
