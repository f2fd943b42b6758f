"""The back office's billing pages with Flask's test client and fake backends: the offers of
the month (list and form), the direct debit collections (make one, its pain.008 file, paid and
returned) and their links in the staff menu, in the three languages."""

from __future__ import annotations

import datetime

import pytest
from cc_common.errors import Conflict, InvalidInput
from customercenter.v2 import common_pb2, contract_pb2, package_pb2

from tests.unit.test_web_pages import csrf_of

TODAY = datetime.date.today()
RUNNING = contract_pb2.Offer(
    id="off_run", product="hosting-plus", price_cents=699, currency="EUR", markets=[common_pb2.MARKET_DE],
    valid_from=TODAY.isoformat(), valid_until=(TODAY + datetime.timedelta(days=5)).isoformat(),
)  # fmt: skip
FUTURE = contract_pb2.Offer(
    id="off_future", product="hosting-basic", price_cents=299, currency="GBP", markets=[common_pb2.MARKET_UK],
    valid_from=(TODAY + datetime.timedelta(days=10)).isoformat(),
    valid_until=(TODAY + datetime.timedelta(days=20)).isoformat(),
)  # fmt: skip
OVER = contract_pb2.Offer(
    id="off_over", product="hosting-basic", price_cents=199, currency="EUR", markets=[common_pb2.MARKET_NL],
    valid_from=(TODAY - datetime.timedelta(days=20)).isoformat(),
    valid_until=(TODAY - datetime.timedelta(days=1)).isoformat(),
)  # fmt: skip
PRODUCTS = package_pb2.ListProductsResponse(
    products=[
        package_pb2.Product(code="hosting-basic", name="Hosting Basic", rank=1),
        package_pb2.Product(code="hosting-plus", name="Hosting Plus", rank=2),
    ]
)
COLLECTION = contract_pb2.DirectDebitCollection(
    id="dd_1", collection_date="2026-12-04",
    items=[contract_pb2.DirectDebitItem(invoice_number="RE00000007", customer_number="1001", amount_cents=11900,
                                        currency="EUR", iban_masked="DE89 **** 3000", mandate_id="CC-1001")],
)  # fmt: skip
INVOICE = contract_pb2.Invoice(
    number="RE00000007", customer_number="1001", amount_cents=11900, currency="EUR"
)


@pytest.fixture
def staff_client(gateway_client, gateway_tokens, gateway_backends):
    gateway_client.set_cookie("cc_session", gateway_tokens.staff())
    gateway_backends.contract.on(
        "ListOffers", contract_pb2.ListOffersResponse(offers=[FUTURE, RUNNING, OVER])
    )
    gateway_backends.package.on("ListProducts", PRODUCTS)
    gateway_backends.contract.on(
        "ListDirectDebitCollections",
        contract_pb2.ListDirectDebitCollectionsResponse(collections=[COLLECTION]),
    )
    return gateway_client


def _offer_form(token: str, **fields: object) -> dict[str, object]:
    return {"csrf_token": token, "product": "hosting-plus", "price": "4,99", "currency": "EUR",
            "markets": ["de", "nl"], "valid_from": TODAY.isoformat(),
            "valid_until": (TODAY + datetime.timedelta(days=30)).isoformat(), **fields}  # fmt: skip


def test_the_staff_menu_links_offers_and_direct_debits_next_to_merges_and_contact_requests(staff_client):
    html = staff_client.get("/staff/offers", headers={"Accept-Language": "de"}).get_data(as_text=True)
    menu = html.split('class="staff-menu"')[1].split("</nav>")[0]
    assert menu.index('id="staff-menu-merges"') < menu.index('id="staff-menu-contact"')
    assert menu.index('id="staff-menu-contact"') < menu.index('href="/staff/offers" id="staff-menu-offers"')
    assert 'href="/staff/direct-debits" id="staff-menu-debits"' in menu
    assert ">Angebote<" in menu and ">Lastschriften<" in menu


def test_the_offers_page_lists_running_and_future_offers_but_not_ended_ones(staff_client):
    html = staff_client.get("/staff/offers").get_data(as_text=True)
    assert 'data-offer="off_run"' in html and 'data-offer="off_future"' in html
    assert 'data-offer="off_over"' not in html
    assert "Hosting Plus" in html and "6.99" in html and "United Kingdom" in html
    assert '<option value="hosting-basic"' in html and 'name="markets" value="uk"' in html


def test_creating_an_offer_takes_the_api_path_with_cents_capitals_and_markets(staff_client, gateway_backends):
    created = []
    gateway_backends.contract.on("CreateOffer", lambda request, token: created.append(request) or RUNNING)
    token = csrf_of(staff_client.get("/staff/offers"))
    done = staff_client.post("/staff/offers", data=_offer_form(token))
    assert done.status_code == 302 and done.headers["Location"].endswith("notice=offer_created")
    (request,) = created
    assert (request.product, request.price_cents, request.currency) == ("hosting-plus", 499, "EUR")
    assert list(request.markets) == [common_pb2.MARKET_DE, common_pb2.MARKET_NL]


