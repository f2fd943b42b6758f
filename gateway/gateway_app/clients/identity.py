"""identity-service: logins, passwords and revocations (each function returns what its RPC's
<Rpc>Response carries: a LoginResult or a RevocationResult)."""

from __future__ import annotations

from datetime import datetime

from cc_common.protoconv import enum_value, timestamp, timestamp_from_unix
from customercenter.v2 import common_pb2, identity_pb2, identity_pb2_grpc
from flask import request as http_request

from gateway_app.backends import Backend, current_backends
from gateway_app.proxy import client_address
from gateway_app.security import PendingToken

MAX_USER_AGENT = 512


def _identity() -> Backend[identity_pb2_grpc.IdentityServiceStub]:
    return current_backends().identity


def _market(market: str) -> common_pb2.Market.ValueType:
    return enum_value(common_pb2.Market, market) if market else common_pb2.MARKET_UNSPECIFIED


def subject_name(subject: str) -> str:
    """The name of a login's subject ("customer:123" -> "123")."""
    return subject.split(":", 1)[1] if ":" in subject else subject


def _session(pending: PendingToken | None) -> identity_pb2.SessionStart | None:
    """The token a login will issue, with the client's User-Agent: identity records the session."""
    if pending is None:
        return None
    return identity_pb2.SessionStart(
        jti=pending.jti,
        expires_at=timestamp_from_unix(pending.expires_at),
        user_agent=http_request.headers.get("User-Agent", "")[:MAX_USER_AGENT],
    )


# What a staff login answers: what it proves, or (the subject has a second factor) the
# challenge that complete_second_factor takes with the code.
LoginOrChallenge = identity_pb2.LoginResult | identity_pb2.SecondFactorChallenge


def customer_login(
    customer_number: str, password: str, *, pending: PendingToken | None = None
) -> identity_pb2.CustomerLoginResponse:
    """With `pending`, the attempt goes into the login history and a success opens a session.
    The response has `second_factor` set (and no login) when the customer has a second factor."""
    request = identity_pb2.CustomerLoginRequest(
        customer_number=customer_number,
        password=password,
        client_address=client_address(),
        session=_session(pending),
    )
    return _identity().invoke(_identity().stub.CustomerLogin, request)


def package_login(
    domain: str, package_id: str, password: str, *, pending: PendingToken | None = None
) -> identity_pb2.LoginResult:
    request = identity_pb2.PackageLoginRequest(
        domain=domain,
        package_id=package_id,
        password=password,
        client_address=client_address(),
        session=_session(pending),
    )
    return _identity().invoke(_identity().stub.PackageLogin, request).login


def staff_login(username: str, password: str, *, pending: PendingToken | None = None) -> LoginOrChallenge:
    request = identity_pb2.StaffLoginRequest(
        username=username, password=password, client_address=client_address(), session=_session(pending)
    )
    response = _identity().invoke(_identity().stub.StaffLogin, request)
    return response.second_factor if response.HasField("second_factor") else response.login


def complete_second_factor(
    challenge: str, code: str, *, pending: PendingToken | None = None
) -> identity_pb2.CompleteSecondFactorResponse:
    """The login's second step; with `pending`, identity opens the session of that token."""
    request = identity_pb2.CompleteSecondFactorRequest(
        challenge=challenge, code=code, client_address=client_address(), session=_session(pending)
    )
    return _identity().invoke(_identity().stub.CompleteSecondFactor, request)


def start_second_factor(current_password: str, *, token: str) -> identity_pb2.StartSecondFactorResponse:
    request = identity_pb2.StartSecondFactorRequest(
        current_password=current_password, client_address=client_address()
    )
    return _identity().invoke(_identity().stub.StartSecondFactor, request, token=token)


def confirm_second_factor(code: str, *, email: str, market: str, language: str = "", token: str) -> list[str]:
    request = identity_pb2.ConfirmSecondFactorRequest(
        code=code, email=email, market=_market(market), language=language
    )
    return list(_identity().invoke(_identity().stub.ConfirmSecondFactor, request, token=token).recovery_codes)


def disable_second_factor(
    current_password: str, code: str, *, email: str, market: str, language: str = "", token: str
) -> None:
    request = identity_pb2.DisableSecondFactorRequest(
        current_password=current_password,
        code=code,
        client_address=client_address(),
        email=email,
        market=_market(market),
        language=language,
    )
    _identity().invoke(_identity().stub.DisableSecondFactor, request, token=token)


