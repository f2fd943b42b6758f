"""Every password change revokes inside identity-service, in the transaction of the new hash
(fakes, no I/O): customer, package and staff passwords, the own change and the reset link; a
failed commit keeps both the old hash and the old tokens. And throttling without gaps: package
logins count per package, reset requests per client address, links stay valid."""

from __future__ import annotations

import re

import pytest
from cc_common.errors import Forbidden, TooManyAttempts, Unauthenticated
from identity_service.domain import throttling
from identity_service.domain.model import CustomerCredential, PackageCredential, StaffAccount
from identity_service.domain.password_reset import ResetPolicy
from identity_service.service_layer import services

from tests.unit.test_identity_services import LIMITS, NOW, FakeHasher, FakeUnitOfWork, refused


class CommitFails(FakeUnitOfWork):
    """The database refuses the commit (the connection broke, a constraint failed, ...)."""

    def commit(self):
        raise RuntimeError("commit failed")


@pytest.fixture
def hasher():
    return FakeHasher()


def customer(uow, number="100", password="correct horse"):
    uow.credentials.customers[number] = CustomerCredential(number, "fake$" + password)


def set_customer(uow, hasher, password="brand new horse", number="100"):
    password_hash = services.new_password_hash(hasher=hasher, password=password)
    return services.set_customer_password(uow=uow, customer_number=number, password_hash=password_hash)


def set_package(uow, hasher, password="package secret 2", package_id="pkg_1", keep_jti=""):
    password_hash = services.new_password_hash(hasher=hasher, password=password)
    return services.set_package_password(
        uow=uow, package_id=package_id, password_hash=password_hash, keep_jti=keep_jti
    )


def generation(uow, subject):
    rule = uow.revocations.rules.get(subject)
    return rule.min_generation if rule else 0


# --- part of the same transaction -----------------------------------------------------------


def test_replacing_a_customer_password_revokes_the_customer_in_the_same_commit(hasher):
    uow = FakeUnitOfWork()
    customer(uow)

    change = set_customer(uow, hasher)

    assert uow.commits == 1
    assert uow.credentials.customers["100"].password_hash == "fake$brand new horse"
    assert change.rules == [uow.revocations.rules["customer:100"]]
    assert change.rules[0].min_generation == 1 and change.rules[0].keep_jti == ""


def test_a_failed_commit_keeps_the_old_customer_password_and_the_old_tokens(hasher):
    uow = CommitFails()
    customer(uow)

    refused(lambda: set_customer(uow, hasher))

    assert uow.credentials.customers["100"].password_hash == "fake$correct horse"
    assert uow.revocations.rules == {} and uow.revocations.sequence == 0


def test_a_first_customer_password_has_no_tokens_to_revoke(hasher):
    uow = FakeUnitOfWork()
    assert set_customer(uow, hasher) is None
    assert uow.credentials.customers["100"].password_hash == "fake$brand new horse"
    assert uow.revocations.rules == {}


def test_a_retired_number_gets_no_password_and_no_revocation(hasher):
    uow = FakeUnitOfWork()
    uow.credentials.customers["100"] = CustomerCredential("100", "fake$old", "retired", "200")
    err = refused(lambda: set_customer(uow, hasher))
    assert isinstance(err, Forbidden) and err.code == "customer_number_merged"
    assert uow.credentials.customers["100"].password_hash == "fake$old" and uow.revocations.rules == {}


def test_replacing_a_package_password_revokes_that_package_but_the_kept_token(hasher):
    uow = FakeUnitOfWork()
    uow.credentials.packages["pkg_1"] = PackageCredential("pkg_1", "fake$package secret 1")
    uow.credentials.packages["pkg_2"] = PackageCredential("pkg_2", "fake$package secret 1")

    change = set_package(uow, hasher, keep_jti="jti-of-the-package-login")

    assert uow.commits == 1
    assert uow.credentials.packages["pkg_1"].password_hash == "fake$package secret 2"
    assert change.rules[0].subject == "package:pkg_1"
    assert change.rules[0].keep_jti == "jti-of-the-package-login"
    assert generation(uow, "package:pkg_1") == 1 and generation(uow, "package:pkg_2") == 0


def test_a_failed_commit_keeps_the_old_package_password_and_its_sessions(hasher):
    uow = CommitFails()
    uow.credentials.packages["pkg_1"] = PackageCredential("pkg_1", "fake$package secret 1")
    refused(lambda: set_package(uow, hasher))
    assert uow.credentials.packages["pkg_1"].password_hash == "fake$package secret 1"
    assert uow.revocations.rules == {}


def test_a_new_package_password_revokes_nothing(hasher):
    uow = FakeUnitOfWork()
    assert set_package(uow, hasher) is None
    assert uow.revocations.rules == {}


