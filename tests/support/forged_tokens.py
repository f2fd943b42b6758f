"""Tokens an attacker could present: tampered, expired, for another audience, `alg: none`,
HS256 signed with the public key, signed by an unknown key. Each must be refused with 401 by
the gateway and with UNAUTHENTICATED by every gRPC service."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from cc_common.config import TokenSettings
from cc_common.testing import TokenFactory
from cc_common.tokens import TokenSigner, ensure_keypair
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(settings: TokenSettings, number: str) -> dict:
    now = int(time.time())
    return {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": f"customer:{number}",
        "kind": "customer",
        "cn": number,
        "gen": 0,
        "jti": "forged",
        "iat": now,
        "exp": now + 600,
    }


def forged_tokens(tokens: TokenFactory, settings: TokenSettings, number: str) -> dict[str, str]:
    """name -> a token for customer `number` that must not be accepted."""
    good = tokens.customer(number)
    head, payload, sig = good.split(".")
    header_none = {"alg": "none", "typ": "JWT", "kid": tokens.user.kid}
    header_hs = {"alg": "HS256", "typ": "JWT", "kid": tokens.user.kid}
    hs_input = (
        f"{_b64(json.dumps(header_hs).encode())}.{_b64(json.dumps(_claims(settings, number)).encode())}"
    )
    hs_sig = hmac.new(settings.public_key_file.read_bytes(), hs_input.encode(), hashlib.sha256).digest()
    key = ensure_keypair(settings.signing_key_file, settings.public_key_file)
    return {
        "tampered": f"{head}.{payload}.{('A' if sig[0] != 'A' else 'B') + sig[1:]}",
        "expired": tokens.user.issue(
            kind="customer", subject=f"customer:{number}", customer_number=number, ttl=-30
        )[0],
        "other_audience": TokenSigner(key, issuer=settings.issuer, audience="another-api", ttl=600).issue(
            kind="customer", subject=f"customer:{number}", customer_number=number
        )[0],
        "alg_none": f"{_b64(json.dumps(header_none).encode())}.{_b64(json.dumps(_claims(settings, number)).encode())}.",
        "hs256_with_public_key": f"{hs_input}.{_b64(hs_sig)}",
        "unknown_key": TokenSigner(
            Ed25519PrivateKey.generate(), issuer=settings.issuer, audience=settings.audience, ttl=600
        ).issue(kind="customer", subject=f"customer:{number}", customer_number=number)[0],
    }
