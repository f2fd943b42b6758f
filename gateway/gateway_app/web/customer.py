"""The customer area (docs/architecture.md): packages in the middle, the contract menu on the left:
customer data, payment data, customer password, invoices, forms (downloads and the online
ones: merge, downgrade, termination and retraction, package splitting)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import segno
from cc_common.errors import ServiceUnavailable
from cc_common.rules.cards import holds_card_number
from customercenter.v2 import contract_pb2
from flask import jsonify, redirect, request, url_for
from flask_babel import gettext as _

from gateway_app import use_cases
from gateway_app.clients import contracts, identity
from gateway_app.clients import packages as package_service
from gateway_app.downloads import pdf_download
from gateway_app.schemas import MAX_TEXT, money
from gateway_app.schemas.customers import (
    CARD_FIELDS,
    ONLINE_FIELDS,
    SEPA_FIELDS,
    Customer,
    CustomerUpdate,
    PaymentUpdate,
)
from gateway_app.schemas.invoices import Invoice
from gateway_app.schemas.packages import Package
from gateway_app.schemas.terminations import Termination
from gateway_app.security import current_principal
from gateway_app.use_cases import (
    change_customer_data,
    change_password,
    change_product,
    notice_address,
    order,
    restore_email,
    retract,
    send_contact_request,
    set_package_password,
    split_package,
    store_payment,
    visible_package,
)
from gateway_app.web import bp
from gateway_app.web.i18n import LANGUAGE_NAMES, remember_preference
from gateway_app.web.pages import PAGE_ERRORS, FormState, page, ref, session_token
from gateway_app.web.session import login_page

# Company and name are changed only with the signed contract handover form (docs/architecture.md).
CONTACT_FIELDS = ONLINE_FIELDS


def customer_record() -> dict[str, Any]:
    return Customer.from_proto(contracts.get_customer(token=session_token())).json()


def _packages() -> list[dict[str, Any]]:
    items = package_service.list_packages(token=session_token())
    return [{**Package.from_proto(p).json(), "product_name": p.product_name or p.product} for p in items]


@login_page("/customer", "customer")
def customer_home() -> Any:
    customer = customer_record()
    packages, packages_down = [], False
    try:
        packages = _packages()
    except ServiceUnavailable:
        packages_down = True  # the rest of the page still works
    return page("customer/home.html", customer=customer, packages=packages, packages_down=packages_down)


# --- customer data -----------------------------------------------------------------------------


def contact_form(customer: dict[str, Any], *names: str) -> FormState:
    """The contact data form (and the language, when named) filled with the customer's values."""
    return FormState({name: customer.get(name) or "" for name in (*CONTACT_FIELDS, *names)})


def save_contact_form(
    customer: dict[str, Any],
    form: FormState,
    save: Callable[..., Any],
    *,
    fields: tuple[str, ...] = CONTACT_FIELDS,
) -> dict[str, str]:
    """Checks a submitted contact data form against the customer's current values and hands the
    changed fields to `save` (the use case of PATCH /api/v1/customer, or the merge window's,
    which is that one plus a new comparison); errors land in `form`, the password is never
    sent back. Returns the changes (empty: nothing to save)."""
    form.require("street", "zip", "city", "email")
    changes = {
        name: form.get(name).strip()
        for name in fields
        if form.get(name).strip() != (customer.get(name) or "")
    }
    if not changes.get("language", "x"):
        del changes["language"]  # not sent: unchanged (the page's select always sends one)
    form.check(CustomerUpdate, **changes)  # the body of PATCH /api/v1/customer
    if "email" in changes and not form.get("current_password"):
        form.fail("current_password", _("Enter your current customer password to change the e-mail address."))
    if form.ok and changes:
        wrong = ("current_password", _("The current password is not correct."))
        with form.caught(*PAGE_ERRORS, invalid_credentials=wrong):
            # The password is checked like a login (gateway_app/use_cases.py).
            save(
                changes,
                current_password=form.get("current_password") or None,
                current_email=customer.get("email") or "",
            )
    form.values["current_password"] = ""  # a password is never sent back
    return changes