def test_a_rotated_staff_password_revokes_the_staff_tokens_issued_before(hasher):
    uow = FakeUnitOfWork()
    assert (
        services.ensure_staff_account(uow=uow, hasher=hasher, username="anna", password="first secret")
        is None
    )
    assert (
        services.ensure_staff_account(uow=uow, hasher=hasher, username="anna", password="first secret")
        is None
    )
    assert generation(uow, "staff:anna") == 0

    change = services.ensure_staff_account(uow=uow, hasher=hasher, username="anna", password="second secret")

    assert change.rules[0].subject == "staff:anna" and generation(uow, "staff:anna") == 1
    assert uow.credentials.staff["anna"].password_hash == "fake$second secret"


def test_an_upgraded_hash_of_the_same_staff_password_revokes_nothing(hasher):
    uow = FakeUnitOfWork()
    uow.credentials.staff["anna"] = StaffAccount("anna", "fake$first secret")
    hasher.needs_rehash = lambda password_hash: True
    assert (
        services.ensure_staff_account(uow=uow, hasher=hasher, username="anna", password="first secret")
        is None
    )
    assert uow.commits == 1 and uow.revocations.rules == {}


def change_own(uow, hasher, jti="jti-of-the-caller"):
    password_hash = services.check_password_change(
        uow=uow,
        hasher=hasher,
        limits=LIMITS,
        customer_number="100",
        current_password="correct horse",
        new_password="brand new horse",
        client_address="192.0.2.1",
        now=NOW,
    )
    return services.store_password_change(
        uow=uow, customer_number="100", password_hash=password_hash, keep_jti=jti
    )


def test_the_own_password_change_revokes_every_other_token_in_the_same_commit(hasher):
    uow = FakeUnitOfWork()
    customer(uow)
    commits = uow.commits

    change = change_own(uow, hasher)

    assert uow.commits == commits + 1
    assert change.rules == [uow.revocations.rules["customer:100"]]
    assert change.rules[0].keep_jti == "jti-of-the-caller" and change.rules[0].min_generation == 1


def test_a_failed_commit_of_the_own_change_keeps_the_old_password_and_tokens(hasher):
    uow = CommitFails()
    customer(uow)
    refused(lambda: change_own(uow, hasher))
    assert uow.credentials.customers["100"].password_hash == "fake$correct horse"
    assert uow.revocations.rules == {}


def test_a_number_retired_between_the_two_steps_keeps_its_password_and_tokens(hasher):
    uow = FakeUnitOfWork()
    customer(uow)
    password_hash = services.check_password_change(
        uow=uow,
        hasher=hasher,
        limits=LIMITS,
        customer_number="100",
        current_password="correct horse",
        new_password="brand new horse",
        client_address="",
        now=NOW,
    )
    uow.credentials.customers["100"].status = "retired"
    err = refused(
        lambda: services.store_password_change(
            uow=uow, customer_number="100", password_hash=password_hash, keep_jti=""
        )
    )
    assert isinstance(err, Forbidden)
    assert (
        uow.credentials.customers["100"].password_hash == "fake$correct horse" and uow.revocations.rules == {}
    )


POLICY = ResetPolicy(ttl_seconds=1800, max_mails_per_hour=3, max_valid_links=3, max_requests_per_address=10)


def reset_request(uow, number="100", address="192.0.2.1", now=NOW, policy=POLICY, email="kunde@example.org"):
    return services.request_password_reset(
        uow=uow,
        policy=policy,
        customer_number=number,
        email=email,
        client_address=address,
        base_url="https://cc.example",
        now=now,
    )


def mailed_tokens(uow) -> list[str]:
    return [t for mail in uow.mails.queued.values() for t in re.findall(r"token=(\S+)", mail["body"])]


def test_a_reset_revokes_every_token_of_the_customer_in_the_commit_that_spends_the_link(hasher):
    uow = FakeUnitOfWork()
    customer(uow)
    reset_request(uow)
    (token,) = mailed_tokens(uow)
    password_hash = services.check_password_reset(
        uow=uow, hasher=hasher, token=token, new_password="reset pw 1", now=NOW
    )
    commits = uow.commits

    change = services.confirm_password_reset(uow=uow, token=token, password_hash=password_hash, now=NOW)

    assert uow.commits == commits + 1
    assert change.rules == [uow.revocations.rules["customer:100"]] and change.rules[0].keep_jti == ""


def test_a_failed_commit_of_a_reset_keeps_the_link_the_password_and_the_tokens(hasher):
    uow = FakeUnitOfWork()
    customer(uow)
    reset_request(uow)
    (token,) = mailed_tokens(uow)
    password_hash = services.check_password_reset(
        uow=uow, hasher=hasher, token=token, new_password="reset pw 1", now=NOW
    )
    uow.__class__ = CommitFails

    refused(
        lambda: services.confirm_password_reset(uow=uow, token=token, password_hash=password_hash, now=NOW)
    )

    uow.__class__ = FakeUnitOfWork
    assert uow.credentials.customers["100"].password_hash == "fake$correct horse"
    assert uow.revocations.rules == {}
    assert services.confirm_password_reset(uow=uow, token=token, password_hash=password_hash, now=NOW)


