"""Card payment providers behind contract_service.domain.direct_debit.CardPayments.

Only a test adapter exists: it moves no money and says so in its name and in every reference
it hands out. A production deployment must configure a real provider's adapter (the settings
refuse the test adapter with APP_ENV=production)."""

from __future__ import annotations

import uuid

from contract_service.domain.direct_debit import ChargeResult

# Test tokens with this ending are declined, like the card networks' own test cards.
DECLINED_SUFFIX = "_declined"


class TestCardPayments:
    """A stand-in provider for development and tests. NOT A PAYMENT PROVIDER: nothing is charged.
    Approves every token but those ending in "_declined"."""

    name = "test adapter (no money moves)"
    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.charges: list[tuple[str, int, str, str]] = []

    def charge(self, *, token: str, amount_cents: int, currency: str, reference: str) -> ChargeResult:
        if token.endswith(DECLINED_SUFFIX):
            return ChargeResult(approved=False, reason="The card was declined (test adapter).")
        self.charges.append((token, amount_cents, currency, reference))
        return ChargeResult(approved=True, reference=f"test-{uuid.uuid4().hex[:16]}")
