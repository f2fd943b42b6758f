"""The self-service pages added to the customer area, with Flask's test client and fake
backends: the upgrade in the package administration, card payment data, offers of the month,
help and contact, the HTML 404 of a browser and the translated audit record of the staff."""

from __future__ import annotations

import pytest
from cc_common.errors import Conflict, InvalidInput
from cc_common.protoconv import enum_value
from customercenter.v2 import common_pb2, contract_pb2, merge_pb2, package_pb2

from tests.unit.test_web_pages import CUSTOMER, PACKAGES, form_token


def _prices(de: int, nl: int) -> list[package_pb2.ProductPrice]:
    return [
        package_pb2.ProductPrice(market=common_pb2.MARKET_DE, monthly_price_cents=de, currency="EUR"),
        package_pb2.ProductPrice(market=common_pb2.MARKET_NL, monthly_price_cents=nl, currency="EUR"),
    ]


PRODUCTS = package_pb2.ListProductsResponse(
    products=[
        package_pb2.Product(
            code="hosting-basic", name="Hosting Basic", rank=1, max_domains=1, prices=_prices(499, 599)
        ),
        package_pb2.Product(
            code="hosting-plus", name="Hosting Plus", rank=2, max_domains=5, prices=_prices(1199, 1299)
        ),
        package_pb2.Product(
            code="hosting-pro", name="Hosting Pro", rank=3, max_domains=25, prices=_prices(1999, 2099)
        ),
    ]
)


def _package(
    product: str = "hosting-basic",
    status: str = "active",
    package_id: str = "pkg_1",
    domain: str = "erika.example",
):
    names = {p.code: p.name for p in PRODUCTS.products}
    return package_pb2.Package(
        id=package_id,
        customer_number="1001",
        product=product,
        product_name=names[product],
        domains=[domain],
        status=enum_value(package_pb2.PackageStatus, status),
        max_domains=1,
    )


def _changed(req, token):
    return package_pb2.ChangeProductResponse(
        package=package_pb2.Package(
            id=req.package_id,
            customer_number="1001",
            product=req.product,
            status=package_pb2.PACKAGE_STATUS_ACTIVE,
        ),
        direction=package_pb2.CHANGE_DIRECTION_UPGRADE,
        from_product="hosting-basic",
    )


ADDON = package_pb2.Addon(
    id="add_1",
    package_id="pkg_1",
    kind=package_pb2.ADDON_KIND_MAILBOX_PACK,
    monthly_price_cents=299,
    currency="EUR",
    status=package_pb2.ADDON_STATUS_ACTIVE,
)
ADDONS = package_pb2.ListAddonsResponse(
    addons=[ADDON],
    available=[
        package_pb2.AddonOffer(kind=package_pb2.ADDON_KIND_EXTRA_DOMAIN_SLOT, name="Extra domain slot", domains=1,
                               prices=_prices(199, 199)),
        package_pb2.AddonOffer(kind=package_pb2.ADDON_KIND_DATABASE, name="Additional database", databases=1,
                               prices=_prices(149, 149)),
    ],
)  # fmt: skip


@pytest.fixture
def package_backend(gateway_backends):
    """package-service with pkg_1 (Hosting Basic), its settings and the catalogue."""
    package = gateway_backends.package
    package.on("GetPackage", _package())
    package.on("ListProducts", PRODUCTS)
    package.on(
        "GetSettings", package_pb2.PackageSettings(package_id="pkg_1", settings={"php_version": "8.3"})
    )
    package.on("ChangeProduct", _changed)
    package.on("ListAddons", ADDONS)
    gateway_backends.contract.on(
        "ChangeContractProduct",
        lambda req, token: contract_pb2.ChangeContractProductResponse(
            contract=contract_pb2.Contract(id="ctr_1", package_id=req.package_id, product=req.product),
            changed=True,
        ),
    )
    return package


@pytest.fixture
def customer_client(gateway_client, gateway_tokens, gateway_backends):
    """A browser with a customer session of 1001 (market de)."""
    gateway_client.set_cookie("cc_session", gateway_tokens.customer("1001"))
    gateway_backends.contract.on("GetCustomer", CUSTOMER)
    gateway_backends.package.on("ListPackages", PACKAGES)
    return gateway_client


@pytest.fixture
def package_client(gateway_client, gateway_tokens):
    """A browser with the package login of pkg_1."""
    gateway_client.set_cookie("cc_session", gateway_tokens.package("pkg_1"))
    return gateway_client


