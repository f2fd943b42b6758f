"""identity-service: logins, second factors, sessions, passwords and revocations."""

from __future__ import annotations

from datetime import datetime

from cc_common.protoconv import enum_value, timestamp, timestamp_from_unix
from customercenter.v2 import common_pb2, identity_pb2_grpc
from customercenter.v2 import identity_pb2 as pb
from flask import request as http_request
from grpc import UnaryUnaryMultiCallable as Rpc

from gateway_app.backends import Backend, Q, R, current_backends
from gateway_app.proxy import client_address
from gateway_app.security import PendingToken

MAX_USER_AGENT = 512


def _stub() -> identity_pb2_grpc.IdentityServiceStub:
    return current_backends().identity.stub


def _call(method: Rpc[Q, R], request: Q, token: str | None = None) -> R:
    return current_backends().identity.invoke(method, request, token=token)


def _market(market: str) -> common_pb2.Market.ValueType:
    return enum_value(common_pb2.Market, market)


def subject_name(subject: str) -> str:
    """The name of a login's subject ("customer:123" -> "123")."""
    return subject.split(":", 1)[-1]


def _session(pending: PendingToken | None) -> pb.SessionStart | None:
    """The token a login will issue, with the client's User-Agent: identity records the session."""
    if pending is None:
        return None
    return pb.SessionStart(
        jti=pending.jti,
        expires_at=timestamp_from_unix(pending.expires_at),
        user_agent=http_request.headers.get("User-Agent", "")[:MAX_USER_AGENT],
    )


# What a staff login answers: what it proves, or (the subject has a second factor) the
# challenge that complete_second_factor takes with the code.
LoginOrChallenge = pb.LoginResult | pb.SecondFactorChallenge


def customer_login(
    customer_number: str, password: str, *, pending: PendingToken | None = None
) -> pb.CustomerLoginResponse:
    """With `pending`, the attempt goes into the login history and a success opens a session.
    The response has `second_factor` set (and no login) when the customer has a second factor."""
    request = pb.CustomerLoginRequest(
        customer_number=customer_number,
        password=password,
        client_address=client_address(),
        session=_session(pending),
    )
    return _call(_stub().CustomerLogin, request)


def package_login(
    domain: str, package_id: str, password: str, *, pending: PendingToken | None = None
) -> pb.LoginResult:
    request = pb.PackageLoginRequest(
        domain=domain,
        package_id=package_id,
        password=password,
        client_address=client_address(),
        session=_session(pending),
    )
    return _call(_stub().PackageLogin, request).login


def staff_login(username: str, password: str, *, pending: PendingToken | None = None) -> LoginOrChallenge:
    request = pb.StaffLoginRequest(
        username=username, password=password, client_address=client_address(), session=_session(pending)
    )
    response = _call(_stub().StaffLogin, request)
    return response.second_factor if response.HasField("second_factor") else response.login


def complete_second_factor(
    challenge: str, code: str, *, pending: PendingToken | None = None
) -> pb.CompleteSecondFactorResponse:
    """The login's second step; with `pending`, identity opens the session of that token."""
    request = pb.CompleteSecondFactorRequest(
        challenge=challenge, code=code, client_address=client_address(), session=_session(pending)
    )
    return _call(_stub().CompleteSecondFactor, request)


def start_second_factor(current_password: str, *, token: str) -> pb.StartSecondFactorResponse:
    request = pb.StartSecondFactorRequest(current_password=current_password, client_address=client_address())
    return _call(_stub().StartSecondFactor, request, token)


def confirm_second_factor(code: str, *, email: str, market: str, language: str = "", token: str) -> list[str]:
    request = pb.ConfirmSecondFactorRequest(code=code, email=email, market=_market(market), language=language)
    return list(_call(_stub().ConfirmSecondFactor, request, token).recovery_codes)


