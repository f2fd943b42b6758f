"""Offers of the month: staff set them up, customers see and order them
(contract_service/domain/offers.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from cc_common.errors import NotFound
from cc_common.tokens import Principal

from contract_service.domain import model
from contract_service.domain import offers as rules
from contract_service.service_layer import services
from contract_service.service_layer.unit_of_work import UnitOfWork


def _today() -> date:
    return datetime.now(UTC).date()


def create_offer(
    *,
    uow: UnitOfWork,
    caller: Principal,
    product: str,
    price_cents: int,
    currency: str,
    markets: list[str],
    valid_from: str,
    valid_until: str,
    today: date | None = None,
) -> rules.Offer:
    fields = rules.check_offer(
        product=product, price_cents=price_cents, currency=currency, markets=markets, valid_from=valid_from,
        valid_until=valid_until, today=today or _today(),
    )  # fmt: skip
    offer = rules.Offer(f"off_{uuid.uuid4().hex[:16]}", *fields)
    with uow:
        uow.offers.add(offer, created_by=caller.subject)
        uow.commit()
    return offer


def list_offers(*, uow: UnitOfWork) -> list[rules.Offer]:
    """Every offer, the newest first (for the service team)."""
    with uow:
        return uow.offers.newest()


def current_offers(*, uow: UnitOfWork, caller: Principal, today: date | None = None) -> list[rules.Offer]:
    """The offers valid today for the calling customer's market."""
    number = services._customer_only(caller)
    day = today or _today()
    with uow:
        customer = uow.customers.get(number)
        if customer is None:
            raise NotFound(services._NOT_FOUND)
        return [o for o in uow.offers.valid_on(day) if customer.market in o.markets]


def order_offer(
    *,
    uow: UnitOfWork,
    caller: Principal,
    offer_id: str,
    package_id: str,
    today: date | None = None,
    now: datetime | None = None,
) -> tuple[rules.OfferOrder, model.Contract]:
    """Orders an offer for one of the caller's packages: the contract follows the offer's
    product and the order records its price. The same order again returns the first one."""
    number = services._customer_only(caller)
    checked_offer = model.check_opaque_id(offer_id, field_name="offer_id", label="offer")
    day = today or _today()
    with uow:
        customer = uow.customers.get(number)
        if customer is None:
            raise NotFound(services._NOT_FOUND)
        offer = rules.check_orderable(uow.offers.get(checked_offer), market=customer.market, today=day)
    contract, _before, _changed = services.change_contract_product(
        uow=uow, caller=caller, package_id=package_id, product=offer.product, customer_number=number
    )
    with uow:
        order = uow.offers.order(
            rules.OfferOrder(
                offer_id=offer.id,
                package_id=contract.package_id,
                customer_number=number,
                product=offer.product,
                price_cents=offer.price_cents,
                currency=offer.currency,
                ordered_at=now or datetime.now(UTC),
            )  # fmt: skip
        )
        uow.commit()
    return order, contract
