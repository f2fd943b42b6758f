"""Password change and password reset of identity-service with fakes (no I/O): throttled
checks of the current password, single-use reset tokens that expire, links that stay valid
until one is used, and the limit of reset mails per number."""

from __future__ import annotations

import re

import pytest
from cc_common.errors import Forbidden, InvalidInput, TooManyAttempts, Unauthenticated
from identity_service.domain import password_reset
from identity_service.domain.model import CustomerCredential
from identity_service.domain.password_reset import ResetPolicy
from identity_service.domain.throttling import ThrottleKey
from identity_service.service_layer import services

from tests.unit.test_identity_services import LIMITS, NOW, FakeHasher, FakeUnitOfWork, login, refused

POLICY = ResetPolicy(ttl_seconds=1800, max_mails_per_hour=3)
BASE = "https://cc.example"


@pytest.fixture
def uow():
    return FakeUnitOfWork()


@pytest.fixture
def hasher():
    return FakeHasher()


def with_customer(uow, number="100", password="correct horse"):
    uow.credentials.customers[number] = CustomerCredential(number, "fake$" + password)


def change(
    uow,
    hasher,
    current="correct horse",
    new="brand new horse",
    number="100",
    address="192.0.2.1",
    now=NOW,
    jti="",
):
    """Both steps of a password change, as the servicer runs them; the revoked subject."""
    password_hash = services.check_password_change(
        uow=uow,
        hasher=hasher,
        limits=LIMITS,
        customer_number=number,
        current_password=current,
        new_password=new,
        client_address=address,
        now=now,
    )
    change = services.store_password_change(
        uow=uow, customer_number=number, password_hash=password_hash, keep_jti=jti
    )
    return change.rules[0].subject


def request_reset(uow, number="100", email="kunde@example.org", base_url=BASE, now=NOW, address="192.0.2.1"):
    return services.request_password_reset(
        uow=uow,
        policy=POLICY,
        customer_number=number,
        email=email,
        client_address=address,
        base_url=base_url,
        now=now,
    )


def confirm(uow, hasher, token, new="reset password 1", now=NOW):
    """Both steps of a reset, as the servicer runs them; the revoked subject."""
    password_hash = services.check_password_reset(
        uow=uow, hasher=hasher, token=token, new_password=new, now=now
    )
    change = services.confirm_password_reset(uow=uow, token=token, password_hash=password_hash, now=now)
    return change.rules[0].subject


def tokens_in_mails(uow) -> list[str]:
    return [
        m
        for mail in uow.mails.queued.values()
        for m in re.findall(r"password-reset\?token=(\S+)", mail["body"])
    ]


def last_token(uow) -> str:
    return tokens_in_mails(uow)[-1]


# --- changing the own password ----------------------------------------------------------


def test_a_password_change_with_the_right_current_password_stores_the_new_hash(uow, hasher):
    with_customer(uow)
    assert change(uow, hasher) == "customer:100"
    assert uow.credentials.customers["100"].password_hash == "fake$brand new horse"
    assert login(uow, hasher, password="brand new horse").subject == "customer:100"


def test_a_wrong_current_password_is_invalid_credentials_and_counts_like_a_failed_login(uow, hasher):
    with_customer(uow)
    for _ in range(LIMITS.max_failures_per_account):
        err = refused(lambda: change(uow, hasher, current="wrong horse"))
        assert isinstance(err, Unauthenticated) and err.code == "invalid_credentials"
    assert uow.credentials.customers["100"].password_hash == "fake$correct horse"
    # The account is locked now, for logins too: the same keys.
    assert isinstance(refused(lambda: login(uow, hasher)), TooManyAttempts)
    assert isinstance(refused(lambda: change(uow, hasher)), TooManyAttempts)


def test_a_new_password_outside_the_policy_is_refused_with_the_new_password_field(uow, hasher):
    with_customer(uow)
    err = refused(lambda: change(uow, hasher, new="short"))
    assert isinstance(err, InvalidInput) and err.field == "new_password"
    assert uow.credentials.customers["100"].password_hash == "fake$correct horse"


def test_a_retired_number_cannot_change_its_password(uow, hasher):
    uow.credentials.customers["100"] = CustomerCredential("100", "fake$correct horse", "retired", "200")
    err = refused(lambda: change(uow, hasher))
    assert isinstance(err, Forbidden) and err.code == "customer_number_merged"


# --- requesting a reset -----------------------------------------------------------------


def test_a_reset_request_stores_only_the_hash_and_mails_a_link_with_the_token(uow):
    assert request_reset(uow) is True
    (mail,) = uow.mails.queued.values()
    token = last_token(uow)
    assert mail["recipient"] == "kunde@example.org"
    assert f"{BASE}/password-reset?token={token}" in mail["body"]
    assert len(token) >= 43
    assert list(uow.resets.tokens) == [password_reset.hash_token(token)]
    assert token not in repr(uow.resets.tokens)


def test_the_default_base_url_is_used_when_none_is_configured(uow):
    request_reset(uow, base_url="")
    assert "http://127.0.0.1:8000/password-reset?token=" in next(iter(uow.mails.queued.values()))["body"]


