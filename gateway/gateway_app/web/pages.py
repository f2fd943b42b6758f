"""Rendering of the pages: form state with field errors, translated messages for the error
codes of the API (docs/architecture.md), notices after a redirect, and the error pages (a
backend that is down is a notice, never a crash or a JSON body)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cc_common.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    TooManyAttempts,
    Unauthenticated,
)
from flask import current_app, g, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from gateway_app.backends import known_id
from gateway_app.errors import handle_http_exception
from gateway_app.schemas import MAX_OPAQUE_ID
from gateway_app.schemas.packages import PackagePassword
from gateway_app.security import current_principal
from gateway_app.web import bp
from gateway_app.web.i18n import remember_language
from gateway_app.web.session import CsrfError, login_redirect, session_principal, set_csrf_cookie

M = TypeVar("M", bound=BaseModel)

# Messages for the error codes a person can meet on the pages; others fall back to
# the service's own (English) message.
ERROR_MESSAGES = {
    "invalid_credentials": _l("The data you entered are not correct. Please check them and try again."),
    "too_many_attempts": _l("Too many attempts. Please wait %(retry_after)s seconds and try again."),
    "customer_number_merged": _l("This customer number has been merged into customer number "
                                 "%(merged_into)s. Please log in with that customer number."),
    "same_customer_number": _l("This is the customer number you are logged in with. Please "
                               "enter the customer number you want to merge into this one."),
    "merge_conflict": _l("This customer number is already in a merge or has been "
                         "merged. You can only merge two customer numbers at a time; "
                         "you can merge further ones once the first order is finished."),
    "different_markets": _l("These customer numbers belong to different countries and cannot be merged online."),
    "differences_not_resolved": _l("Some data differ: please click “Update Data” first."),
    "legal_proof_required": _l("To prevent misuse, we need legal proof: please "
                               "upload the signed contract transfer form first."),
    "merge_not_open": _l("This order can no longer be changed."),
    "written_form_required": _l("Company and name can only be changed with the signed contract handover form."),
    "customer_not_active": _l("Your customer data cannot be changed while a merge is being carried out."),
    "invoice_not_open": _l("This invoice has already been paid."),
    "invalid_token": _l("This link is no longer valid. Please ask for a new one."),
    "second_factor_active": _l("Two-factor authentication is already on."),
    "no_second_factor_enrolment": _l("Please start turning on two-factor authentication again."),
    "no_second_factor": _l("Two-factor authentication is not on."),
    "second_factor_required": _l("This customer number has two-factor authentication: "
                                 "please also enter a code from its authenticator app."),
    "already_terminated": _l("This has already been terminated."),
    "termination_effective": _l("This termination has already taken effect and can no longer be retracted."),
    "contract_not_active": _l("This contract is no longer active."),
    "package_terminated": _l("This package has been terminated."),
    "addon_ended": _l("This additional service has already ended."),
    "same_product": _l("The package already has this product."),
    "last_domain": _l("The last domain of a package cannot be moved."),
    "domain_not_found": _l("This package does not have this domain."),
    "card_expired": _l("This card has expired."),
    "postcode_not_in_country": _l("This postcode does not fit the country of the address. "
                                  "Please change the postcode and the country together."),
    "package_full": _l("The target package allows no more domains."),
    "package_does_not_fit": _l("The package does not fit this product: its "
                               "domains or its usage exceed the product's limits."),
    "not_an_upgrade": _l("This product is smaller than the package's product: please choose a larger one."),
    "not_a_downgrade": _l("This product is larger than the package's product: please choose a smaller one."),
    "card_number_refused": _l("Card numbers are not accepted here; enter the token from the payment provider."),
    "already_answered": _l("This contact request has already been answered."),
    "no_contact_address": _l("The customer has no contact e-mail address to which the answer could be sent."),
    "nothing_to_collect": _l("No invoice is waiting for a direct debit: there is nothing to collect."),
    "invoice_not_debited": _l("No direct debit of this invoice was requested, so it cannot have been returned."),
    "service_unavailable": _l("This function is not available at the moment. Please try again shortly."),
    "not_found": _l("This page or record does not exist."),
    "forbidden": _l("You may not open this page with this login."),
    "unauthenticated": _l("Please log in again."),
}  # fmt: skip

FIELD_MESSAGES = {
    "customer_number": _l("A customer number consists of digits only."),
    "source_customer_number": _l("A customer number consists of digits only."),
    "domain": _l("Please enter a valid domain name, e.g. example.com."),
    "email": _l("Please enter a valid e-mail address."),
    "phone": _l("Please enter a valid phone number, e.g. +49 30 1234567."),
    "mobile": _l("Please enter a valid phone number, e.g. +49 30 1234567."),
    "fax": _l("Please enter a valid phone number, e.g. +49 30 1234567."),
    "street": _l("Please enter the street and house number on one line, without control characters."),
    "zip": _l("Please enter a valid postcode."),
    "city": _l("Please enter the town or city on one line, without control characters."),
    "country": _l("Please enter the country as a two-letter code, e.g. DE, NL or GB."),
    "iban": _l("Please enter a valid IBAN."),
    "bic": _l("Please enter a valid BIC."),
    "card_token": _l("Please enter the card token from the payment provider."),
    "card_last4": _l("Please enter the last four digits of the card."),
    "card_expiry": _l("Please enter a valid expiry date as MM/YY, e.g. 09/28; the card must not have expired."),
    "product": _l("Please choose one of the products offered."),
    "php_memory_limit_mb": _l("Please enter a whole number from 64 to 1024."),
    "new_password": _l("The password must be 8 to 128 characters long."),
    "password": _l("Please enter your password."),
    "reason": _l("Please give a reason."),
    "file": _l("Please choose the signed form as a PDF file (at most 5 MB)."),
    "subject": _l("Please write a subject of at most 200 characters, without control characters."),
    "message": _l("Please write a message of at most 5000 characters, without control characters."),
    "price": _l("Please enter a positive price with at most two decimals, e.g. 4.99."),
    "currency": _l("Please choose the currency in which all the chosen "
                   "markets are billed (DE and NL: EUR, UK: GBP)."),
    "markets": _l("Please choose one or more markets."),
    "valid_from": _l("Please enter the first day as a date, e.g. 2026-12-01."),
    "valid_until": _l("Please enter the last day as a date: not before the "
                      "first day, at most a year later and not in the past."),
}  # fmt: skip

NOTICES = {
    "signed_out": _l("You have been logged out."),
    "session_expired": _l("Your session has ended. Please log in again."),
    "saved": _l("Your changes have been saved."),
    "password_changed": _l("Your customer password has been changed."),
    "second_factor_off": _l("Two-factor authentication is off."),
    "reset_sent": _l("If the customer number exists, we have sent a "
                     "link to set a new password to its e-mail address."),
    "reset_done": _l("Your new password is set. Please log in with it."),
    "debit_requested": _l("The repeat debit has been requested."),
    "package_password_set": _l("The package password has been set."),
    "settings_saved": _l("The settings have been saved."),
    "terminated": _l("The termination has been recorded."),
    "retracted": _l("The termination has been retracted."),
    "session_ended": _l("The session has been signed out."),
    "others_ended": _l("Every other session has been signed out."),
    "downgraded": _l("The package has been changed."),
    "upgraded": _l("The package has been upgraded."),
    "addon_ordered": _l("The additional service has been ordered."),
    "addon_terminated": _l("The additional service has been terminated at the end of the contract term."),
    "ordered": _l("The offer has been ordered: your package has the new product."),
    "order_failed": _l("The offer could not be ordered for this package. Please choose another package or ask us."),
    "split": _l("The domain has been moved."),
    "data_corrected": _l("Your data have been saved and compared again."),
    "taken_over": _l("The data of your customer number have been kept for the highlighted fields."),
    "proof_uploaded": _l("The signed form has been uploaded."),
    "cancelled": _l("The order has been cancelled."),
    "objected": _l("You have objected. The merge has been cancelled, and both customer numbers have been told."),
    "merge_confirmed": _l("You have confirmed the merge. Our service team can now carry it out."),
    "approved": _l("The merge has been approved and is being carried out."),
    "rejected": _l("The merge has been rejected."),
    "reversed": _l("The merge is being reversed."),
    "contact_sent": _l("Your message has been sent to our service team. We answer by e-mail."),
    "contact_answered": _l("The answer has been sent by e-mail."),
    "offer_created": _l("The offer has been set up."),
    "collection_created": _l("The collection has been created: download its pain.008 file for the bank."),
    "invoice_paid": _l("The invoice has been marked as paid."),
    "invoice_returned": _l("The invoice has been marked as returned: it is open again, with the bank's reason."),
}  # fmt: skip


def error_message(error: DomainError) -> str:
    template = ERROR_MESSAGES.get(error.code)
    if template is None:
        return error.message
    values = {"retry_after": "", "merged_into": "", **error.extra}
    if isinstance(error, TooManyAttempts):
        values["retry_after"] = str(error.retry_after)
    return str(template) % values


def fault_message(name: str | None, kind: str, ctx: dict[str, Any]) -> str:
    """The page's words for a fault a request model found in a field (pydantic's error type)."""
    if kind == "string_too_long":
        return str(_("At most %(count)s characters.", count=ctx["max_length"]))
    if name in FIELD_MESSAGES:
        return str(FIELD_MESSAGES[name])
    if kind in ("missing", "string_too_short"):
        return str(_("Please fill in this field."))
    return str(_("Please choose one of the values offered."))


# The answers a form shows none of: a login to renew, a page this login may not use, a record
# that does not exist, a backend that failed (500 stands for every status from 500 up).
PAGE_ERRORS = (401, 403, 404, 500)


@dataclass
class FormState:
    """What a person typed, the message next to each field at fault, and one general error."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def from_request(cls, *names: str) -> FormState:
        return cls({name: request.form.get(name, "") for name in names})

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def clear(self) -> None:
        """Nothing typed is sent back (passwords, codes)."""
        self.values = dict.fromkeys(self.values, "")

    def fail(self, name: str | None, message: str) -> None:
        if name and name in self.values:
            self.errors[name] = message
        else:
            self.error = message

    def fail_with(self, error: DomainError) -> None:
        """A service's answer: next to the field it names (if the form has it), else above."""
        name = error.field.removeprefix("settings.") if error.field else None
        if isinstance(error, InvalidInput) and error.code not in ERROR_MESSAGES and name in FIELD_MESSAGES:
            self.fail(name, str(FIELD_MESSAGES[name]))
        else:
            self.fail(name, error_message(error))

    @property
    def ok(self) -> bool:
        return not self.errors and not self.error

    def status(self, general: int = 422) -> int:
        """The page's status: 200 without a fault, 422 with a field at fault, else `general`."""
        return 200 if self.ok else 422 if self.errors else general

    def require(self, *names: str) -> None:
        for name in names:
            if not self.get(name).strip():
                self.fail(name, _("Please fill in this field."))

    def check(self, model: type[M], /, **values: Any) -> M | None:
        """`values` checked by `model`, the API's request body of the same action: the body, or
        None with each fault next to its field in the page's words (a field already at fault
        keeps its message)."""
        try:
            return model.model_validate(values)
        except ValidationError as error:
            for problem in error.errors(include_url=False):
                name = str(problem["loc"][0]) if problem["loc"] else None
                if name not in self.errors:
                    self.fail(name, fault_message(name, problem["type"], problem.get("ctx") or {}))
        except DomainError as error:  # a model's rule across fields (a card number, a currency)
            self.fail_with(error)
        return None

    def check_new_password(self) -> str:
        """The new password of a form with `new_password` and `confirm_password`: both filled
        in, the policy of every new password (schemas.NewPassword), and both typed the same."""
        self.require("new_password", "confirm_password")
        new, confirm = self.get("new_password"), self.get("confirm_password")
        if new and self.check(PackagePassword, new_password=new) is not None and confirm and new != confirm:
            self.fail("confirm_password", _("The two passwords are not the same."))
        return new

    @contextmanager
    def caught(self, *statuses: int, **own: tuple[str | None, str]) -> Iterator[None]:
        """A DomainError of the block onto the form: `own` (by error code: the field and the
        page's message), else the pages' error page for the `statuses` (PAGE_ERRORS), else
        the code's message next to the field it names."""
        try:
            yield
        except DomainError as error:
            if error.code in own:
                self.fail(*own[error.code])
            else:
                reraise(error, *statuses)
                self.fail_with(error)


