"""Offers of the month, direct debit collections, the bank's answers and contact requests
(/api/v1/offers, /api/v1/contact-requests, /api/v1/admin/offers, /api/v1/admin/direct-debits,
/api/v1/admin/invoices/{number}/paid|returned, /api/v1/admin/contact-requests and their answers)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from cc_common.errors import InvalidInput
from cc_common.protoconv import enum_name, iso
from cc_common.rules.markets import CURRENCIES, CURRENCY_OF, MARKETS
from customercenter.v2 import contract_pb2
from pydantic import ConfigDict, Field, model_validator

from gateway_app.schemas import Answer, Body, fields

OFFER_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$", "description": "e.g. off_3f2a9c"}
COLLECTION_ID = {**OFFER_ID, "description": "e.g. dd_3f2a9c"}


def _one_currency() -> dict[str, Any]:
    """JSON schema: the markets of an offer all bill in its currency (cc_common/rules/markets.py)."""
    cases = []
    for currency in CURRENCIES:
        billed = [m for m in MARKETS if CURRENCY_OF[m] == currency]
        aliases = {a: m for a, m in fields.MARKET_ALIASES.items() if m in billed}
        markets = {"items": {"pattern": fields.choice_pattern(*billed, aliases=aliases)}}
        currency_pattern = {"pattern": fields.choice_pattern(currency.lower())}
        cases.append({"properties": {"currency": currency_pattern, "markets": markets}})
    return {"anyOf": cases}


# A product code as the catalogue writes it (contract-service refuses anything else).
ProductCode = Annotated[str, Field(min_length=1, max_length=100, pattern="^[a-z0-9][a-z0-9-]{0,99}$")]
# What a contact request may hold: no control characters but line breaks and tabs in a message
# (and something else than space in each).
_CONTROLS = "\\u0000-\\u001f\\u007f-\\u009f"
_CONTROLS_BUT_BREAKS = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
SUBJECT_PATTERN = f"^[^{_CONTROLS}]*[^\\s{_CONTROLS}][^{_CONTROLS}]*$"
MESSAGE_PATTERN = f"^[^{_CONTROLS_BUT_BREAKS}]*[^\\s{_CONTROLS_BUT_BREAKS}][^{_CONTROLS_BUT_BREAKS}]*$"
UNWRITABLE = "The {field} holds characters that cannot be written, or nothing but spaces."
Day = fields.text(min_len=10, max_len=10, format="date")


class Offer(Answer):
    """An offer of the month: the product a package changes to, at this monthly price"""

    id: str
    product: str
    price: fields.Money
    currency: str
    valid_until: fields.Date
    EXAMPLE: ClassVar = {"id": "off_3f2a9c", "product": "hosting-plus"}


class OfferList(Answer):
    """This month's offers for the customer's market, cheapest first"""

    offers: list[Offer]


class StaffOffer(Offer):
    """An offer as the service team set it up"""

    markets: list[str]
    valid_from: fields.Date
    EXAMPLE: ClassVar = {"markets": ["de", "nl"], "valid_from": "2026-12-01"}


class StaffOfferList(Answer):
    """Every offer, the newest first"""

    offers: list[StaffOffer]


class OfferCreate(Body):
    """An offer for markets that bill in its currency. A period that has ended already, runs
    backwards or lasts more than a year is 409 offer_period_not_possible (the document cannot
    compare dates)."""

    model_config = ConfigDict(json_schema_extra=_one_currency())
    product: ProductCode
    price: fields.AmountCents
    currency: fields.Currency
    markets: Annotated[list[fields.Market], Field(min_length=1, max_length=3)]
    valid_from: Day
    valid_until: Day
    EXAMPLE: ClassVar = {"product": "hosting-plus", "price": 4.99, "currency": "EUR", "markets": ["de", "nl"],
                         "valid_from": "2026-12-01", "valid_until": "2026-12-31"}  # fmt: skip

    @model_validator(mode="after")
    def _markets_of_the_currency(self) -> OfferCreate:
        code = str(self.currency).upper()
        wrong = [m for m in self.markets if CURRENCY_OF[m] != code]
        if wrong:
            markets = ", ".join(dict.fromkeys(wrong))
            raise InvalidInput(
                f"The markets {markets} are not billed in {code}: one offer, one currency.", field="currency"
            )
        return self


class OfferCreated(Answer):
    """The new offer's id"""

    id: str
    EXAMPLE: ClassVar = {"id": "off_3f2a9c"}


class OfferOrder(Body):
    package_id: fields.PackageId


class CollectionItem(Answer):
    invoice_number: str
    customer_number: str
    amount: fields.Money
    currency: str
    iban_masked: str
    mandate_id: str
    EXAMPLE: ClassVar = {"amount": 119.0, "mandate_id": "CC-10001"}


class Collection(Answer):
    """A SEPA direct debit collection: the invoices it debits"""

    id: str
    created_at: fields.DateTime
    collection_date: fields.Date
    invoices: list[CollectionItem]
    EXAMPLE: ClassVar = {"id": "dd_3f2a9c", "collection_date": "2026-12-04"}

    @classmethod
    def from_proto(cls, message: Any, **values: Any) -> Collection:
        # created_at "" (not null) when unset, as the pages read it as text
        items = [CollectionItem.from_proto(i) for i in message.items]
        return super().from_proto(message, invoices=items, created_at=iso(message, "created_at"))


class CollectionList(Answer):
    """The collections, newest first"""

    collections: list[Collection]


class ReturnedDebit(Body):
    reason: fields.text(min_len=1, max_len=200)
    EXAMPLE: ClassVar = {"reason": "MD06 refund request by the debtor"}


class ContactRequestCreated(Answer):
    """The new contact request's id"""

    id: str
    EXAMPLE: ClassVar = {"id": "cr_3f2a9c"}


class ContactRequest(Answer):
    """A message to the service team; the writer is a customer number or a package"""

    id: str
    customer_number: str | None
    package_id: str | None
    subject: str
    message: str
    attachment: str | None  # the attached PDF's file name
    created_at: fields.DateTime
    status: Literal["open", "answered"]
    answer: str | None  # the service team's answer as mailed; null while open
    answered_at: fields.DateTime | None
    EXAMPLE: ClassVar = {
        "id": "cr_3f2a9c", "package_id": None, "subject": "Signed contract handover", "message": "Attached.",
        "attachment": "handover.pdf", "status": "answered", "answer": "Thank you, the handover is done.",
        "answered_at": "2026-03-01T11:00:00+00:00",
    }  # fmt: skip

    @classmethod
    def from_proto(cls, message: Any, **values: Any) -> ContactRequest:
        # created_at "" (not null) when unset, as the pages read it as text
        status = enum_name(contract_pb2.ContactRequestStatus, message.status) or "open"
        values = {
            "created_at": iso(message, "created_at"),
            "status": status,
            "attachment": message.filename or None,
        }
        return super().from_proto(message, **values)


class ContactRequestList(Answer):
    """The contact requests, newest first"""

    requests: list[ContactRequest]


class ContactAnswer(Body):
    # As a contact request's message: line breaks and tabs, no other control characters.
    message: fields.matching(MESSAGE_PATTERN, UNWRITABLE, max_len=5000)
    EXAMPLE: ClassVar = {"message": "Thank you, we have carried out the contract handover."}
