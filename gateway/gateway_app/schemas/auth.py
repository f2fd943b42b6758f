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
    omitted,
    text,
)

TOKEN_KINDS = Literal["customer", "package", "staff"]


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
    kind: TOKEN_KINDS
    package_id: str = omitted()
    EXAMPLE: ClassVar = {
        "access_token": "eyJhbGciOiJFZERTQSJ9...",
        "token_type": "Bearer",
        "expires_in": 3600,
        "kind": "customer",
    }


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
