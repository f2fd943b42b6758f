"""Notices about contract-service's own changes, and the link that undoes an e-mail change.

Which service sends which notice: contract-service owns the contact address, so it tells the
customer about changes of that address and of the payment data, from the transaction of the
change itself (its own outbox); identity-service tells about password changes (it holds the
passwords, and the gateway hands it the contact address as it already does for reset mails).
No backend service calls another for a notice.

When the contact e-mail changes, the old address gets a notice with a single-use link that
puts it back within EMAIL_RESTORE_DAYS (7) days: a change made with a stolen session (which
would otherwise become a permanent takeover through "forgot password") can be undone by the
holder of the old address. Only the SHA-256 of the link's token is stored. Using a link voids
the links of later e-mail changes (a thief's own change of their address cannot be restored
back over the owner's restore) but not of earlier ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cc_common import notices
from cc_common.link_tokens import MAX_TOKEN_LENGTH as MAX_TOKEN_LENGTH
from cc_common.link_tokens import hash_token as hash_token
from cc_common.link_tokens import looks_like_token as looks_like_token
from cc_common.link_tokens import new_token as new_token

PENDING = "pending"
USED = "used"
SUPERSEDED = "superseded"
RESTORE_TTL = timedelta(days=notices.EMAIL_RESTORE_DAYS)


@dataclass
class EmailRestore:
    token_hash: str
    customer_number: str
    old_email: str
    created_at: datetime
    expires_at: datetime
    status: str = PENDING

    def usable(self, now: datetime) -> bool:
        return self.status == PENDING and now < self.expires_at


def same_email(a: str, b: str) -> bool:
    """E-mail addresses compare without case and surrounding space."""
    return (a or "").strip().lower() == (b or "").strip().lower()


@dataclass(frozen=True)
class Notice:
    """One mail to queue: its idempotency key, recipient, subject and body."""

    dedup_key: str
    recipient: str
    subject: str
    body: str


def email_changed_notice(
    *,
    customer_number: str,
    market: str,
    preference: str = "",
    old_email: str,
    new_email: str,
    token_hash: str,
    link: str,
) -> Notice:
    subject, body = notices.render(
        notices.EMAIL_CHANGED,
        market,
        preference=preference,
        customer_number=customer_number,
        new_email=notices.mask_email(new_email),
        link=link,
        days=notices.EMAIL_RESTORE_DAYS,
    )
    return Notice(f"email-changed:{token_hash}", old_email, subject, body)


def payment_changed_notice(
    *,
    customer_number: str,
    market: str,
    preference: str = "",
    email: str,
    iban_masked: str,
    card_last4: str,
    event_id: str,
) -> Notice:
    subject, body = notices.render(
        notices.PAYMENT_CHANGED,
        market,
        preference=preference,
        customer_number=customer_number,
        payment=notices.payment_line(
            market, preference=preference, iban_masked=iban_masked, card_last4=card_last4
        ),
    )
    return Notice(f"payment-changed:{customer_number}:{event_id}", email, subject, body)
