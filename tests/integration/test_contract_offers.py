"""Offers of the month through contract-service's use cases on a real database (SQLite and
PostgreSQL): staff set one up for some markets and days; a customer of such a market sees it
while it runs and orders it for its package, whose contract then has the offer's product; other
markets, other days and other customers' packages do not get it."""

from __future__ import annotations

from datetime import date

import pytest
from cc_common.errors import Conflict, InvalidInput, NotFound
from cc_common.tokens import Principal
from contract_service.domain import offers as rules
from contract_service.service_layer import offers, services

from tests.support.contract_db import contract_database, principal

TODAY = date(2026, 12, 2)


STAFF = principal("staff", None)


@pytest.fixture
def uow_factory(database_url):
    for uow_factory, _engine in contract_database(database_url("contract")):
        yield uow_factory


def customer(uow_factory, number: str, market: str) -> Principal:
    data = {"first_name": "Erika", "last_name": "Mustermann", "street": "Hauptstraße 1", "zip": "10115",
            "city": "Berlin", "country": "DE", "email": f"{number}@example.com"}  # fmt: skip
    if market == "nl":
        data.update(street="Keizersgracht 12", zip="1015 CX", city="Amsterdam", country="NL")
    services.create_customer(uow=uow_factory(), market=market, master_data=data, customer_number=number)
    services.create_contract(uow=uow_factory(), package_id=f"pkg_{number}", customer_number=number,
                             product="hosting-basic", today=TODAY)  # fmt: skip
    return principal("customer", number)


def offer(uow_factory, **changes) -> rules.Offer:
    fields = {"product": "hosting-plus", "price_cents": 499, "currency": "EUR", "markets": ["de"],
              "valid_from": "2026-12-01", "valid_until": "2026-12-31", **changes}  # fmt: skip
    return offers.create_offer(uow=uow_factory(), caller=STAFF, today=TODAY, **fields)


def test_a_customer_sees_the_offers_of_its_market_that_run_today_and_orders_one(uow_factory):
    german, dutch = customer(uow_factory, "100", "de"), customer(uow_factory, "200", "nl")
    december = offer(uow_factory)
    offer(uow_factory, markets=["nl"], price_cents=399)
    january = offer(uow_factory, valid_from="2027-01-01", valid_until="2027-01-31")  # next month
    assert [o.id for o in offers.current_offers(uow=uow_factory(), caller=german, today=TODAY)] == [
        december.id
    ]
    assert [o.price_cents for o in offers.current_offers(uow=uow_factory(), caller=dutch, today=TODAY)] == [
        399
    ]

    order, contract = offers.order_offer(uow=uow_factory(), caller=german, offer_id=december.id, package_id="pkg_100",
                                         today=TODAY)  # fmt: skip
    assert (contract.product, order.price_cents, order.currency) == ("hosting-plus", 499, "EUR")
    again, _ = offers.order_offer(uow=uow_factory(), caller=german, offer_id=december.id, package_id="pkg_100",
                                  today=TODAY)  # fmt: skip
    assert again.ordered_at == order.ordered_at
    listed = [o.id for o in offers.list_offers(uow=uow_factory())]
    assert len(listed) == 3 and listed[0] == january.id and december.id in listed  # the newest first


def test_an_offer_of_another_market_day_or_package_cannot_be_ordered(uow_factory):
    german = customer(uow_factory, "100", "de")
    customer(uow_factory, "200", "de")
    dutch_only = offer(uow_factory, markets=["nl"])
    december = offer(uow_factory)
    for offer_id, package_id, day in (
        (dutch_only.id, "pkg_100", TODAY),  # not its market
        (december.id, "pkg_100", date(2027, 1, 1)),  # over
        ("off_unknown", "pkg_100", TODAY),
    ):
        with pytest.raises(NotFound):
            offers.order_offer(
                uow=uow_factory(), caller=german, offer_id=offer_id, package_id=package_id, today=day
            )
    with pytest.raises(NotFound):  # another customer's package
        offers.order_offer(
            uow=uow_factory(), caller=german, offer_id=december.id, package_id="pkg_200", today=TODAY
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"markets": []}, "markets"),
        ({"markets": ["fr"]}, "markets"),
        ({"markets": ["de", "uk"]}, "currency"),  # uk bills in GBP
        ({"price_cents": 0}, "amount_cents"),
        ({"product": "Hosting Plus!"}, "product"),
        ({"valid_from": "1.12.2026"}, "valid_from"),
    ],
)
def test_an_offer_that_makes_no_sense_is_refused_naming_the_field(uow_factory, changes, field):
    with pytest.raises(InvalidInput) as refused:
        offer(uow_factory, **changes)
    assert refused.value.field == field


@pytest.mark.parametrize(
    "changes",
    [
        {"valid_until": "2026-11-30"},  # before valid_from
        {"valid_from": "2026-11-01", "valid_until": "2026-11-30"},  # over already
        {"valid_until": "2028-01-01"},  # longer than a year
    ],
)
def test_an_offer_period_of_well_formed_days_that_cannot_be_is_a_conflict_on_valid_until(
    uow_factory, changes
):
    with pytest.raises(Conflict) as refused:
        offer(uow_factory, **changes)
    assert (refused.value.code, refused.value.field) == ("offer_period_not_possible", "valid_until")
