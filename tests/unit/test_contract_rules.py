"""contract-service's issue-3 and merge rules without I/O: contract terms and effective dates,
VAT by market, written-form-only changes, card numbers, status changes, transfer plans, forms."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from cc_common.errors import Conflict, InvalidInput, NotFound
from contract_service.domain import forms, model, transfers

CUSTOMER = model.Customer(
    customer_number="100", market="de", first_name="Erika", last_name="Mustermann", street="Hauptstraße 1",
    zip="10115", city="Berlin", country="DE", phone="+49301234567", fax="+49301234568", email="erika@example.com",
)  # fmt: skip


# --- terms and effective dates -------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2026, 5, 15), -5, date(2025, 12, 15)),
    ],
)
def test_adding_months_keeps_the_day_or_falls_back_to_the_months_last_day(day, months, expected):
    assert model.add_months(day, months) == expected


@pytest.mark.parametrize(
    ("start", "term", "today", "expected"),
    [
        # In the first term: the day before the first anniversary.
        (date(2026, 3, 1), 12, date(2026, 5, 15), date(2027, 2, 28)),
        # Years later: the current term's last day.
        (date(2020, 6, 10), 12, date(2026, 5, 15), date(2026, 6, 9)),
        # On an anniversary a new term has begun: its end is a full term away.
        (date(2020, 5, 15), 12, date(2026, 5, 15), date(2027, 5, 14)),
        # On a term's last day the termination takes effect that day.
        (date(2020, 5, 16), 12, date(2026, 5, 15), date(2026, 5, 15)),
        # Short and odd terms.
        (date(2026, 1, 31), 1, date(2026, 3, 5), date(2026, 3, 30)),
        (date(2025, 11, 20), 24, date(2026, 5, 15), date(2027, 11, 19)),
        # A contract that has not begun yet ends after its first term.
        (date(2026, 9, 1), 12, date(2026, 5, 15), date(2027, 8, 31)),
    ],
)
def test_the_effective_date_is_the_last_day_of_the_current_term(start, term, today, expected):
    assert model.current_term_end(start, term, today=today) == expected


def test_the_effective_date_is_never_before_today_for_every_day_of_a_leap_year():
    start = date(2023, 2, 28)
    day = date(2024, 1, 1)
    while day.year == 2024:
        end = model.current_term_end(start, 12, today=day)
        assert day <= end < model.add_months(day, 12)
        day = date.fromordinal(day.toordinal() + 1)


@pytest.mark.parametrize(("raw", "expected"), [(0, 12), (1, 1), (120, 120)])
def test_a_term_of_zero_months_means_the_default_of_twelve(raw, expected):
    assert model.check_term_months(raw) == expected


@pytest.mark.parametrize("raw", [-1, 121])
def test_a_term_outside_one_to_120_months_is_refused(raw):
    with pytest.raises(InvalidInput) as exc:
        model.check_term_months(raw)
    assert exc.value.field == "term_months"


# --- VAT ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("market", "rate"), [("de", 19), ("nl", 21), ("uk", 20)])
def test_each_market_has_its_vat_rate(market, rate):
    assert model.MARKETS[market].vat_percent == rate


@pytest.mark.parametrize(
    ("gross", "rate", "net", "vat"),
    [
        (11900, 19, 10000, 1900),
        (12100, 21, 10000, 2100),
        (1200, 20, 1000, 200),
        (199, 19, 167, 32),
        (1, 21, 1, 0),
    ],
)
def test_a_gross_amount_splits_into_net_and_vat_that_add_up_exactly(gross, rate, net, vat):
    split = model.split_gross(gross, vat_percent=rate)
    assert (split.net_cents, split.vat_cents, split.net_cents + split.vat_cents) == (net, vat, gross)


# --- master data online -------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["company", "first_name", "last_name"])
def test_a_changed_name_or_company_needs_the_written_form(field):
    with pytest.raises(Conflict) as exc:
        model.apply_master_data_change(CUSTOMER, {field: "Someone Else"})
    assert (exc.value.code, exc.value.field) == ("written_form_required", field)
    assert "signed form" in exc.value.message


def test_even_the_unchanged_name_needs_the_written_form():
    # The rule is about the request (PATCH /api/v1/customer naming the field answers 409), so
    # the same request gets the same answer whatever is stored.
    with pytest.raises(Conflict) as exc:
        model.apply_master_data_change(
            CUSTOMER, {"last_name": "Mustermann", "city": "Potsdam", "zip": "14467"}
        )
    assert (exc.value.code, exc.value.field) == ("written_form_required", "last_name")


def test_an_empty_phone_clears_it_and_fields_not_given_stay():
    data = model.apply_master_data_change(CUSTOMER, {"fax": "", "mobile": "0171 1234567"})
    assert (data["fax"], data["mobile"], data["phone"], data["street"]) == (
        "",
        "+491711234567",
        "+49301234567",
        "Hauptstraße 1",
    )


def test_a_new_country_checks_the_postcode_by_that_country():
    with pytest.raises(Conflict) as exc:
        model.apply_master_data_change(CUSTOMER, {"country": "NL"})
    assert (exc.value.code, exc.value.field) == ("postcode_not_in_country", "zip")
    with pytest.raises(InvalidInput) as malformed:
        model.apply_master_data_change(CUSTOMER, {"country": "NL", "zip": "10115"})
    assert malformed.value.field == "zip"
    data = model.apply_master_data_change(CUSTOMER, {"country": "NL", "zip": "1012ab", "city": "Amsterdam"})
    assert (data["country"], data["zip"]) == ("NL", "1012 AB")


def test_a_well_formed_postcode_of_another_country_than_the_stored_one_is_a_conflict():
    with pytest.raises(Conflict) as exc:
        model.apply_master_data_change(CUSTOMER, {"zip": "1012 AB"})
    assert (exc.value.code, exc.value.field) == ("postcode_not_in_country", "zip")


def test_a_postcode_of_no_country_s_shape_stays_invalid_input():
    with pytest.raises(InvalidInput) as exc:
        model.apply_master_data_change(CUSTOMER, {"zip": "#"})
    assert exc.value.field == "zip"


@pytest.mark.parametrize(
    ("changes", "field"), [({"email": ""}, "email"), ({"street": " "}, "street"), ({"phone": "abc"}, "phone")]
)
def test_a_required_or_malformed_field_is_refused_by_name(changes, field):
    with pytest.raises(InvalidInput) as exc:
        model.apply_master_data_change(CUSTOMER, changes)
    assert exc.value.field == field


# --- card numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payment", "field"),
    [
        (model.PaymentInput(iban="4111 1111 1111 1111"), "iban"),
        (model.PaymentInput(iban="DE89370400440532013000", bic="5555-5555-5555-4444"), "bic"),
        (
            model.PaymentInput(card_token="tok_abc1", card_last4="4111111111111111", card_expiry="12/30"),
            "card_last4",
        ),
    ],
)
def test_a_card_number_in_any_payment_field_is_refused_without_echoing_it(payment, field):
    with pytest.raises(InvalidInput) as exc:
        model.check_payment(payment, today=date(2026, 5, 15))
    assert (exc.value.code, exc.value.field) == ("card_number_refused", field)
    assert "4111" not in exc.value.message and "5555" not in exc.value.message


# --- merge status and transfers -------------------------------------------------------------------


def test_retiring_needs_the_number_it_was_merged_into_and_other_statuses_clear_it():
    assert model.check_status_change("retired", "100", ["200"]) == ("retired", "100", ["200"])
    assert model.check_status_change("Frozen", "100", ["200", "100", "200"]) == ("frozen", "", ["100", "200"])
    with pytest.raises(InvalidInput) as exc:
        model.check_status_change("retired", "", ["200"])
    assert exc.value.field == "merged_into"
    with pytest.raises(InvalidInput) as exc:
        model.check_status_change("retired", "200", ["200"])
    assert exc.value.field == "merged_into"
    with pytest.raises(InvalidInput) as exc:
        model.check_status_change("active", "", [])
    assert exc.value.field == "customer_numbers"


def applied(direction: str, source: str = "200", target: str = "100") -> transfers.AppliedTransfer:
    return transfers.AppliedTransfer("mrg_1", direction, source, target)


def test_a_first_transfer_of_a_direction_is_applied():
    assert (
        transfers.plan_transfer(direction="forward", source="200", target="100", forward=None, reverse=None)
        == "apply"
    )
    fwd = applied("forward")
    assert (
        transfers.plan_transfer(direction="reverse", source="200", target="100", forward=fwd, reverse=None)
        == "apply"
    )


def test_a_repeated_direction_replays_its_record():
    fwd, rev = applied("forward"), applied("reverse")
    assert (
        transfers.plan_transfer(direction="forward", source="200", target="100", forward=fwd, reverse=None)
        == "replay"
    )
    assert (
        transfers.plan_transfer(direction="forward", source="200", target="100", forward=fwd, reverse=rev)
        == "replay"
    )
    assert (
        transfers.plan_transfer(direction="reverse", source="200", target="100", forward=fwd, reverse=rev)
        == "replay"
    )


def test_a_forward_after_a_reverse_without_forward_is_refused():
    with pytest.raises(Conflict) as exc:
        transfers.plan_transfer(
            direction="forward", source="200", target="100", forward=None, reverse=applied("reverse")
        )
    assert exc.value.code == "transfer_reversed"


def test_a_merge_id_used_with_other_numbers_is_refused():
    with pytest.raises(Conflict) as exc:
        transfers.plan_transfer(
            direction="reverse", source="300", target="100", forward=applied("forward"), reverse=None
        )
    assert exc.value.code == "transfer_mismatch"


def test_a_transfer_names_a_merge_and_two_different_numbers():
    assert transfers.check_transfer_request(" mrg_1 ", "200", "100") == ("mrg_1", "200", "100")
    for args, field in ((("", "200", "100"), "merge_id"), (("m", "2x", "100"), "source_customer_number"),
                        (("m", "100", "100"), "target_customer_number")):  # fmt: skip
        with pytest.raises(InvalidInput) as exc:
            transfers.check_transfer_request(*args)
        assert exc.value.field == field


# --- terminations -------------------------------------------------------------------------------


def termination(
    domain: str = "", status: str = "open", effective: date = date(2026, 12, 31)
) -> model.Termination:
    return model.Termination(id="trm_1", customer_number="100", contract_id="ctr_1", package_id="pkg_1",
                             domain=domain, effective_date=effective, status=status)  # fmt: skip


CONTRACT = model.Contract(
    id="ctr_1",
    package_id="pkg_1",
    customer_number="100",
    product="hosting-basic",
    start_date=date(2026, 1, 1),
)


def test_a_package_termination_covers_its_domains_but_not_the_other_way_round():
    with pytest.raises(Conflict) as exc:
        model.check_new_termination(CONTRACT, "example.com", [termination()])
    assert exc.value.code == "already_terminated"
    with pytest.raises(Conflict):
        model.check_new_termination(CONTRACT, "example.com", [termination("example.com")])
    model.check_new_termination(CONTRACT, "", [termination("example.com")])
    model.check_new_termination(CONTRACT, "other.com", [termination("example.com")])


def test_an_add_on_is_terminated_once_on_its_own_and_a_package_termination_covers_it():
    addon = replace(termination(), addon_id="add_1")
    with pytest.raises(Conflict) as exc:
        model.check_new_termination(CONTRACT, "", [addon], addon_id="add_1")
    assert exc.value.code == "already_terminated"
    with pytest.raises(Conflict):
        model.check_new_termination(CONTRACT, "", [termination()], addon_id="add_1")
    model.check_new_termination(CONTRACT, "", [addon], addon_id="add_2")
    model.check_new_termination(CONTRACT, "", [addon])  # the whole package still can be
    model.check_new_termination(CONTRACT, "example.com", [addon])
    assert not addon.whole_package and termination().whole_package


def test_a_termination_names_a_domain_or_an_add_on_never_both():
    with pytest.raises(InvalidInput) as exc:
        model.check_new_termination(CONTRACT, "example.com", [], addon_id="add_1")
    assert exc.value.field == "addon_id"


def test_an_ended_contract_cannot_be_terminated():
    from dataclasses import replace

    with pytest.raises(Conflict) as exc:
        model.check_new_termination(replace(CONTRACT, status="terminated"), "", [])
    assert exc.value.code == "contract_not_active"


def test_a_termination_is_retractable_only_before_its_effective_date():
    assert model.check_retraction(termination(), today=date(2026, 12, 30)) is True
    assert model.check_retraction(termination(status="retracted"), today=date(2027, 1, 5)) is False
    with pytest.raises(Conflict) as exc:
        model.check_retraction(termination(), today=date(2026, 12, 31))
    assert exc.value.code == "termination_effective"
    assert termination().shown_status(today=date(2026, 12, 31)) == "effective"
    assert termination().shown_status(today=date(2026, 12, 30)) == "open"


# --- forms --------------------------------------------------------------------------------------


def test_the_written_forms_have_fields_and_two_signatures_and_the_online_ones_an_endpoint():
    by_id = {f.id: f for f in forms.FORMS}
    for form_id in ("contract_transfer", "domain_holder_change", "domain_transfer"):
        form = by_id[form_id]
        assert form.has_pdf and form.fields and len(form.signatures) == 2
    for form_id in ("link_customer_numbers", "downgrade", "termination", "package_splitting"):
        assert by_id[form_id].mode == "online" and by_id[form_id].endpoint.startswith(("POST ", "DELETE "))


def test_only_a_written_form_has_a_pdf():
    assert forms.written_form("domain_transfer").id == "domain_transfer"
    for form_id in ("downgrade", "nope", ""):
        with pytest.raises(NotFound):
            forms.written_form(form_id)
