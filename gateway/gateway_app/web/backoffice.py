"""The service team's back office for billing (docs/billing.md): the offers of the month (the
list and a form to set one up) and the SEPA direct debit collections (make one, download its
pain.008 file, mark a collected invoice paid or returned with the bank's reason).

Each action takes the same path as its JSON API (gateway_app/blueprints/billing.py): the body
is checked by the API's pydantic model, then the same use case or typed client is called.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cc_common.errors import DomainError, NotFound
from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError

from gateway_app.clients import contracts
from gateway_app.clients import packages as package_service
from gateway_app.downloads import xml_download
from gateway_app.schemas import MAX_OPAQUE_ID
from gateway_app.schemas.billing import Collection, OfferCreate, ReturnedDebit, StaffOffer
from gateway_app.security import current_principal
from gateway_app.use_cases import create_offer_of_the_month
from gateway_app.web import bp
from gateway_app.web.pages import FIELD_MESSAGES, FormState, page, require
from gateway_app.web.session import page_login

OFFER_FIELDS = ("product", "price", "currency", "markets", "valid_from", "valid_until")
MARKETS = ("de", "nl", "uk")
CURRENCIES = ("EUR", "GBP")
MARKET_LABELS = {"de": _l("Germany"), "nl": _l("Netherlands"), "uk": _l("United Kingdom")}
MAX_RETURN_REASON = 200
MAX_INVOICE_NUMBER = 100


def _token() -> str:
    return current_principal().token


def _ref(value: str, limit: int = MAX_OPAQUE_ID) -> str:
    if not value or len(value) > limit:
        raise NotFound("No such record.")
    return value


def _raise_unless_for_the_form(error: DomainError) -> None:
    """Login, permission, unknown record and a backend that is down are the pages' error pages;
    anything else is shown on the form."""
    if error.http_status in (401, 403, 404) or error.http_status >= 500:
        raise error


# --- offers of the month -------------------------------------------------------------------------


def _offers_page(status: int = 200, *, form: FormState | None = None) -> Any:
    """Every offer that has not ended yet (running and future ones), the newest first, and the
    form; the product select lists the catalogue."""
    today = date.today().isoformat()
    offers = [StaffOffer.of(o).json() for o in contracts.list_offers(token=_token())]
    products = package_service.list_products(token=_token())
    names = {p.code: p.name for p in products}
    listed = [
        {
            **o,
            "product_name": names.get(o["product"], o["product"]),
            "running": (o["valid_from"] or "") <= today,
        }
        for o in offers
        if (o["valid_until"] or "") >= today
    ]
    form = form or FormState({"product": "", "price": "", "currency": "EUR", "markets": "de",
                              "valid_from": today, "valid_until": ""})  # fmt: skip
    return page(
        "staff/offers.html",
        status,
        offers=listed,
        form=form,
        chosen_markets=form.get("markets").split(","),
        product_options=[(p.code, p.name) for p in products],
        currency_options=[(c, c) for c in CURRENCIES],
        markets=[(m, MARKET_LABELS[m]) for m in MARKETS],
        market_labels=MARKET_LABELS,
    )


@bp.get("/staff/offers")
@page_login("staff")
def staff_offers() -> Any:
    return _offers_page()


@bp.post("/staff/offers")
@page_login("staff")
def staff_create_offer() -> Any:
    """The same as POST /api/v1/admin/offers: the form checked by its body model, then the
    same use case (contract-service checks the rest and names the field at fault)."""
    form = FormState.from_request(*(f for f in OFFER_FIELDS if f != "markets"))
    chosen = [m for m in request.form.getlist("markets") if m]
    form.values["markets"] = ",".join(chosen)
    require(form, "product", "price", "currency", "valid_from", "valid_until")
    if not chosen:
        form.fail("markets", str(FIELD_MESSAGES["markets"]))
    body = None
    try:
        body = OfferCreate.model_validate(
            {
                "product": form.get("product").strip(),
                "price": form.get("price").strip().replace(",", "."),
                "currency": form.get("currency"),
                "markets": chosen,
                "valid_from": form.get("valid_from").strip(),
                "valid_until": form.get("valid_until").strip(),
            }
        )
    except ValidationError as error:  # each field at fault, as far as the form has it
        for problem in error.errors(include_url=False):
            name = str(problem["loc"][0]) if problem["loc"] else ""
            if name in OFFER_FIELDS and name not in form.errors:
                form.fail(name, str(FIELD_MESSAGES[name]))
    except DomainError as error:  # a rule across fields (markets billed in another currency)
        _raise_unless_for_the_form(error)
        form.fail_with(error)
    if body is not None and form.ok:
        try:
            create_offer_of_the_month(body)
            return redirect(url_for("web.staff_offers", notice="offer_created"))
        except DomainError as error:
            _raise_unless_for_the_form(error)
            form.fail_with(error)
    return _offers_page(422 if form.errors else 409, form=form)


# --- direct debit collections ----------------------------------------------------------------------


def _debits_page(
    status: int = 200, *, form: FormState | None = None, failed: str = "", error: str | None = None
) -> Any:
    collections = [Collection.of(c).json() for c in contracts.list_direct_debit_collections(token=_token())]
    return page(
        "staff/direct_debits.html",
        status,
        collections=collections,
        form=form or FormState({"reason": ""}),
        failed=failed,
        error=error,
    )


@bp.get("/staff/direct-debits")
@page_login("staff")
def staff_direct_debits() -> Any:
    return _debits_page()


@bp.post("/staff/direct-debits")
@page_login("staff")
def staff_create_collection() -> Any:
    """The same as POST /api/v1/admin/direct-debits: every invoice waiting is collected."""
    try:
        contracts.create_direct_debit_collection(token=_token())
    except DomainError as error:
        _raise_unless_for_the_form(error)
        form = FormState({"reason": ""})
        form.fail_with(error)
        return _debits_page(error.http_status, error=form.error)
    return redirect(url_for("web.staff_direct_debits", notice="collection_created"))


@bp.get("/staff/direct-debits/<collection_id>/pain008")
@page_login("staff")
def staff_direct_debit_file(collection_id: str) -> Any:
    """The same file as GET /api/v1/admin/direct-debits/{id}/pain008."""
    document = contracts.get_direct_debit_file(_ref(collection_id), token=_token())
    return xml_download(document.content, document.filename)


@bp.post("/staff/invoices/<number>/paid")
@page_login("staff")
def staff_mark_paid(number: str) -> Any:
    """The same as POST /api/v1/admin/invoices/{number}/paid."""
    form = FormState({"reason": ""})
    try:
        contracts.mark_invoice_paid(_ref(number, MAX_INVOICE_NUMBER), token=_token())
        return redirect(url_for("web.staff_direct_debits", notice="invoice_paid"))
    except DomainError as error:
        _raise_unless_for_the_form(error)
        form.fail_with(error)
    return _debits_page(409, form=form, failed=number)


@bp.post("/staff/invoices/<number>/returned")
@page_login("staff")
def staff_mark_returned(number: str) -> Any:
    """The same as POST /api/v1/admin/invoices/{number}/returned, with the bank's reason."""
    number = _ref(number, MAX_INVOICE_NUMBER)
    form = FormState.from_request("reason")
    reason = form.get("reason").strip()
    if not reason:
        form.fail("reason", str(FIELD_MESSAGES["reason"]))
    elif len(reason) > MAX_RETURN_REASON:
        form.fail("reason", _("At most %(count)s characters.", count=MAX_RETURN_REASON))
    else:
        try:
            body = ReturnedDebit.model_validate({"reason": reason})
            contracts.mark_invoice_returned(number, body.reason, token=_token())
            return redirect(url_for("web.staff_direct_debits", notice="invoice_returned"))
        except ValidationError:
            form.fail("reason", str(FIELD_MESSAGES["reason"]))
        except DomainError as error:
            _raise_unless_for_the_form(error)
            form.fail_with(error)
    return _debits_page(422 if form.errors else 409, form=form, failed=number)
