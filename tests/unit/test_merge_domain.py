"""The merge's comparison by market and its state machine: pure, no I/O."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cc_common.errors import Conflict, InvalidInput
from merge_service.domain import model

BASE = {
    "company": "",
    "first_name": "Max",
    "last_name": "Mustermann",
    "street": "Hauptstraße 1",
    "zip": "10115",
    "city": "Berlin",
    "phone": "+49301234567",
    "mobile": "",
    "email": "max@example.com",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "card": "",
}


def results(market, **source_changes):
    rows = model.compare(market, BASE, {**BASE, **source_changes})
    return {r.field: r.result for r in rows}


def test_identical_master_data_is_equal_in_every_field():
    assert set(results("de").values()) == {"equal"}


@pytest.mark.parametrize(
    "market, field, value, expected",
    [
        ("de", "last_name", "Musterfrau", "blocking"),
        ("de", "company", "Muster GmbH", "blocking"),
        ("de", "iban", "DE02120300000000202051", "differs"),
        ("de", "street", "Nebenstraße 2", "differs"),
        ("nl", "iban", "DE02120300000000202051", "blocking"),
        ("nl", "bic", "INGBNL2A", "blocking"),
        ("nl", "email", "other@example.com", "differs"),
        ("uk", "card", "**** 4242 12/29", "blocking"),
        ("uk", "phone", "+442079460000", "differs"),
    ],
)
def test_each_market_classifies_a_difference_by_its_policy(market, field, value, expected):
    assert results(market, **{field: value})[field] == expected


@pytest.mark.parametrize(
    "field, value",
    [
        ("email", "  MAX@Example.COM "),
        ("iban", "DE89 3704 0044 0532 0130 00"),
        ("last_name", "  MUSTERMANN "),
        ("street", "Hauptstra\u0073\u0073e 1".replace("ss", "ß")),
        ("phone", "0049301234567"),
        ("first_name", "Ma\u0078"),
    ],
)
def test_formatting_alone_is_not_a_difference(field, value):
    assert results("de", **{field: value})[field] == "equal"


def test_unicode_normal_forms_compare_equal():
    composed = {**BASE, "last_name": "Müller"}
    decomposed = {**BASE, "last_name": "Mu\u0308ller"}
    rows = {r.field: r.result for r in model.compare("de", composed, decomposed)}
    assert rows["last_name"] == "equal"


def test_payment_values_are_masked_in_the_comparison():
    rows = {r.field: r for r in model.compare("nl", BASE, {**BASE, "iban": "NL91ABNA0417164300"})}
    assert "0532013000" not in rows["iban"].target_value
    assert rows["iban"].target_value.startswith("DE89") and rows["iban"].target_value.endswith("00")
    assert rows["iban"].source_value.replace(" ", "").endswith("4300")


def _merge(status=model.READY, **kw):
    m = model.Merge(
        id="mrg_1", target_customer_number="1", source_customer_number="2", market="de", status=status, **kw
    )
    return m


def test_submit_with_highlighted_fields_needs_take_over_first():
    merge = _merge(comparison=[model.ComparisonRow("street", "a", "b", "differs")])
    with pytest.raises(Conflict) as err:
        merge.submit(auto_review=False)
    assert err.value.code == "differences_not_resolved"
    merge.take_over_data()
    merge.submit(auto_review=False)
    assert merge.status == model.SUBMITTED


def test_a_new_comparison_voids_an_earlier_take_over_and_sets_the_state_by_its_blocking_rows():
    differs = [model.ComparisonRow("street", "a", "b", "differs")]
    merge = _merge(comparison=differs)
    merge.take_over_data()
    merge.refresh(differs, target_snapshot={}, source_snapshot={})
    assert merge.data_taken_over is True  # the same comparison: the take-over stands
    merge.refresh(
        [model.ComparisonRow("street", "b", "b", "equal")],
        target_snapshot={"street": "b"},
        source_snapshot={},
    )
    assert (merge.data_taken_over, merge.status, merge.target_snapshot) == (
        False,
        model.READY,
        {"street": "b"},
    )
    merge.submit(auto_review=False)  # nothing differs any more
    merge_blocked = _merge()
    merge_blocked.refresh(
        [model.ComparisonRow("last_name", "a", "b", "blocking")], target_snapshot={}, source_snapshot={}
    )
    assert merge_blocked.status == model.NEEDS_LEGAL_PROOF


def test_a_merge_that_is_no_longer_open_is_not_compared_again():
    merge = _merge(status=model.SUBMITTED)
    with pytest.raises(Conflict) as err:
        merge.refresh([], target_snapshot={}, source_snapshot={})
    assert err.value.code == "merge_not_open"


def test_a_blocked_merge_needs_the_legal_proof_and_then_goes_to_review_even_with_auto_review():
    merge = _merge(
        model.NEEDS_LEGAL_PROOF, comparison=[model.ComparisonRow("last_name", "a", "b", "blocking")]
    )
    with pytest.raises(Conflict) as err:
        merge.submit(auto_review=True)
    assert err.value.code == "legal_proof_required"
    merge.attach_legal_proof()
    merge.submit(auto_review=True)
    assert merge.status == model.SUBMITTED


def test_auto_review_approves_a_clean_merge_at_once():
    merge = _merge()
    merge.submit(auto_review=True)
    assert merge.status == model.APPROVED


def test_cancel_works_until_execution_starts():
    merge = _merge()
    merge.submit(auto_review=True)
    merge.start_execution()
    with pytest.raises(Conflict):
        merge.cancel()
    other = _merge()
    other.cancel()
    assert other.status == model.CANCELLED


def test_reversal_only_within_thirty_days_and_with_a_reason():
    merge = _merge(model.COMPLETED)
    merge.complete()
    with pytest.raises(InvalidInput):
        merge.start_reversal("  ")
    with pytest.raises(Conflict) as err:
        merge.start_reversal("customer asked", now=merge.completed_at + timedelta(days=31))
    assert err.value.code == "reversal_window_over"
    merge.start_reversal("customer asked", now=merge.completed_at + timedelta(days=29))
    assert merge.status == model.REVERSING


# --- a merge proven with a package password ---------------------------------------------------


def _agreement_merge(**kwargs):
    created = model.utcnow() - timedelta(hours=1)
    return model.Merge(
        id="mrg_1",
        target_customer_number="1",
        source_customer_number="2",
        market="de",
        status=model.SUBMITTED,
        proof_method=model.PACKAGE_PASSWORD,
        created_at=created,
        source_notified_at=created,
        **kwargs,
    )


@pytest.mark.parametrize(
    "field,value,shown",
    [
        ("street", "Gartenweg 5", "Ga***g 5"),
        ("phone", "+49 40 12344321", "+49 40 ****4321"),
        ("email", "max.muster@example.org", "m***@example.org"),
        ("last_name", "Li", "L***"),
        ("zip", "", ""),
        ("iban", "DE02120300000000202051", "DE02 **** **** **** **20 51"),
    ],
)
def test_contact_values_are_masked_so_they_are_recognisable_but_not_learnable(field, value, shown):
    assert model.mask_contact(field, value) == shown


def test_a_masked_comparison_keeps_the_exact_results():
    target = {"first_name": "Max", "last_name": "Muster", "street": "Hauptstr. 1", "email": "a@example.org"}
    source = {"first_name": "Max", "last_name": "Muster", "street": "Gartenweg 5", "email": "A@example.org "}
    plain = model.compare("de", target, source)
    masked = model.compare("de", target, source, mask_source=True)
    assert [r.result for r in masked] == [r.result for r in plain]
    by_field = {r.field: r for r in masked}
    assert by_field["street"].source_value == "Ga***g 5" and by_field["street"].target_value == "Hauptstr. 1"
    assert by_field["email"].result == "equal"


def test_staff_cannot_approve_before_the_objection_period_is_over():
    merge = _agreement_merge()
    with pytest.raises(Conflict) as refused:
        merge.approve(objection_period=timedelta(hours=72))
    assert refused.value.code == "objection_period_running"
    assert merge.status == model.SUBMITTED
    merge.approve(now=model.utcnow() + timedelta(hours=72), objection_period=timedelta(hours=72))
    assert merge.status == model.APPROVED


def test_the_absorbed_sides_confirmation_ends_the_waiting_period():
    merge = _agreement_merge()
    merge.confirm_by_source()
    assert merge.objection_period_ends_at(timedelta(hours=72)) is None
    merge.approve(objection_period=timedelta(hours=72))
    assert merge.status == model.APPROVED


def test_a_merge_proven_with_the_customer_password_has_no_waiting_period():
    merge = _agreement_merge()
    merge.proof_method = model.CUSTOMER_PASSWORD
    assert merge.objection_period_ends_at(timedelta(hours=72)) is None
    merge.approve(objection_period=timedelta(hours=72))
    assert merge.status == model.APPROVED


def test_a_package_password_merge_always_goes_to_review_and_an_objection_cancels_it():
    merge = _agreement_merge()
    merge.status = model.READY
    merge.submit(auto_review=True)
    assert merge.status == model.SUBMITTED and merge.needs_review
    merge.object()
    assert (merge.status, merge.cancelled_by) == (model.CANCELLED, "objection")
    with pytest.raises(Conflict):
        merge.object()


def test_a_legal_proof_over_its_limit_is_refused_as_too_large_naming_the_limit():
    from cc_common.errors import PayloadTooLarge
    from merge_service.service_layer import services

    content = b"%PDF-" + b"0" * services.MAX_LEGAL_PROOF_BYTES
    with pytest.raises(PayloadTooLarge) as refused:
        services.upload_legal_proof(
            uow=None,
            caller=None,
            merge_id="mrg_1",
            filename="a.pdf",
            content_type="application/pdf",
            content=content,
        )
    assert refused.value.http_status == 413 and "5 MB" in refused.value.message
