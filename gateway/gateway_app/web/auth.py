"""Logins (customer, package, staff), "forgot password", password reset, logout."""

from __future__ import annotations

from typing import Any

from cc_common.errors import DomainError, InvalidInput, NotFound, ServiceUnavailable
from cc_common.rules.customers import is_customer_number
from cc_common.rules.domains import normalise_domain
from customercenter.v2 import identity_pb2
from flask import g, redirect, request, url_for
from flask_babel import gettext as _

from gateway_app.clients import contracts, identity, packages
from gateway_app.security import PendingToken, guard
from gateway_app.use_cases import (
    SignIn,
    complete_sign_in,
    send_password_reset,
    sign_in_customer,
    sign_in_staff,
)
from gateway_app.web import bp
from gateway_app.web.i18n import remember_preference
from gateway_app.web.pages import (
    ERROR_MESSAGES,
    FIELD_MESSAGES,
    FormState,
    check_new_password,
    error_message,
    page,
    require,
)
from gateway_app.web.session import end_session, session_principal, start_session

HOME = {"customer": "web.customer_home", "staff": "web.staff_queue"}


def _home_of(principal: Any) -> str:
    if principal.kind == "package":
        return url_for("web.package_page", package_id=principal.package_id)
    return url_for(HOME[principal.kind])


def _check_customer_number(form: FormState, name: str) -> str:
    value = form.get(name).strip()
    form.values[name] = value
    if not is_customer_number(value):
        form.fail(name, str(FIELD_MESSAGES["customer_number"]))
    return value


def _check_domain(form: FormState, name: str) -> str:
    try:
        return normalise_domain(form.get(name), field_name=name)
    except InvalidInput:
        form.fail(name, str(FIELD_MESSAGES["domain"]))
        return form.get(name)


def _login_answer(kind: str, result: Any, pending: PendingToken, **claims: Any) -> Any:
    answer = guard().issue(
        kind=kind, subject=result.subject, generation=result.generation, pending=pending, **claims
    )
    return _signed_in(answer)


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
    step = form or FormState({"code": "", "recovery_code": ""})
    return page(
        "second_factor_login.html",
        status,
        form=step,
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
            form.fail(None, error_message(error) if error.code in ERROR_MESSAGES else error.message)
    form.values = {"code": "", "recovery_code": ""}  # a code is never sent back
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
    if principal is None:
        return redirect(url_for("web.login"))
    return redirect(_home_of(principal))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = FormState.from_request("customer_number", "password")
    if request.method == "POST":
        require(form, "customer_number", "password")
        number = _check_customer_number(form, "customer_number")
        if form.ok:
            try:
                return _password_step("customer", sign_in_customer(number, form.get("password")))
            except DomainError as error:
                form.fail_with(error)
        form.values["password"] = ""  # a password is never sent back
        return page("login.html", 200 if form.error is None else 401, form=form)
    return page("login.html", form=form)


@bp.route("/package-login", methods=["GET", "POST"])
def package_login() -> Any:
    form = FormState.from_request("domain", "password")
    if request.method == "POST":
        require(form, "domain", "password")
        domain = _check_domain(form, "domain") if form.get("domain") else ""
        if form.ok:
            try:
                try:
                    package_id = packages.resolve_domain(domain).id
                except NotFound:
                    package_id = ""  # identity checks a dummy hash: same answer, same cost
                pending = guard().pending_token()
                result = identity.package_login(domain, package_id, form.get("password"), pending=pending)
                package_id = identity.subject_name(result.subject) or package_id
                # No customer number in a package login: its password may be held by a third party.
                return _login_answer("package", result, pending, package_id=package_id)
            except DomainError as error:
                form.fail_with(error)
        form.values["password"] = ""
        return page("package_login.html", 200 if form.error is None else 401, form=form)
    return page("package_login.html", form=form)


@bp.route("/staff/login", methods=["GET", "POST"])
def staff_login() -> Any:
    form = FormState.from_request("username", "password")
    if request.method == "POST":
        require(form, "username", "password")
        if form.ok:
            try:
                return _password_step("staff", sign_in_staff(form.get("username"), form.get("password")))
            except DomainError as error:
                form.fail_with(error)
        form.values["password"] = ""
        return page("staff_login.html", 200 if form.error is None else 401, form=form)
    return page("staff_login.html", form=form)


@bp.post("/logout")
def logout() -> Any:
    principal = session_principal()
    target = url_for("web.login", notice="signed_out")
    if principal is not None:
        if principal.kind == "staff":
            target = url_for("web.staff_login", notice="signed_out")
        elif principal.kind == "package":
            target = url_for("web.package_login", notice="signed_out")
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
        require(form, "customer_number")
        number = _check_customer_number(form, "customer_number")
        if form.ok:
            try:
                send_password_reset(number)
                return redirect(url_for("web.login", notice="reset_sent"))
            except DomainError as error:
                form.fail_with(error)
        return page("password_forgot.html", 200 if form.ok else 422, form=form)
    return page("password_forgot.html", form=form)


@bp.route("/password-reset", methods=["GET", "POST"])
def password_reset() -> Any:
    token = request.values.get("token", "")
    form = FormState.from_request("new_password", "confirm_password")
    if request.method == "POST":
        require(form, "new_password", "confirm_password")
        new = check_new_password(form)
        if not token:
            form.fail(None, _("This link is no longer valid. Please ask for a new one."))
        if form.ok:
            try:
                identity.confirm_password_reset(token, new)
                return redirect(url_for("web.login", notice="reset_done"))
            except DomainError as error:
                form.fail_with(error)
        form.values = {}
        return page("password_reset.html", 422, form=form, token=token)
    return page("password_reset.html", form=form, token=token)
