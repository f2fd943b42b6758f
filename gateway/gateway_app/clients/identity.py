"""identity-service: logins, passwords and revocations (each function returns what its RPC's
<Rpc>Response carries: a LoginResult or a RevocationResult)."""

from __future__ import annotations

from cc_common.protoconv import enum_value
from customercenter.v2 import common_pb2, identity_pb2, identity_pb2_grpc

from gateway_app.backends import Backend, current_backends
from gateway_app.proxy import client_address


def _identity() -> Backend[identity_pb2_grpc.IdentityServiceStub]:
    return current_backends().identity


def _market(market: str) -> common_pb2.Market.ValueType:
    return enum_value(common_pb2.Market, market) if market else common_pb2.MARKET_UNSPECIFIED


def subject_name(subject: str) -> str:
    """The name of a login's subject ("customer:123" -> "123")."""
    return subject.split(":", 1)[1] if ":" in subject else subject


# What a customer or staff login answers: what it proves, or (the subject has a second factor)
# the challenge that complete_second_factor takes with the code.
LoginOrChallenge = identity_pb2.LoginResult | identity_pb2.SecondFactorChallenge


def customer_login(customer_number: str, password: str) -> LoginOrChallenge:
    request = identity_pb2.CustomerLoginRequest(
        customer_number=customer_number, password=password, client_address=client_address()
    )
    response = _identity().invoke(_identity().stub.CustomerLogin, request)
    return response.second_factor if response.HasField("second_factor") else response.login


def package_login(domain: str, package_id: str, password: str) -> identity_pb2.LoginResult:
    request = identity_pb2.PackageLoginRequest(
        domain=domain, package_id=package_id, password=password, client_address=client_address()
    )
    return _identity().invoke(_identity().stub.PackageLogin, request).login


def staff_login(username: str, password: str) -> LoginOrChallenge:
    request = identity_pb2.StaffLoginRequest(
        username=username, password=password, client_address=client_address()
    )
    response = _identity().invoke(_identity().stub.StaffLogin, request)
    return response.second_factor if response.HasField("second_factor") else response.login


def complete_second_factor(challenge: str, code: str) -> identity_pb2.LoginResult:
    request = identity_pb2.CompleteSecondFactorRequest(
        challenge=challenge, code=code, client_address=client_address()
    )
    return _identity().invoke(_identity().stub.CompleteSecondFactor, request).login


def start_second_factor(current_password: str, *, token: str) -> identity_pb2.StartSecondFactorResponse:
    request = identity_pb2.StartSecondFactorRequest(
        current_password=current_password, client_address=client_address()
    )
    return _identity().invoke(_identity().stub.StartSecondFactor, request, token=token)


def confirm_second_factor(code: str, *, email: str, market: str, token: str) -> list[str]:
    request = identity_pb2.ConfirmSecondFactorRequest(code=code, email=email, market=_market(market))
    return list(_identity().invoke(_identity().stub.ConfirmSecondFactor, request, token=token).recovery_codes)


def disable_second_factor(current_password: str, code: str, *, email: str, market: str, token: str) -> None:
    request = identity_pb2.DisableSecondFactorRequest(
        current_password=current_password,
        code=code,
        client_address=client_address(),
        email=email,
        market=_market(market),
    )
    _identity().invoke(_identity().stub.DisableSecondFactor, request, token=token)


def second_factor_status(*, token: str) -> identity_pb2.GetSecondFactorResponse:
    return _identity().invoke(
        _identity().stub.GetSecondFactor, identity_pb2.GetSecondFactorRequest(), token=token
    )


def revoke_own_token(*, token: str) -> identity_pb2.RevocationResult:
    request = identity_pb2.RevokeOwnTokenRequest()
    return _identity().invoke(_identity().stub.RevokeOwnToken, request, token=token).revocation


def revoke_subject(subject: str) -> identity_pb2.RevocationResult:
    request = identity_pb2.RevokeSubjectRequest(subject=subject)
    return _identity().invoke(_identity().stub.RevokeSubject, request).revocation


def request_password_reset(customer_number: str, *, email: str, market: str, base_url: str) -> None:
    request = identity_pb2.RequestPasswordResetRequest(
        customer_number=customer_number,
        email=email,
        market=enum_value(common_pb2.Market, market),
        base_url=base_url,
        client_address=client_address(),
    )
    _identity().invoke(_identity().stub.RequestPasswordReset, request)


def confirm_password_reset(reset_token: str, new_password: str) -> identity_pb2.RevocationResult:
    request = identity_pb2.ConfirmPasswordResetRequest(token=reset_token, new_password=new_password)
    return _identity().invoke(_identity().stub.ConfirmPasswordReset, request).revocation


def change_customer_password(
    current_password: str, new_password: str, *, email: str, market: str, token: str
) -> identity_pb2.RevocationResult:
    request = identity_pb2.ChangeCustomerPasswordRequest(
        current_password=current_password,
        new_password=new_password,
        client_address=client_address(),
        email=email,
        market=enum_value(common_pb2.Market, market),
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