def test_a_refused_offer_shows_the_field_errors_in_the_language_and_keeps_what_was_typed(
    staff_client, gateway_backends
):
    gateway_backends.contract.on("CreateOffer", lambda request, token: pytest.fail("must not be called"))
    token = csrf_of(staff_client.get("/staff/offers"))
    refused = staff_client.post(
        "/staff/offers", data=_offer_form(token, price="-3", markets=[]), headers={"Accept-Language": "nl"}
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="e-price"' in html and 'id="e-markets"' in html
    assert 'value="-3"' in html and "Kies een of meer markten." in html


def test_a_currency_the_markets_are_not_billed_in_is_shown_next_to_the_currency(
    staff_client, gateway_backends
):
    gateway_backends.contract.on("CreateOffer", InvalidInput("not billed in GBP", field="currency"))
    token = csrf_of(staff_client.get("/staff/offers"))
    refused = staff_client.post("/staff/offers", data=_offer_form(token, currency="GBP"))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="e-currency"' in html and "(DE and NL: EUR, UK: GBP)" in html
    assert '<option value="GBP" selected>' in html


def test_the_direct_debits_page_lists_collections_with_their_file_and_the_answers_of_the_bank(staff_client):
    html = staff_client.get("/staff/direct-debits").get_data(as_text=True)
    assert (
        'href="/staff/direct-debits/dd_1/pain008"' in html and "RE00000007" in html and "119.00 EUR" in html
    )
    assert (
        'action="/staff/invoices/RE00000007/paid"' in html
        and 'action="/staff/invoices/RE00000007/returned"' in html
    )
    assert 'action="/staff/direct-debits"' in html and 'id="create-collection"' in html


def test_create_collection_makes_one_or_says_in_the_language_that_nothing_waits(
    staff_client, gateway_backends
):
    gateway_backends.contract.on("CreateDirectDebitCollection", COLLECTION)
    token = csrf_of(staff_client.get("/staff/direct-debits"))
    done = staff_client.post("/staff/direct-debits", data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith("notice=collection_created")
    gateway_backends.contract.on("CreateDirectDebitCollection", Conflict("none", code="nothing_to_collect"))
    empty = staff_client.post(
        "/staff/direct-debits", data={"csrf_token": token}, headers={"Accept-Language": "de"}
    )
    assert empty.status_code == 409 and "nichts einzuziehen" in empty.get_data(as_text=True)
    assert staff_client.post("/staff/direct-debits", data={}).status_code == 400  # no CSRF token


def test_the_pain008_file_is_the_collections_document_as_an_xml_download(staff_client, gateway_backends):
    asked = []
    document = contract_pb2.Document(content=b"<Document>RE00000007</Document>", filename="dd_1.xml")
    gateway_backends.contract.on(
        "GetDirectDebitFile", lambda request, token: asked.append(request) or document
    )
    file = staff_client.get("/staff/direct-debits/dd_1/pain008")
    assert file.status_code == 200 and file.mimetype == "application/xml" and file.data == document.content
    assert "dd_1.xml" in file.headers["Content-Disposition"] and asked[0].collection_id == "dd_1"
    assert file.headers["Cache-Control"] == "no-store"


def test_mark_paid_and_mark_returned_send_the_number_and_the_reason(staff_client, gateway_backends):
    paid, returned = [], []
    gateway_backends.contract.on("MarkInvoicePaid", lambda request, token: paid.append(request) or INVOICE)
    gateway_backends.contract.on(
        "MarkInvoiceReturned", lambda request, token: returned.append(request) or INVOICE
    )
    token = csrf_of(staff_client.get("/staff/direct-debits"))
    done = staff_client.post("/staff/invoices/RE00000007/paid", data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith("notice=invoice_paid")
    back = staff_client.post(
        "/staff/invoices/RE00000007/returned", data={"csrf_token": token, "reason": " AC04 account closed "}
    )
    assert back.status_code == 302 and back.headers["Location"].endswith("notice=invoice_returned")
    assert paid[0].number == "RE00000007"
    assert (returned[0].number, returned[0].reason) == ("RE00000007", "AC04 account closed")


def test_a_return_without_reason_or_of_an_invoice_not_debited_is_shown_next_to_that_invoice(
    staff_client, gateway_backends
):
    token = csrf_of(staff_client.get("/staff/direct-debits"))
    blank = staff_client.post(
        "/staff/invoices/RE00000007/returned", data={"csrf_token": token, "reason": "  "}
    )
    assert blank.status_code == 422 and 'id="e-reason-dd_1-RE00000007"' in blank.get_data(as_text=True)
    long = staff_client.post(
        "/staff/invoices/RE00000007/returned", data={"csrf_token": token, "reason": "x" * 201}
    )
    assert long.status_code == 422 and "At most 200 characters." in long.get_data(as_text=True)
    gateway_backends.contract.on("MarkInvoiceReturned", Conflict("not debited", code="invoice_not_debited"))
    twice = staff_client.post(
        "/staff/invoices/RE00000007/returned",
        data={"csrf_token": token, "reason": "MD06"},
        headers={"Accept-Language": "nl"},
    )
    html = twice.get_data(as_text=True)
    assert twice.status_code == 409 and 'id="error-dd_1-RE00000007"' in html and 'value="MD06"' in html


def test_the_billing_pages_are_for_the_service_team_only(gateway_client, gateway_tokens, gateway_backends):
    gateway_client.set_cookie("cc_session", gateway_tokens.customer("1001"))
    for path in ("/staff/offers", "/staff/direct-debits", "/staff/direct-debits/dd_1/pain008"):
        assert gateway_client.get(path).status_code in (302, 403)
    staff_only = ("ListOffers", "ListDirectDebitCollections", "GetDirectDebitFile")
    assert not [c for c in gateway_backends.contract.calls if c.method in staff_only]
