"""The tokens of single-use links mailed to a customer (password reset, e-mail restore, merge
objection): a random token goes into the link, only its SHA-256 is stored, so a copy of the
database opens no link. One rule for every service that mails such a link."""

from __future__ import annotations

import hashlib
import secrets

MAX_TOKEN_LENGTH = 128  # token_urlsafe(32) has 43 characters


def new_token() -> tuple[str, str]:
    """A fresh token and the hash that is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Worth a look-up at all (a longer value is no token of ours)."""
    return bool(token) and len(token) <= MAX_TOKEN_LENGTH