# --- additional services (add-ons) in the package administration ---------------------------------


def test_the_package_page_lists_the_add_ons_and_offers_the_others_at_the_customers_prices(
    customer_client, package_backend
):
    html = customer_client.get("/packages/pkg_1").get_data(as_text=True)
    assert 'id="addons"' in html and 'id="addon-add_1"' in html and "Mailbox pack (10 mailboxes)" in html
    assert "€2.99 per month" in html  # the add-on's own price
    assert 'value="extra_domain_slot"' in html and "€1.99 per month" in html
    assert "/packages/pkg_1/addons/add_1/terminate" in html


def test_the_customer_orders_an_add_on_from_the_page_at_the_price_of_its_market(
    customer_client, package_backend, gateway_backends
):
    package_backend.on("OrderAddon", package_pb2.OrderAddonResponse(addon=ADDON))
    active = contract_pb2.Customer()
    active.CopyFrom(CUSTOMER)
    active.status = common_pb2.CUSTOMER_STATUS_ACTIVE
    gateway_backends.contract.on("GetCustomer", active)
    token = form_token(customer_client, "/packages/pkg_1")
    answer = customer_client.post("/packages/pkg_1/addons", data={"kind": "database", "csrf_token": token})
    assert answer.status_code == 302 and "notice=addon_ordered" in answer.headers["Location"]
    order = next(c for c in package_backend.calls if c.method == "OrderAddon")
    assert (order.request.kind, order.request.market) == (
        package_pb2.ADDON_KIND_DATABASE,
        common_pb2.MARKET_DE,
    )


def test_an_add_on_is_not_ordered_while_a_merge_freezes_the_customer_number(
    customer_client, package_backend, gateway_backends
):
    frozen = contract_pb2.Customer()
    frozen.CopyFrom(CUSTOMER)
    frozen.status = common_pb2.CUSTOMER_STATUS_FROZEN
    token = form_token(customer_client, "/packages/pkg_1")
    gateway_backends.contract.on("GetCustomer", frozen)
    answer = customer_client.post("/packages/pkg_1/addons", data={"kind": "database", "csrf_token": token})
    assert answer.status_code == 409
    assert "while a merge is being carried out" in answer.get_data(as_text=True)
    assert "OrderAddon" not in package_backend.methods_called()


def test_the_customer_terminates_an_add_on_from_the_page_and_it_shows_its_end(
    customer_client, package_backend, gateway_backends
):
    gateway_backends.contract.on(
        "CreateTermination",
        lambda req, token: contract_pb2.Termination(
            id="trm_1", package_id=req.package_id, addon_id=req.addon_id, effective_date="2026-12-31"
        ),
    )
    package_backend.on("SetAddonEnd", package_pb2.SetAddonEndResponse(addon=ADDON))
    token = form_token(customer_client, "/packages/pkg_1")
    answer = customer_client.post("/packages/pkg_1/addons/add_1/terminate", data={"csrf_token": token})
    assert answer.status_code == 302 and "notice=addon_terminated" in answer.headers["Location"]
    created = next(c for c in gateway_backends.contract.calls if c.method == "CreateTermination")
    assert (created.request.package_id, created.request.addon_id, created.request.domain) == (
        "pkg_1",
        "add_1",
        "",
    )
    marked = next(c for c in package_backend.calls if c.method == "SetAddonEnd")
    assert (marked.request.addon_id, marked.request.ends_on) == ("add_1", "2026-12-31")


def test_a_package_login_sees_the_add_ons_without_prices_and_cannot_order_or_terminate(
    package_client, package_backend
):
    html = package_client.get("/packages/pkg_1").get_data(as_text=True)
    assert 'id="addon-add_1"' in html and 'id="addon-contract-holder"' in html
    assert 'name="kind"' not in html and "/addons/add_1/terminate" not in html and "per month" not in html
    token = form_token(package_client, "/packages/pkg_1")
    assert (
        package_client.post(
            "/packages/pkg_1/addons", data={"kind": "database", "csrf_token": token}
        ).status_code
        == 403
    )
    assert "OrderAddon" not in package_backend.methods_called()


@pytest.mark.parametrize("lang, heading", [("de", "Zusatzleistungen"), ("nl", "Extra diensten")])
def test_the_add_ons_are_shown_in_german_and_dutch(customer_client, package_backend, lang, heading):
    html = customer_client.get(f"/packages/pkg_1?lang={lang}").get_data(as_text=True)
    assert heading in html