@login_page("/customer/data", "customer", methods=["GET", "POST"])
def customer_data() -> Any:
    customer = customer_record()
    options = {"language_options": list(LANGUAGE_NAMES.items())}
    if request.method == "GET":
        return page(
            "customer/data.html", customer=customer, form=contact_form(customer, "language"), **options
        )
    form = FormState.from_request(*CONTACT_FIELDS, "language", "current_password")
    # The same path as PATCH /api/v1/customer.
    changes = save_contact_form(customer, form, change_customer_data, fields=(*CONTACT_FIELDS, "language"))
    if form.ok:
        response = redirect(url_for("web.customer_data", notice="saved"))
        if "language" in changes:
            remember_preference(response, changes["language"], chosen_now=True)  # the pages follow it
        return response
    return page("customer/data.html", 422, customer=customer, form=form, **options)


# --- payment data ------------------------------------------------------------------------------


PAYMENT_METHODS = {"sepa": SEPA_FIELDS, "card": CARD_FIELDS}


@login_page("/customer/payment", "customer", methods=["GET", "POST"])
def customer_payment() -> Any:
    """A bank account (direct debit) or a card: the card token from the payment provider, its
    last four digits and expiry (MM/YY). A card number is refused and never shown again."""
    customer = customer_record()
    form = FormState.from_request(*SEPA_FIELDS, *CARD_FIELDS)
    if request.method == "GET":
        return page("customer/payment.html", customer=customer, form=form, method="sepa")
    method = request.form.get("method", "")
    fields = PAYMENT_METHODS.get(method)
    if fields is None:
        form.fail(None, _("Please choose one of the values offered."))
        fields = ()
    payment = {name: form.get(name).strip() for name in fields}
    form.require(*fields)
    # The body of PUT /api/v1/customer/payment: a card number in any field is said first.
    if form.check(PaymentUpdate, **payment) is not None and form.ok:
        if method == "sepa":
            payment = {"iban": "".join(payment["iban"].split()).upper(), "bic": payment["bic"].upper()}
        with form.caught():
            store_payment(payment)
            return redirect(url_for("web.customer_payment", notice="saved"))
    # A card number typed into any field is never sent back to the browser.
    form.values = {
        name: "" if holds_card_number(name, value) else value for name, value in form.values.items()
    }
    return page("customer/payment.html", 422, customer=customer, form=form, method=method)


# --- customer password -------------------------------------------------------------------------


@login_page("/customer/password", "customer", methods=["GET", "POST"])
def customer_password() -> Any:
    form = FormState.from_request("current_password", "new_password", "confirm_password")
    if request.method == "POST":
        form.require("current_password")
        new = form.check_new_password()
        if form.ok:
            with form.caught(
                invalid_credentials=("current_password", _("The current password is not correct."))
            ):
                # Every other token of the customer dies; this session's token survives.
                change_password(form.get("current_password"), new)
                return redirect(url_for("web.customer_password", notice="password_changed"))
        form.clear()  # passwords are never sent back
    return page("customer/password.html", form.status(), form=form)


# --- two-factor authentication -----------------------------------------------------------------


# The fields each step of turning two-factor authentication on or off needs.
SECOND_FACTOR_FIELDS = {"start": ("current_password",), "confirm": ("code",),
                        "disable": ("current_password", "code")}  # fmt: skip


def _second_factor_page(status: int = 200, **context: Any) -> Any:
    state = identity.get_second_factor(token=session_token())
    return page("customer/second_factor.html", status, state=state, **{"form": FormState(), **context})


