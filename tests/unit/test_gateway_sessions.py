"""The gateway's side of sessions: a login names its token before identity records it, a login
from a new device has the notice sent to the contact address, and used tokens are reported to
identity at most once a minute per worker, off the request's path."""

from __future__ import annotations

import jwt
from cc_common.errors import ServiceUnavailable
from cc_common.protoconv import unix_from_timestamp
from customercenter.v2 import common_pb2, contract_pb2, identity_pb2
from gateway_app.security import SessionToucher

LOGIN = {"customer_number": "100200", "password": "secret-pw"}
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


def test_the_customer_login_names_the_token_identity_records_as_the_session(gateway_client, gateway_backends):
    gateway_backends.identity.on("CustomerLogin", identity_pb2.LoginResult(subject="customer:100200"))
    body = gateway_client.post(
        "/api/v1/auth/customer-login", json=LOGIN, headers={"User-Agent": UA}
    ).get_json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    (call,) = gateway_backends.identity.calls
    assert call.request.session.jti == claims["jti"]
    assert int(unix_from_timestamp(call.request.session.expires_at)) == claims["exp"]
    assert call.request.session.user_agent == UA


def test_a_login_from_a_new_device_has_the_notice_sent_to_the_contact_address(
    gateway_client, gateway_backends
):
    gateway_backends.identity.on(
        "CustomerLogin",
        identity_pb2.CustomerLoginResponse(
            login=identity_pb2.LoginResult(subject="customer:100200"), session_id="ses_1", new_device=True
        ),
    )
    gateway_backends.identity.on("NotifyNewDevice", identity_pb2.NotifyNewDeviceResponse())
    gateway_backends.contract.on(
        "GetCustomer",
        contract_pb2.Customer(customer_number="100200", email="k@example.org", market=common_pb2.MARKET_NL),
    )
    body = gateway_client.post("/api/v1/auth/customer-login", json=LOGIN).get_json()
    notice = gateway_backends.identity.calls[-1]
    assert notice.method == "NotifyNewDevice"
    assert (notice.request.session_id, notice.request.email, notice.request.market) == (
        "ses_1",
        "k@example.org",
        common_pb2.MARKET_NL,
    )
    assert notice.token == body["access_token"]  # the customer's own token, not the service's


def test_the_login_succeeds_when_the_new_device_notice_cannot_be_sent(gateway_client, gateway_backends):
    gateway_backends.identity.on(
        "CustomerLogin",
        identity_pb2.CustomerLoginResponse(
            login=identity_pb2.LoginResult(subject="customer:100200"), new_device=True
        ),
    )
    gateway_backends.contract.on("GetCustomer", ServiceUnavailable("down", extra={"service": "contract"}))
    assert gateway_client.post("/api/v1/auth/customer-login", json=LOGIN).status_code == 200


def test_a_token_is_reported_once_per_interval_in_one_batch():
    sent: list[list[str]] = []
    toucher = SessionToucher(sent.append, interval=60, flush_every=3600)
    for jti in ("b", "a", "b", "a"):
        toucher.seen(jti)
    toucher.flush()
    toucher.seen("a")
    toucher.flush()
    toucher.stop()
    assert sent == [["a", "b"]]


def test_a_token_is_reported_again_after_the_interval():
    sent: list[list[str]] = []
    toucher = SessionToucher(sent.append, interval=0, flush_every=3600)
    toucher.seen("a")
    toucher.flush()
    toucher.seen("a")
    toucher.flush()
    toucher.stop()
    assert sent == [["a"], ["a"]]


def test_a_failed_report_is_dropped_without_an_error():
    def refuse(batch: list[str]) -> None:
        raise ServiceUnavailable("identity is down")

    toucher = SessionToucher(refuse, interval=60, flush_every=3600)
    toucher.seen("a")
    toucher.flush()  # no exception
    toucher.stop()
    assert toucher._pending == set()
