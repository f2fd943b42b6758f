"""The product codes of the catalogue, smallest first. package-service keeps the catalogue
itself (package_service/domain/catalogue.py: limits, prices, other spellings); the gateway
documents and accepts exactly these codes where a request names a product."""

from __future__ import annotations

CODES = ("hosting-basic", "hosting-plus", "hosting-pro", "server-dedicated")