@login_page("/customer/second-factor", "customer", methods=["GET", "POST"])
def customer_second_factor() -> Any:
    """Turn on (the current password, then a first code; the recovery codes are shown once)
    and turn off (the current password and a code)."""
    if request.method == "GET":
        return _second_factor_page()
    action = request.form.get("action", "")
    form = FormState.from_request("current_password", "code")
    form.require(*SECOND_FACTOR_FIELDS.get(action, ()))
    password, code = form.get("current_password"), form.get("code").strip()
    wrong = (
        _("The code is not correct.")
        if action == "confirm"
        else _("The password or the code is not correct.")
    )
    with form.caught(invalid_credentials=(None, wrong)):
        if form.ok and action == "start":
            started = identity.start_second_factor(password, token=session_token())
            # The QR code of the otpauth:// URI, drawn here (an SVG, no script, no request out).
            qr = segno.make(started.otpauth_uri, error="m").svg_inline(scale=4, title="")
            return _second_factor_page(enrolment=started, qr=qr)
        if form.ok and action in ("confirm", "disable"):
            email, market, language = notice_address()  # told of the change, in its language
            to = {"email": email, "market": market, "language": language, "token": session_token()}
            if action == "confirm":
                return _second_factor_page(recovery_codes=identity.confirm_second_factor(code, **to))
            identity.disable_second_factor(password, code, **to)
            return redirect(url_for("web.customer_second_factor", notice="second_factor_off"))
    form.clear()  # passwords and codes are never sent back
    return _second_factor_page(422, confirming=action == "confirm", form=form)


# --- invoices ----------------------------------------------------------------------------------


@login_page("/customer/invoices", "customer")
def customer_invoices() -> Any:
    invoices = [Invoice.from_proto(item).json() for item in contracts.list_invoices(token=session_token())]
    return page("customer/invoices.html", invoices=invoices)


@login_page("/customer/invoices/<number>.pdf", "customer")
def customer_invoice_pdf(number: str) -> Any:
    document = contracts.get_invoice_pdf(number, token=session_token())
    return pdf_download(document.content, f"invoice-{number}.pdf")


@login_page("/customer/invoices/<number>/repeat-debit", "customer", methods=["POST"])
def customer_repeat_debit(number: str) -> Any:
    contracts.repeat_debit(number, token=session_token())
    return redirect(url_for("web.customer_invoices", notice="debit_requested"))


# --- forms -------------------------------------------------------------------------------------

ONLINE_FORM_PAGES = {"link_customer_numbers": "web.merge_start", "downgrade": "web.customer_downgrade",
                     "termination": "web.customer_terminations", "package_splitting": "web.customer_split"}  # fmt: skip


@login_page("/customer/forms", "customer")
def customer_forms() -> Any:
    forms = contracts.list_forms(token=session_token())
    written = [f for f in forms if f.mode == contract_pb2.FORM_MODE_WRITTEN]
    online = [
        {"form": f, "url": url_for(ONLINE_FORM_PAGES[f.id])}
        for f in forms
        if f.mode == contract_pb2.FORM_MODE_ONLINE and f.id in ONLINE_FORM_PAGES
    ]
    return page("customer/forms.html", written=written, online=online)


@login_page("/customer/forms/<form_id>.pdf", "customer")
def customer_form_pdf(form_id: str) -> Any:
    document = contracts.get_form_pdf(ref(form_id), token=session_token())
    return pdf_download(document.content, f"{form_id}.pdf")


# --- online forms: downgrade, termination, package splitting -----------------------------------


def _products() -> list[Any]:
    return package_service.list_products(token=session_token())


def _options(packages: list[dict[str, Any]], products: list[Any] | None = None) -> dict[str, Any]:
    """The choices of the online forms' select boxes."""
    return {
        "packages": packages,
        "package_options": [(p["id"], f"{p['product_name']} – {', '.join(p['domains'])}") for p in packages],
        "product_options": [(p.code, p.name) for p in products or ()],
    }


