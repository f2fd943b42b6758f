"""The login pages' second step and the customer area's two-factor section, with fake
backends: what identity answers, what the pages show and send on."""

from __future__ import annotations

from customercenter.v2 import identity_pb2

from tests.unit.test_web_pages import CUSTOMER, csrf_of, form_token, set_cookies

CHALLENGE = identity_pb2.SecondFactorChallenge(challenge="ch-123")


def test_the_staff_login_asks_for_the_code_and_then_opens_the_queue(gateway_client, gateway_backends):
    gateway_backends.identity.on("StaffLogin", CHALLENGE)
    gateway_backends.identity.on(
        "CompleteSecondFactor",
        identity_pb2.CompleteSecondFactorResponse(login=identity_pb2.LoginResult(subject="staff:anna")),
    )
    token = form_token(gateway_client, "/staff/login")
    step = gateway_client.post(
        "/staff/login", data={"csrf_token": token, "username": "anna", "password": "pw"}
    )
    assert step.status_code == 200
    assert "cc_session" not in set_cookies(step)
    html = step.get_data(as_text=True)
    assert 'name="challenge" value="ch-123"' in html and 'action="/staff/login/second-factor"' in html
    done = gateway_client.post(
        "/staff/login/second-factor",
        data={"csrf_token": csrf_of(step), "challenge": "ch-123", "code": "123 456"},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/staff/merges"
    assert "cc_session" in set_cookies(done)
    sent = gateway_backends.identity.calls[-1].request
    assert (sent.challenge, sent.code) == ("ch-123", "123 456")


def test_a_recovery_code_is_sent_when_the_code_field_is_empty(gateway_client, gateway_backends):
    gateway_backends.identity.on(
        "CompleteSecondFactor",
        identity_pb2.CompleteSecondFactorResponse(login=identity_pb2.LoginResult(subject="customer:1001")),
    )
    gateway_backends.contract.on("GetCustomer", CUSTOMER)  # the language the pages follow
    token = form_token(gateway_client, "/login")
    done = gateway_client.post(
        "/login/second-factor",
        data={"csrf_token": token, "challenge": "ch-1", "code": "", "recovery_code": "abcde-fghij"},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/customer"
    assert gateway_backends.identity.calls[-1].request.code == "abcde-fghij"


def test_a_staff_challenge_does_not_open_a_customer_session(gateway_client, gateway_backends):
    gateway_backends.identity.on(
        "CompleteSecondFactor",
        identity_pb2.CompleteSecondFactorResponse(login=identity_pb2.LoginResult(subject="staff:anna")),
    )
    token = form_token(gateway_client, "/login")
    refused = gateway_client.post(
        "/login/second-factor", data={"csrf_token": token, "challenge": "c", "code": "1"}
    )
    assert refused.status_code == 401
    assert "cc_session" not in set_cookies(refused)


def test_the_second_factor_page_of_a_customer_without_one_offers_to_set_it_up(
    gateway_client, gateway_tokens, gateway_backends
):
    gateway_client.set_cookie("cc_session", gateway_tokens.customer("1001"))
    gateway_backends.identity.on("GetSecondFactor", identity_pb2.GetSecondFactorResponse())
    page = gateway_client.get("/customer/second-factor?lang=nl")
    assert page.status_code == 200
    assert "Tweestapsverificatie is uitgeschakeld." in page.get_data(as_text=True)
