"""Password reset ("forgot password"): single-use tokens mailed as a link.

A reset token is `secrets.token_urlsafe(32)`; only its SHA-256 is stored, so a copy of the
database cannot reset anybody's password. A token is usable once, for `ttl_seconds`
(PASSWORD_RESET_TTL_SECONDS, default 30 minutes). A new request never voids a link that was
already sent: otherwise anybody who knows a customer number could void the customer's link
again and again. Several links of a number may be valid at once, up to `max_valid_links`
(PASSWORD_RESET_MAX_VALID_LINKS, default 3); setting a password with one of them voids the
others. Limits, each within the last hour; a request over any of them is dropped silently
(the gateway answers 202 either way, so nothing tells whether a number exists or a limit
was hit):

    PASSWORD_RESET_MAX_MAILS_PER_HOUR         reset mails to one customer number       (3)
    PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS   requests from one client address, for
                                              any number, known or not                 (10)

This is also how a customer number without a password gets its first one (the customer
clicks "forgot password").
"""

from __future__ import annotations

from dataclasses import dataclass

from cc_common import i18n, notices
from cc_common.errors import InvalidInput
from cc_common.link_tokens import MAX_TOKEN_LENGTH as MAX_TOKEN_LENGTH
from cc_common.link_tokens import hash_token as hash_token
from cc_common.link_tokens import looks_like_token as looks_like_token
from cc_common.link_tokens import new_token as new_token

PENDING = "pending"
USED = "used"
INVALIDATED = "invalidated"

THROTTLE_WINDOW_SECONDS = 3600
MAX_EMAIL_LENGTH = 320
DEFAULT_BASE_URL = notices.DEFAULT_BASE_URL


MAX_ADDRESS_LENGTH = 255


@dataclass(frozen=True)
class ResetPolicy:
    ttl_seconds: int = 1800
    max_mails_per_hour: int = 3
    max_valid_links: int = 3
    max_requests_per_address: int = 10


def refusal(
    policy: ResetPolicy,
    *,
    has_recipient: bool,
    retired: bool,
    mails_within_hour: int,
    valid_links: int,
    requests_from_address: int,
) -> str | None:
    """Why a reset request sends no mail (for the log only), or None: send it."""
    if not has_recipient:
        return "no such customer"
    if retired:
        return "the number was merged"
    if requests_from_address >= policy.max_requests_per_address:
        return f"{requests_from_address} requests from the client address within the hour"
    if mails_within_hour >= policy.max_mails_per_hour:
        return f"{mails_within_hour} mails within the hour"
    if valid_links >= policy.max_valid_links:
        return f"{valid_links} links still valid"
    return None


@dataclass
class ResetToken:
    token_hash: str
    customer_number: str
    created_at: float  # unix seconds
    expires_at: float
    status: str = PENDING
    notify_email: str = ""  # the address the link went to: told when the link is used
    market: str = ""  # with `language`, the language of that notice
    language: str = ""  # the customer's preference ("" = the market's)

    def usable(self, now: float) -> bool:
        return self.status == PENDING and now < self.expires_at


def check_email(email: str) -> str:
    """The recipient as contract-service has it; empty means "no such customer"."""
    email = (email or "").strip()
    if email and (
        len(email) > MAX_EMAIL_LENGTH
        or email.count("@") != 1
        or any(c.isspace() or c in "<>,;" for c in email)
    ):
        raise InvalidInput("This is not an e-mail address.", field="email")
    return email


def check_client_address(address: str) -> str:
    """The client address the gateway saw ("" when unknown: then only the number's limits apply)."""
    return (address or "").strip()[:MAX_ADDRESS_LENGTH]


def check_base_url(base_url: str, default: str) -> str:
    """The configured PUBLIC_BASE_URL (empty: `default`), checked by the shared rule
    (cc_common.notices.check_base_url) and refused as invalid input. Only ever called with
    configuration: the base of a mailed link never comes from a request."""
    try:
        return notices.check_base_url(base_url, default)
    except ValueError:
        raise InvalidInput("The base URL is http(s)://host[:port][/path].", field="base_url") from None


def reset_link(base_url: str, token: str) -> str:
    return f"{base_url}/password-reset?token={token}"


_RESET_MAIL = {
    "en": (
        "Set your customer password",
        "Dear customer,\n\n"
        "someone (hopefully you) asked to set a new customer password for customer number {number}.\n"
        "Open this link to choose your new password:\n\n{link}\n\n"
        "The link works once and expires in {minutes} minutes. If you did not ask for it, ignore this\n"
        "mail: your password stays as it is.\n\nYour customer service team",
    ),
    "de": (
        "Ihr Kundenpasswort neu setzen",
        "Sehr geehrte Kundin, sehr geehrter Kunde,\n\n"
        "jemand (hoffentlich Sie) hat ein neues Kundenpasswort für die Kundennummer {number} angefordert.\n"
        "Öffnen Sie diesen Link, um Ihr neues Passwort zu wählen:\n\n{link}\n\n"
        "Der Link funktioniert einmal und läuft in {minutes} Minuten ab. Wenn Sie ihn nicht angefordert\n"
        "haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt, wie es ist.\n\nIhr Kundenservice-Team",
    ),
    "nl": (
        "Uw klantwachtwoord instellen",
        "Beste klant,\n\n"
        "iemand (hopelijk u) heeft gevraagd een nieuw klantwachtwoord in te stellen voor klantnummer {number}.\n"
        "Open deze link om uw nieuwe wachtwoord te kiezen:\n\n{link}\n\n"
        "De link werkt één keer en verloopt over {minutes} minuten. Heeft u hier niet om gevraagd, negeer\n"
        "deze e-mail dan: uw wachtwoord blijft zoals het is.\n\nUw klantenserviceteam",
    ),
}


def reset_mail(
    *, customer_number: str, link: str, ttl_seconds: int, market: str = "", language: str = ""
) -> tuple[str, str]:
    """Subject and body of the reset mail, in the customer's language (its preference
    `language`, else the market's)."""
    subject, body = _RESET_MAIL[i18n.customer_language(market, language)]
    return subject, body.format(number=customer_number, link=link, minutes=max(1, ttl_seconds // 60))
