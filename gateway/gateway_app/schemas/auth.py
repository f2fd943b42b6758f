"""Logins, tokens, password resets and the signing keys (/api/v1/auth/..., /.well-known/jwks.json)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from gateway_app.schemas import (
    Answer,
    Body,
    CustomerNumber,
    Domain,
    LinkToken,
    NewPassword,
    Password,
    TokenKind,
    omitted,
    text,
)


class CustomerLogin(Body):
    customer_number: CustomerNumber
    password: Password
    EXAMPLE: ClassVar = {"customer_number": "10001", "password": "correct horse battery"}


class PackageLogin(Body):
    domain: Domain
    password: Password
    EXAMPLE: ClassVar = {"domain": "example.com", "password": "package secret"}


class StaffLogin(Body):
    username: text(min_len=1)
    password: Password
    EXAMPLE: ClassVar = {"username": "erika.service", "password": "staff secret"}


class Token(Answer):
    """A bearer token (package logins also name their package_id)"""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    kind: TokenKind
    package_id: str = omitted()
    EXAMPLE: ClassVar = {"access_token": "eyJhbGciOiJFZERTQSJ9...", "expires_in": 3600}


class PasswordResetRequest(Body):
    customer_number: CustomerNumber
    EXAMPLE: ClassVar = {"customer_number": "10001"}


class PasswordResetAccepted(Answer):
    """Always for a well-formed number (no enumeration); a mail goes out only for a known number with an e-mail address"""

    message: str
    EXAMPLE: ClassVar = {
        "message": "If this customer number exists and has an e-mail address, a link is on its way."
    }


class PasswordResetConfirm(Body):
    token: LinkToken
    new_password: NewPassword
    EXAMPLE: ClassVar = {"token": "k3yFr0mTh3M41l", "new_password": "a new long password"}


class PasswordChange(Body):
    current_password: Password
    new_password: NewPassword
    EXAMPLE: ClassVar = {"current_password": "correct horse battery", "new_password": "a new long password"}


class Jwks(Answer):
    """A JWK set: the public keys that sign user tokens"""

    keys: list[dict[str, Any]]
    EXAMPLE: ClassVar = {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "kid": "user-1",
                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            }
        ]
    }


# --- second factor ---------------------------------------------------------------------------

# A six-digit TOTP code or a recovery code such as "k7q2x-mf3ab-9zt4p-wd6ns-c" (spaces and
# hyphens are ignored).
SecondFactorCode = text(min_len=1, max_len=64)


class SecondFactorRequired(Answer):
    """The password is right; the login needs the second factor: POST /api/v1/auth/second-factor with this challenge (single use, 5 minutes)"""

    second_factor_required: Literal[True]
    challenge: str
    EXAMPLE: ClassVar = {"challenge": "pQ3v8rXy2D1lK0aB7cN9eF4gH6iJ5mO"}


class SecondFactorLogin(Body):
    challenge: LinkToken
    code: SecondFactorCode
    EXAMPLE: ClassVar = {"challenge": "pQ3v8rXy2D1lK0aB7cN9eF4gH6iJ5mO", "code": "123456"}


class SecondFactorStart(Body):
    current_password: Password
    EXAMPLE: ClassVar = {"current_password": "correct horse battery"}


class SecondFactorEnrolment(Answer):
    """The new TOTP secret (base32) and its otpauth:// URI for an authenticator app; shown this once, not active until confirmed"""

    secret: str
    otpauth_uri: str
    EXAMPLE: ClassVar = {
        "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        "otpauth_uri": "otpauth://totp/Customer%20Center:10001?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Customer%20Center",
    }


class SecondFactorConfirm(Body):
    code: SecondFactorCode
    EXAMPLE: ClassVar = {"code": "123456"}


class RecoveryCodes(Answer):
    """Ten single-use recovery codes, shown this once; from now on every login needs the second factor"""

    recovery_codes: list[str]
    EXAMPLE: ClassVar = {"recovery_codes": ["k7q2x-mf3ab-9zt4p-wd6ns-c", "..."]}


class SecondFactorDisable(Body):
    current_password: Password
    code: SecondFactorCode
    EXAMPLE: ClassVar = {"current_password": "correct horse battery", "code": "123456"}
