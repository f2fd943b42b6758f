"""Password change and "forgot password" over real gRPC against a real database, with reset
mails delivered by the outbox dispatcher to a real SMTP server (aiosmtpd on a free port)."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time

import grpc
import pytest
from aiosmtpd.controller import Controller
from cc_common.testing import metadata
from customercenter.v2 import common_pb2
from customercenter.v2 import identity_pb2 as pb

from tests.integration.test_identity_service import TIMEOUT, Identity, failure, trailers

BASE = "https://cc.example"
LINK = re.compile(r"https://cc\.example/password-reset\?token=([A-Za-z0-9_-]+)")


class Collector:
    """An aiosmtpd handler that keeps every envelope it receives."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10) -> list:
        deadline = time.monotonic() + timeout
        while len(self.envelopes) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.envelopes)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    # The server process finds its mail server like in production: SMTP_HOST / SMTP_PORT.
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(controller.port))
    yield collector
    controller.stop()


@pytest.fixture
def identity(tmp_path, database_url, smtp):
    server = Identity(tmp_path, database_url("identity"), public_base_url=BASE)
    yield server
    server.stop()


def body_of(envelope) -> str:
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    return message.get_body(("plain",)).get_content()


def request_reset(identity, number: str, address: str, base_url: str = "") -> None:
    request = pb.RequestPasswordResetRequest(customer_number=number, email=address, base_url=base_url)
    identity.stub.RequestPasswordReset(request, metadata=identity.service, timeout=TIMEOUT)


def confirm(identity, token: str, password: str):
    request = pb.ConfirmPasswordResetRequest(token=token, new_password=password)
    return identity.stub.ConfirmPasswordReset(request, metadata=identity.service, timeout=TIMEOUT).revocation


def test_a_reset_mails_one_link_whose_token_sets_the_password_once_and_kills_every_token(identity, smtp):
    identity.set_customer_password("100", "old password 1")
    state = identity.watch()
    before = identity.verifier.verify(identity.tokens.customer("100"))

    request_reset(identity, "100", "kunde@example.org")

    (envelope,) = smtp.wait_for(1)
    assert envelope.rcpt_tos == ["kunde@example.org"]
    (token,) = LINK.findall(body_of(envelope))
    confirm(identity, token, "new password 1")

    assert state.is_revoked(before)
    assert identity.customer_login("100", "new password 1").generation == 1
    again = failure(lambda: confirm(identity, token, "other password 1"))
    assert again.code() == grpc.StatusCode.UNAUTHENTICATED
    assert trailers(again)["error-code"] == "invalid_token"
    assert again.details() == "The link is invalid or has expired. Please request a new one."
    assert identity.customer_login("100", "new password 1").subject == "customer:100"
    # The used link is told to the address it went to (a notice without a link); a dispatcher
    # round later, and one more run of it here, nothing is left to send: the link went once.
    link_mail, notice = smtp.wait_for(2)
    assert notice.rcpt_tos == ["kunde@example.org"] and LINK.findall(body_of(notice)) == []
    time.sleep(identity.runtime.dispatcher.interval)
    assert identity.runtime.dispatcher.run_once() == 0
    assert len(smtp.envelopes) == 2


def test_an_unknown_or_retired_number_gets_no_mail_and_a_number_without_password_gets_its_first(
    identity, smtp
):

    identity.set_customer_password("300", "retired password")
    retire = pb.IdentityServiceSetCustomerStatusRequest(
        merge_id="mrg_1",
        customer_numbers=["300"],
        status=common_pb2.CUSTOMER_STATUS_RETIRED,
        merged_into="400",
    )
    identity.stub.SetCustomerStatus(
        retire, metadata=metadata(identity.tokens.service("merge")), timeout=TIMEOUT
    )

    request_reset(identity, "999", "")  # unknown: the gateway found no e-mail address
    request_reset(identity, "300", "retired@example.org")
    request_reset(identity, "4711", "new@example.org")  # a number without a password sets one this way

    envelopes = smtp.wait_for(1)
    # The wanted mail, asked for last, has arrived; a mail of the earlier requests would have been
    # due as early, and a run of the dispatcher here finds nothing left to send.
    assert identity.runtime.dispatcher.run_once() == 0
    assert [e.rcpt_tos for e in smtp.envelopes] == [["new@example.org"]] == [e.rcpt_tos for e in envelopes]
    (token,) = LINK.findall(body_of(envelopes[0]))
    confirm(identity, token, "first password")
    assert identity.customer_login("4711", "first password").subject == "customer:4711"


def test_the_link_starts_with_the_configured_base_whatever_base_the_request_names(identity, smtp):
    request_reset(identity, "100", "kunde@example.org", base_url="https://attacker.example")

    body = body_of(smtp.wait_for(1)[0])

    assert "attacker" not in body
    (token,) = LINK.findall(body)
    confirm(identity, token, "new password 1")


def test_a_new_password_outside_the_policy_leaves_the_token_usable(identity, smtp):
    request_reset(identity, "100", "kunde@example.org")
    (token,) = LINK.findall(body_of(smtp.wait_for(1)[0]))

    err = failure(lambda: confirm(identity, token, "short"))

    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailers(err)["error-field"] == "new_password"
    confirm(identity, token, "long enough 1")


def test_a_password_change_kills_every_other_token_and_keeps_the_current_one(identity):
    identity.set_customer_password("100", "old password 1")
    state = identity.watch()
    current_token = identity.tokens.customer("100")
    current = identity.verifier.verify(current_token)
    other = identity.verifier.verify(identity.tokens.customer("100"))
    change = pb.ChangeCustomerPasswordRequest(
        current_password="old password 1", new_password="new password 1"
    )

    result = identity.stub.ChangeCustomerPassword(
        change, metadata=metadata(current_token), timeout=TIMEOUT
    ).revocation

    assert state.sequence >= result.sequence > 0
    assert state.is_revoked(other)
    assert not state.is_revoked(current)
    assert identity.customer_login("100", "new password 1").subject == "customer:100"
    assert trailers(failure(lambda: identity.customer_login("100", "old password 1")))["error-code"] == (
        "invalid_credentials"
    )


def test_a_wrong_current_password_is_invalid_credentials_and_changes_nothing(identity):
    identity.set_customer_password("100", "old password 1")
    change = pb.ChangeCustomerPasswordRequest(
        current_password="wrong password", new_password="new password 1"
    )
    customer = metadata(identity.tokens.customer("100"))

    err = failure(
        lambda: identity.stub.ChangeCustomerPassword(change, metadata=customer, timeout=TIMEOUT).revocation
    )

    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    assert trailers(err)["error-code"] == "invalid_credentials"
    assert identity.customer_login("100", "old password 1").subject == "customer:100"


def test_only_a_customer_token_may_change_a_customer_password(identity):
    change = pb.ChangeCustomerPasswordRequest(
        current_password="old password 1", new_password="new password 1"
    )
    err = failure(
        lambda: (
            identity.stub.ChangeCustomerPassword(
                change, metadata=identity.service, timeout=TIMEOUT
            ).revocation
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
