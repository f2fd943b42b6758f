"""Domain names, in the one form every process stores and compares them.

The rule: surrounding space and one trailing dot (the root) are dropped; the name is encoded
with IDNA (a Unicode name becomes its punycode `xn--` form) and lower-cased; the encoded name
has at most 253 characters and at least two labels; every label has 1 to 63 letters, digits
or hyphens and neither starts nor ends with a hyphen; the top-level label is not all digits
(so an IPv4 address such as 192.168.0.1 is no domain name).
"""

from __future__ import annotations

import re

from cc_common.errors import InvalidInput

MAX_LENGTH = 253
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")


def normalise_domain(raw: object, *, field_name: str = "domain") -> str:
    """`raw` as stored: IDNA (punycode), lower case, without the trailing dot.

    InvalidInput on `field_name` for anything that is no domain name by the rule above (a value
    that is no string, too, as a JSON body may hold one)."""
    if not isinstance(raw, str):
        raise InvalidInput(f"{field_name} must be a string.", field=field_name)
    name = raw.strip()
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise InvalidInput("Please enter a domain name, e.g. example.com.", field=field_name)
    invalid = InvalidInput(
        f"This is not a valid domain name (at most {MAX_LENGTH} characters), e.g. example.com.",
        field=field_name,
    )
    if len(name) > MAX_LENGTH:  # before encoding: bounds the work on a long value
        raise invalid
    try:
        ascii_name = name.encode("idna").decode("ascii").lower()
    except UnicodeError:  # an empty or overlong label, a character IDNA does not allow
        raise invalid from None
    labels = ascii_name.split(".")
    if (
        len(ascii_name) > MAX_LENGTH
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise invalid
    return ascii_name
