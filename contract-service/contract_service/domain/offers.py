"""Offers of the month: products at a special price for existing customers of some markets,
valid for a stretch of days, set up by the service team.

A customer sees the offers valid today for its market and can order one for one of its
packages: the package changes to the offer's product (package-service does that part), and the
order is recorded with the offer's price, which the package's invoices then use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from cc_common.errors import Conflict, InvalidInput, NotFound

from contract_service.domain.model import MARKETS, check_amount, check_product

MAX_DAYS = 366  # an offer runs at most a year
PERIOD_NOT_POSSIBLE = "offer_period_not_possible"
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Offer:
    id: str
    product: str
    price_cents: int  # monthly, gross
    currency: str
    markets: tuple[str, ...]
    valid_from: date
    valid_until: date  # inclusive
    created_at: datetime | None = None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_until

    def offered_to(self, market: str, day: date) -> bool:
        return market in self.markets and self.valid_on(day)


@dataclass(frozen=True)
class OfferOrder:
    offer_id: str
    package_id: str
    customer_number: str
    product: str
    price_cents: int
    currency: str
    ordered_at: datetime


def _day(raw: str, field: str) -> date:
    text = (raw or "").strip()
    if _DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise InvalidInput(f"Enter {field} as YYYY-MM-DD, e.g. 2026-12-31.", field=field)


def check_offer(
    *,
    product: str,
    price_cents: int,
    currency: str,
    markets: list[str],
    valid_from: str,
    valid_until: str,
    today: date,
) -> tuple[str, int, str, tuple[str, ...], date, date]:
    """The checked fields of a new offer: a product code, a price, markets that all bill in the
    offer's currency, and a period of at most MAX_DAYS that has not ended yet (else Conflict
    offer_period_not_possible)."""
    checked_product = check_product(product)
    price = check_amount(price_cents)
    chosen = tuple(dict.fromkeys((m or "").strip().lower() for m in markets))
    if not chosen or any(m not in MARKETS for m in chosen):
        raise InvalidInput(f"Choose one or more markets of {', '.join(MARKETS)}.", field="markets")
    code = (currency or "").strip().upper()
    wrong = [m for m in chosen if MARKETS[m].currency != code]
    if wrong:
        raise InvalidInput(
            f"The markets {', '.join(wrong)} are not billed in {code or 'that currency'}: one offer, one currency.",
            field="currency",
        )
    start, end = _day(valid_from, "valid_from"), _day(valid_until, "valid_until")
    # Two well-formed days that make no period of an offer: no schema can compare them with each
    # other or with today, so this is a conflict (409), not invalid input.
    if end < start:
        raise Conflict("valid_until is before valid_from.", code=PERIOD_NOT_POSSIBLE, field="valid_until")
    if (end - start).days >= MAX_DAYS:
        raise Conflict(
            f"An offer runs at most {MAX_DAYS} days.", code=PERIOD_NOT_POSSIBLE, field="valid_until"
        )
    if end < today:
        raise Conflict("This offer would have ended already.", code=PERIOD_NOT_POSSIBLE, field="valid_until")
    return checked_product, price, code, chosen, start, end


def check_orderable(offer: Offer | None, *, market: str, today: date) -> Offer:
    """The offer a customer of `market` may order today; NOT_FOUND for any other, as the
    customer's list of offers does not show it either."""
    if offer is None or not offer.offered_to(market, today):
        raise NotFound("There is no such offer for you this month; GET /api/v1/offers lists them.")
    return offer
