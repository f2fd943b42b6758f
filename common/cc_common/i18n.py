"""The customer's language, and amounts, dates and percentages written the way it writes them.

Three languages: German, Dutch and English. A customer's language is the one it chose (its
preference, stored by contract-service) or else the one of its market (de German, nl Dutch, uk
English; anything else English): `customer_language`, the one function every mail and PDF
asks. Numbers and dates are formatted by Babel
with the language's locale (de_DE, nl_NL, en_GB), so a German invoice says `12.345,67 €`, a
Dutch one `€ 12.345,67` and an English one `£12,345.67`. Every process that writes to a
customer (mails, PDFs) uses these functions, so the rules live here once. Texts are translated
with gettext catalogues kept as .po files next to the code that writes them (`translations`).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_percent
from babel.support import Translations

LANGUAGES = ("de", "nl", "en")
DEFAULT_LANGUAGE = "en"
_LANGUAGE_OF_MARKET = {"de": "de", "nl": "nl", "uk": "en", "gb": "en"}
_LOCALE = {"de": "de_DE", "nl": "nl_NL", "en": "en_GB"}


def language_for(market: str) -> str:
    """The language of a market ("de" -> "de", "uk" -> "en"); English for anything else."""
    return _LANGUAGE_OF_MARKET.get((market or "").strip().lower(), DEFAULT_LANGUAGE)


def customer_language(market: str, preference: str | None = "") -> str:
    """The language to write to a customer in: its preference (one of LANGUAGES) when it has
    one, else the language of its market. A preference that is not one of LANGUAGES (empty,
    None: "by market") counts as none."""
    chosen = (preference or "").strip().lower()
    return chosen if chosen in LANGUAGES else language_for(market)


def check_language(language: str) -> str:
    """One of LANGUAGES; anything else is English."""
    language = (language or "").strip().lower()
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def locale_for(language: str) -> str:
    return _LOCALE[check_language(language)]


def money(cents: int, currency: str, language: str) -> str:
    """1234567 cents EUR -> "12.345,67 €" (de), "€ 12.345,67" (nl), "€12,345.67" (en); the
    spaces are no-break spaces."""
    return format_currency(Decimal(cents) / 100, currency, locale=locale_for(language))


def day(value: date, language: str) -> str:
    """A calendar day in the language's medium form: "02.12.2026", "2 dec 2026", "2 Dec 2026"."""
    return format_date(value, format="medium", locale=locale_for(language))


def moment(value: datetime, language: str) -> str:
    """An instant in UTC in the language's medium form, e.g. "02.12.2026, 13:05:00 UTC"."""
    return format_datetime(value, format="medium", tzinfo=UTC, locale=locale_for(language)) + " UTC"


def percent(value: int | Decimal, language: str) -> str:
    """19 -> "19 %" (de), "19%" (nl, en)."""
    return format_percent(Decimal(value) / 100, locale=locale_for(language))


@lru_cache(maxsize=32)
def translations(directory: str, language: str, domain: str = "messages") -> NullTranslations:
    """The catalogue `<directory>/<language>/LC_MESSAGES/<domain>.po` (kept as .po in the
    repository, compiled in memory once per process); English, and a language without a
    catalogue, answer the message ids as they are."""
    po = Path(directory) / check_language(language) / "LC_MESSAGES" / f"{domain}.po"
    if not po.is_file():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=check_language(language), domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=domain)
