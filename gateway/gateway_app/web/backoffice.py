"""The service team's back office for billing (docs/billing.md): the offers of the month (the
list and a form to set one up) and the SEPA direct debit collections (make one, download its
pain.008 file, mark a collected invoice paid or returned with the bank's reason).

Each action takes the same path as its JSON API (gateway_app/blueprints/billing.py): the body
is checked by the API's pydantic model, then the same use case or typed client is called.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cc_common.errors import DomainError
from flask import redirect, request, url_for
from flask_babel import lazy_gettext as _l

from gateway_app.clients import contracts
from gateway_app.clients import packages as package_service
from gateway_app.downloads import xml_download
from gateway_app.schemas.billing import Collection, OfferCreate, ReturnedDebit, StaffOffer
from gateway_app.use_cases import create_offer_of_the_month
from gateway_app.web.pages import PAGE_ERRORS, FormState, error_message, page, ref, reraise, session_token
from gateway_app.web.session import login_page

OFFER_FIELDS = ("product", "price", "currency", "markets", "valid_from", "valid_until")
CURRENCIES = ("EUR", "GBP")
MARKET_LABELS = {"de": _l("Germany"), "nl": _l("Netherlands"), "uk": _l("United Kingdom")}


# --- offers of the month -------------------------------------------------------------------------


@login_page("/staff/offers", "staff")
def staff_offers(status: int = 200, form: FormState | None = None) -> Any:
    """Every offer that has not ended yet (running and future ones), the newest first, and the
    form; the product select lists the catalogue."""
    today = date.today().isoformat()
    products = package_service.list_products(token=session_token())
    names = {p.code: p.name for p in products}
    offers = [
        {
            **o,
            "product_name": names.get(o["product"], o["product"]),
            "running": (o["valid_from"] or "") <= today,
        }
        for o in (StaffOffer.of(item).json() for item in contracts.list_offers(token=session_token()))
        if (o["valid_until"] or "") >= today
    ]
    form = form or FormState({"currency": "EUR", "markets": "de", "valid_from": today})
    return page(
        "staff/offers.html",
        status,
        offers=offers,
        form=form,
        chosen_markets=form.get("markets").split(","),
        product_options=[(p.code, p.name) for p in products],
        currency_options=[(c, c) for c in CURRENCIES],
        market_labels=MARKET_LABELS,
    )


@login_page("/staff/offers", "staff", methods=["POST"])
def staff_create_offer() -> Any:
    """The same as POST /api/v1/admin/offers: the form checked by its body model, then the
    same use case (contract-service checks the rest and names the field at fault)."""
    form = FormState.from_request(*OFFER_FIELDS)
    chosen = [m for m in request.form.getlist("markets") if m]
    form.values["markets"] = ",".join(chosen)
    form.require("product", "price", "currency", "valid_from", "valid_until")
    body = form.check(  # a rule across fields (markets billed in another currency) names its field
        OfferCreate,
        product=form.get("product").strip(),
        price=form.get("price").strip().replace(",", "."),
        currency=form.get("currency"),
        markets=chosen,
        valid_from=form.get("valid_from").strip(),
        valid_until=form.get("valid_until").strip(),
    )
    if body is not None and form.ok:
        with form.caught(*PAGE_ERRORS):
            create_offer_of_the_month(body)
            return redirect(url_for("web.staff_offers", notice="offer_created"))
    return staff_offers(form.status(409), form)


# --- direct debit collections ----------------------------------------------------------------------


@login_page("/staff/direct-debits", "staff")
def staff_direct_debits(
    status: int = 200, form: FormState | None = None, failed: str = "", error: str | None = None
) -> Any:
    collections = [
        Collection.of(c).json() for c in contracts.list_direct_debit_collections(token=session_token())
    ]
    return page(
        "staff/direct_debits.html",
        status,
        collections=collections,
        form=form or FormState(),
        failed=failed,
        error=error,
    )


@login_page("/staff/direct-debits", "staff", methods=["POST"])
def staff_create_collection() -> Any:
    """The same as POST /api/v1/admin/direct-debits: every invoice waiting is collected."""
    try:
        contracts.create_direct_debit_collection(token=session_token())
    except DomainError as error:
        reraise(error, *PAGE_ERRORS)
        return staff_direct_debits(error.http_status, error=error_message(error))
    return redirect(url_for("web.staff_direct_debits", notice="collection_created"))


@login_page("/staff/direct-debits/<collection_id>/pain008", "staff")
def staff_direct_debit_file(collection_id: str) -> Any:
    """The same file as GET /api/v1/admin/direct-debits/{id}/pain008."""
    document = contracts.get_direct_debit_file(ref(collection_id), token=session_token())
    return xml_download(document.content, document.filename)


@login_page("/staff/invoices/<number>/paid", "staff", methods=["POST"])
def staff_mark_paid(number: str) -> Any:
    """The same as POST /api/v1/admin/invoices/{number}/paid."""
    form = FormState()
    with form.caught(*PAGE_ERRORS):
        contracts.mark_invoice_paid(ref(number, contracts.MAX_INVOICE_NUMBER), token=session_token())
        return redirect(url_for("web.staff_direct_debits", notice="invoice_paid"))
    return staff_direct_debits(409, form=form, failed=number)


@login_page("/staff/invoices/<number>/returned", "staff", methods=["POST"])
def staff_mark_returned(number: str) -> Any:
    """The same as POST /api/v1/admin/invoices/{number}/returned, with the bank's reason."""
    number = ref(number, contracts.MAX_INVOICE_NUMBER)
    form = FormState.from_request("reason")
    body = form.check(ReturnedDebit, reason=form.get("reason").strip())
    if body is not None:
        with form.caught(*PAGE_ERRORS):
            contracts.mark_invoice_returned(number, body.reason, token=session_token())
            return redirect(url_for("web.staff_direct_debits", notice="invoice_returned"))
    return staff_direct_debits(form.status(409), form=form, failed=number)