def disable_second_factor(
    current_password: str, code: str, *, email: str, market: str, language: str = "", token: str
) -> None:
    request = pb.DisableSecondFactorRequest(
        current_password=current_password,
        code=code,
        client_address=client_address(),
        email=email,
        market=_market(market),
        language=language,
    )
    _call(_stub().DisableSecondFactor, request, token)


def get_second_factor(*, token: str) -> pb.GetSecondFactorResponse:
    return _call(_stub().GetSecondFactor, pb.GetSecondFactorRequest(), token)


def list_sessions(*, token: str) -> list[pb.Session]:
    return list(_call(_stub().ListSessions, pb.ListSessionsRequest(), token).sessions)


def end_session(session_id: str, *, token: str) -> pb.RevocationResult:
    return _call(_stub().EndSession, pb.EndSessionRequest(session_id=session_id), token).revocation


def end_other_sessions(*, token: str) -> pb.RevocationResult:
    return _call(_stub().EndOtherSessions, pb.EndOtherSessionsRequest(), token).revocation


def list_login_history(*, token: str) -> list[pb.LoginAttempt]:
    return list(_call(_stub().ListLoginHistory, pb.ListLoginHistoryRequest(), token).logins)


def notify_new_device(session_id: str, *, email: str, market: str, language: str = "", token: str) -> None:
    request = pb.NotifyNewDeviceRequest(
        session_id=session_id, email=email, market=_market(market), language=language
    )
    _call(_stub().NotifyNewDevice, request, token)


def touch_sessions(jtis: list[str], *, backend: Backend[identity_pb2_grpc.IdentityServiceStub]) -> None:
    """Marks sessions as used (gateway_app.security.SessionToucher: a thread, outside any request,
    so the backend is passed in), with the gateway's service credential."""
    backend.invoke(backend.stub.TouchSessions, pb.TouchSessionsRequest(jtis=jtis))


def revoke_own_token(*, token: str) -> pb.RevocationResult:
    return _call(_stub().RevokeOwnToken, pb.RevokeOwnTokenRequest(), token).revocation


def revoke_subject(subject: str) -> pb.RevocationResult:
    return _call(_stub().RevokeSubject, pb.RevokeSubjectRequest(subject=subject)).revocation


def request_password_reset(
    customer_number: str, *, email: str, market: str, base_url: str, language: str = ""
) -> None:
    request = pb.RequestPasswordResetRequest(
        customer_number=customer_number,
        email=email,
        market=_market(market),
        language=language,
        base_url=base_url,
        client_address=client_address(),
    )
    _call(_stub().RequestPasswordReset, request)


def confirm_password_reset(reset_token: str, new_password: str) -> pb.RevocationResult:
    request = pb.ConfirmPasswordResetRequest(token=reset_token, new_password=new_password)
    return _call(_stub().ConfirmPasswordReset, request).revocation


def change_customer_password(
    current_password: str, new_password: str, *, email: str, market: str, token: str, language: str = ""
) -> pb.RevocationResult:
    request = pb.ChangeCustomerPasswordRequest(
        current_password=current_password,
        new_password=new_password,
        client_address=client_address(),
        email=email,
        market=_market(market),
        language=language,
    )
    return _call(_stub().ChangeCustomerPassword, request, token).revocation


def set_customer_password(customer_number: str, password: str, *, token: str) -> None:
    request = pb.SetCustomerPasswordRequest(customer_number=customer_number, password=password)
    _call(_stub().SetCustomerPassword, request, token)


def set_package_password(
    package_id: str, password: str, *, keep_jti: str = "", token: str | None = None
) -> None:
    request = pb.SetPackagePasswordRequest(package_id=package_id, password=password, keep_jti=keep_jti)
    _call(_stub().SetPackagePassword, request, token)


def redeem_package_sign_on(jti: str, package_id: str, *, expires_at: datetime) -> pb.LoginResult:
    request = pb.RedeemPackageSignOnRequest(jti=jti, package_id=package_id, expires_at=timestamp(expires_at))
    return _call(_stub().RedeemPackageSignOn, request).login
