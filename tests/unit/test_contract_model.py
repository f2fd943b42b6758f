"""contract-service domain rules: master data by market, payment data, invoices (no I/O)."""

from __future__ import annotations

from datetime import date

import pytest
from cc_common.errors import Conflict, InvalidInput
from contract_service.domain import model

TODAY = date(2026, 5, 15)
DE, NL, UK = model.MARKETS["de"], model.MARKETS["nl"], model.MARKETS["uk"]


def master(**changes: str) -> dict[str, str]:
    data = {
        "first_name": "Erika",
        "last_name": "Mustermann",
        "street": "Hauptstraße 1",
        "zip": "10115",
        "city": "Berlin",
        "email": "erika@example.com",
    }
    data.update(changes)
    return data


def field_of(exc: pytest.ExceptionInfo[InvalidInput]) -> str | None:
    return exc.value.field


# --- master data -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("market", "raw", "expected"),
    [
        (DE, "10115", "10115"),
        (DE, " 01067 ", "01067"),
        (NL, "1234 AB", "1234 AB"),
        (NL, "1234ab", "1234 AB"),
        (NL, "1234  ab", "1234 AB"),
        (UK, "SW1A 1AA", "SW1A 1AA"),
        (UK, "sw1a1aa", "SW1A 1AA"),
        (UK, "m1 1ae", "M1 1AE"),
        (UK, "EC1A 1BB", "EC1A 1BB"),
    ],
)
def test_a_postcode_of_the_market_is_accepted_and_normalised(market, raw, expected):
    data = model.normalise_master_data(market, master(zip=raw))
    assert data["zip"] == expected


@pytest.mark.parametrize(
    ("market", "raw"),
    [
        (DE, "1011"),
        (DE, "101155"),
        (DE, "1011A"),
        (NL, "0123 AB"),
        (NL, "1234"),
        (NL, "1234 A1"),
        (UK, "SW1A"),
        (UK, "12345"),
        (UK, "SW1A 1A"),
        (DE, ""),
    ],
)
def test_a_postcode_of_the_wrong_shape_is_refused_on_the_zip_field(market, raw):
    with pytest.raises(InvalidInput) as exc:
        model.normalise_master_data(market, master(zip=raw))
    assert field_of(exc) == "zip"
    assert exc.value.code == "invalid_input"


def test_the_country_defaults_to_the_markets_country():
    assert model.normalise_master_data(DE, master())["country"] == "DE"
    assert model.normalise_master_data(NL, master(zip="1234AB"))["country"] == "NL"
    assert model.normalise_master_data(UK, master(zip="SW1A1AA"))["country"] == "GB"


def test_an_address_abroad_is_checked_in_the_shape_of_its_country():
    data = model.normalise_master_data(DE, master(country="nl", zip="1234ab"))
    assert (data["country"], data["zip"]) == ("NL", "1234 AB")


@pytest.mark.parametrize("raw", ["Germany", "D", "XX", "12"])
def test_a_country_that_is_not_an_iso_code_is_refused(raw):
    with pytest.raises(InvalidInput) as exc:
        model.normalise_master_data(DE, master(country=raw))
    assert field_of(exc) == "country"


@pytest.mark.parametrize(
    ("market", "raw", "expected"),
    [
        (DE, "030 1234567", "+49301234567"),
        (DE, "0151 23456789", "+4915123456789"),
        (DE, "+31 20 123 4567", "+31201234567"),
        (NL, "020 123 4567", "+31201234567"),
        (NL, "06 12345678", "+31612345678"),
        (UK, "020 7946 0958", "+442079460958"),
        (UK, "+49 (30) 123-4567", "+49301234567"),
    ],
)
def test_phone_numbers_are_stored_in_e164_read_in_the_markets_region(market, raw, expected):
    zips = {"de": "10115", "nl": "1234 AB", "uk": "SW1A 1AA"}
    data = model.normalise_master_data(market, master(zip=zips[market.code], phone=raw, mobile=raw, fax=raw))
    assert data["phone"] == data["mobile"] == data["fax"] == expected


@pytest.mark.parametrize("field_name", ["phone", "mobile", "fax"])
@pytest.mark.parametrize("raw", ["030 12", "abc", "+999 123"])
def test_an_invalid_phone_number_is_refused_on_its_field(field_name, raw):
    with pytest.raises(InvalidInput) as exc:
        model.normalise_master_data(DE, master(**{field_name: raw}))
    assert field_of(exc) == field_name