def reraise(error: DomainError, *statuses: int) -> None:
    """`error` again if its status is one of `statuses` (500: any from 500 up)."""
    if min(error.http_status, 500) in statuses:
        raise error


def session_token() -> str:
    """The token of the page's session (a login_page page)."""
    return current_principal().token


def ref(value: str, limit: int = MAX_OPAQUE_ID) -> str:
    """An id from the URL: one that cannot exist is the not-found page."""
    return known_id(value, "No such record.", limit)


def notice() -> str | None:
    message = NOTICES.get(request.args.get("notice", ""))
    return str(message) if message else None


@bp.context_processor
def page_context() -> dict[str, Any]:
    return {"principal": g.get("principal") or g.get("web_principal"), "notice": notice}


def page(template: str, status: int = 200, /, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status


def error_page(status: int, message: str, title: str | None = None) -> tuple[str, int]:
    return page("error.html", status, message=message, title=title or _("Sorry"))


# --- error handlers of the pages (the API keeps its JSON handlers) ------------------------------


@bp.errorhandler(DomainError)
def domain_error(error: DomainError) -> Any:
    if isinstance(error, Unauthenticated):
        kind = "staff" if request.path.startswith("/staff") else "customer"
        principal = g.get("principal")
        return login_redirect(principal.kind if principal is not None else kind)
    if isinstance(error, ServiceUnavailable):
        return page("unavailable.html", 503)
    if isinstance(error, Forbidden):
        return error_page(403, str(ERROR_MESSAGES["forbidden"]))
    if isinstance(error, NotFound):
        return error_page(404, str(ERROR_MESSAGES["not_found"]))
    if error.http_status >= 500:
        current_app.logger.error("backend error on a page %r", error)
        return error_page(500, _("An internal error occurred. Please try again later."))
    return error_page(error.http_status, error_message(error))


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    if isinstance(error, CsrfError):
        return error_page(
            400,
            _(
                "This form could not be accepted: it has expired or was not sent from this site. "
                "Please go back, reload the page and try again."
            ),
        )
    if status == 404:
        return error_page(404, str(ERROR_MESSAGES["not_found"]))
    if status == 413:
        return error_page(413, _("The file is too large (at most 5 MB)."))
    return error_page(status, error.name)


@bp.errorhandler(Exception)
def unexpected_error(error: Exception) -> tuple[str, int]:
    current_app.logger.exception("unhandled error on a page")
    return error_page(500, _("An internal error occurred. Please try again later."))


# --- an unknown URL: an HTML page for a browser, the JSON error for the API -------------------


def wants_html() -> bool:
    """A browser's request outside /api/: it prefers text/html to JSON (a client that sends
    no Accept header, or */*, gets the API's JSON)."""
    if request.path == "/api" or request.path.startswith("/api/"):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def not_found_anywhere(error: HTTPException) -> Any:
    """The app-wide 404 (no route matched, so no blueprint's handler applies)."""
    if not wants_html():
        return handle_http_exception(error)
    try:
        principal = session_principal()
    except DomainError:
        principal = None  # identity's revocation state unknown: the page shows no login
    html = render_template(
        "error.html",
        title=_("Page not found"),
        message=str(ERROR_MESSAGES["not_found"]),
        principal=principal,
        notice=lambda: None,
    )
    return set_csrf_cookie(remember_language(make_response(html, 404)))
