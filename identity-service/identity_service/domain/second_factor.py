"""The second factor of a login: a TOTP secret (RFC 6238, 30-second steps, six digits, as
authenticator apps use it) and ten single-use recovery codes. Plain rules, no SQLAlchemy.

- The secret is shown once, at enrolment (with its otpauth:// URI); an RPC never returns it
  again. It is stored as the base32 text the app got (identity holds no key to encrypt it
  with; the database's own protection applies, as for the password hashes).
- A TOTP code is accepted for the current step and one step either side (clock drift), and
  only for a step later than the last one used: a code seen by somebody else cannot be
  replayed within its window.
- Recovery codes are 100-bit random values; only their SHA-256 is stored (a hash such as
  argon2 is for guessable passwords, not for values this long), each is spent once.
- A challenge (the password was right, the code is still to come) is a random token; only
  its SHA-256 is stored, it lives `CHALLENGE_TTL_SECONDS` and is spent by the login it
  completes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

import pyotp
from cc_common.errors import InvalidInput

ISSUER = "Customer Center"
STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # one step before and after the current one
RECOVERY_CODES = 10
RECOVERY_CODE_BYTES = 13  # 104 bits -> 21 base32 characters, shown as 4 groups
CHALLENGE_TTL_SECONDS = 300
MIN_SECRET_CHARACTERS = 32  # 160 bits of base32, the length RFC 4226 recommends

# How a login was completed (services.login_completed names it).
PASSWORD = "password"
SECOND_FACTOR = "second_factor"
RECOVERY_CODE = "recovery_code"


def new_secret() -> str:
    return pyotp.random_base32(length=MIN_SECRET_CHARACTERS)


def check_secret(secret: str, *, field_name: str = "secret") -> str:
    """A base32 TOTP secret of at least 160 bits (upper case, no padding)."""
    value = (secret or "").strip().replace(" ", "").upper().rstrip("=")
    try:
        base64.b32decode(value + "=" * (-len(value) % 8))
    except (binascii.Error, ValueError):
        raise InvalidInput("A TOTP secret is base32 text.", field=field_name) from None
    if len(value) < MIN_SECRET_CHARACTERS:
        raise InvalidInput(
            f"A TOTP secret has at least {MIN_SECRET_CHARACTERS} base32 characters.", field=field_name
        )
    return value


def otpauth_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER
    )


def time_step(now: float) -> int:
    return int(now // STEP_SECONDS)


def normalise_code(code: str) -> str:
    """What the person typed, without spaces and hyphens, in lower case."""
    return "".join(ch for ch in (code or "") if ch not in " -\t").lower()


def looks_like_totp(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, *, now: float, last_used_step: int) -> int | None:
    """The time step `code` belongs to (within the drift), when it is later than
    `last_used_step`; None otherwise. Every candidate is compared, in constant time."""
    if not looks_like_totp(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = time_step(now)
    found: int | None = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and step > last_used_step:
            found = step
    return found


def new_recovery_codes() -> list[str]:
    """Ten codes such as "k7q2x-mf3ab-9zt4p-wd6ns-c" (lower-case base32 in groups of five)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode().rstrip("=").lower()
        codes.append("-".join(raw[i : i + 5] for i in range(0, len(raw), 5)))
    return codes


def hash_code(code: str) -> str:
    """The stored form of a recovery code (normalised first) or of a challenge."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_challenge() -> tuple[str, str]:
    """A challenge token and its SHA-256 (only the hash is stored)."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def hash_challenge(token: str) -> str:
    return hashlib.sha256((token or "").strip().encode()).hexdigest()


@dataclass
class SecondFactor:
    """The second factor of one subject ("customer:<number>" or "staff:<username>")."""

    subject: str
    secret: str
    active: bool = False
    last_used_step: int = 0
    recovery_hashes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Challenge:
    challenge_hash: str
    subject: str
    expires_at: float

    def usable(self, now: float) -> bool:
        return now < self.expires_at