# --- package logins count per package -------------------------------------------------------


def package_login(uow, hasher, domain, package_id, password="wrong guess", address="", now=NOW):
    return services.package_login(
        uow=uow,
        hasher=hasher,
        limits=LIMITS,
        domain=domain,
        package_id=package_id,
        password=password,
        client_address=address,
        now=now,
    )


def test_guesses_spread_over_the_domains_of_one_package_lock_the_package():
    uow, hasher = FakeUnitOfWork(), FakeHasher()
    uow.credentials.packages["pkg_1"] = PackageCredential("pkg_1", "fake$right password")
    uow.credentials.packages["pkg_2"] = PackageCredential("pkg_2", "fake$right password")
    domains = [f"site-{n}.example" for n in range(LIMITS.max_failures_per_account)]
    for domain in domains:
        assert isinstance(refused(lambda d=domain: package_login(uow, hasher, d, "pkg_1")), Unauthenticated)
    checks = hasher.checks

    locked = refused(
        lambda: package_login(uow, hasher, "site-99.example", "pkg_1", password="right password")
    )

    assert isinstance(locked, TooManyAttempts) and hasher.checks == checks  # no guess was checked
    assert (
        package_login(uow, hasher, "other.example", "pkg_2", password="right password").subject
        == "package:pkg_2"
    )


def test_guesses_at_an_unknown_domain_count_against_that_domain_like_a_package():
    uow, hasher = FakeUnitOfWork(), FakeHasher()
    for _ in range(LIMITS.max_failures_per_account):
        refused(lambda: package_login(uow, hasher, "Nowhere.Example.", ""))
    assert isinstance(refused(lambda: package_login(uow, hasher, "nowhere.example", "")), TooManyAttempts)
    assert isinstance(refused(lambda: package_login(uow, hasher, "elsewhere.example", "")), Unauthenticated)


def test_a_domain_named_like_a_package_id_does_not_share_its_count():
    assert throttling.package_account("pkg_1", "x.example") != throttling.package_account("", "pkg_1")


# --- reset requests: per client address, and links that stay valid -------------------------


def test_reset_requests_from_one_address_are_limited_whatever_the_numbers():
    uow = FakeUnitOfWork()
    sent = [reset_request(uow, number=str(500 + n)) for n in range(POLICY.max_requests_per_address)]
    assert all(sent)

    assert reset_request(uow, number="600") is False  # silently: the caller answers 202 anyway
    assert reset_request(uow, number="600", address="198.51.100.7") is True
    assert reset_request(uow, number="601", now=NOW + 3601) is True  # the hour is over


def test_requests_for_unknown_numbers_count_against_the_address_too():
    uow = FakeUnitOfWork()
    for n in range(POLICY.max_requests_per_address):
        assert reset_request(uow, number=str(900 + n), email="") is False
    assert reset_request(uow, number="100") is False
    assert uow.mails.queued == {}


def test_an_address_over_its_limit_stores_no_more_requests():
    uow = FakeUnitOfWork()
    for n in range(POLICY.max_requests_per_address * 3):
        reset_request(uow, number=str(500 + n), now=NOW + n)
    assert len(uow.resets.requests) == POLICY.max_requests_per_address


def test_without_a_client_address_only_the_limits_of_the_number_apply():
    uow = FakeUnitOfWork()
    sent = [
        reset_request(uow, number=str(500 + n), address="")
        for n in range(POLICY.max_requests_per_address + 2)
    ]
    assert all(sent) and uow.resets.requests == []


def test_nobody_can_void_a_link_by_asking_again(hasher):
    uow = FakeUnitOfWork()
    customer(uow)
    reset_request(uow, address="192.0.2.1")  # the customer
    (link,) = mailed_tokens(uow)
    for n in range(5):  # somebody else, again and again
        reset_request(uow, address="203.0.113.66", now=NOW + 60 * (n + 1))

    password_hash = services.check_password_reset(
        uow=uow, hasher=hasher, token=link, new_password="reset pw 1", now=NOW + 600
    )
    assert services.confirm_password_reset(uow=uow, token=link, password_hash=password_hash, now=NOW + 600)
    assert uow.credentials.customers["100"].password_hash == "fake$reset pw 1"


def test_valid_links_of_a_number_are_capped_and_a_used_or_expired_one_makes_room():
    policy = ResetPolicy(
        ttl_seconds=1800, max_mails_per_hour=10, max_valid_links=2, max_requests_per_address=50
    )
    uow = FakeUnitOfWork()
    assert [reset_request(uow, policy=policy, now=NOW + n) for n in range(3)] == [True, True, False]
    assert len(mailed_tokens(uow)) == 2
    assert reset_request(uow, policy=policy, now=NOW + policy.ttl_seconds + 1) is True  # both expired
