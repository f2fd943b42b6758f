"""Contact requests: a customer (or a package login) writes to the service team, optionally
with a signed form as a PDF (the way the forms that need signatures come back online)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from cc_common.errors import InvalidInput

MAX_SUBJECT = 200
MAX_MESSAGE = 5000
MAX_FILENAME = 255


@dataclass(frozen=True)
class ContactRequest:
    id: str
    customer_number: str  # "" for a package login (its token names no customer)
    package_id: str  # "" for a customer login
    subject: str
    message: str
    filename: str  # "" without an attachment
    created_at: datetime


def _text(raw: str, *, field: str, limit: int, multiline: bool) -> str:
    """The text without surrounding space; refused when empty, too long, or holding control
    characters (other than line breaks and tabs in a message) or lone surrogates."""
    text = (raw or "").strip()
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    allowed = "\n\t" if multiline else ""
    if any((unicodedata.category(c) in ("Cc", "Cs") and c not in allowed) for c in text):
        raise InvalidInput(f"The {field} holds characters that cannot be written.", field=field)
    if not text:
        raise InvalidInput(f"Please write a {field}.", field=field)
    if len(text) > limit:
        raise InvalidInput(f"The {field} has at most {limit} characters.", field=field)
    return text


def check_subject(raw: str) -> str:
    return _text(raw, field="subject", limit=MAX_SUBJECT, multiline=False)


def check_message(raw: str) -> str:
    return _text(raw, field="message", limit=MAX_MESSAGE, multiline=True)


def check_filename(raw: str) -> str:
    """A file name to show and offer on download: the last path part, printable, at most 255."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cs"))
    return name[:MAX_FILENAME] or "attachment.pdf"
