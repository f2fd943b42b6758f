"""The documented shapes of an address (cc_common/rules/addresses.py) against contract-service's
checks, and the gateway's bodies that use them."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from cc_common.errors import InvalidInput
from cc_common.rules import addresses
from contract_service.domain import model
from gateway_app.schemas.admin import CustomerCreate
from gateway_app.schemas.customers import CustomerUpdate
from pydantic import ValidationError

SAMPLES = {
    "DE": ["10115", " 01067 "],
    "NL": ["1012 AB", "1012ab", "9999 zz"],
    "GB": ["SW1A 1AA", "sw1a1aa", "M1 1AE", "GIR 0AA", "EC1A 1BB"],
    "FR": ["75008", "A-1234", "ab 12-3"],
}
BASE = {
    "market": "de", "password": "a long first password", "last_name": "Mustermann", "street": "Hauptstraße 1",
    "zip": "10115", "country": "DE", "city": "Berlin", "email": "max@example.com",
}  # fmt: skip


def test_the_documented_countries_are_those_contract_service_takes():
    assert addresses.COUNTRIES == set(phonenumbers.SUPPORTED_REGIONS)


@pytest.mark.parametrize("country", sorted(SAMPLES))
def test_every_documented_postcode_of_a_country_is_taken_by_contract_service(country):
    for raw in SAMPLES[country]:
        assert re.fullmatch(addresses.POSTCODE, raw)
        assert addresses.postcode_fits(raw, country)
        assert model.normalise_zip(raw, country=country)


def test_a_postcode_of_another_country_s_shape_does_not_fit():
    assert not addresses.postcode_fits("1012 AB", "DE")
    with pytest.raises(InvalidInput):
        model.normalise_zip("1012 AB", country="DE")


def test_a_country_is_taken_in_any_case_and_an_unknown_code_is_not():
    assert addresses.country_code(" nl ") == "NL"
    assert addresses.country_code("QQ") is None
    with pytest.raises(ValidationError):
        CustomerUpdate.model_validate({"country": "QQ"})


def test_an_update_with_a_zip_that_does_not_fit_its_own_country_is_refused_on_the_zip():
    with pytest.raises(InvalidInput) as exc:
        CustomerUpdate.model_validate({"country": "NL", "zip": "10115"})
    assert exc.value.field == "zip"
    assert CustomerUpdate.model_validate({"zip": "1012 AB"}).changes() == {"zip": "1012 AB"}


@pytest.mark.parametrize("name", ["street", "city"])
def test_a_blank_street_or_city_is_refused(name):
    with pytest.raises(ValidationError):
        CustomerUpdate.model_validate({name: "   "})


def test_a_new_customer_needs_a_last_name_or_a_company():
    with pytest.raises(InvalidInput) as exc:
        CustomerCreate.model_validate({**BASE, "last_name": " ", "company": ""})
    assert exc.value.field == "last_name"
    assert (
        CustomerCreate.model_validate({**BASE, "last_name": "", "company": "ACME GmbH"}).company
        == "ACME GmbH"
    )


def test_a_new_customer_s_zip_fits_its_country():
    with pytest.raises(InvalidInput):
        CustomerCreate.model_validate({**BASE, "country": "gb"})
    assert CustomerCreate.model_validate({**BASE, "market": "uk", "country": "de"}).zip == "10115"


@pytest.mark.parametrize(
    ("payment", "field"),
    [
        ({"iban": "DE89370400440532013000"}, "bic"),
        ({"card_token": "tok_1234", "card_last4": "4242"}, "card_expiry"),
    ],
)
def test_a_new_customer_s_payment_method_comes_with_all_its_fields(payment, field):
    with pytest.raises(InvalidInput) as exc:
        CustomerCreate.model_validate({**BASE, **payment})
    assert exc.value.field == field
