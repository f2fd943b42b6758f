"""Card numbers (primary account numbers, ISO/IEC 7812): never accepted, stored or logged.

A card number is 8 to 19 digits whose last digit is a Luhn check digit; the cards in use
have 12 (Maestro) to 19 digits. The rules built on that:

- `is_card_number`: a value that is nothing but 12 to 19 digits (spaces or dashes between
  them allowed) is a card number, whatever its check digit: a mistyped card number
  is still one, and no other payment field (IBAN, BIC, last four digits, expiry) ever is.
  12, not 13: a 12-digit Maestro number must be refused like any other.
- `hides_card_number`: for a free-text value such as a provider's card token, also 8 to 19
  bare digits that pass the Luhn check, and a run of 12 to 19 digits inside the text that
  passes it (`tok_4111111111111111`).
- `card_number_runs`: the runs of 12 to 19 digits in a text that pass the Luhn check, e.g.
  to mask them in a log line. The check keeps other long numbers (ids, timestamps) apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

MIN_DIGITS = 12
MAX_DIGITS = 19
MIN_PAN_DIGITS = 8  # the shortest primary account number ISO/IEC 7812 allows

_BARE = re.compile(r"[0-9 -]+\Z")
# A run of 12 to 19 digits, maybe grouped, not part of a longer run of digits.
_RUN = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){11,18}(?![0-9])")
_SEPARATORS = re.compile(r"[ -]")

# The payment fields a card number could be typed into, in the order they are checked: the
# card token (free text) first, then the structured ones.
PAYMENT_FIELDS = ("card_token", "card_last4", "card_expiry", "iban", "bic")
FREE_TEXT_FIELDS = frozenset({"card_token"})


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check over a string of ASCII digits: every second digit from the
    right doubled (minus 9 when above 9), the sum divisible by 10."""
    total = 0
    for index, ch in enumerate(reversed(digits)):
        value = int(ch)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _bare_digits(value: str) -> str | None:
    text = value.strip()
    return _SEPARATORS.sub("", text) if _BARE.match(text) else None


def is_card_number(value: str) -> bool:
    """True for a value of nothing but 12 to 19 digits (spaces or dashes between them)."""
    digits = _bare_digits(value or "")
    return digits is not None and MIN_DIGITS <= len(digits) <= MAX_DIGITS


def card_number_runs(text: str) -> Iterator[re.Match[str]]:
    """The runs of 12 to 19 digits (maybe grouped) in `text` that pass the Luhn check."""
    for match in _RUN.finditer(text or ""):
        if luhn_valid(_SEPARATORS.sub("", match.group(0))):
            yield match


def hides_card_number(value: str) -> bool:
    """`is_card_number`, or 8 to 19 bare digits passing the Luhn check, or a Luhn-valid run of
    12 to 19 digits anywhere in the value: for free text such as a card token."""
    if is_card_number(value):
        return True
    digits = _bare_digits(value or "")
    if digits is not None and MIN_PAN_DIGITS <= len(digits) <= MAX_DIGITS and luhn_valid(digits):
        return True
    return next(card_number_runs(value), None) is not None


def holds_card_number(field_name: str, value: str) -> bool:
    """Whether a payment field's value is (or hides) a card number: `hides_card_number` for the
    card token, `is_card_number` for the others, whose digit runs (an IBAN's) may pass the Luhn
    check by chance."""
    return hides_card_number(value) if field_name in FREE_TEXT_FIELDS else is_card_number(value)


def field_with_card_number(payment: Mapping[str, str]) -> str | None:
    """The first of `PAYMENT_FIELDS` whose value holds a card number; None when none does."""
    return next((name for name in PAYMENT_FIELDS if holds_card_number(name, payment.get(name) or "")), None)
