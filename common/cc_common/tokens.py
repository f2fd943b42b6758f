"""JWTs: Ed25519 keys with a `kid`, signing, and strict verification.

The gateway's signing key makes user tokens (kinds customer, package, staff; audience
JWT_AUDIENCE). Each calling service (cc_common.config.SERVICE_CALLERS: gateway, merge, contract,
package) has a key pair of its own for its internal service credential (kind service, subject
`service:<name>`, audience SERVICE_AUDIENCE). A verifier knows which kinds each key may sign and,
for a service key, the one subject it may claim: a user token never passes as a service
credential, and a token signed with the gateway's service key claiming `service:merge` is
refused, so each RPC can name the services it accepts (`@rpc(..., "service:merge")`).

Verification: the `kid` must name a trusted key, the algorithm allow-list is exactly EdDSA
(so `alg: none` and HS256-signed-with-the-public-key fail), and iss, aud, exp, iat, sub, jti
and kind are required.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cc_common.config import TokenSettings, UnsafeSettings, is_production
from cc_common.errors import Unauthenticated

ALGORITHMS = ["EdDSA"]
USER_KINDS = frozenset({"customer", "package", "staff"})
SERVICE_KINDS = frozenset({"service"})
ALL_KINDS = USER_KINDS | SERVICE_KINDS


# --- keys -------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The JWK of a public key, with its RFC 7638 thumbprint as `kid`."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = _b64url(hashlib.sha256(canonical).digest())
    return {**members, "kid": kid, "alg": "EdDSA", "use": "sig"}


def key_id(public_key: Ed25519PublicKey) -> str:
    return public_jwk(public_key)["kid"]


def public_path_for(private_path: Path) -> Path:
    name = private_path.name
    stem = name[: -len(".pem")] if name.endswith(".pem") else name
    return private_path.with_name(stem + ".pub.pem")


def ensure_keypair(private_path: Path, public_path: Path | None = None) -> Ed25519PrivateKey:
    """Loads the private key, generating it (and its public half) on first use outside
    production. With APP_ENV=production no key is ever generated: a missing file is refused."""
    public_path = public_path or public_path_for(private_path)
    if is_production() and not (private_path.is_file() and public_path.is_file()):
        missing = private_path if not private_path.is_file() else public_path
        raise UnsafeSettings(f"{missing} does not exist: keys are never generated with APP_ENV=production")
    if not private_path.exists():
        private_path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = private_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        os.replace(tmp, private_path)  # atomic: two processes starting at once agree on a key
    key = load_private_key(private_path)
    if not public_path.exists():
        public_path.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise RuntimeError(f"{path} is not an Ed25519 public key")
    return key


def ensure_all_keys(settings: TokenSettings) -> None:
    """Creates every missing key pair: the user token key and one per calling service
    (`make keys`, the compose `keys` job, tests). Refused with APP_ENV=production."""
    ensure_keypair(settings.signing_key_file, settings.public_key_file)
    for files in settings.service_keys:
        ensure_keypair(files.private, files.public)


# --- principals -------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """Who is calling, as proven by a verified token."""

    kind: str  # customer, package, staff, service
    subject: str  # "customer:<number>", "package:<id>", "staff:<name>", "service:<name>"
    jti: str
    generation: int
    expires_at: int
    issued_at: int
    customer_number: str | None = None  # customer tokens only: the customer's own number
    package_id: str | None = None  # package tokens only
    token: str = ""  # the raw token, to forward to the next service

    @property
    def name(self) -> str:
        return self.subject.split(":", 1)[1] if ":" in self.subject else self.subject


class RevocationCheck(Protocol):
    def is_revoked(self, principal: Principal) -> bool: ...


# --- signing ----------------------------------------------------------------------------


class TokenSigner:
    """Issues tokens with one private key."""

    def __init__(self, private_key: Ed25519PrivateKey, *, issuer: str, audience: str, ttl: int):
        self._key = private_key
        self.kid = key_id(private_key.public_key())
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl

    def issue(
        self,
        *,
        kind: str,
        subject: str,
        generation: int = 0,
        customer_number: str | None = None,
        package_id: str | None = None,
        ttl: int | None = None,
        jti: str | None = None,
        issued_at: int | None = None,
    ) -> tuple[str, dict[str, object]]:
        """A signed token and its claims. `jti` and `issued_at` are chosen by the caller when it
        had to name the token before issuing it (the gateway's logins record its session first)."""
        now = int(time.time()) if issued_at is None else issued_at
        claims: dict[str, object] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "kind": kind,
            "gen": generation,
            "jti": jti or uuid.uuid4().hex,
            "iat": now,
            "exp": now + (ttl if ttl is not None else self.ttl),
        }
        if customer_number:
            if kind != "customer":
                raise ValueError("only a customer token carries a customer number")
            claims["cn"] = customer_number
        if package_id:
            claims["pkg"] = package_id
        token = jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.kid})
        return token, claims


