# ruff: noqa: F811 - the fixtures of test_gateway_selfservice are imported, then requested by name
"""Re-authentication for the e-mail change and the e-mail restore link at the gateway, against
fake backends: which calls are made, in which order, and what each wrong input answers."""

from __future__ import annotations

import pytest
from cc_common.errors import Conflict, TooManyAttempts, Unauthenticated
from customercenter.v2 import common_pb2, identity_pb2

from tests.unit.test_gateway_selfservice import CUSTOMER, backends, call, error, tokens  # noqa: F401 - fixtures

LOGIN = identity_pb2.LoginResult(subject="customer:100", generation=0)


def methods(service) -> list[str]:
    return [c.method for c in service.calls]


def test_a_new_email_without_current_password_answers_422_and_changes_nothing(call, backends):
    response = call("PATCH", "/api/v1/customer", json={"email": "new@example.org"})
    assert response.status_code == 422
    assert error(response)["code"] == "invalid_input" and error(response)["field"] == "current_password"
    assert "UpdateCustomer" not in methods(backends.contract) and backends.identity.calls == []


def test_a_new_email_with_a_wrong_current_password_answers_401_and_changes_nothing(call, backends):
    backends.identity.on("CustomerLogin", Unauthenticated("wrong", code="invalid_credentials"))
    response = call(
        "PATCH", "/api/v1/customer", json={"email": "new@example.org", "current_password": "guess"}
    )
    assert response.status_code == 401
    assert error(response)["code"] == "invalid_credentials" and error(response)["field"] == "current_password"
    assert "UpdateCustomer" not in methods(backends.contract)


def test_repeated_wrong_current_passwords_answer_429_like_a_login(call, backends):
    backends.identity.on("CustomerLogin", TooManyAttempts("Too many failed logins.", retry_after=120))
    response = call(
        "PATCH", "/api/v1/customer", json={"email": "new@example.org", "current_password": "guess"}
    )
    assert response.status_code == 429 and response.headers["Retry-After"] == "120"
    assert "UpdateCustomer" not in methods(backends.contract)


def test_the_current_password_is_checked_for_the_tokens_own_number_before_the_change(call, backends):
    backends.identity.on("CustomerLogin", LOGIN)
    response = call(
        "PATCH",
        "/api/v1/customer",
        json={"email": "new@example.org", "current_password": "demo-password", "city": "Bonn"},
    )
    assert response.status_code == 200
    (login,) = backends.identity.calls
    assert (login.method, login.request.customer_number, login.request.password) == (
        "CustomerLogin",
        "100",
        "demo-password",
    )
    update = backends.contract.calls[-1]
    assert update.method == "UpdateCustomer" and update.request.email == "new@example.org"
    assert "current_password" not in update.request.DESCRIPTOR.fields_by_name


def test_the_unchanged_email_needs_no_password_and_is_not_sent_as_a_change(call, backends):
    response = call(
        "PATCH", "/api/v1/customer", json={"email": f"  {CUSTOMER.email.upper()} ", "city": "Bonn"}
    )
    assert response.status_code == 200
    update = backends.contract.calls[-1]
    assert update.method == "UpdateCustomer" and not update.request.HasField("email")
    assert update.request.city == "Bonn" and backends.identity.calls == []


def test_other_fields_need_no_password(call, backends):
    assert call("PATCH", "/api/v1/customer", json={"city": "Bonn"}).status_code == 200
    assert backends.identity.calls == []


def test_the_restore_link_answers_204_and_ends_every_session_of_the_customer(call, backends):
    backends.contract.on("RestoreCustomerEmail", CUSTOMER)
    response = call("POST", "/api/v1/customer/email-restore", kind=None, json={"token": "t" * 43})
    assert response.status_code == 204
    assert backends.contract.calls[-1].request.token == "t" * 43
    (revoke,) = backends.identity.calls
    assert revoke.method == "RevokeSubject" and revoke.request.subject == "customer:100"
    assert revoke.request.keep_jti == ""


def test_a_used_or_unknown_restore_link_answers_400_invalid_token_and_ends_no_session(call, backends):
    backends.contract.on("RestoreCustomerEmail", Unauthenticated("gone", code="invalid_token"))
    response = call("POST", "/api/v1/customer/email-restore", kind=None, json={"token": "used"})
    assert response.status_code == 400 and error(response)["code"] == "invalid_token"
    assert backends.identity.calls == []


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": 5}, {"token": "x" * 600}])
def test_a_malformed_restore_request_answers_422(body, call, backends):
    response = call("POST", "/api/v1/customer/email-restore", kind=None, json=body)
    assert response.status_code == 422 and error(response)["field"] == "token"
    assert backends.contract.calls == []


def test_a_frozen_customer_cannot_restore_now(call, backends):
    backends.contract.on("RestoreCustomerEmail", Conflict("frozen", code="customer_not_active"))
    response = call("POST", "/api/v1/customer/email-restore", kind=None, json={"token": "t"})
    assert response.status_code == 409 and error(response)["code"] == "customer_not_active"


def test_a_password_change_hands_identity_the_contact_address_and_market(call, backends):
    response = call(
        "PUT",
        "/api/v1/customer/password",
        json={"current_password": "old-pass", "new_password": "new-password-1"},
    )
    assert response.status_code == 204
    change = backends.identity.calls[-1]
    assert change.method == "ChangeCustomerPassword"
    assert (change.request.email, change.request.market) == (CUSTOMER.email, common_pb2.MARKET_DE)


def test_a_reset_request_hands_identity_the_market_for_the_notice_language(call, backends):
    assert (
        call("POST", "/api/v1/auth/password-reset", kind=None, json={"customer_number": "100"}).status_code
        == 202
    )
    reset = backends.identity.calls[-1]
    assert reset.method == "RequestPasswordReset" and reset.request.market == common_pb2.MARKET_DE
