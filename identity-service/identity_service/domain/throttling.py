"""Throttling of failed logins: per account and per client address, kept in the database so
it holds across restarts and across several replicas of identity-service.

Every failed login counts against two keys: the account (the customer number, the package of
a package login whichever of its domains was typed, or the staff username, in lower case) and
the client address the gateway saw. Unknown accounts count exactly like known ones, so a
lockout says nothing about whether an account exists. When a key reaches its limit within the window it is locked for
the lockout time; while any key of an attempt is locked the attempt is refused with
TooManyAttempts(retry_after=<seconds left>) *before* the password is checked. A successful
login resets the account's counter (not the address's: one valid account must not let an
address reset its own counter between guesses).

Limits, from the environment (read in `bootstrap.Settings.from_env`):

    LOGIN_MAX_FAILURES_PER_ACCOUNT   failures of one account within the window   (default 5)
    LOGIN_MAX_FAILURES_PER_ADDRESS   failures from one client address            (default 20)
    LOGIN_FAILURE_WINDOW_SECONDS     the window the failures are counted in      (default 900)
    LOGIN_LOCKOUT_SECONDS            how long a key stays locked at its limit    (default 300)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Throttling scopes: one per kind of account, and the client address.
CUSTOMER = "customer"
PACKAGE = "package"
STAFF = "staff"
ADDRESS = "address"

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class LoginLimits:
    max_failures_per_account: int = 5
    max_failures_per_address: int = 20
    window_seconds: int = 900
    lockout_seconds: int = 300
    # How long the challenge of a right password waits for its second factor (single use).
    challenge_ttl_seconds: int = 300

    def max_failures(self, scope: str) -> int:
        return self.max_failures_per_address if scope == ADDRESS else self.max_failures_per_account


@dataclass(frozen=True)
class ThrottleKey:
    scope: str
    key: str


def package_account(package_id: str, domain: str) -> str:
    """The account key of a package login: its package, so a package with 100 domains gets the
    guesses of one; for a domain that resolved to no package, the normalised domain (its own
    count, exactly like a package's). The prefixes keep the two kinds of key apart."""
    return f"id:{package_id}" if package_id else f"domain:{domain}"


def keys_for(scope: str, account: str, client_address: str) -> list[ThrottleKey]:
    """The keys one attempt counts against: the account always, the address when known.
    Account keys come first (a fixed lock order avoids deadlocks between attempts)."""
    keys = [ThrottleKey(scope, account[:MAX_KEY_LENGTH])]
    address = (client_address or "").strip()
    if address:
        keys.append(ThrottleKey(ADDRESS, address[:MAX_KEY_LENGTH]))
    return keys


@dataclass
class FailureRecord:
    """The failed attempts of one key."""

    failures: int = 0
    window_started_at: float = 0.0
    locked_until: float = 0.0

    def seconds_locked(self, now: float) -> int:
        return math.ceil(self.locked_until - now) if self.locked_until > now else 0

    def register_failure(self, now: float, *, max_failures: int, limits: LoginLimits) -> None:
        if now - self.window_started_at >= limits.window_seconds:
            self.failures = 0
            self.window_started_at = now
        self.failures += 1
        if self.failures >= max_failures:
            self.locked_until = now + limits.lockout_seconds
            self.failures = 0
            self.window_started_at = now

    def is_stale(self, now: float, limits: LoginLimits) -> bool:
        """Nothing left to remember: not locked, and the window is over."""
        return self.locked_until <= now and now - self.window_started_at >= limits.window_seconds