@login_page("/customer/downgrade", "customer", methods=["GET", "POST"])
def customer_downgrade() -> Any:
    packages, products = _packages(), _products()
    form = FormState.from_request("package_id", "product")
    if request.method == "POST":
        form.require("package_id", "product")
        if form.ok:
            with form.caught():
                change_product(ref(form.get("package_id")), form.get("product"), wanted="downgrade")
                return redirect(url_for("web.customer_downgrade", notice="downgraded"))
    return page("customer/downgrade.html", form.status(), form=form, **_options(packages, products))


@login_page("/customer/terminations", "customer", methods=["GET", "POST"])
def customer_terminations() -> Any:
    packages = _packages()
    form = FormState.from_request("package_id", "domain")
    if request.method == "POST":
        package = next((p for p in packages if p["id"] == form.get("package_id")), None)
        if package is None:
            form.fail("package_id", _("Please choose one of your packages."))
        elif form.get("domain") and form.get("domain") not in package["domains"]:
            form.fail("domain", _("This domain does not belong to the package you chose."))
        if form.ok:
            with form.caught():
                contracts.create_termination(
                    form.get("package_id"), form.get("domain"), token=session_token()
                )
                return redirect(url_for("web.customer_terminations", notice="terminated"))
    terminations = [
        Termination.from_proto(t).json() for t in contracts.list_terminations(token=session_token())
    ]
    return page(
        "customer/terminations.html",
        form.status(),
        form=form,
        terminations=terminations,
        **_options(packages),
    )


@login_page("/customer/terminations/<termination_id>/retract", "customer", methods=["POST"])
def customer_retract(termination_id: str) -> Any:
    retract(termination_id)  # a retracted add-on is active again
    return redirect(url_for("web.customer_terminations", notice="retracted"))


@login_page("/customer/split", "customer", methods=["GET", "POST"])
def customer_split() -> Any:
    packages, products = _packages(), _products()
    form = FormState.from_request("package_id", "domain", "target_package_id", "product")
    if request.method == "POST":
        form.require("package_id", "domain")
        if form.ok:
            with form.caught():
                # The same use case as POST /api/v1/packages/{id}/split: a new package gets
                # its contract, and nothing moves while a merge has frozen the number.
                split_package(
                    ref(form.get("package_id")),
                    form.get("domain"),
                    target_package_id=form.get("target_package_id"),
                    product="" if form.get("target_package_id") else form.get("product"),
                )
                return redirect(url_for("web.customer_split", notice="split"))
    return page("customer/split.html", form.status(), form=form, **_options(packages, products))


# --- administration / set passwords --------------------------------------------------------------


@login_page("/customer/package-passwords", "customer")
def customer_package_passwords(status: int = 200, form: FormState | None = None, failed: str = "") -> Any:
    """The customer's packages, each with its "set package password" form; `failed` names the
    package whose form is shown with `form`'s errors."""
    return page(
        "customer/package_passwords.html",
        status,
        packages=_packages(),
        form=form or FormState(),
        failed=failed,
    )


@login_page("/customer/package-passwords/<package_id>", "customer", methods=["POST"])
def customer_set_package_password(package_id: str) -> Any:
    """The same use case as the package administration's "set package password" and
    PUT /api/v1/packages/{id}/password: ownership first (404 for another customer's package),
    then identity sets the password and ends the package login's other sessions."""
    package = visible_package(ref(package_id))
    form = FormState.from_request("new_password", "confirm_password")
    new = form.check_new_password()
    if form.ok:
        with form.caught():
            set_package_password(package.id, new)
            return redirect(url_for("web.customer_package_passwords", notice="package_password_set"))
    form.clear()  # passwords are never sent back
    return customer_package_passwords(422, form, package.id)


# --- contact form ------------------------------------------------------------------------------


