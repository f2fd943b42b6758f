"""Security notices without I/O: the masking and languages of cc_common.notices, the notices
contract-service queues with an e-mail or payment change and the link that restores the old
address, and identity-service's notices of a password change and of a reset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from cc_common import notices
from cc_common.errors import Conflict, Unauthenticated
from contract_service.domain import model
from contract_service.service_layer import services as contract
from identity_service.domain.model import CustomerCredential
from identity_service.service_layer import services as identity

from tests.unit.test_contract_services import MASTER, SERVICE, TODAY, FakeUnitOfWork, create, principal
from tests.unit.test_identity_password_services import POLICY, change, confirm
from tests.unit.test_identity_services import LIMITS, NOW, FakeHasher
from tests.unit.test_identity_services import FakeUnitOfWork as IdentityUnitOfWork

BASE = "https://cc.example"
MOMENT = datetime(2026, 5, 15, 12, 0, tzinfo=UTC)
LINK = re.compile(r"https://cc\.example/email-restore\?token=(\S+)")


# --- cc_common.notices ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("max@example.org", "m***@example.org"),
        ("  Erika.Mustermann@Mail.example  ", "E***@Mail.example"),
        ("a@b.example", "a***@b.example"),
        ("no-at-sign", "***"),
        ("", "***"),
    ],
)
def test_an_e_mail_address_is_masked_to_its_first_character_and_domain(address, masked):
    assert notices.mask_email(address) == masked


@pytest.mark.parametrize(
    ("market", "subject"),
    [
        ("de", "Ihre Kontakt-E-Mail-Adresse wurde geändert"),
        ("nl", "Uw contact-e-mailadres is gewijzigd"),
        ("uk", "Your contact e-mail address was changed"),
        ("xx", "Your contact e-mail address was changed"),
    ],
)
def test_a_notice_is_written_in_the_language_of_the_customers_market(market, subject):
    rendered = notices.render(
        notices.EMAIL_CHANGED, market, customer_number="1", new_email="n***@x.example", link="L", days=7
    )
    assert rendered[0] == subject
    assert "n***@x.example" in rendered[1] and "L" in rendered[1]


def test_every_notice_has_a_text_in_every_language():
    for kind in (
        notices.EMAIL_CHANGED,
        notices.PASSWORD_CHANGED,
        notices.PASSWORD_RESET_DONE,
        notices.PAYMENT_CHANGED,
    ):
        for market in ("de", "nl", "uk"):
            subject, body = notices.render(
                kind, market, customer_number="12345678", new_email="m***@x", link="L", days=7, payment="P"
            )
            assert subject and "12345678" in body


def test_a_link_base_that_is_not_http_is_refused():
    assert notices.check_base_url("https://cc.example/") == "https://cc.example"
    with pytest.raises(ValueError):
        notices.check_base_url("javascript:alert(1)")


# --- contract-service: the e-mail change and its restore link -----------------------------------


def change_email(uow, number, new_email, *, now=MOMENT):
    return contract.update_customer(
        uow=uow, caller=principal("customer", number), changes={"email": new_email}, base_url=BASE, now=now
    )


def restore_token(mail) -> str:
    (token,) = LINK.findall(mail["body"])
    return token


def test_a_new_e_mail_address_is_told_to_the_old_one_masked_with_a_restore_link():
    uow = FakeUnitOfWork()
    number = create(uow).customer_number
    change_email(uow, number, "mallory.thief@evil.example")
    (mail,) = uow.mails.queued.values()
    assert mail["recipient"] == "erika@example.com"
    assert mail["subject"] == "Ihre Kontakt-E-Mail-Adresse wurde geändert"  # a de customer
    assert "m***@evil.example" in mail["body"]
    assert "mallory.thief" not in mail["body"]
    token = restore_token(mail)
    # Only the hash of the link's token is stored.
    assert token not in repr(uow.email_restores.rows) and len(uow.email_restores.rows) == 1


def test_the_same_address_again_or_another_field_sends_no_notice():
    uow = FakeUnitOfWork()
    number = create(uow).customer_number
    change_email(uow, number, " ERIKA@example.com ")
    contract.update_customer(
        uow=uow, caller=principal("customer", number), changes={"city": "Potsdam", "zip": "14467"}
    )
    assert uow.mails.queued == {} and uow.email_restores.rows == {}


def test_the_restore_link_puts_the_old_address_back_once():
    uow = FakeUnitOfWork()
    number = create(uow).customer_number
    change_email(uow, number, "mallory@evil.example")
    token = restore_token(next(iter(uow.mails.queued.values())))
    restored = contract.restore_email(uow=uow, token=token, now=MOMENT + timedelta(days=6))
    assert restored.customer_number == number and restored.email == "erika@example.com"
    assert uow.customers.rows[number].email == "erika@example.com"
    with pytest.raises(Unauthenticated) as refused:
        contract.restore_email(uow=uow, token=token, now=MOMENT + timedelta(days=6))
    assert refused.value.code == "invalid_token"


@pytest.mark.parametrize("token", ["", "x" * 500, "not-a-token-that-was-ever-mailed"])
def test_an_unknown_or_malformed_restore_token_is_refused_alike(token):
    uow = FakeUnitOfWork()
    with pytest.raises(Unauthenticated) as refused:
        contract.restore_email(uow=uow, token=token, now=MOMENT)
    assert refused.value.code == "invalid_token"


def test_the_restore_link_expires_after_seven_days():
    uow = FakeUnitOfWork()
    number = create(uow).customer_number
    change_email(uow, number, "mallory@evil.example")
    token = restore_token(next(iter(uow.mails.queued.values())))
    with pytest.raises(Unauthenticated):
        contract.restore_email(uow=uow, token=token, now=MOMENT + timedelta(days=7, seconds=1))
    assert uow.customers.rows[number].email == "mallory@evil.example"


def test_the_owners_older_link_voids_the_thiefs_later_one_but_not_the_other_way_round():
    uow = FakeUnitOfWork()
    number = create(uow).customer_number
    change_email(uow, number, "first@evil.example", now=MOMENT)
    change_email(uow, number, "second@evil.example", now=MOMENT + timedelta(minutes=1))
    owners = restore_token(uow.mails.to("erika@example.com")[0])
    thiefs = restore_token(uow.mails.to("first@evil.example")[0])
    # The thief restores "their" address first: the owner's older link still works ...
    contract.restore_email(uow=uow, token=thiefs, now=MOMENT + timedelta(minutes=2))
    assert uow.customers.rows[number].email == "first@evil.example"
    contract.restore_email(uow=uow, token=owners, now=MOMENT + timedelta(minutes=3))
    assert uow.customers.rows[number].email == "erika@example.com"
    # ... and once the owner's link is used, no later link of the number works any more.
    uow2 = FakeUnitOfWork()
    number2 = create(uow2).customer_number
    change_email(uow2, number2, "first@evil.example", now=MOMENT)
    change_email(uow2, number2, "second@evil.example", now=MOMENT + timedelta(minutes=1))
    contract.restore_email(uow=uow2, token=restore_token(uow2.mails.to("erika@example.com")[0]), now=MOMENT)
    with pytest.raises(Unauthenticated):
        contract.restore_email(
            uow=uow2, token=restore_token(uow2.mails.to("first@evil.example")[0]), now=MOMENT
        )
    assert uow2.customers.rows[number2].email == "erika@example.com"


def test_a_frozen_number_cannot_be_restored_until_it_is_active_again():
    uow = FakeUnitOfWork()
    number = create(uow).customer_number
    change_email(uow, number, "mallory@evil.example")
    token = restore_token(next(iter(uow.mails.queued.values())))
    uow.customers.rows[number].status = "frozen"
    with pytest.raises(Conflict):
        contract.restore_email(uow=uow, token=token, now=MOMENT)
    uow.customers.rows[number].status = "active"
    assert contract.restore_email(uow=uow, token=token, now=MOMENT).email == "erika@example.com"


# --- contract-service: the payment notice ---------------------------------------------------------


def test_a_payment_change_tells_the_contact_address_with_the_iban_masked():
    uow = FakeUnitOfWork()
    number = create(
        uow, market="nl", master_data={**MASTER, "zip": "1015 CX", "city": "Amsterdam"}
    ).customer_number
    contract.set_payment(
        uow=uow,
        caller=principal("customer", number),
        payment=model.PaymentInput(iban="NL91 ABNA 0417 1643 00", bic="ABNANL2A"),
        today=TODAY,
    )
    (mail,) = uow.mails.queued.values()
    assert mail["recipient"] == "erika@example.com" and mail["subject"] == "Uw betaalgegevens zijn gewijzigd"
    assert "NL91 **** **** **43 00" in mail["body"]
    assert "NL91ABNA0417164300" not in mail["body"] and "0417 1643" not in mail["body"]


def test_a_card_change_by_staff_tells_the_contact_address_the_last_four_digits_only():
    uow = FakeUnitOfWork()
    number = create(uow).customer_number
    contract.set_payment(
        uow=uow,
        caller=principal("staff"),
        customer_number=number,
        payment=model.PaymentInput(card_token="tok_secret_visa", card_last4="4242", card_expiry="12/30"),
        today=TODAY,
    )
    (mail,) = uow.mails.queued.values()
    assert "4242" in mail["body"] and "tok_secret_visa" not in mail["body"]


def test_a_service_caller_cannot_change_payment_of_a_missing_customer_and_nothing_is_queued():
    uow = FakeUnitOfWork()
    with pytest.raises(Exception):  # noqa: B017 - NotFound; the point is the empty outbox
        contract.set_payment(
            uow=uow,
            caller=SERVICE,
            customer_number="99999999",
            payment=model.PaymentInput(iban="x"),
            today=TODAY,
        )
    assert uow.mails.queued == {}


# --- identity-service: password notices -----------------------------------------------------------


def test_a_password_change_tells_the_contact_address_the_gateway_passed_without_the_password():
    uow, hasher = IdentityUnitOfWork(), FakeHasher()
    uow.credentials.customers["100"] = CustomerCredential("100", "fake$correct horse")
    password_hash = identity.check_password_change(
        uow=uow,
        hasher=hasher,
        limits=LIMITS,
        customer_number="100",
        current_password="correct horse",
        new_password="brand new horse",
        client_address="192.0.2.1",
        now=NOW,
    )
    identity.store_password_change(
        uow=uow,
        customer_number="100",
        password_hash=password_hash,
        keep_jti="",
        email="kunde@example.org",
        market="nl",
    )
    (mail,) = uow.mails.queued.values()
    assert mail["recipient"] == "kunde@example.org" and mail["subject"] == "Uw klantwachtwoord is gewijzigd"
    assert "brand new horse" not in mail["body"] and "correct horse" not in mail["body"]


def test_a_wrong_current_password_sends_no_notice():
    uow, hasher = IdentityUnitOfWork(), FakeHasher()
    uow.credentials.customers["100"] = CustomerCredential("100", "fake$correct horse")
    with pytest.raises(Unauthenticated):
        change(uow, hasher, current="wrong horse")
    assert uow.mails.queued == {}


def test_a_used_reset_link_tells_the_address_it_was_mailed_to_in_the_customers_language():
    uow, hasher = IdentityUnitOfWork(), FakeHasher()
    identity.request_password_reset(
        uow=uow,
        policy=POLICY,
        customer_number="100",
        email="kunde@example.org",
        client_address="192.0.2.1",
        base_url=BASE,
        now=NOW,
        market="de",
    )
    (token,) = re.findall(r"password-reset\?token=(\S+)", next(iter(uow.mails.queued.values()))["body"])
    confirm(uow, hasher, token)
    notice = [m for m in uow.mails.queued.values() if "password-reset?token" not in m["body"]]
    assert [(m["recipient"], m["subject"]) for m in notice] == [
        ("kunde@example.org", "Ein neues Kundenpasswort wurde vergeben")
    ]
    assert "reset password 1" not in notice[0]["body"]
