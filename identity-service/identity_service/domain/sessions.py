"""Sessions and the login history (plain classes and rules; docs/passwords-and-sessions.md).

A session is a token the gateway issued at a login: the gateway chooses the token's `jti`
before it asks identity to check the password (`SessionStart`), so the session row knows its
token. The session has a public id of its own, shown in pages and URLs; the jti stays inside
identity. Ending a session denies its jti through the ordinary revocation machinery.

The login history keeps the last `HISTORY_KEEP` attempts of a subject within `HISTORY_DAYS`
(older rows are pruned at each new attempt of that subject). A "device" is the user agent
normalised (`device_of`): lower case, numbers (versions) dropped, so a browser update is not a new device.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from cc_common.errors import InvalidInput

from identity_service.domain.revocation import check_jti

KINDS = ("customer", "package", "staff")
PASSWORD = "password"
SECOND_FACTOR = "second_factor"
RECOVERY_CODE = "recovery_code"
METHODS = (PASSWORD, SECOND_FACTOR, RECOVERY_CODE)

HISTORY_KEEP = 100  # attempts per subject
HISTORY_DAYS = 180
HISTORY_SECONDS = HISTORY_DAYS * 86400
# An ended or expired session is kept this long (the export shows it), then pruned.
SESSION_KEEP_SECONDS = 86400
MAX_USER_AGENT = 512
MAX_ADDRESS = 255
# A denied jti is kept a little beyond the session's recorded expiry (the token's own `exp` is
# computed from the same instant by the gateway, but may round up a second).
DENY_MARGIN_SECONDS = 60

_ID = re.compile(r"ses_[0-9a-f]{24}")
_VERSION = re.compile(r"[0-9]+(?:[._][0-9]+)*")
_SPACES = re.compile(r"\s+")


def new_session_id() -> str:
    return "ses_" + secrets.token_hex(12)


def looks_like_session_id(value: str) -> bool:
    return bool(_ID.fullmatch(value or ""))


def clean_user_agent(user_agent: str) -> str:
    return _SPACES.sub(" ", (user_agent or "").strip())[:MAX_USER_AGENT]


def device_of(user_agent: str) -> str:
    """The device key of a user agent: SHA-256 of its text in lower case without numbers (so
    "rv:120.0 ... Firefox/120.0" and "rv:121.0 ... Firefox/121.0" are one device) and with runs
    of spaces as one."""
    text = _SPACES.sub(" ", _VERSION.sub("", clean_user_agent(user_agent).lower())).strip()
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class SessionStart:
    """What the gateway says of the token it will issue if the login succeeds."""

    jti: str
    expires_at: float
    user_agent: str = ""
    client_address: str = ""

    def __post_init__(self) -> None:
        if not self.jti:
            raise InvalidInput("The session needs the token's id.", field="session.jti")
        check_jti(self.jti, field_name="session.jti")


@dataclass
class Session:
    id: str
    jti: str
    subject: str
    kind: str
    created_at: float  # unix seconds, as every time here
    last_used_at: float
    expires_at: float
    client_address: str = ""
    user_agent: str = ""
    ended_at: float | None = None
    new_device: bool = False  # a "new device" notice is still to be queued (NotifyNewDevice)

    def live(self, now: float) -> bool:
        return self.ended_at is None and self.expires_at > now


@dataclass(frozen=True)
class LoginRecord:
    subject: str
    at: float
    client_address: str
    user_agent: str
    success: bool
    method: str = PASSWORD

    @property
    def device(self) -> str:
        return device_of(self.user_agent)
