"""Every password change revokes inside identity-service, over real gRPC against a real
database: when the RPC returns, a watcher (what the gateway and the services verify against)
already refuses the old tokens, whoever set the password; a rotated STAFF_PASSWORD revokes
the staff tokens issued before the restart. And throttling without gaps: package logins count
per package, reset requests per client address (mails to a real SMTP server)."""

from __future__ import annotations

import re

import grpc
import pytest
from aiosmtpd.controller import Controller
from cc_common.testing import metadata
from customercenter.v2 import identity_pb2 as pb
from identity_service.domain.password_reset import ResetPolicy
from identity_service.domain.throttling import LoginLimits

from tests.integration.test_identity_password_mails import Collector, body_of, free_port
from tests.integration.test_identity_service import TIMEOUT, Identity, failure, trailers

LINK = re.compile(r"/password-reset\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
def identity(tmp_path, database_url):
    server = Identity(tmp_path, database_url("identity"), limits=LoginLimits(max_failures_per_account=3))
    yield server
    server.stop()


def set_package_password(identity, password: str, keep_jti: str = "", package_id: str = "pkg_1"):
    request = pb.SetPackagePasswordRequest(package_id=package_id, password=password, keep_jti=keep_jti)
    return identity.stub.SetPackagePassword(request, metadata=identity.service, timeout=TIMEOUT)


def package_login(identity, domain: str, password: str, package_id: str = "pkg_1"):
    request = pb.PackageLoginRequest(domain=domain, package_id=package_id, password=password)
    return identity.stub.PackageLogin(request, metadata=identity.service, timeout=TIMEOUT).login


def test_a_new_package_password_revokes_the_other_sessions_before_the_rpc_returns(identity):
    set_package_password(identity, "package secret 1")
    state = identity.watch()
    own = identity.verifier.verify(identity.tokens.package("pkg_1"))
    third_party = identity.verifier.verify(identity.tokens.package("pkg_1"))
    neighbour = identity.verifier.verify(identity.tokens.package("pkg_2"))

    set_package_password(identity, "package secret 2", keep_jti=own.jti)

    assert state.is_revoked(third_party)
    assert not state.is_revoked(own) and not state.is_revoked(neighbour)
    login = package_login(identity, "a.example", "package secret 2")
    assert login.generation == 1
    assert trailers(failure(lambda: package_login(identity, "a.example", "package secret 1")))[
        "error-code"
    ] == ("invalid_credentials")


def test_a_customer_password_set_by_the_staff_revokes_every_token_of_the_customer(identity):
    identity.set_customer_password("100", "first password")
    state = identity.watch()
    session = identity.verifier.verify(identity.tokens.customer("100"))

    identity.set_customer_password("100", "second password")

    assert state.is_revoked(session)
    fresh = identity.customer_login("100", "second password")
    assert not state.is_revoked(
        identity.verifier.verify(identity.tokens.customer("100", generation=fresh.generation))
    )


def test_identity_itself_refuses_the_old_token_once_the_password_changed(identity):
    identity.set_customer_password("100", "first password")
    old = identity.tokens.customer("100")
    change = pb.ChangeCustomerPasswordRequest(
        current_password="first password", new_password="second password"
    )
    other = identity.tokens.customer("100")
    identity.stub.ChangeCustomerPassword(change, metadata=metadata(other), timeout=TIMEOUT)

    again = pb.ChangeCustomerPasswordRequest(
        current_password="second password", new_password="third password"
    )
    err = failure(
        lambda: (
            identity.stub.ChangeCustomerPassword(again, metadata=metadata(old), timeout=TIMEOUT).revocation
        )
    )

    assert err.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_rotated_staff_password_revokes_the_staff_tokens_issued_before_the_restart(tmp_path, database_url):
    url = database_url("identity")
    first = Identity(tmp_path, url, staff_password="boss-password-1")
    try:
        before = first.tokens.staff("boss")
        first.set_customer_password("100", "first password")  # the staff token works
    finally:
        first.stop()

    second = Identity(tmp_path, url, staff_password="boss-password-2")
    try:
        state = second.watch()
        assert state.is_revoked(second.verifier.verify(before))
        request = pb.SetCustomerPasswordRequest(customer_number="100", password="second password")
        err = failure(
            lambda: second.stub.SetCustomerPassword(request, metadata=metadata(before), timeout=TIMEOUT)
        )
        assert err.code() == grpc.StatusCode.UNAUTHENTICATED
        login = second.stub.StaffLogin(
            pb.StaffLoginRequest(username="boss", password="boss-password-2"),
            metadata=second.service,
            timeout=TIMEOUT,
        ).login
        assert login.generation == 1
    finally:
        second.stop()

    third = Identity(tmp_path, url, staff_password="boss-password-2")  # the same password: nothing revoked
    try:
        login = third.stub.StaffLogin(
            pb.StaffLoginRequest(username="boss", password="boss-password-2"),
            metadata=third.service,
            timeout=TIMEOUT,
        ).login
        assert login.generation == 1
    finally:
        third.stop()


def test_guesses_over_the_domains_of_one_package_lock_that_package(identity):
    set_package_password(identity, "package secret 1")
    for n in range(3):
        err = failure(lambda n=n: package_login(identity, f"site-{n}.example", "wrong guess"))
        assert trailers(err)["error-code"] == "invalid_credentials"

    err = failure(lambda: package_login(identity, "site-99.example", "package secret 1"))

    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert trailers(err)["error-code"] == "too_many_attempts"


# --- reset requests -------------------------------------------------------------------------


@pytest.fixture
def smtp(monkeypatch):
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(controller.port))
    yield collector
    controller.stop()


