"""Credentials and their rules: customer numbers, package passwords, staff accounts.
Plain classes, no SQLAlchemy, no gRPC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cc_common.errors import InvalidInput

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128

ACTIVE = "active"
FROZEN = "frozen"  # during a merge: no changes, logins still allowed
RETIRED = "retired"  # merged into another number: `merged_into` names it
STATUSES = (ACTIVE, FROZEN, RETIRED)


class Hasher(Protocol):
    """Password hashing (argon2id in production, a fake in unit tests)."""

    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def verify_dummy(self, password: str) -> bool:
        """Costs the same as `verify` and is always False: for subjects that do not exist."""
        ...

    def needs_rehash(self, password_hash: str) -> bool: ...


def check_password_policy(password: str, *, field_name: str = "password") -> str:
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise InvalidInput(
            f"A password has {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters.",
            field=field_name,
        )
    return password


def check_package_id(package_id: str) -> str:
    package_id = (package_id or "").strip()
    if not package_id or len(package_id) > 64:
        raise InvalidInput("Name the package.", field="package_id")
    return package_id


def check_username(username: str) -> str:
    username = (username or "").strip()
    if not username or len(username) > 64 or ":" in username:
        raise InvalidInput("A username has 1 to 64 characters and no colon.", field="username")
    return username


def normalise_domain_key(domain: str) -> str:
    """The throttling key of a package login: the domain as the gateway normalised it."""
    return (domain or "").strip().rstrip(".").lower()


@dataclass
class CustomerCredential:
    customer_number: str
    password_hash: str
    status: str = ACTIVE
    merged_into: str | None = None

    @property
    def subject(self) -> str:
        return f"customer:{self.customer_number}"


@dataclass
class PackageCredential:
    package_id: str
    password_hash: str

    @property
    def subject(self) -> str:
        return f"package:{self.package_id}"


@dataclass
class StaffAccount:
    username: str
    password_hash: str

    @property
    def subject(self) -> str:
        return f"staff:{self.username}"


@dataclass(frozen=True)
class LoginResult:
    """What a successful login proves: the token subject and its revocation generation."""

    subject: str
    generation: int
    # The session recorded for the token the gateway issues (domain/sessions.py); "" for none.
    session_id: str = ""
    # The login came from a device the customer had not signed in with before (not the first login).
    new_device: bool = False


@dataclass(frozen=True)
class ChallengeIssued:
    """The password was right, the second factor is still to come: the challenge token that
    CompleteSecondFactor takes (domain/second_factor.py)."""

    challenge: str