def test_phone_numbers_are_optional():
    data = model.normalise_master_data(DE, master())
    assert (data["phone"], data["mobile"], data["fax"]) == ("", "", "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("erika@example.com", "erika@example.com"),
        ("  Erika@EXAMPLE.com ", "Erika@example.com"),
        ("info@bücher.example", "info@bücher.example"),
    ],
)
def test_an_email_address_is_stored_normalised(raw, expected):
    assert model.normalise_master_data(DE, master(email=raw))["email"] == expected


@pytest.mark.parametrize(
    "raw", ["", "erika", "erika@", "@example.com", "erika@@example.com", "erika@exa mple.com"]
)
def test_an_invalid_email_address_is_refused(raw):
    with pytest.raises(InvalidInput) as exc:
        model.normalise_master_data(DE, master(email=raw))
    assert field_of(exc) == "email"


@pytest.mark.parametrize("field_name", ["street", "city", "email"])
def test_a_missing_required_field_is_named(field_name):
    with pytest.raises(InvalidInput) as exc:
        model.normalise_master_data(DE, master(**{field_name: "  "}))
    assert field_of(exc) == field_name


def test_a_company_stands_in_for_a_last_name():
    data = model.normalise_master_data(DE, master(first_name="", last_name="", company="Beispiel GmbH"))
    assert data["company"] == "Beispiel GmbH"
    with pytest.raises(InvalidInput) as exc:
        model.normalise_master_data(DE, master(last_name="", company=""))
    assert field_of(exc) == "last_name"


@pytest.mark.parametrize(
    ("field_name", "limit"), [("last_name", 200), ("street", 200), ("city", 100), ("company", 200)]
)
def test_overlong_text_is_refused_at_its_limit(field_name, limit):
    assert model.normalise_master_data(DE, master(**{field_name: "a" * limit}))[field_name] == "a" * limit
    with pytest.raises(InvalidInput) as exc:
        model.normalise_master_data(DE, master(**{field_name: "a" * (limit + 1)}))
    assert field_of(exc) == field_name


def test_text_is_trimmed_collapsed_and_in_unicode_normal_form():
    data = model.normalise_master_data(DE, master(last_name="  Mu\u0308ller   Lüdenscheidt "))
    assert data["last_name"] == "Müller Lüdenscheidt"


def test_a_control_character_in_a_name_is_refused():
    with pytest.raises(InvalidInput) as exc:
        model.normalise_master_data(DE, master(first_name="Erika\nX"))
    assert field_of(exc) == "first_name"


@pytest.mark.parametrize("raw", ["", "fr", "DEU"])
def test_an_unknown_market_is_refused(raw):
    with pytest.raises(InvalidInput) as exc:
        model.check_market(raw)
    assert field_of(exc) == "market"


def test_new_customer_numbers_have_eight_digits_and_no_leading_zero():
    numbers = {model.new_customer_number() for _ in range(500)}
    assert all(len(n) == 8 and n.isdigit() and n[0] != "0" for n in numbers)
    assert len(numbers) > 490


# --- payment data ------------------------------------------------------------------------


def test_an_iban_is_stored_compact_and_its_bic_derived_when_empty():
    payment = model.check_payment(model.PaymentInput(iban="de89 3704 0044 0532 0130 00"), today=TODAY)
    assert payment == model.Payment(method="sepa", iban="DE89370400440532013000", bic="COBADEFFXXX")


def test_a_given_bic_is_checked_and_stored_upper_case():
    payment = model.check_payment(model.PaymentInput(iban="NL91ABNA0417164300", bic="abna nl2a"), today=TODAY)
    assert payment is not None and payment.bic == "ABNANL2A"


@pytest.mark.parametrize(
    "iban",
    ["DE88370400440532013000", "NL92ABNA0417164300", "GB28NWBK60161331926819", "DE89370400440532013001"],
)
def test_an_iban_with_a_wrong_checksum_is_refused(iban):
    with pytest.raises(InvalidInput) as exc:
        model.check_payment(model.PaymentInput(iban=iban, bic="COBADEFFXXX"), today=TODAY)
    assert field_of(exc) == "iban"
    assert "check digits" in exc.value.message


@pytest.mark.parametrize("iban", ["XX00", "DE89 3704", "hello"])
def test_a_malformed_iban_is_refused(iban):
    with pytest.raises(InvalidInput) as exc:
        model.check_payment(model.PaymentInput(iban=iban), today=TODAY)
    assert field_of(exc) == "iban"


@pytest.mark.parametrize("bic", ["XXXX", "COBA", "ZZZZZZ22", "COBADEFFX"])
def test_a_malformed_bic_is_refused(bic):
    with pytest.raises(InvalidInput) as exc:
        model.check_payment(model.PaymentInput(iban="DE89370400440532013000", bic=bic), today=TODAY)
    assert field_of(exc) == "bic"


