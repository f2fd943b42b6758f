"""The merge rules of each market, as data (docs/architecture.md, "Markets").

`blocking`: fields that refuse the merge online when they differ (a signed contract-transfer
form is the legal proof). `highlighted`: fields that are shown in colour when they differ;
"take over data" keeps the target's (the kept number's) values.
"""

from __future__ import annotations

from types import MappingProxyType

MARKET_POLICY = MappingProxyType(
    {
        # Germany: bank account and bank code are only highlighted.
        "de": {
            "blocking": ("company", "first_name", "last_name"),
            "highlighted": ("street", "zip", "city", "phone", "mobile", "email", "iban", "bic"),
        },
        # Netherlands: IBAN and BIC refuse the merge.
        "nl": {
            "blocking": ("company", "first_name", "last_name", "iban", "bic"),
            "highlighted": ("street", "zip", "city", "phone", "mobile", "email"),
        },
        # United Kingdom: credit card details refuse the merge.
        "uk": {
            "blocking": ("company", "first_name", "last_name", "card"),
            "highlighted": ("street", "zip", "city", "phone", "mobile", "email"),
        },
    }
)

# Fields whose values are payment data: masked wherever they are shown.
PAYMENT_FIELDS = frozenset({"iban", "card"})