def test_an_unknown_number_with_an_empty_email_gets_no_token_and_no_mail(uow):
    assert request_reset(uow, number="999", email="") is False
    assert uow.resets.tokens == {} and uow.mails.queued == {}


def test_a_retired_number_gets_no_mail(uow):
    uow.credentials.customers["100"] = CustomerCredential("100", "fake$x", "retired", "200")
    assert request_reset(uow) is False
    assert uow.mails.queued == {}


def test_at_most_three_reset_mails_go_to_one_number_per_hour(uow):
    sent = [request_reset(uow, now=NOW + i * 60) for i in range(5)]
    assert sent == [True, True, True, False, False]
    assert len(uow.mails.queued) == 3
    assert request_reset(uow, number="101") is True  # another number is not affected
    assert request_reset(uow, now=NOW + 3601) is True  # the first mail left the window


@pytest.mark.parametrize(
    "field, kwargs",
    [
        ("customer_number", {"number": "12a"}),
        ("email", {"email": "a@b\r\nBcc: x@y"}),
        ("base_url", {"base_url": "javascript:alert(1)"}),
    ],
)
def test_malformed_input_of_a_reset_request_names_the_field(uow, field, kwargs):
    err = refused(lambda: request_reset(uow, **kwargs))
    assert isinstance(err, InvalidInput) and err.field == field
    assert uow.mails.queued == {}


# --- confirming a reset -----------------------------------------------------------------


def test_a_reset_token_sets_the_password_once(uow, hasher):
    with_customer(uow)
    request_reset(uow)
    token = last_token(uow)

    assert confirm(uow, hasher, token) == "customer:100"
    assert uow.credentials.customers["100"].password_hash == "fake$reset password 1"
    again = refused(lambda: confirm(uow, hasher, token, new="another password"))
    assert isinstance(again, Unauthenticated) and again.code == "invalid_token"
    assert again.message == "The link is invalid or has expired. Please request a new one."
    assert uow.credentials.customers["100"].password_hash == "fake$reset password 1"


def test_a_number_without_a_password_gets_its_first_one_by_a_reset(uow, hasher):
    request_reset(uow, number="4711")
    confirm(uow, hasher, last_token(uow), new="first password")
    assert login(uow, hasher, number="4711", password="first password").subject == "customer:4711"


def test_a_reset_token_expires_after_its_ttl(uow, hasher):
    with_customer(uow)
    request_reset(uow)
    token = last_token(uow)
    err = refused(lambda: confirm(uow, hasher, token, now=NOW + POLICY.ttl_seconds))
    assert isinstance(err, Unauthenticated) and err.code == "invalid_token"
    assert confirm(uow, hasher, token, now=NOW + POLICY.ttl_seconds - 1) == "customer:100"


def test_a_newer_request_leaves_the_older_link_valid(uow, hasher):
    with_customer(uow)
    request_reset(uow)
    older = last_token(uow)
    request_reset(uow, now=NOW + 10)
    newer = last_token(uow)

    assert older != newer
    assert confirm(uow, hasher, older, now=NOW + 20) == "customer:100"


def test_a_reset_with_one_link_voids_the_other_links_of_the_number(uow, hasher):
    with_customer(uow)
    request_reset(uow)
    older = last_token(uow)
    request_reset(uow, now=NOW + 10)
    newer = last_token(uow)

    assert confirm(uow, hasher, newer, now=NOW + 20) == "customer:100"
    assert refused(lambda: confirm(uow, hasher, older, now=NOW + 30)).code == "invalid_token"


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 500])
def test_an_unknown_token_is_invalid_and_costs_no_hash(uow, hasher, token):
    err = refused(lambda: confirm(uow, hasher, token))
    assert isinstance(err, Unauthenticated) and err.code == "invalid_token"
    assert hasher.hashes == 0


def test_the_password_policy_is_checked_before_the_token_is_spent(uow, hasher):
    with_customer(uow)
    request_reset(uow)
    token = last_token(uow)
    err = refused(lambda: confirm(uow, hasher, token, new="short"))
    assert isinstance(err, InvalidInput) and err.field == "new_password"
    assert confirm(uow, hasher, token) == "customer:100"


def test_a_reset_clears_the_login_lockout_of_the_number(uow, hasher):
    with_customer(uow)
    for _ in range(LIMITS.max_failures_per_account):
        refused(lambda: login(uow, hasher, password="wrong horse"))
    assert isinstance(refused(lambda: login(uow, hasher, password="reset password 1")), TooManyAttempts)
    request_reset(uow)
    confirm(uow, hasher, last_token(uow))
    assert ThrottleKey("customer", "100") not in uow.throttle.records
    assert login(uow, hasher, password="reset password 1").subject == "customer:100"


def test_a_token_of_a_number_retired_after_the_request_is_refused(uow, hasher):
    with_customer(uow)
    request_reset(uow)
    uow.credentials.customers["100"] = CustomerCredential("100", "fake$correct horse", "retired", "200")
    err = refused(lambda: confirm(uow, hasher, last_token(uow)))
    assert isinstance(err, Unauthenticated) and err.code == "invalid_token"
    assert uow.credentials.customers["100"].password_hash == "fake$correct horse"
