"""Security notices over real gRPC against real databases (SQLite and PostgreSQL), delivered by
the outbox dispatchers to a real SMTP server: contract-service tells the old address about an
e-mail change with a link whose token restores it once, and tells the contact address about a
payment change; identity-service tells the address it was handed about a password change."""

from __future__ import annotations

import email
import email.policy
import re

import grpc
import pytest
from cc_common.testing import ServerThread, TokenFactory, metadata, token_settings_in
from contract_service.bootstrap import Settings, create_server
from customercenter.v2 import common_pb2, contract_pb2, contract_pb2_grpc
from customercenter.v2 import identity_pb2 as pb

from tests.integration.test_identity_password_mails import identity, smtp  # noqa: F401 - fixtures
from tests.integration.test_identity_service import TIMEOUT

BASE = "https://cc.example"
LINK = re.compile(r"https://cc\.example/email-restore\?token=([A-Za-z0-9_-]+)")


def body_of(envelope) -> str:
    return email.message_from_bytes(envelope.content, policy=email.policy.default).get_content()


def subject_of(envelope) -> str:
    return str(email.message_from_bytes(envelope.content, policy=email.policy.default)["Subject"])


@pytest.fixture
def contract(tmp_path, database_url, smtp):  # noqa: F811 - the smtp fixture
    tokens = token_settings_in(tmp_path)
    settings = Settings(
        database_url=database_url("contract"), listen="127.0.0.1:0", tokens=tokens, public_base_url=BASE
    )
    thread = ServerThread(lambda: create_server("127.0.0.1:0", settings)).start()
    channel = grpc.insecure_channel(thread.address)
    stub = contract_pb2_grpc.ContractServiceStub(channel)
    factory = TokenFactory(tokens)
    stub.CreateCustomer(
        contract_pb2.CreateCustomerRequest(
            customer_number="100", market=common_pb2.MARKET_NL, first_name="Sanne", last_name="de Vries",
            street="Keizersgracht 12", zip="1015 CX", city="Amsterdam", email="sanne@example.nl",
        ),
        metadata=metadata(factory.staff()), timeout=TIMEOUT,
    )  # fmt: skip
    yield stub, factory
    channel.close()
    thread.stop()


def test_an_email_change_mails_the_old_address_a_link_that_restores_it_once(contract, smtp):  # noqa: F811
    stub, tokens = contract
    customer = metadata(tokens.customer("100"))
    changed = stub.UpdateCustomer(
        contract_pb2.UpdateCustomerRequest(email="mallory@evil.example"), metadata=customer, timeout=TIMEOUT
    ).customer
    assert changed.email == "mallory@evil.example"
    (envelope,) = smtp.wait_for(1)
    assert envelope.rcpt_tos == ["sanne@example.nl"]
    assert subject_of(envelope) == "Uw contact-e-mailadres is gewijzigd"
    text = body_of(envelope)
    assert "m***@evil.example" in text and "mallory" not in envelope.content.decode("utf-8", "replace")
    (token,) = LINK.findall(text)

    # Anyone holding the link asks through the gateway: a customer token may not call it.
    with pytest.raises(grpc.RpcError) as refused:
        stub.RestoreCustomerEmail(
            contract_pb2.RestoreCustomerEmailRequest(token=token), metadata=customer, timeout=TIMEOUT
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    service = metadata(tokens.service())
    restored = stub.RestoreCustomerEmail(
        contract_pb2.RestoreCustomerEmailRequest(token=token), metadata=service, timeout=TIMEOUT
    ).customer
    assert (restored.customer_number, restored.email) == ("100", "sanne@example.nl")
    assert stub.GetCustomer(
        contract_pb2.GetCustomerRequest(), metadata=customer, timeout=TIMEOUT
    ).customer.email == ("sanne@example.nl")
    with pytest.raises(grpc.RpcError) as used:
        stub.RestoreCustomerEmail(
            contract_pb2.RestoreCustomerEmailRequest(token=token), metadata=service, timeout=TIMEOUT
        )
    assert used.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert dict(used.value.trailing_metadata())["error-code"] == "invalid_token"
    assert len(smtp.envelopes) == 1  # a restore sends nothing further


def test_a_payment_change_mails_the_contact_address_the_masked_iban(contract, smtp):  # noqa: F811
    stub, tokens = contract
    stub.SetPayment(
        contract_pb2.SetPaymentRequest(
            payment=contract_pb2.PaymentInput(iban="NL91ABNA0417164300", bic="ABNANL2A")
        ),
        metadata=metadata(tokens.customer("100")),
        timeout=TIMEOUT,
    )
    (envelope,) = smtp.wait_for(1)
    assert envelope.rcpt_tos == ["sanne@example.nl"]
    text = body_of(envelope)
    assert "NL91 **** **** **43 00" in text and "NL91ABNA0417164300" not in text


def test_a_password_change_mails_the_address_handed_to_identity(identity, smtp):  # noqa: F811
    identity.stub.SetCustomerPassword(
        pb.SetCustomerPasswordRequest(customer_number="100", password="old-password-1"),
        metadata=metadata(identity.tokens.staff()),
        timeout=TIMEOUT,
    )
    token = identity.tokens.customer("100")
    identity.stub.ChangeCustomerPassword(
        pb.ChangeCustomerPasswordRequest(
            current_password="old-password-1",
            new_password="new-password-2",
            email="kunde@example.org",
            market=common_pb2.MARKET_UK,
        ),
        metadata=metadata(token),
        timeout=TIMEOUT,
    )
    (envelope,) = smtp.wait_for(1)
    assert envelope.rcpt_tos == ["kunde@example.org"]
    assert subject_of(envelope) == "Your customer password was changed"
    assert b"new-password-2" not in envelope.content
