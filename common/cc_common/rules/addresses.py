"""The shapes of an address that the gateway documents and checks and contract-service keeps
(contract_service/domain/model.py: normalise_country, normalise_zip): the countries an address
may name and the postcode of each country with a shape of its own.

Each pattern is written for the raw input, as the OpenAPI document says it (Python's re):
surrounding white space is allowed, letters in any case. What a pattern admits, contract-service
takes; a postcode that does not fit the country is refused.
"""

from __future__ import annotations

import re
from itertools import groupby

# ISO 3166-1 alpha-2 codes of the regions the phone number library knows (the list contract-service
# checks a country against, phonenumbers.SUPPORTED_REGIONS; tests/unit/test_address_rules.py
# compares them).
COUNTRIES = frozenset(
    """
    AC AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG
    EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GT GU GW GY HK HN HR HT
    HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR
    LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF
    NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD
    SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TA TC TD TG TH TJ TK TL TM TN TO TR TT TV TW
    TZ UA UG US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW
    """.split()
)


def _either_case(letters: str) -> str:
    return "".join(sorted(set(letters.upper() + letters.lower())))


def _country_pattern() -> str:
    groups = (
        f"[{_either_case(first)}][{_either_case(''.join(code[1] for code in codes))}]"
        for first, codes in groupby(sorted(COUNTRIES), key=lambda code: code[0])
    )
    return "\\s*(?:" + "|".join(groups) + ")\\s*"


# A country: one of COUNTRIES in any case, with surrounding space.
COUNTRY = _country_pattern()

# A postcode of any country: letters, digits, spaces and dashes, 2 to 11 characters, beginning with
# a letter or digit and not ending with a space.
POSTCODE = "\\s*[A-Za-z0-9][A-Za-z0-9 -]{0,9}[A-Za-z0-9-]\\s*"
# The countries whose postcodes have a shape of their own; each pattern admits a part of POSTCODE.
POSTCODE_OF_COUNTRY = {
    "DE": "\\s*[0-9]{5}\\s*",
    "NL": "\\s*[1-9][0-9]{3} ?[A-Za-z]{2}\\s*",
    "GB": "\\s*(?:[Gg][Ii][Rr] ?0[Aa][Aa]|[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2})\\s*",
}
# What a postcode looks like in each of those countries, for messages.
POSTCODE_EXAMPLES = {"DE": "10115", "NL": "1234 AB", "GB": "SW1A 1AA"}


def country_code(raw: str) -> str | None:
    """The code of a country as the document allows it (any case, surrounding space), or None."""
    code = raw.strip().upper()
    return code if re.fullmatch(COUNTRY, raw) and code in COUNTRIES else None


def postcode_fits(raw: str, country: str) -> bool:
    """Whether the postcode `raw`, of POSTCODE's shape, has the shape `country` (a code) asks for."""
    return re.fullmatch(POSTCODE_OF_COUNTRY.get(country, POSTCODE), raw) is not None
