"""Revocation of issued tokens: a rule per subject (tokens of an older generation are dead,
except one kept token) and a deny-list of single token ids (logout). Every change gets the
next sequence number, so replicas can acknowledge what they applied."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cc_common.errors import InvalidInput

_SUBJECT = re.compile(r"^(customer:\d{1,20}|package:[^\s:]{1,64}|staff:[^\s:]{1,64})$")
MAX_JTI_LENGTH = 128


def check_subject(subject: str) -> str:
    if not _SUBJECT.match(subject or ""):
        raise InvalidInput(
            'A subject is "customer:<number>", "package:<id>" or "staff:<username>".', field="subject"
        )
    return subject


def check_jti(jti: str, *, field_name: str = "keep_jti") -> str:
    if len(jti) > MAX_JTI_LENGTH:
        raise InvalidInput("This is not a token id.", field=field_name)
    return jti


@dataclass(frozen=True)
class SubjectRule:
    """Tokens of `subject` with a generation below `min_generation` are dead, except
    `keep_jti`. New logins get `generation`."""

    subject: str
    generation: int = 0
    min_generation: int = 0
    keep_jti: str = ""

    def bumped(self, keep_jti: str = "") -> SubjectRule:
        """Every token issued so far dies (except keep_jti); new logins get the next generation."""
        generation = self.generation + 1
        return SubjectRule(self.subject, generation, generation, keep_jti)


@dataclass(frozen=True)
class DeniedToken:
    jti: str
    expires_at: int


@dataclass(frozen=True)
class RevocationChange:
    """One change (snapshot=False) or the whole state (snapshot=True) at `sequence`."""

    sequence: int
    snapshot: bool = False
    rules: list[SubjectRule] = field(default_factory=list)
    denied: list[DeniedToken] = field(default_factory=list)
