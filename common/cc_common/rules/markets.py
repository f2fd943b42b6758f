"""The markets and the currency each bills in: contract-service keeps the rest of a market
(contract_service/domain/model.py: address country, phone region, VAT); the gateway documents
which currency an invoice or an offer may have."""

from __future__ import annotations

CURRENCY_OF = {"de": "EUR", "nl": "EUR", "uk": "GBP"}
MARKETS = tuple(CURRENCY_OF)
CURRENCIES = tuple(dict.fromkeys(CURRENCY_OF.values()))  # EUR, GBP
