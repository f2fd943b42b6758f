"""Contact requests: a customer (or a package login) writes to the service team, optionally
with a signed form as a PDF (the way the forms that need signatures come back online). The
service team answers each one once, by mail to the customer's contact address, in the
customer's language."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime

from cc_common import i18n, notices
from cc_common.errors import Conflict, InvalidInput

MAX_SUBJECT = 200
MAX_MESSAGE = 5000
MAX_FILENAME = 255
MAX_ANSWER = 5000

OPEN = "open"
ANSWERED = "answered"
STATUSES = (OPEN, ANSWERED)


@dataclass(frozen=True)
class ContactRequest:
    id: str
    customer_number: str  # "" for a package login (its token names no customer)
    package_id: str  # "" for a customer login
    subject: str
    message: str
    filename: str  # "" without an attachment
    created_at: datetime
    status: str = OPEN
    answer: str = ""  # the service team's answer as mailed; "" while open
    answered_at: datetime | None = None

    def answered(self, answer: str, at: datetime) -> ContactRequest:
        """This request with its answer; a request is answered once."""
        if self.status == ANSWERED:
            raise Conflict("This contact request has already been answered.", code="already_answered")
        return replace(self, status=ANSWERED, answer=answer, answered_at=at)


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


def check_answer(raw: str) -> str:
    return _text(raw, field="message", limit=MAX_ANSWER, multiline=True)


_ANSWER_SUBJECT = {
    "en": "Our answer to your message: {subject}",
    "de": "Unsere Antwort auf Ihre Nachricht: {subject}",
    "nl": "Ons antwoord op uw bericht: {subject}",
}
_ANSWER_INTRO = {
    "en": "thank you for your message of {day}. Our answer:",
    "de": "vielen Dank für Ihre Nachricht vom {day}. Unsere Antwort:",
    "nl": "hartelijk dank voor uw bericht van {day}. Ons antwoord:",
}


def answer_mail(request: ContactRequest, *, market: str) -> tuple[str, str]:
    """Subject and body of the answer to `request`, in the market's language: the greeting, a
    line naming the message it answers, the answer, and the signature."""
    language = i18n.language_for(market)
    subject = _ANSWER_SUBJECT[language].format(subject=request.subject)
    intro = _ANSWER_INTRO[language].format(day=i18n.day(request.created_at.date(), language))
    return subject, notices.letter(language, f"{intro}\n\n{request.answer}")
