"""Logins, tokens, password resets and the signing keys (/api/v1/auth/..., /.well-known/jwks.json)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from gateway_app.schemas import Answer, Body, fields, omitted


class CustomerLogin(Body):
    customer_number: fields.CustomerNumber
    password: fields.Password


class PackageLogin(Body):
    domain: fields.Domain
    password: fields.Password
    EXAMPLE: ClassVar = {"domain": "example.com", "password": "package secret"}


class StaffLogin(Body):
    username: fields.text(min_len=1)
    password: fields.Password
    EXAMPLE: ClassVar = {"username": "erika.service", "password": "staff secret"}


class Token(Answer):
    """A bearer token (package logins also name their package_id)"""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    kind: fields.TokenKind
    package_id: str = omitted()
    EXAMPLE: ClassVar = {"access_token": "eyJhbGciOiJFZERTQSJ9...", "expires_in": 3600}


class PasswordResetRequest(Body):
    customer_number: fields.CustomerNumber


class PasswordResetAccepted(Answer):
    """Always for a well-formed number (no enumeration); a mail goes out only for a known number with an e-mail address"""

    message: str
    EXAMPLE: ClassVar = {"message": "If this customer number exists and has an e-mail address, a link is on its way."}  # fmt: skip


class PasswordResetConfirm(Body):
    token: fields.LinkToken
    new_password: fields.NewPassword
    EXAMPLE: ClassVar = {"token": "k3yFr0mTh3M41l"}


class PasswordChange(Body):
    current_password: fields.Password
    new_password: fields.NewPassword


class Jwks(Answer):
    """A JWK set: the public keys that sign user tokens"""

    keys: list[dict[str, Any]]
    EXAMPLE: ClassVar = {
        "keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "user-1", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]
    }  # fmt: skip


# --- second factor ---------------------------------------------------------------------------

# A six-digit TOTP code or a recovery code such as "k7q2x-mf3ab-9zt4p-wd6ns-c" (spaces and
# hyphens are ignored).
SecondFactorCode = fields.text(min_len=1, max_len=64)


class SecondFactorRequired(Answer):
    """The password is right; the login needs the second factor: POST /api/v1/auth/second-factor with this challenge (single use, 5 minutes)"""

    second_factor_required: Literal[True]
    challenge: str
    EXAMPLE: ClassVar = {"challenge": "pQ3v8rXy2D1lK0aB7cN9eF4gH6iJ5mO"}


class SecondFactorLogin(Body):
    challenge: fields.LinkToken
    code: SecondFactorCode
    EXAMPLE: ClassVar = {"challenge": "pQ3v8rXy2D1lK0aB7cN9eF4gH6iJ5mO"}


class SecondFactorStart(Body):
    current_password: fields.Password


class SecondFactorEnrolment(Answer):
    """The new TOTP secret (base32) and its otpauth:// URI for an authenticator app; shown this once, not active until confirmed"""

    secret: str
    otpauth_uri: str
    EXAMPLE: ClassVar = {
        "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        "otpauth_uri": "otpauth://totp/Customer%20Center:10001?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Customer%20Center",
    }  # fmt: skip


class SecondFactorConfirm(Body):
    code: SecondFactorCode


class RecoveryCodes(Answer):
    """Ten single-use recovery codes, shown this once; from now on every login needs the second factor"""

    recovery_codes: list[str]
    EXAMPLE: ClassVar = {"recovery_codes": ["k7q2x-mf3ab-9zt4p-wd6ns-c", "..."]}


class SecondFactorDisable(Body):
    current_password: fields.Password
    code: SecondFactorCode