@login_page("/customer/contact", "customer", methods=["GET", "POST"])
def customer_contact() -> Any:
    """Write to the service team, optionally with a signed form as a PDF: the same path as
    POST /api/v1/contact-requests (gateway_app/uploads.py, contract-service checks the text)."""
    form = FormState.from_request("subject", "message")
    if request.method == "GET":
        form.values["subject"] = request.args.get("subject", "")[:MAX_TEXT]
        return page("customer/contact.html", form=form)
    form.require("subject", "message")
    if form.ok:
        with form.caught():
            send_contact_request(form.get("subject"), form.get("message"))
            return redirect(url_for("web.customer_contact", notice="contact_sent"))
    return page("customer/contact.html", 422, form=form)


# --- offers of the month -----------------------------------------------------------------------


@login_page("/customer/offers", "customer")
def customer_offers() -> Any:
    """The offers of the month the service team set up for the customer's market, each with
    the product's details and the packages it can be ordered for."""
    current = contracts.list_current_offers(token=session_token())
    by_code = {item.code: item for item in _products()} if current else {}
    active = [p for p in _packages() if p["status"] == "active"] if current else []
    offers = [
        {
            "id": o.id, "product": by_code.get(o.product), "product_code": o.product,
            "price": money(o.price_cents), "currency": o.currency,
            "valid_until": date.fromisoformat(o.valid_until) if o.valid_until else None,
            "packages": [p for p in active if p["product"] != o.product] or active,
        }
        for o in current
    ]  # fmt: skip
    return page("customer/offers.html", offers=offers, month=date.today())


@login_page("/customer/offers/<offer_id>/order", "customer", methods=["POST"])
def customer_order_offer(offer_id: str) -> Any:
    """The same order as POST /api/v1/offers/{id}/order; a refused order is a notice."""
    form = FormState.from_request("package_id")
    form.require("package_id")
    if form.ok:
        with form.caught(401, 403, 500):
            order(ref(offer_id), form.get("package_id"))
            return redirect(url_for("web.customer_offers", notice="ordered"))
    return redirect(url_for("web.customer_offers", notice="order_failed"))


# --- e-mail restore (the link mailed to the old address) ---------------------------------------


@bp.route("/email-restore", methods=["GET", "POST"])
def email_restore() -> Any:
    """Opened from the notice mailed to the old address after an e-mail change. GET only shows
    a button (mail scanners and link previews open links); the POST puts the address back and
    signs out every session of the customer, then asks for a new password."""
    link = request.values.get("token", "")
    form = FormState()
    if request.method == "POST":
        gone = _("This link is no longer valid.")
        if not link:
            form.fail(None, gone)
        with form.caught(invalid_token=(None, gone)):
            if link:
                restore_email(link)
                return page("email_restore.html", done=True, form=form)
    return page("email_restore.html", form.status(400), token=link, form=form, done=False)


# --- security: sessions, login history, data export ------------------------------------------
# The same functions as GET/DELETE /api/v1/sessions, /login-history and /customer/export.


@login_page("/customer/security", "customer")
def customer_security() -> Any:
    own = session_token()
    return page(
        "customer/security.html",
        sessions=use_cases.session_list(own).sessions,
        logins=use_cases.login_history(own).logins,
    )


@login_page("/customer/security/sessions/<session_id>/end", "customer", methods=["POST"])
def customer_end_session(session_id: str) -> Any:
    identity.end_session(ref(session_id), token=session_token())
    return redirect(url_for("web.customer_security", notice="session_ended"))


@login_page("/customer/security/sessions/end-others", "customer", methods=["POST"])
def customer_end_other_sessions() -> Any:
    identity.end_other_sessions(token=session_token())
    return redirect(url_for("web.customer_security", notice="others_ended"))


@login_page("/customer/security/export", "customer")
def customer_export() -> Any:
    principal = current_principal()
    response = jsonify(use_cases.customer_export(principal.token).json())
    filename = use_cases.export_filename(principal.customer_number or "")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
