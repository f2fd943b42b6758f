"""The rules kept once in cc_common/rules/: domain names, customer numbers, card numbers, the
written-only fields and the states of a merge."""

from __future__ import annotations

import pytest
from cc_common.errors import Conflict, InvalidInput
from cc_common.rules import cards, customers, domains, merges, written_only

# --- domain names -----------------------------------------------------------------------------

LONGEST = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])  # 253 characters


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.com", "example.com"),
        ("  Example.COM.  ", "example.com"),  # space, case and the root's dot
        ("bücher.de", "xn--bcher-kva.de"),  # IDNA
        ("BÜCHER.de", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("sub.my-shop.co.uk", "sub.my-shop.co.uk"),
        ("example.c0m", "example.c0m"),  # a digit in the top-level label is fine
        ("123.de", "123.de"),  # all-digit labels below it too
        ("a" * 63 + ".de", "a" * 63 + ".de"),
        (LONGEST, LONGEST),
    ],
)
def test_a_domain_is_normalised_to_the_one_stored_form(raw, expected):
    assert domains.normalise_domain(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " . ",
        "localhost",  # one label
        "192.168.0.1",  # an IPv4 address: all-digit top-level label
        "example.123",
        "example.com..",  # one trailing dot only
        "a..de",
        "-bad.de",
        "bad-.de",
        "under_score.de",
        "no spaces.de",
        "a" * 64 + ".de",
        LONGEST + "d",  # 254 characters
        "ü" * 60 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 63,  # over 253 once encoded
        "☃.com\u200f",
    ],
)
def test_what_is_no_domain_name_is_refused_on_its_field(raw):
    with pytest.raises(InvalidInput) as exc:
        domains.normalise_domain(raw, field_name="domains")
    assert (exc.value.code, exc.value.field) == ("invalid_input", "domains")


@pytest.mark.parametrize("raw", [None, 5, ["example.com"]])
def test_a_domain_that_is_no_string_is_refused(raw):
    with pytest.raises(InvalidInput) as exc:
        domains.normalise_domain(raw)
    assert exc.value.field == "domain"


# --- customer numbers -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "10000001", "0" * 20])
def test_a_customer_number_is_one_to_twenty_ascii_digits(value):
    assert customers.is_customer_number(value)
    assert customers.check_customer_number(f" {value} ") == value


@pytest.mark.parametrize("value", ["", " ", "12a", "1" * 21, "١٢٣", "１２３", "+1", "-1", "1 2", "1.0"])
def test_anything_else_is_no_customer_number(value):
    assert not customers.is_customer_number(value)
    with pytest.raises(InvalidInput) as exc:
        customers.check_customer_number(value, field_name="merged_into")
    assert (exc.value.code, exc.value.field) == ("invalid_input", "merged_into")


@pytest.mark.parametrize("value", [" 123", "123\n", 123, None])
def test_is_customer_number_takes_the_value_exactly(value):
    assert not customers.is_customer_number(value)


# --- card numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize("digits", ["79927398713", "4111111111111111", "378282246310005", "0"])
def test_luhn_accepts_valid_numbers_and_refuses_a_changed_check_digit(digits):
    assert cards.luhn_valid(digits)
    assert not cards.luhn_valid(digits[:-1] + str((int(digits[-1]) + 1) % 10))


@pytest.mark.parametrize(
    "value",
    [
        "4111111111111111",
        " 4111 1111 1111 1111 ",
        "4111-1111-1111-1111",
        "411111111117",  # 12 digits: a Maestro number
        "123456789012",  # 12 digits, wrong check digit: still a card number
        "1234567890123456789",  # 19
        "4111  1111 - 1111 1111",
    ],
)
def test_twelve_to_nineteen_bare_digits_are_a_card_number(value):
    assert cards.is_card_number(value)
    assert cards.hides_card_number(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1234",
        "12/30",
        "12345678901",
        "12345678901234567890",
        "4111 1111 1111 111x",
        "DE89370400440532013000",
    ],
)
def test_other_values_are_no_bare_card_number(value):
    assert not cards.is_card_number(value)


@pytest.mark.parametrize(
    "value",
    [
        "79927398713",  # 11 digits passing Luhn: a primary account number may be that short
        "12345674",  # 8
        "tok_4111111111111111",  # a Luhn-valid run inside the text
        "card:5500-0000-0000-0004",
    ],
)
def test_a_card_number_hidden_in_free_text_is_found(value):
    assert cards.hides_card_number(value)
    assert not cards.is_card_number(value)


@pytest.mark.parametrize(
    "value",
    ["tok_visa_abc123", "pm_1NvXyZ2eZvKYlo2C", "src_12345678", "1234567", "12345678", "tok_4111111111111112"],
)
def test_a_provider_token_is_no_card_number(value):
    assert not cards.hides_card_number(value)


def test_card_number_runs_are_luhn_valid_runs_of_twelve_to_nineteen_digits():
    text = "ids 1234567890123 and 4111 1111 1111 1111, 411111111117 and 41111111111111111111"
    assert [m.group(0) for m in cards.card_number_runs(text)] == ["4111 1111 1111 1111", "411111111117"]


def test_the_first_payment_field_holding_a_card_number_is_named():
    token_first = {"iban": "4111111111111111", "card_token": "tok_4111111111111111"}
    assert cards.field_with_card_number(token_first) == "card_token"
    assert cards.field_with_card_number({"card_last4": "4111111111111111"}) == "card_last4"
    assert cards.field_with_card_number({"bic": "5555-5555-5555-4444"}) == "bic"
    assert (
        cards.field_with_card_number({"card_token": "tok_ok", "card_last4": "4242", "card_expiry": "12/30"})
        is None
    )


def test_an_iban_whose_digits_pass_luhn_is_no_card_number():
    # Its 14-digit run 60161310000002 passes the Luhn check; only the card token is searched.
    iban = "GB11NWBK60161310000002"
    assert cards.luhn_valid("60161310000002") and cards.hides_card_number(iban)
    assert cards.field_with_card_number({"iban": iban, "bic": "NWBKGB2L"}) is None
    assert not cards.holds_card_number("iban", iban) and cards.holds_card_number("card_token", iban)


# --- written-only fields ----------------------------------------------------------------------


@pytest.mark.parametrize("name", written_only.FIELDS)
def test_naming_a_written_only_field_needs_the_signed_form(name):
    with pytest.raises(Conflict) as exc:
        written_only.refuse_written_only({name: "the stored value", "city": "Bonn"})
    assert (exc.value.code, exc.value.field, exc.value.http_status) == ("written_form_required", name, 409)
    assert "signed form" in exc.value.message


def test_the_first_written_only_field_is_named_and_other_fields_pass():
    with pytest.raises(Conflict) as exc:
        written_only.refuse_written_only(iter(["last_name", "street", "company"]))
    assert exc.value.field == "company"
    assert written_only.refuse_written_only(["street", "city", "email"]) is None


# --- merge states -----------------------------------------------------------------------------


def test_the_merge_states_are_named_once_and_merge_service_uses_them():
    from gateway_app.schemas.merges import Merge
    from merge_service.domain import model

    assert len(set(merges.STATUSES)) == len(merges.STATUSES) == 11
    assert model.OPEN_STATES <= set(merges.STATUSES) and model.CANCELLABLE <= set(merges.STATUSES)
    assert model.REVERSED is merges.REVERSED
    assert Merge.model_json_schema(mode="serialization")["properties"]["status"]["enum"] == list(
        merges.STATUSES
    )