@pytest.fixture
def mailing_identity(tmp_path, database_url, smtp):
    policy = ResetPolicy(
        ttl_seconds=1800, max_mails_per_hour=3, max_valid_links=3, max_requests_per_address=2
    )
    server = Identity(
        tmp_path, database_url("identity"), public_base_url="https://cc.example", reset_policy=policy
    )
    yield server
    server.stop()


def request_reset(identity, number: str, client_address: str, email: str = "kunde@example.org") -> None:
    request = pb.RequestPasswordResetRequest(
        customer_number=number, email=email, client_address=client_address
    )
    identity.stub.RequestPasswordReset(request, metadata=identity.service, timeout=TIMEOUT)


def test_reset_requests_over_the_limit_of_an_address_send_nothing_and_answer_the_same(mailing_identity, smtp):
    request_reset(mailing_identity, "100", "203.0.113.5", email="")  # an unknown number counts too
    request_reset(mailing_identity, "101", "203.0.113.5", email="a@example.org")
    request_reset(mailing_identity, "102", "203.0.113.5", email="b@example.org")  # over the limit: no error
    request_reset(mailing_identity, "103", "198.51.100.8", email="c@example.org")
    request_reset(mailing_identity, "104", "198.51.100.9", email="d@example.org")  # queued after b's would be

    received = smtp.wait_for(3)
    recipients = sorted(rcpt for envelope in received for rcpt in envelope.rcpt_tos)
    assert recipients == ["a@example.org", "c@example.org", "d@example.org"]


def test_a_second_request_leaves_the_first_link_usable(mailing_identity, smtp):
    mailing_identity.set_customer_password("100", "old password 1")
    request_reset(mailing_identity, "100", "192.0.2.1")
    request_reset(mailing_identity, "100", "203.0.113.66")  # somebody else asks again
    first, second = (LINK.search(body_of(e)).group(1) for e in smtp.wait_for(2))
    assert first != second

    confirm = pb.ConfirmPasswordResetRequest(token=first, new_password="new password 1")
    mailing_identity.stub.ConfirmPasswordReset(confirm, metadata=mailing_identity.service, timeout=TIMEOUT)

    assert mailing_identity.customer_login("100", "new password 1").subject == "customer:100"
    used_up = pb.ConfirmPasswordResetRequest(token=second, new_password="new password 2")
    err = failure(
        lambda: (
            mailing_identity.stub.ConfirmPasswordReset(
                used_up, metadata=mailing_identity.service, timeout=TIMEOUT
            ).revocation
        )
    )
    assert trailers(err)["error-code"] == "invalid_token"