def test_a_bic_without_an_iban_is_incomplete():
    with pytest.raises(InvalidInput) as exc:
        model.check_payment(model.PaymentInput(bic="COBADEFFXXX"), today=TODAY)
    assert field_of(exc) == "iban"


@pytest.mark.parametrize(
    ("iban", "masked"),
    [
        ("DE89370400440532013000", "DE89 **** **** **** **30 00"),
        ("NL91ABNA0417164300", "NL91 **** **** **43 00"),
        ("GB29NWBK60161331926819", "GB29 **** **** **** **68 19"),
        ("", ""),
    ],
)
def test_an_iban_is_shown_masked(iban, masked):
    assert model.mask_iban(iban) == masked


@pytest.mark.parametrize(
    "token",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "378282246310005",
        "123456789012",
        "1234567890123456789",
        "tok_4111111111111111",
        "card:5500-0000-0000-0004",
        "79927398713",
    ],
)
def test_a_card_number_is_refused_as_a_token(token):
    data = model.PaymentInput(card_token=token, card_last4="1111", card_expiry="12/30")
    with pytest.raises(InvalidInput) as exc:
        model.check_payment(data, today=TODAY)
    assert exc.value.code == "card_number_refused"
    assert field_of(exc) == "card_token"
    assert token not in exc.value.message


@pytest.mark.parametrize("token", ["tok_visa_abc123", "pm_1NvXyZ2eZvKYlo2C", "src_12345678"])
def test_a_provider_token_is_accepted(token):
    payment = model.check_payment(
        model.PaymentInput(card_token=token, card_last4="4242", card_expiry="05/26"), today=TODAY
    )
    assert payment == model.Payment(method="card", card_token=token, card_last4="4242", card_expiry="05/26")
    assert token not in repr(payment)


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"card_last4": ""}, "card_last4"),
        ({"card_last4": "123"}, "card_last4"),
        ({"card_last4": "12a4"}, "card_last4"),
        ({"card_expiry": ""}, "card_expiry"),
        ({"card_expiry": "13/27"}, "card_expiry"),
        ({"card_expiry": "1/27"}, "card_expiry"),
        ({"card_token": ""}, "card_token"),
        ({"card_token": "a b c d e"}, "card_token"),
    ],
)
def test_an_incomplete_or_wrong_card_is_refused_on_its_field(changes, field_name):
    values = {"card_token": "tok_visa_abc123", "card_last4": "4242", "card_expiry": "05/26", **changes}
    with pytest.raises(InvalidInput) as exc:
        model.check_payment(model.PaymentInput(**values), today=TODAY)
    assert field_of(exc) == field_name


def test_a_bank_account_and_a_card_together_are_refused():
    data = model.PaymentInput(
        iban="DE89370400440532013000", card_token="tok_visa_abc123", card_last4="4242", card_expiry="05/26"
    )
    with pytest.raises(InvalidInput) as exc:
        model.check_payment(data, today=TODAY)
    assert field_of(exc) == "payment"


def test_no_payment_data_is_none():
    assert model.check_payment(model.PaymentInput(), today=TODAY) is None


# --- invoices ------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, -1, 10**9])
def test_an_amount_out_of_range_is_refused(amount):
    with pytest.raises(InvalidInput) as exc:
        model.check_amount(amount)
    assert field_of(exc) == "amount_cents"


def test_the_currency_defaults_to_the_markets_and_must_be_known():
    assert model.check_currency("", market=UK) == "GBP"
    assert model.check_currency("eur", market=UK) == "EUR"
    with pytest.raises(InvalidInput) as exc:
        model.check_currency("USD", market=DE)
    assert field_of(exc) == "currency"


@pytest.mark.parametrize(("raw", "expected"), [("", date(2026, 5, 15)), ("2026-01-31", date(2026, 1, 31))])
def test_the_invoice_date_defaults_to_today(raw, expected):
    assert model.check_invoice_date(raw, today=TODAY) == expected


@pytest.mark.parametrize("raw", ["2026-02-30", "31.01.2026", "2026-1-31"])
def test_a_malformed_invoice_date_is_refused(raw):
    with pytest.raises(InvalidInput) as exc:
        model.check_invoice_date(raw, today=TODAY)
    assert field_of(exc) == "date"


def test_invoice_numbers_are_zero_padded():
    assert model.invoice_number(42) == "RE00000042"


def test_an_expired_card_is_a_conflict_on_its_expiry():
    card = model.PaymentInput(card_token="tok_visa_abc123", card_last4="4242", card_expiry="04/26")
    with pytest.raises(Conflict) as exc:
        model.check_payment(card, today=TODAY)
    assert (exc.value.code, exc.value.field) == ("card_expired", "card_expiry")