# --- upgrade in the package administration -------------------------------------------------------


def test_the_package_page_offers_only_the_larger_products_with_the_customers_prices(
    customer_client, package_backend
):
    html = customer_client.get("/packages/pkg_1").get_data(as_text=True)
    assert 'id="upgrade"' in html
    assert 'value="hosting-plus"' in html and 'value="hosting-pro"' in html
    assert 'value="hosting-basic"' not in html
    assert "€11.99 per month" in html and "€19.99 per month" in html  # market de


def test_a_package_login_sees_the_upgrade_offer_with_a_note_but_no_order_button_or_contract_data(
    package_client, package_backend, gateway_backends
):
    html = package_client.get("/packages/pkg_1").get_data(as_text=True)
    assert 'id="upgrade-offers"' in html and "Hosting Plus" in html
    assert 'id="upgrade-contract-holder"' in html and "contract holder orders it" in html
    assert 'name="product"' not in html and 'id="upgrade-button"' not in html
    assert "per month" not in html
    assert "GetCustomer" not in gateway_backends.contract.methods_called()


def test_the_upgrade_is_offered_without_prices_while_contract_service_is_down(
    customer_client, package_backend, gateway_backends
):
    gateway_backends.contract.down = True
    response = customer_client.get("/packages/pkg_1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="hosting-plus"' in html and "€11.99" not in html and "€19.99" not in html


def test_a_package_with_the_largest_product_offers_no_upgrade(customer_client, package_backend):
    package_backend.on("GetPackage", _package("hosting-pro"))
    html = customer_client.get("/packages/pkg_1").get_data(as_text=True)
    assert "This package already has the largest product." in html
    assert 'name="product"' not in html


def test_the_customer_upgrades_from_the_package_page_and_the_contract_follows(
    customer_client, package_backend, gateway_backends
):
    token = form_token(customer_client, "/packages/pkg_1")
    response = customer_client.post(
        "/packages/pkg_1/upgrade", data={"csrf_token": token, "product": "hosting-pro"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/packages/pkg_1?notice=upgraded"
    change = next(c for c in package_backend.calls if c.method == "ChangeProduct")
    assert (change.request.package_id, change.request.product) == ("pkg_1", "hosting-pro")
    assert "ChangeContractProduct" in gateway_backends.contract.methods_called()
    page = customer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The package has been upgraded." in page


def test_the_package_login_may_not_order_an_upgrade_from_the_page(package_client, package_backend):
    token = form_token(package_client, "/packages/pkg_1")
    for package_id in ("pkg_1", "pkg_2"):
        response = package_client.post(
            f"/packages/{package_id}/upgrade", data={"csrf_token": token, "product": "hosting-plus"}
        )
        assert response.status_code == 403
    assert "ChangeProduct" not in package_backend.methods_called()


def test_a_package_that_does_not_fit_is_refused_on_the_page_with_the_choice_kept(
    customer_client, package_backend
):
    package_backend.on(
        "ChangeProduct", Conflict("Too much storage for Hosting Plus.", code="package_does_not_fit")
    )
    token = form_token(customer_client, "/packages/pkg_1")
    response = customer_client.post(
        "/packages/pkg_1/upgrade", data={"csrf_token": token, "product": "hosting-plus"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'id="form-error"' in html and "does not fit this product" in html
    assert 'value="hosting-plus" id="product-hosting-plus" checked' in html


def test_a_smaller_product_is_refused_next_to_the_choice_and_nothing_changes(
    customer_client, package_backend
):
    package_backend.on("GetPackage", _package("hosting-plus"))
    # package-service knows the sizes and refuses the other direction.
    package_backend.on("ChangeProduct", Conflict("Smaller.", code="not_an_upgrade", field="product"))
    token = form_token(customer_client, "/packages/pkg_1")
    response = customer_client.post(
        "/packages/pkg_1/upgrade", data={"csrf_token": token, "product": "hosting-basic"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code in (409, 422)
    assert 'id="e-product"' in html and "please choose a larger one" in html
    change = [c for c in package_backend.calls if c.method == "ChangeProduct"][0]
    assert change.request.expected_direction == package_pb2.CHANGE_DIRECTION_UPGRADE


def test_an_upgrade_without_a_choice_asks_for_one(customer_client, package_backend):
    token = form_token(customer_client, "/packages/pkg_1")
    response = customer_client.post("/packages/pkg_1/upgrade", data={"csrf_token": token})
    assert response.status_code == 422
    assert "Please fill in this field." in response.get_data(as_text=True)
    assert "ChangeProduct" not in package_backend.methods_called()


def test_an_upgrade_without_its_csrf_token_is_refused(customer_client, package_backend):
    customer_client.get("/packages/pkg_1")
    response = customer_client.post("/packages/pkg_1/upgrade", data={"product": "hosting-pro"})
    assert response.status_code == 400
    assert "ChangeProduct" not in package_backend.methods_called()


@pytest.mark.parametrize(("lang", "heading"), [("de", "Paket-Upgrade"), ("nl", "Upgrade van het pakket")])
def test_the_upgrade_is_offered_in_german_and_dutch(customer_client, package_backend, lang, heading):
    html = customer_client.get(f"/packages/pkg_1?lang={lang}").get_data(as_text=True)
    assert f"<h2>{heading}</h2>" in html


# --- payment data: bank account or card ----------------------------------------------------------


CARD = {"method": "card", "card_token": "tok_visa_4242", "card_last4": "4242", "card_expiry": "09/30"}


def test_a_card_is_saved_with_token_last_digits_and_expiry(customer_client, gateway_backends):
    gateway_backends.contract.on("SetPayment", CUSTOMER)
    token = form_token(customer_client, "/customer/payment")
    response = customer_client.post("/customer/payment", data={"csrf_token": token, **CARD})
    assert response.status_code == 302 and "notice=saved" in response.headers["Location"]
    sent = gateway_backends.contract.calls[-1].request.payment
    assert (sent.card_token, sent.card_last4, sent.card_expiry, sent.iban) == (
        "tok_visa_4242",
        "4242",
        "09/30",
        "",
    )


def test_bank_details_are_still_saved_normalised(customer_client, gateway_backends):
    gateway_backends.contract.on("SetPayment", CUSTOMER)
    token = form_token(customer_client, "/customer/payment")
    response = customer_client.post(
        "/customer/payment",
        data={
            "csrf_token": token,
            "method": "sepa",
            "iban": "de89 3704 0044 0532 0130 00",
            "bic": "cobadeffxxx",
        },
    )
    assert response.status_code == 302
    sent = gateway_backends.contract.calls[-1].request.payment
    assert (sent.iban, sent.bic, sent.card_token) == ("DE89370400440532013000", "COBADEFFXXX", "")


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("card_token", {**CARD, "card_token": "4111 1111 1111 1111"}),
        ("card_token", {**CARD, "card_token": "4111-1111-1111-1111", "card_last4": ""}),
        ("card_last4", {**CARD, "card_last4": "4111111111111111"}),
        ("card_expiry", {**CARD, "card_expiry": "4111111111111111"}),
        ("iban", {"method": "sepa", "iban": "4111 1111 1111 1111", "bic": "COBADEFFXXX"}),
    ],
)
def test_a_card_number_in_any_field_is_refused_and_never_sent_back(
    customer_client, gateway_backends, field, data
):
    token = form_token(customer_client, "/customer/payment")
    response = customer_client.post("/customer/payment", data={"csrf_token": token, **data})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="e-{field}"' in html
    assert "Card numbers are not accepted here; enter the token from the payment provider." in html
    assert "4111" not in html
    assert "SetPayment" not in gateway_backends.contract.methods_called()


def test_the_card_number_refusal_is_translated(customer_client, gateway_backends):
    token = form_token(customer_client, "/customer/payment?lang=nl")
    response = customer_client.post(
        "/customer/payment", data={"csrf_token": token, **CARD, "card_token": "4111111111111111"}
    )
    assert "Kaartnummers worden hier niet geaccepteerd" in response.get_data(as_text=True)


def test_an_expiry_the_service_refuses_is_shown_next_to_it_with_the_card_data_kept(
    customer_client, gateway_backends
):
    gateway_backends.contract.on("SetPayment", InvalidInput("This card has expired.", field="card_expiry"))
    token = form_token(customer_client, "/customer/payment")
    response = customer_client.post(
        "/customer/payment", data={"csrf_token": token, **CARD, "card_expiry": "01/20"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-card_expiry"' in html and "the card must not have expired" in html
    assert 'value="01/20"' in html and 'value="tok_visa_4242"' in html and 'value="4242"' in html


def test_a_card_with_missing_fields_asks_for_them_without_calling_the_service(
    customer_client, gateway_backends
):
    token = form_token(customer_client, "/customer/payment")
    response = customer_client.post("/customer/payment", data={"csrf_token": token, **CARD, "card_last4": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="e-card_last4"' in html
    assert "SetPayment" not in gateway_backends.contract.methods_called()


def test_a_stored_card_is_shown_by_its_last_digits(customer_client, gateway_backends):
    customer = contract_pb2.Customer()
    customer.CopyFrom(CUSTOMER)
    customer.payment.CopyFrom(
        contract_pb2.Payment(method=contract_pb2.PAYMENT_METHOD_CARD, card_last4="4242", card_expiry="09/30")
    )
    gateway_backends.contract.on("GetCustomer", customer)
    html = customer_client.get("/customer/payment").get_data(as_text=True)
    assert "Credit card ending in 4242, valid until 09/30" in html


# --- offers of the month -------------------------------------------------------------------------


OFFER = contract_pb2.Offer(id="off_1", product="hosting-plus", price_cents=749, currency="EUR",
                           markets=[common_pb2.MARKET_DE], valid_from="2026-12-01", valid_until="2026-12-31")  # fmt: skip


def test_offers_of_the_month_show_what_staff_set_up_for_the_active_packages(
    customer_client, gateway_backends, package_backend
):
    gateway_backends.contract.on("ListCurrentOffers", contract_pb2.ListCurrentOffersResponse(offers=[OFFER]))
    package_backend.on(
        "ListPackages",
        package_pb2.ListPackagesResponse(
            packages=[
                _package("hosting-basic", package_id="pkg_1", domain="erika.example"),
                _package("hosting-plus", package_id="pkg_2", domain="shop.example"),
                _package("hosting-basic", status="terminated", package_id="pkg_4", domain="old.example"),
            ]
        ),
    )
    response = customer_client.get("/customer/offers")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-offer="off_1"' in html and "Hosting Plus" in html and "€7.49 per month" in html
    assert 'value="pkg_1"' in html  # the package it would change
    assert 'value="pkg_2"' not in html and 'value="pkg_4"' not in html  # has it already; terminated
    assert "December 31, 2026" in html


def test_offers_of_the_month_are_in_the_customers_language(
    customer_client, gateway_backends, package_backend
):
    gateway_backends.contract.on("ListCurrentOffers", contract_pb2.ListCurrentOffersResponse(offers=[OFFER]))
    html = customer_client.get("/customer/offers?lang=nl").get_data(as_text=True)
    assert "<h1>Aanbiedingen van de maand</h1>" in html
    assert "7,49" in html and "per maand" in html and "Nu bestellen" in html


def test_no_offers_this_month_says_so(customer_client, gateway_backends):
    gateway_backends.contract.on("ListCurrentOffers", contract_pb2.ListCurrentOffersResponse())
    html = customer_client.get("/customer/offers").get_data(as_text=True)
    assert 'id="no-offers"' in html


def test_ordering_an_offer_on_the_page_changes_the_package_and_records_the_order(
    customer_client, gateway_backends, package_backend
):
    gateway_backends.contract.on("ListCurrentOffers", contract_pb2.ListCurrentOffersResponse(offers=[OFFER]))
    gateway_backends.contract.on(
        "OrderOffer", contract_pb2.OrderOfferResponse(offer_id="off_1", package_id="pkg_1")
    )
    token = form_token(customer_client, "/customer/offers")
    response = customer_client.post(
        "/customer/offers/off_1/order", data={"csrf_token": token, "package_id": "pkg_1"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/customer/offers?notice=ordered"
    changes = [c for c in package_backend.calls if c.method == "ChangeProduct"]
    assert changes and changes[-1].request.product == "hosting-plus"
    orders = [c for c in gateway_backends.contract.calls if c.method == "OrderOffer"]
    assert orders and (orders[-1].request.offer_id, orders[-1].request.package_id) == ("off_1", "pkg_1")


def test_upgrade_now_from_the_offers_comes_back_to_the_offers(customer_client, package_backend):
    token = form_token(customer_client, "/customer/offers")
    response = customer_client.post(
        "/packages/pkg_1/upgrade", data={"csrf_token": token, "product": "hosting-plus", "next": "offers"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/customer/offers?notice=upgraded"
    assert package_backend.calls[-1].request.product == "hosting-plus"


def test_the_menu_of_the_customer_area_has_offers_and_help(customer_client):
    html = customer_client.get("/customer").get_data(as_text=True)
    assert 'href="/customer/offers"' in html and ">Offers of the month<" in html
    assert 'href="/help"' in html


def test_offers_are_for_the_customer_login_only(package_client):
    assert package_client.get("/customer/offers").status_code == 403


# --- help and contact ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "title", "hours"),
    [
        ("en", "Help and contact", "Monday to Friday"),
        ("de", "Hilfe und Kontakt", "Montag bis Freitag"),
        ("nl", "Hulp en contact", "Maandag t/m vrijdag"),
    ],
)
def test_help_and_contact_shows_the_service_channels_without_a_login(gateway_client, lang, title, hours):
    response = gateway_client.get(f"/help?lang={lang}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in html and hours in html
    assert 'id="contact-channels"' in html and "mailto:service@customer-center.example" in html


def test_every_page_links_to_help_in_its_footer(gateway_client):
    html = gateway_client.get("/login").get_data(as_text=True)
    assert '<a href="/help" id="footer-help">Help and contact</a>' in html


# --- an unknown URL ------------------------------------------------------------------------------

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept_language", "text"),
    [("en", "Page not found"), ("de-DE", "Seite nicht gefunden"), ("nl", "Pagina niet gevonden")],
)
def test_a_browser_gets_an_html_404_page_in_its_language(gateway_client, accept_language, text):
    response = gateway_client.get(
        "/no/such/page", headers={"Accept": BROWSER_ACCEPT, "Accept-Language": accept_language}
    )
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f"<h1>{text}</h1>" in html
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_404_page_follows_the_chosen_language_cookie(gateway_client):
    gateway_client.get("/login?lang=nl")
    response = gateway_client.get("/nowhere", headers={"Accept": BROWSER_ACCEPT, "Accept-Language": "de"})
    assert "Pagina niet gevonden" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "accept"),
    [("/api/v1/nothing", BROWSER_ACCEPT), ("/nothing", "application/json"), ("/nothing", "*/*")],
)
def test_the_api_and_clients_without_html_keep_the_json_404(gateway_client, path, accept):
    response = gateway_client.get(path, headers={"Accept": accept})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


# --- the staff's audit record --------------------------------------------------------------------


def test_the_audit_record_names_steps_states_and_moved_records_in_german(
    gateway_client, gateway_tokens, gateway_backends
):
    gateway_client.set_cookie("cc_session", gateway_tokens.staff("anna"))
    gateway_backends.merge.on(
        "GetMergeAudit",
        merge_pb2.GetMergeAuditResponse(
            merge=merge_pb2.Merge(
                id="m_1",
                target_customer_number="1001",
                source_customer_number="2002",
                status=merge_pb2.MERGE_STATUS_COMPLETED,
                market=common_pb2.MARKET_DE,
                proof_method=merge_pb2.PROOF_METHOD_CUSTOMER_PASSWORD,
            ),
            target_snapshot_json="{}",
            source_snapshot_json="{}",
            steps=[
                merge_pb2.MergeStep(name="execute:freeze", state=merge_pb2.MERGE_STEP_STATE_DONE),
                merge_pb2.MergeStep(
                    name="execute:move_packages", state=merge_pb2.MERGE_STEP_STATE_COMPENSATED
                ),
                merge_pb2.MergeStep(name="reverse:return_packages", state=merge_pb2.MERGE_STEP_STATE_FAILED),
            ],
            moved=[merge_pb2.MovedRecords(kind=common_pb2.RECORD_KIND_PACKAGES, ids=["pkg_9"])],
        ),
    )
    html = gateway_client.get("/staff/merges/m_1?lang=de").get_data(as_text=True)
    assert "Zusammenfassung: Kundennummern sperren" in html and "erledigt" in html
    assert "Zusammenfassung: Pakete übertragen" in html and "rückgängig gemacht" in html
    assert "Rückabwicklung: Pakete zurückübertragen" in html and "fehlgeschlagen" in html
    assert (
        '<dt data-kind="packages">Pakete</dt>' in html and '<dt data-kind="invoices">Rechnungen</dt>' in html
    )
    assert ">execute:freeze<" not in html