def second_factor_status(*, token: str) -> identity_pb2.GetSecondFactorResponse:
    return _identity().invoke(
        _identity().stub.GetSecondFactor, identity_pb2.GetSecondFactorRequest(), token=token
    )


def list_sessions(*, token: str) -> list[identity_pb2.Session]:
    request = identity_pb2.ListSessionsRequest()
    return list(_identity().invoke(_identity().stub.ListSessions, request, token=token).sessions)


def end_session(session_id: str, *, token: str) -> identity_pb2.RevocationResult:
    request = identity_pb2.EndSessionRequest(session_id=session_id)
    return _identity().invoke(_identity().stub.EndSession, request, token=token).revocation


def end_other_sessions(*, token: str) -> identity_pb2.RevocationResult:
    request = identity_pb2.EndOtherSessionsRequest()
    return _identity().invoke(_identity().stub.EndOtherSessions, request, token=token).revocation


def login_history(*, token: str) -> list[identity_pb2.LoginAttempt]:
    request = identity_pb2.ListLoginHistoryRequest()
    return list(_identity().invoke(_identity().stub.ListLoginHistory, request, token=token).logins)


def notify_new_device(session_id: str, *, email: str, market: str, language: str = "", token: str) -> None:
    request = identity_pb2.NotifyNewDeviceRequest(
        session_id=session_id, email=email, market=enum_value(common_pb2.Market, market), language=language
    )
    _identity().invoke(_identity().stub.NotifyNewDevice, request, token=token)


def touch_sessions(jtis: list[str], *, backend: Backend[identity_pb2_grpc.IdentityServiceStub]) -> None:
    """Marks sessions as used (gateway_app.security.SessionToucher: a thread, outside any request,
    so the backend is passed in), with the gateway's service credential."""
    backend.invoke(backend.stub.TouchSessions, identity_pb2.TouchSessionsRequest(jtis=jtis))


def revoke_own_token(*, token: str) -> identity_pb2.RevocationResult:
    request = identity_pb2.RevokeOwnTokenRequest()
    return _identity().invoke(_identity().stub.RevokeOwnToken, request, token=token).revocation


def revoke_subject(subject: str) -> identity_pb2.RevocationResult:
    request = identity_pb2.RevokeSubjectRequest(subject=subject)
    return _identity().invoke(_identity().stub.RevokeSubject, request).revocation


def request_password_reset(
    customer_number: str, *, email: str, market: str, base_url: str, language: str = ""
) -> None:
    request = identity_pb2.RequestPasswordResetRequest(
        customer_number=customer_number,
        email=email,
        market=enum_value(common_pb2.Market, market),
        language=language,
        base_url=base_url,
        client_address=client_address(),
    )
    _identity().invoke(_identity().stub.RequestPasswordReset, request)


def confirm_password_reset(reset_token: str, new_password: str) -> identity_pb2.RevocationResult:
    request = identity_pb2.ConfirmPasswordResetRequest(token=reset_token, new_password=new_password)
    return _identity().invoke(_identity().stub.ConfirmPasswordReset, request).revocation


def change_customer_password(
    current_password: str, new_password: str, *, email: str, market: str, token: str, language: str = ""
) -> identity_pb2.RevocationResult:
    request = identity_pb2.ChangeCustomerPasswordRequest(
        current_password=current_password,
        new_password=new_password,
        client_address=client_address(),
        email=email,
        market=enum_value(common_pb2.Market, market),
        language=language,
    )
    return _identity().invoke(_identity().stub.ChangeCustomerPassword, request, token=token).revocation


def set_customer_password(customer_number: str, password: str, *, token: str) -> None:
    request = identity_pb2.SetCustomerPasswordRequest(customer_number=customer_number, password=password)
    _identity().invoke(_identity().stub.SetCustomerPassword, request, token=token)


def set_package_password(
    package_id: str, password: str, *, keep_jti: str = "", token: str | None = None
) -> None:
    request = identity_pb2.SetPackagePasswordRequest(
        package_id=package_id, password=password, keep_jti=keep_jti
    )
    _identity().invoke(_identity().stub.SetPackagePassword, request, token=token)


def redeem_package_sign_on(jti: str, package_id: str, *, expires_at: datetime) -> identity_pb2.LoginResult:
    request = identity_pb2.RedeemPackageSignOnRequest(
        jti=jti, package_id=package_id, expires_at=timestamp(expires_at)
    )
    return _identity().invoke(_identity().stub.RedeemPackageSignOn, request).login
