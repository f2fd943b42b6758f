"""Customer numbers: 1 to 20 ASCII digits (digits of other scripts, such as "١٢٣", are not)."""

from __future__ import annotations

import re

from cc_common.errors import InvalidInput

MAX_DIGITS = 20
PATTERN = f"^[0-9]{{1,{MAX_DIGITS}}}$"  # as a JSON schema pattern
_NUMBER = re.compile(f"[0-9]{{1,{MAX_DIGITS}}}\\Z")


def is_customer_number(value: object) -> bool:
    """True for a string of 1 to 20 ASCII digits, exactly (no surrounding space)."""
    return isinstance(value, str) and bool(_NUMBER.match(value))


def check_customer_number(raw: str, *, field_name: str = "customer_number") -> str:
    """The number without surrounding space; InvalidInput on `field_name` when it is empty or
    not 1 to 20 ASCII digits."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput("Please name the customer number.", field=field_name)
    if not is_customer_number(text):
        raise InvalidInput(f"A customer number consists of 1 to {MAX_DIGITS} digits.", field=field_name)
    return text
