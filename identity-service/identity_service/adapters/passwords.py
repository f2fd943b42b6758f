"""argon2id password hashing (argon2-cffi) with the suite's parameters."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane (~34 ms a hash on our machines).
MEMORY_COST_KIB = 19456
TIME_COST = 2
PARALLELISM = 1


class Argon2Hasher:
    """Hashes and verifies passwords. Verification compares in constant time (argon2 does)."""

    def __init__(self) -> None:
        self._ph = PasswordHasher(memory_cost=MEMORY_COST_KIB, time_cost=TIME_COST, parallelism=PARALLELISM)
        # A hash of a random password nobody knows, with the same parameters as the real ones:
        # checking it for a subject that does not exist costs what a real check costs, so the
        # answer's timing does not tell whether a customer number or account exists.
        self._dummy = self._ph.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._ph.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> bool:
        self.verify(self._dummy, password)
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._ph.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