class ServiceCredential:
    """The internal credential of one process: a short-lived service token, renewed early."""

    def __init__(self, signer: TokenSigner, name: str, ttl: int = 300):
        self._signer = signer
        self._name = name
        self._ttl = ttl
        self._lock = threading.Lock()
        self._token = ""
        self._renew_at = 0.0

    @classmethod
    def from_settings(cls, settings: TokenSettings, name: str) -> ServiceCredential:
        """The credential `service:<name>`, signed with that service's own key."""
        files = settings.service_key(name)
        key = ensure_keypair(files.private, files.public)
        signer = TokenSigner(key, issuer=settings.issuer, audience=settings.service_audience, ttl=300)
        return cls(signer, name)

    def token(self) -> str:
        now = time.time()
        if now >= self._renew_at:
            with self._lock:
                if now >= self._renew_at:
                    self._token, _ = self._signer.issue(
                        kind="service", subject=f"service:{self._name}", ttl=self._ttl
                    )
                    self._renew_at = now + self._ttl / 2
        return self._token


# --- verification -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedKey:
    public_key: Ed25519PublicKey
    audience: str
    kinds: frozenset[str]
    # A service key may sign for this one subject only ("service:gateway"); None: any subject.
    subject: str | None = None


class TokenVerifier:
    """Verifies tokens; caches verified signatures by token (revocation is checked every time)."""

    def __init__(
        self,
        keys: Iterable[TrustedKey],
        *,
        issuer: str,
        revocation: RevocationCheck | None = None,
        cache_size: int = 8192,
    ) -> None:
        self._keys = {key_id(k.public_key): k for k in keys}
        self._issuer = issuer
        self._revocation = revocation
        self._cache: OrderedDict[str, Principal] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: TokenSettings, *, revocation: RevocationCheck | None = None
    ) -> TokenVerifier:
        keys = [
            TrustedKey(load_public_key(settings.public_key_file), settings.audience, USER_KINDS),
            *(
                TrustedKey(
                    load_public_key(files.public),
                    settings.service_audience,
                    SERVICE_KINDS,
                    subject=files.subject,
                )
                for files in settings.service_keys
            ),
        ]
        return cls(keys, issuer=settings.issuer, revocation=revocation)

    def set_revocation(self, revocation: RevocationCheck | None) -> None:
        self._revocation = revocation

    def jwks(self, kinds: frozenset[str] = USER_KINDS) -> dict[str, list[dict[str, str]]]:
        return {"keys": [public_jwk(k.public_key) for k in self._keys.values() if k.kinds & kinds]}

    def verify(self, token: str) -> Principal:
        principal = self._cached(token)
        if principal is None:
            principal = self._verify_signature(token)
            with self._lock:
                self._cache[token] = principal
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        if self._revocation is not None and self._revocation.is_revoked(principal):
            raise Unauthenticated("This token has been revoked. Please sign in again.")
        return principal

    def _cached(self, token: str) -> Principal | None:
        with self._lock:
            principal = self._cache.get(token)
        if principal is None:
            return None
        if principal.expires_at <= time.time():
            with self._lock:
                self._cache.pop(token, None)
            raise Unauthenticated("The token has expired. Please sign in again.")
        return principal

    def _verify_signature(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("The token is malformed.") from exc
        trusted = self._keys.get(str(header.get("kid", "")))
        if trusted is None or header.get("alg") not in ALGORITHMS:
            raise Unauthenticated("The token is not signed by a trusted key.")
        try:
            claims = jwt.decode(
                token,
                trusted.public_key,
                algorithms=ALGORITHMS,
                audience=trusted.audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The token has expired. Please sign in again.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("The token is invalid.") from exc
        kind = claims.get("kind")
        if kind not in trusted.kinds:
            raise Unauthenticated("The token is invalid.")
        if trusted.subject is not None and claims.get("sub") != trusted.subject:
            raise Unauthenticated("The token is invalid.")  # e.g. the gateway's key claiming merge
        try:
            return Principal(
                kind=str(kind),
                subject=str(claims["sub"]),
                jti=str(claims["jti"]),
                generation=int(claims.get("gen", 0)),
                expires_at=int(claims["exp"]),
                issued_at=int(claims["iat"]),
                # Only a customer token names a customer number (a package token's password
                # may be held by a third party; a stray `cn` in one is ignored).
                customer_number=str(claims["cn"]) if claims.get("cn") and kind == "customer" else None,
                package_id=str(claims["pkg"]) if claims.get("pkg") else None,
                token=token,
            )
        except (TypeError, ValueError) as exc:
            raise Unauthenticated("The token is invalid.") from exc
