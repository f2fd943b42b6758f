"""Use cases of identity-service: one function each, keyword-only arguments.

Logins answer the same, and cost the same, whether the account exists or not: an unknown
account is checked against a dummy hash (`Hasher.verify_dummy`) and counts against the
throttling keys like a known one. See `domain/throttling.py` for the limits.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from cc_common import metrics, notices
from cc_common.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from cc_common.faults import crash_point
from cc_common.rules.customers import check_customer_number, is_customer_number

from identity_service.domain import model, password_reset, second_factor, sessions, throttling
from identity_service.domain.model import ChallengeIssued, Hasher, LoginResult
from identity_service.domain.revocation import (
    DeniedToken,
    RevocationChange,
    SubjectRule,
    check_jti,
    check_subject,
)
from identity_service.domain.sessions import LoginRecord, Session, SessionStart
from identity_service.domain.throttling import LoginLimits, ThrottleKey
from identity_service.service_layer.unit_of_work import UnitOfWork

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger(__name__)

INVALID_CREDENTIALS = "invalid_credentials"
CUSTOMER_NUMBER_MERGED = "customer_number_merged"
INVALID_TOKEN = "invalid_token"
_INVALID_TOKEN = "The link is invalid or has expired. Please request a new one."
_INVALID_SIGN_ON = "This link has already been used or has expired. Please start the package again."
_WRONG_CURRENT_PASSWORD = "The current password is wrong."
_WRONG_CUSTOMER = "The customer number or the password is wrong."
_WRONG_PACKAGE = "The domain or the password is wrong."
_WRONG_STAFF = "The username or the password is wrong."
# One failed login in this many also forgets stale throttling keys (cheap, no extra process).
PRUNE_ONE_IN = 100


# --- setting passwords ------------------------------------------------------------------
#
# Every password change revokes the subject's tokens issued so far in the transaction that
# stores the new hash (a rollback keeps both the old hash and the old tokens), whoever asks:
# the gateway for the API and the web pages, the service team, a reset link, a merge. The
# returned RevocationChange is published to the watchers by the caller (the gRPC servicer)
# before it answers. `keep_jti` spares the token that made the change, when it belongs to
# the subject (a customer changing its own password, a package login setting its own).
#
# Each change is two steps, so the servicer can hold the revocation hub's publishing lock
# (sequence numbers are published in order) for the short write only, never for argon2:
#   1. check and hash: `new_password_hash`, `check_password_change`, `check_password_reset`
#   2. store and revoke: `set_customer_password`, `set_package_password`,
#      `store_password_change`, `confirm_password_reset` (one transaction each).


def new_password_hash(*, hasher: Hasher, password: str, field_name: str = "password") -> str:
    """The hash of a new password that meets the policy (the slow step: argon2)."""
    return hasher.hash(model.check_password_policy(password, field_name=field_name))


def set_customer_password(
    *, uow: UnitOfWork, customer_number: str, password_hash: str, keep_jti: str = ""
) -> RevocationChange | None:
    """Creates the credential of a customer number, or replaces its password and revokes its
    tokens in the same transaction. None when the credential is new (no token can exist)."""
    number = check_customer_number(customer_number)
    check_jti(keep_jti)
    with uow:
        credential = uow.credentials.get_customer(number)
        change = None
        if credential is None:
            credential = model.CustomerCredential(number, password_hash)
        else:
            _refuse_retired(credential)
            credential.password_hash = password_hash
            change = _bump_subject(uow, credential.subject, keep_jti)
        uow.credentials.save_customer(credential)
        crash_point("identity:before_commit:SetCustomerPassword")
        uow.commit()
    return change


def set_package_password(
    *, uow: UnitOfWork, package_id: str, password_hash: str, keep_jti: str = ""
) -> RevocationChange | None:
    """Creates or replaces the password of a package (ownership was checked by the caller);
    replacing it revokes the package login's tokens (but `keep_jti`) in the same transaction."""
    package = model.check_package_id(package_id)
    check_jti(keep_jti)
    with uow:
        credential = model.PackageCredential(package, password_hash)
        existed = uow.credentials.get_package(package) is not None
        uow.credentials.save_package(credential)
        change = _bump_subject(uow, credential.subject, keep_jti) if existed else None
        crash_point("identity:before_commit:SetPackagePassword")
        uow.commit()
    return change


def ensure_staff_account(
    *, uow: UnitOfWork, hasher: Hasher, username: str, password: str
) -> RevocationChange | None:
    """Creates the staff account, or sets its password when it differs (start-up). A new
    password (STAFF_PASSWORD rotated) revokes the staff tokens issued before, in the same
    transaction; an upgraded hash of the same password does not."""
    name = model.check_username(username)
    model.check_password_policy(password, field_name="STAFF_PASSWORD")
    with uow:
        account = uow.credentials.get_staff(name)
    same_password = account is not None and hasher.verify(account.password_hash, password)
    if account is not None and same_password and not hasher.needs_rehash(account.password_hash):
        return None
    password_hash = hasher.hash(password)
    with uow:
        uow.credentials.save_staff(model.StaffAccount(name, password_hash))
        change = None if account is None or same_password else _bump_subject(uow, f"staff:{name}")
        uow.commit()
    return change


def check_password_change(
    *,
    uow: UnitOfWork,
    hasher: Hasher,
    limits: LoginLimits,
    customer_number: str,
    current_password: str,
    new_password: str,
    client_address: str,
    now: float,
) -> str:
    """Step 1 of a customer changing its own password: the current password is checked like a
    login (same throttling keys, a wrong one counts as a failure). Returns the new hash."""
    model.check_password_policy(new_password, field_name="new_password")
    number = check_customer_number(customer_number)
    keys = throttling.keys_for(throttling.CUSTOMER, number, client_address)
    credential = _load_unless_locked(uow, keys, now, lambda u: u.credentials.get_customer(number))
    if not _password_matches(hasher, credential.password_hash if credential else None, current_password):
        _register_failure(uow, keys, limits, now)
        raise Unauthenticated(_WRONG_CURRENT_PASSWORD, code=INVALID_CREDENTIALS)
    assert credential is not None
    _refuse_retired(credential)
    return hasher.hash(new_password)


def store_password_change(
    *,
    uow: UnitOfWork,
    customer_number: str,
    password_hash: str,
    keep_jti: str,
    email: str = "",
    market: str = "",
    language: str = "",
) -> RevocationChange:
    """Step 2: stores the new hash, forgets the number's failed logins and revokes every other
    token of the customer (`keep_jti`, the caller's own, survives), in one transaction.

    `email`, `market` and `language` (the preference) are the customer's contact address,
    market and language as the gateway read them from contract-service (as for reset mails): a
    notice of the change is queued to that address in the same transaction (none when it is
    empty)."""
    number = check_customer_number(customer_number)
    recipient = password_reset.check_email(email)
    check_jti(keep_jti)
    with uow:
        credential = uow.credentials.get_customer(number)
        if credential is None:  # cannot happen after step 1, but never create one here
            raise Unauthenticated(_WRONG_CURRENT_PASSWORD, code=INVALID_CREDENTIALS)
        _refuse_retired(credential)  # a merge may have retired it while the hash was computed
        credential.password_hash = password_hash
        uow.credentials.save_customer(credential)
        uow.throttle.reset(throttling.ThrottleKey(throttling.CUSTOMER, number))
        change = _bump_subject(uow, credential.subject, keep_jti)
        _queue_notice(
            uow, notices.PASSWORD_CHANGED, number, recipient, market, language, event=f"{change.sequence}"
        )
        crash_point("identity:before_commit:ChangeCustomerPassword")
        uow.commit()
    return change


def _queue_notice(
    uow: UnitOfWork, kind: str, number: str, recipient: str, market: str, language: str, *, event: str
) -> None:
    """Queues a password notice (cc_common.notices) in the caller's transaction, in the
    customer's language (`language`, its preference, else the market's)."""
    if not recipient:
        return
    subject, body = notices.render(kind, market, preference=language, customer_number=number)
    uow.mails.queue(dedup_key=f"{kind}:{number}:{event}", recipient=recipient, subject=subject, body=body)


def _refuse_retired(credential: model.CustomerCredential) -> None:
    if credential.status == model.RETIRED:
        raise Forbidden(
            f"The customer number {credential.customer_number} was merged into {credential.merged_into}.",
            code=CUSTOMER_NUMBER_MERGED,
            extra={"merged_into": credential.merged_into or ""},
        )


# --- password reset ("forgot password") ---------------------------------------------------


def request_password_reset(
    *,
    uow: UnitOfWork,
    policy: password_reset.ResetPolicy,
    customer_number: str,
    email: str,
    client_address: str,
    base_url: str,
    now: float,
    market: str = "",
    language: str = "",
) -> bool:
    """Creates a reset token and queues its mail in the same transaction. Links already sent
    stay valid (a request never voids someone else's link); several may coexist, up to
    `policy.max_valid_links`. Every request is recorded under its client address. Does nothing
    (but the same reads and the same write, so it takes about as long) when `email` is empty
    (no such customer), the number is retired, the number already got
    `policy.max_mails_per_hour` reset mails within the hour or has `policy.max_valid_links`
    valid links, or the client address made `policy.max_requests_per_address` requests within
    the hour. True when a mail was queued; the caller answers the same either way. The mail is
    in the customer's language (`language`, its preference, else the market's). The token
    remembers `email`, `market` and `language`: when it is used, the "new password set" notice goes to the
    address the link went to.

    `base_url` is identity's own configured PUBLIC_BASE_URL, never a value from the request:
    a link base taken from the request (ultimately its Host header) would let anybody have a
    genuine reset token mailed inside a link to their own host."""
    number = check_customer_number(customer_number)
    recipient = password_reset.check_email(email)
    address = password_reset.check_client_address(client_address)
    url = password_reset.check_base_url(base_url, password_reset.DEFAULT_BASE_URL)
    token, token_hash = password_reset.new_token()
    since = now - password_reset.THROTTLE_WINDOW_SECONDS
    with uow:
        credential = uow.credentials.get_customer(number)
        recent = uow.resets.count_since(number, since)
        valid = uow.resets.count_usable(number, now=now)
        from_address = uow.resets.count_requests_since(address, since) if address else 0
        if address and from_address < policy.max_requests_per_address:
            # Not recorded beyond the limit: an address that keeps asking holds at most that many rows.
            uow.resets.record_request(address, now)
        refusal = password_reset.refusal(
            policy,
            has_recipient=bool(recipient),
            retired=credential is not None and credential.status == model.RETIRED,
            mails_within_hour=recent,
            valid_links=valid,
            requests_from_address=from_address,
        )
        if refusal is None:
            uow.resets.add(
                password_reset.ResetToken(
                    token_hash,
                    number,
                    now,
                    now + policy.ttl_seconds,
                    notify_email=recipient,
                    market=market.strip()[:2],
                    language=language.strip()[:2],
                )
            )
            subject, body = password_reset.reset_mail(
                customer_number=number,
                link=password_reset.reset_link(url, token),
                ttl_seconds=policy.ttl_seconds,
                market=market,
                language=language,
            )
            uow.mails.queue(
                dedup_key=f"password-reset:{token_hash}", recipient=recipient, subject=subject, body=body
            )
        elif recipient:
            log.info("password reset for %s dropped: %s", number, refusal)
        uow.resets.prune(before=now - max(password_reset.THROTTLE_WINDOW_SECONDS, policy.ttl_seconds))
        uow.commit()
    return refusal is None


def check_password_reset(
    *, uow: UnitOfWork, hasher: Hasher, token: str, new_password: str, now: float
) -> str:
    """Step 1 of a reset: the password policy is checked before the token, and the token
    before the (costly) hash is computed. Returns the new hash."""
    model.check_password_policy(new_password, field_name="new_password")
    token_hash = password_reset.hash_token(token) if password_reset.looks_like_token(token) else ""
    with uow:
        found = uow.resets.get(token_hash) if token_hash else None
    if found is None or not found.usable(now):
        raise Unauthenticated(_INVALID_TOKEN, code=INVALID_TOKEN)
    return hasher.hash(new_password)


def confirm_password_reset(
    *, uow: UnitOfWork, token: str, password_hash: str, now: float
) -> RevocationChange:
    """Step 2: spends the token (and voids the number's other links), sets the password of its
    customer number (creating its credential when it had none), clears the number's login
    lockout and revokes every token of the customer, in one transaction."""
    token_hash = password_reset.hash_token(token) if password_reset.looks_like_token(token) else ""
    with uow:
        found = uow.resets.get(token_hash) if token_hash else None  # where the link went: the notice
        number = uow.resets.consume(token_hash, now=now) if token_hash else None  # None: another was faster
        credential = uow.credentials.get_customer(number) if number else None
        if number is None or (credential is not None and credential.status == model.RETIRED):
            raise Unauthenticated(_INVALID_TOKEN, code=INVALID_TOKEN)
        uow.resets.invalidate_pending(number)
        if credential is None:
            credential = model.CustomerCredential(number, password_hash)
        credential.password_hash = password_hash
        uow.credentials.save_customer(credential)
        uow.throttle.reset(throttling.ThrottleKey(throttling.CUSTOMER, number))
        change = _bump_subject(uow, credential.subject)
        if found is not None:
            _queue_notice(
                uow,
                notices.PASSWORD_RESET_DONE,
                number,
                found.notify_email,
                found.market,
                found.language,
                event=token_hash,
            )
        crash_point("identity:before_commit:ConfirmPasswordReset")
        uow.commit()
    return change


# --- logins -----------------------------------------------------------------------------


def _counted(kind: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Counts a login function's attempts in cc_logins_total{kind, result}: success, failure
    (wrong credentials), locked (refused by the throttle before any password was checked) or
    refused (the right password of an account that may not log in, e.g. a merged number)."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def counted(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                result = fn(*args, **kwargs)
            except Unauthenticated:
                metrics.LOGINS.labels(kind, "failure").inc()
                raise
            except TooManyAttempts:
                metrics.LOGINS.labels(kind, "locked").inc()
                raise
            except Forbidden:
                metrics.LOGINS.labels(kind, "refused").inc()
                raise
            metrics.LOGINS.labels(kind, "success").inc()
            return result

        return counted

    return decorate


@_counted("customer")
def customer_login(
    *,
    uow: UnitOfWork,
    hasher: Hasher,
    limits: LoginLimits,
    customer_number: str,
    password: str,
    client_address: str,
    now: float,
    session: SessionStart | None = None,
) -> LoginResult | ChallengeIssued:
    """With `session` (the gateway's logins), the attempt goes into the number's login history
    when the number has a credential (an unknown number leaves no trace: the same writes happen,
    the throttling rows, so it takes as long), and a success opens the session of that token."""
    number = (customer_number or "").strip()
    keys = throttling.keys_for(throttling.CUSTOMER, number, client_address)
    credential = _load_unless_locked(
        uow, keys, now, lambda u: u.credentials.get_customer(number) if is_customer_number(number) else None
    )

    def failed(u: UnitOfWork) -> None:
        if session is not None and credential is not None:
            _record_attempt(u, credential.subject, session, success=False, now=now)

    if not _password_matches(hasher, credential.password_hash if credential else None, password):
        _register_failure(uow, keys, limits, now, also=failed)
        raise Unauthenticated(_WRONG_CUSTOMER, code=INVALID_CREDENTIALS)
    assert credential is not None
    if credential.status == model.RETIRED:
        # Only after the right password: otherwise this would tell who was merged.
        _reset_account(uow, keys[0], also=failed)
        raise Forbidden(
            f"The customer number {number} was merged into {credential.merged_into}. "
            "Please sign in with that number.",
            code=CUSTOMER_NUMBER_MERGED,
            extra={"merged_into": credential.merged_into or ""},
        )

    def rehash(u: UnitOfWork, password_hash: str) -> None:
        credential.password_hash = password_hash
        u.credentials.save_customer(credential)

    return _succeed(
        uow,
        hasher,
        limits,
        keys[0],
        credential.subject,
        credential.password_hash,
        password,
        rehash,
        now,
        opening=_opener("customer", session, now),
    )


@_counted("package")
def package_login(
    *,
    uow: UnitOfWork,
    hasher: Hasher,
    limits: LoginLimits,
    domain: str,
    package_id: str,
    password: str,
    client_address: str,
    now: float,
    session: SessionStart | None = None,
) -> LoginResult | ChallengeIssued:
    """`package_id` is empty when the gateway found no package for the domain. Failures count
    against the package (whichever of its domains was typed), or against the typed domain
    when it is unknown: the same limit, the same answer and the same cost either way."""
    package = (package_id or "").strip()
    keys = throttling.keys_for(
        throttling.PACKAGE,
        throttling.package_account(package, model.normalise_domain_key(domain)),
        client_address,
    )
    credential = _load_unless_locked(
        uow, keys, now, lambda u: u.credentials.get_package(package) if package else None
    )
    if not _password_matches(hasher, credential.password_hash if credential else None, password):
        _register_failure(uow, keys, limits, now)
        raise Unauthenticated(_WRONG_PACKAGE, code=INVALID_CREDENTIALS)
    assert credential is not None

    def rehash(u: UnitOfWork, password_hash: str) -> None:
        u.credentials.save_package(model.PackageCredential(credential.package_id, password_hash))

    return _succeed(
        uow,
        hasher,
        limits,
        keys[0],
        credential.subject,
        credential.password_hash,
        password,
        rehash,
        now,
        opening=_opener("package", session, now),
    )


@_counted("staff")
def staff_login(
    *,
    uow: UnitOfWork,
    hasher: Hasher,
    limits: LoginLimits,
    username: str,
    password: str,
    client_address: str,
    now: float,
    session: SessionStart | None = None,
) -> LoginResult | ChallengeIssued:
    name = (username or "").strip()
    keys = throttling.keys_for(throttling.STAFF, name.lower(), client_address)
    account = _load_unless_locked(uow, keys, now, lambda u: u.credentials.get_staff(name) if name else None)
    if not _password_matches(hasher, account.password_hash if account else None, password):
        _register_failure(uow, keys, limits, now)
        raise Unauthenticated(_WRONG_STAFF, code=INVALID_CREDENTIALS)
    assert account is not None

    def rehash(u: UnitOfWork, password_hash: str) -> None:
        u.credentials.save_staff(model.StaffAccount(account.username, password_hash))

    return _succeed(
        uow,
        hasher,
        limits,
        keys[0],
        account.subject,
        account.password_hash,
        password,
        rehash,
        now,
        opening=_opener("staff", session, now),
    )


def _load_unless_locked(
    uow: UnitOfWork, keys: list[ThrottleKey], now: float, load: Callable[[UnitOfWork], R]
) -> R:
    """Refuses a locked attempt before any password is checked; else loads the account.
    The answer depends only on the keys, never on whether the account exists."""
    with uow:
        records = [uow.throttle.get(key) for key in keys]
        retry_after = max((r.seconds_locked(now) for r in records if r is not None), default=0)
        if retry_after > 0:
            raise TooManyAttempts(
                f"Too many failed logins. Please try again in {retry_after} seconds.",
                retry_after=retry_after,
            )
        return load(uow)


def _password_matches(hasher: Hasher, password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # No such account (or no password set yet): check a dummy hash anyway, so the answer takes as long as for an
        # account that exists (no enumeration of customer numbers, domains or usernames).
        return hasher.verify_dummy(password)
    return hasher.verify(password_hash, password)  # constant-time comparison inside argon2


def _register_failure(
    uow: UnitOfWork,
    keys: list[ThrottleKey],
    limits: LoginLimits,
    now: float,
    *,
    also: Callable[[UnitOfWork], None] | None = None,
) -> None:
    """Counts a failure against each key; `also` writes more in the same transaction."""
    lockouts: list[str] = []
    with uow:
        if also is not None:
            also(uow)
        for key in keys:  # account first, then address: the same lock order everywhere
            record = uow.throttle.get_for_update(key)
            was_locked = record.seconds_locked(now) > 0
            record.register_failure(now, max_failures=limits.max_failures(key.scope), limits=limits)
            uow.throttle.save(key, record)
            if not was_locked and record.seconds_locked(now) > 0:
                lockouts.append(key.scope)
        uow.commit()
    for scope in lockouts:  # counted once committed (cc_login_lockouts_total)
        metrics.LOCKOUTS.labels(scope).inc()
    if random.randrange(PRUNE_ONE_IN) == 0:
        with uow:
            uow.throttle.prune(now=now, window_seconds=limits.window_seconds)
            uow.commit()


def _reset_account(
    uow: UnitOfWork, key: ThrottleKey, *, also: Callable[[UnitOfWork], None] | None = None
) -> None:
    with uow:
        if also is not None:
            also(uow)
        uow.throttle.reset(key)
        uow.commit()


def _succeed(
    uow: UnitOfWork,
    hasher: Hasher,
    limits: LoginLimits,
    account_key: ThrottleKey,
    subject: str,
    password_hash: str,
    password: str,
    rehash: Callable[[UnitOfWork, str], None],
    now: float,
    *,
    opening: Callable[[UnitOfWork, str, str], tuple[str, bool]] | None = None,
) -> LoginResult | ChallengeIssued:
    """Resets the account's failures, upgrades an old hash, opens the session of the token
    (`opening`, when the gateway named it), and reads the generation last (so a revocation
    that happened during the login is already in it).

    With an active second factor the right password gives a challenge instead (stored, the
    login is not complete yet, no session is opened) and the account's failures are kept: a
    wrong code counts against the same account key, and a right password must not wipe those
    counts, or the holder of a stolen password could guess codes without end."""
    new_hash = hasher.hash(password) if hasher.needs_rehash(password_hash) else None
    with uow:
        if new_hash is not None:
            rehash(uow, new_hash)
        if uow.second_factors.is_active(subject):
            token, token_hash = second_factor.new_challenge()
            uow.second_factors.add_challenge(
                second_factor.Challenge(token_hash, subject, now + limits.challenge_ttl_seconds)
            )
            uow.second_factors.prune_challenges(now=now)
            uow.commit()
            return ChallengeIssued(token)
        # Without a session to open, most logins have no failures to forget and no hash to
        # upgrade: then this is a read only, and concurrent logins do not queue for the
        # database's write lock.
        if uow.throttle.get(account_key) is not None:
            uow.throttle.reset(account_key)
        session_id, new_device = (
            opening(uow, subject, sessions.PASSWORD) if opening is not None else ("", False)
        )
        rule = uow.revocations.get_rule(subject)
        login_completed(uow=uow, subject=subject, method=second_factor.PASSWORD, now=now)
        uow.commit()
    return LoginResult(
        subject=subject,
        generation=rule.generation if rule else 0,
        session_id=session_id,
        new_device=new_device,
    )


# --- sessions and the login history (domain/sessions.py) ------------------------------------


def _record_attempt(
    uow: UnitOfWork,
    subject: str,
    start: SessionStart,
    *,
    success: bool,
    now: float,
    method: str = sessions.PASSWORD,
) -> None:
    """One attempt into the subject's login history, which keeps its last HISTORY_KEEP within
    HISTORY_DAYS (pruned here, per subject, so it stays bounded without a job)."""
    uow.logins.record(
        LoginRecord(
            subject=subject,
            at=now,
            client_address=start.client_address[: sessions.MAX_ADDRESS],
            user_agent=sessions.clean_user_agent(start.user_agent),
            success=success,
            method=method,
        )
    )
    uow.logins.prune(subject, keep=sessions.HISTORY_KEEP, before=now - sessions.HISTORY_SECONDS)


def _opener(
    kind: str, start: SessionStart | None, now: float
) -> Callable[[UnitOfWork, str, str], tuple[str, bool]] | None:
    """What a successful login of `kind` writes in its transaction when the gateway named the
    token: the session, and for a customer the history entry and whether the device is new
    (it is not on the first successful login on record)."""
    if start is None:
        return None

    def open_session(uow: UnitOfWork, subject: str, method: str) -> tuple[str, bool]:
        new_device = False
        if kind == "customer":
            device = sessions.device_of(start.user_agent)
            new_device = uow.logins.has_success(subject) and not uow.logins.has_success(
                subject, device=device
            )
            _record_attempt(uow, subject, start, success=True, now=now, method=method)
        session_id = sessions.new_session_id()
        uow.sessions.add(
            Session(
                id=session_id,
                jti=start.jti,
                subject=subject,
                kind=kind,
                created_at=now,
                last_used_at=now,
                expires_at=start.expires_at,
                client_address=start.client_address[: sessions.MAX_ADDRESS],
                user_agent=sessions.clean_user_agent(start.user_agent),
                new_device=new_device,
            )
        )
        uow.sessions.prune(before=now - sessions.SESSION_KEEP_SECONDS)
        return session_id, new_device

    return open_session


def list_sessions(*, uow: UnitOfWork, subject: str, now: float) -> list[Session]:
    """The subject's live sessions (neither ended nor expired), newest first."""
    check_subject(subject)
    with uow:
        return uow.sessions.of_subject(subject, live_at=now)


def all_sessions(*, uow: UnitOfWork, subject: str) -> list[Session]:
    """Every session of the subject still on record (live, ended or expired), newest first."""
    check_subject(subject)
    with uow:
        return uow.sessions.of_subject(subject)


def login_history(*, uow: UnitOfWork, subject: str, now: float) -> list[LoginRecord]:
    """The subject's login attempts of the last HISTORY_DAYS, at most HISTORY_KEEP, newest first."""
    check_subject(subject)
    with uow:
        records = uow.logins.of_subject(subject, limit=sessions.HISTORY_KEEP)
    return [r for r in records if r.at >= now - sessions.HISTORY_SECONDS]


_NO_SESSION = "This session does not exist or has already ended."


def end_session(*, uow: UnitOfWork, subject: str, session_id: str, now: float) -> RevocationChange:
    """Ends one live session of `subject`: its jti is denied (until the token expires anyway)
    and the session marked ended, in one transaction. An unknown, ended or expired id, or a
    session of another subject, is NotFound alike."""
    check_subject(subject)
    with uow:
        found = uow.sessions.get(session_id) if sessions.looks_like_session_id(session_id) else None
        if found is None or found.subject != subject or not found.live(now):
            raise NotFound(_NO_SESSION)
        token = DeniedToken(found.jti, int(found.expires_at) + sessions.DENY_MARGIN_SECONDS)
        sequence = uow.revocations.next_sequence()
        uow.revocations.deny(token, sequence=sequence)
        uow.sessions.end(found.id, now=now)
        uow.commit()
    return RevocationChange(sequence, rules=[], denied=[token])


def end_other_sessions(*, uow: UnitOfWork, subject: str, keep_jti: str) -> RevocationChange:
    """Every token of `subject` but `keep_jti` dies (a new generation), and their sessions end."""
    return revoke_subject(uow=uow, subject=subject, keep_jti=keep_jti)


def touch_sessions(*, uow: UnitOfWork, jtis: list[str], now: float) -> int:
    """Marks the sessions of these token ids as used at `now` (unknown ids are ignored)."""
    wanted = sorted({check_jti(j, field_name="jtis") for j in jtis if j})[:1000]
    with uow:
        touched = uow.sessions.touch(wanted, now=now)
        uow.commit()
    return touched


def notify_new_device(
    *, uow: UnitOfWork, subject: str, session_id: str, email: str, market: str, language: str = ""
) -> bool:
    """Queues the "new device" notice of the caller's own session to `email` (from
    contract-service, as for the password notices) once; True when it was queued now. Nothing
    to do (False) for a session whose login was not from a new device, or already notified."""
    check_subject(subject)
    recipient = password_reset.check_email(email)
    with uow:
        found = uow.sessions.get(session_id) if sessions.looks_like_session_id(session_id) else None
        if found is None or found.subject != subject:
            raise NotFound(_NO_SESSION)
        if not recipient or not found.new_device or not uow.sessions.clear_new_device(found.id):
            return False
        title, body = notices.new_device(
            market,
            preference=language,
            customer_number=subject.split(":", 1)[1],
            at=datetime.fromtimestamp(found.created_at, UTC),
            address=found.client_address,
            device=found.user_agent,
        )
        uow.mails.queue(dedup_key=f"new-device:{found.id}", recipient=recipient, subject=title, body=body)
        uow.commit()
    return True


# --- single sign-on into the package administration --------------------------------------


def redeem_package_sign_on(
    *, uow: UnitOfWork, jti: str, package_id: str, expires_at: int, now: int
) -> LoginResult:
    """Redeems a single sign-on link ("Start" in the customer area) once: the link's jti is
    inserted with a unique key in the transaction that reads the package's generation, so of
    two copies redeeming the same link at the same moment exactly one succeeds. The gateway has
    verified the link and that its issuer could administrate the package; this answers what a
    package login answers (no password is involved: the customer owning the package vouched)."""
    jti = check_jti((jti or "").strip(), field_name="jti")
    if not jti:
        raise InvalidInput("This is not a token id.", field="jti")
    package = model.check_package_id(package_id)
    if int(expires_at) <= now:
        raise Unauthenticated(_INVALID_SIGN_ON, code=INVALID_TOKEN)
    subject = f"package:{package}"
    with uow:
        uow.sign_ons.prune(now=now)
        if not uow.sign_ons.redeem(jti, package_id=package, expires_at=int(expires_at)):
            raise Unauthenticated(_INVALID_SIGN_ON, code=INVALID_TOKEN)
        rule = uow.revocations.get_rule(subject)
        uow.commit()
    return LoginResult(subject=subject, generation=rule.generation if rule else 0)


def login_completed(*, uow: UnitOfWork, subject: str, method: str, now: float) -> None:
    """The one place where a login is complete and it is known how: `method` is
    second_factor.PASSWORD (no second factor), SECOND_FACTOR (a TOTP code) or RECOVERY_CODE.
    Called inside the login's last transaction (before its commit), so a record written here
    (a login history) commits with it. Logs the subject and the method, never a secret."""
    log.info("login completed: %s by %s", subject, method)


# --- revocation -------------------------------------------------------------------------


def revoke_token(*, uow: UnitOfWork, jti: str, expires_at: int, now: int) -> RevocationChange:
    """Denies one token id until the token expires anyway (logout). Expired entries are
    pruned on the way, so the deny-list stays as small as the set of live revoked tokens."""
    token = DeniedToken(check_jti(jti, field_name="jti"), int(expires_at))
    with uow:
        sequence = uow.revocations.next_sequence()
        uow.revocations.deny(token, sequence=sequence)
        uow.sessions.end_by_jti(token.jti, now=now)
        uow.revocations.prune_denied(now=now)
        uow.commit()
    return RevocationChange(sequence, rules=[], denied=[token])


def revoke_subject(*, uow: UnitOfWork, subject: str, keep_jti: str = "") -> RevocationChange:
    """Kills every token of `subject` issued so far, except `keep_jti`; later logins get the
    next generation. For RevokeSubject, and for password changes and merges (which publish the
    returned change to the watchers like the RPC does)."""
    check_subject(subject)
    check_jti(keep_jti)
    with uow:
        change = _bump_subject(uow, subject, keep_jti)
        uow.commit()
    return change


def _bump_subject(uow: UnitOfWork, subject: str, keep_jti: str = "") -> RevocationChange:
    """The revocation of every token of `subject` so far, inside the caller's transaction; their
    sessions end with them (the one of `keep_jti` stays)."""
    sequence = uow.revocations.next_sequence()  # locks the counter: one change at a time
    rule = (uow.revocations.get_rule(subject) or SubjectRule(subject)).bumped(keep_jti)
    uow.revocations.save_rule(rule, sequence=sequence)
    uow.sessions.end_all(subject, now=time.time(), keep_jti=keep_jti)
    return RevocationChange(sequence, rules=[rule], denied=[])


def revocation_snapshot(*, uow: UnitOfWork, now: int) -> RevocationChange:
    """Every rule and every unexpired denied token, at the current sequence number. The
    sequence is read first: anything committed up to it is visible to the reads after it."""
    with uow:
        sequence = uow.revocations.current_sequence()
        rules = uow.revocations.all_rules()
        denied = uow.revocations.denied_since(now=now)
    return RevocationChange(sequence, snapshot=True, rules=rules, denied=denied)


def revocation_changes_since(*, uow: UnitOfWork, after: int, now: int) -> RevocationChange | None:
    """Everything revoked after sequence `after`, as one change at the current sequence number
    (None when nothing is new): how an identity copy learns what the other copies committed.
    Rules and denied tokens keep the sequence of their last change, so this misses nothing even
    when notifications were lost. Needs one consistent snapshot of the database (the caller's
    unit of work reads under REPEATABLE READ on PostgreSQL): the counter and the rows must be
    read at the same moment, or a row changed again in between would be missed. A counter
    below `after` (a restored database) gives the whole state as a snapshot."""
    with uow:
        sequence = uow.revocations.current_sequence()
        if sequence < after:  # the database went back in time (restored): start over
            return RevocationChange(
                sequence,
                snapshot=True,
                rules=uow.revocations.all_rules(),
                denied=uow.revocations.denied_since(now=now),
            )
        if sequence == after:
            return None
        rules = uow.revocations.rules_changed(after=after, upto=sequence)
        denied = uow.revocations.denied_changed(after=after, upto=sequence, now=now)
    return RevocationChange(sequence, rules=rules, denied=denied)


# --- identity copies on one PostgreSQL database (service_layer/replicated_hub.py) ----------


def replica_heartbeat(*, uow: UnitOfWork, replica_id: str, acked: int, forget_after: float) -> None:
    """This copy is alive (its row created or refreshed); rows of copies silent for
    `forget_after` seconds are dropped on the way."""
    with uow:
        uow.replicas.heartbeat(replica_id, acked=acked)
        uow.replicas.forget_silent(seconds=forget_after)
        uow.commit()


def record_replica_ack(*, uow: UnitOfWork, replica_id: str, sequence: int) -> None:
    with uow:
        uow.replicas.record_ack(replica_id, sequence)
        uow.commit()


def lagging_replicas(*, uow: UnitOfWork, replica_id: str, sequence: int, alive_within: float) -> list[str]:
    """The other live copies whose watchers have not all applied `sequence` yet."""
    with uow:
        return uow.replicas.lagging(sequence=sequence, alive_within=alive_within, exclude=replica_id)


def remove_replica(*, uow: UnitOfWork, replica_id: str) -> None:
    with uow:
        uow.replicas.remove(replica_id)
        uow.commit()


@dataclass(frozen=True)
class StatusChanges:
    changed: int  # how many numbers got a new status (0 for a repeated step)
    revocations: list[RevocationChange]  # to publish to the watchers


def set_customer_status(
    *, uow: UnitOfWork, merge_id: str, customer_numbers: list[str], status: str, merged_into: str = ""
) -> StatusChanges:
    """A merge step (idempotent): retire absorbed numbers (their tokens die, their login answers
    customer_number_merged) or bring them back (reversal).

    Retiring revokes the number's tokens in the same transaction as the status change, and
    again on a repeated step whose status is already set: a retry after a crash must never
    leave the tokens of a retired number alive (a retired number cannot log in, so the extra
    generation costs nothing). Returns the count of changed numbers and the revocation
    changes to publish to the watchers."""
    if not merge_id:
        raise InvalidInput("A merge id is required.", field="merge_id")
    if status not in (model.ACTIVE, model.FROZEN, model.RETIRED):
        raise InvalidInput("Unknown status.", field="status")
    if status == model.RETIRED:
        check_customer_number(merged_into)
    changed = 0
    revocations: list[RevocationChange] = []
    for raw in customer_numbers:
        number = check_customer_number(raw)
        with uow:
            credential = uow.credentials.get_customer(number)
            if credential is None:
                # A number without a password yet: record it, so the login answers correctly.
                credential = model.CustomerCredential(number, "")
            unchanged = credential.status == status and (credential.merged_into or "") == (
                merged_into if status == model.RETIRED else ""
            )
            if unchanged and status != model.RETIRED:
                continue
            if not unchanged:
                credential.status = status
                credential.merged_into = merged_into if status == model.RETIRED else None
                uow.credentials.save_customer(credential)
                changed += 1
            revocation = _bump_subject(uow, credential.subject) if status == model.RETIRED else None
            crash_point("identity:before_commit:SetCustomerStatus")
            uow.commit()
        if revocation is not None:
            revocations.append(revocation)
    crash_point("identity:after_commit:SetCustomerStatus")
    return StatusChanges(changed, revocations)


# --- second factor (domain/second_factor.py) -----------------------------------------------
#
# A subject ("customer:<number>", "staff:<username>") may have one TOTP second factor. Its
# enrolment starts with the current password (checked like a login), is confirmed with a first
# code, and answers ten recovery codes once. A login with it is two calls: the password
# (answered with a challenge, `_succeed`) and `complete_second_factor`. Every code check of a
# login or of turning the factor off counts a wrong code like a wrong password, against the
# same throttling keys.

SECOND_FACTOR_ACTIVE = "second_factor_active"
NO_SECOND_FACTOR_ENROLMENT = "no_second_factor_enrolment"
NO_SECOND_FACTOR = "no_second_factor"
_WRONG_CODE = "The code is wrong or was already used."
_WRONG_CHALLENGE = "The sign-in has expired or was already completed. Please sign in again."


@dataclass(frozen=True)
class CompletedLogin:
    login: LoginResult
    method: str  # second_factor.SECOND_FACTOR or RECOVERY_CODE


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str


@dataclass(frozen=True)
class SecondFactorStatus:
    active: bool
    pending: bool
    recovery_codes_left: int


def _account_key(subject: str) -> ThrottleKey | None:
    """The throttling key of a subject's account, as its password login counts it."""
    kind, _, name = subject.partition(":")
    if kind == "customer" and name:
        return ThrottleKey(throttling.CUSTOMER, name[: throttling.MAX_KEY_LENGTH])
    if kind == "staff" and name:
        return ThrottleKey(throttling.STAFF, name.lower()[: throttling.MAX_KEY_LENGTH])
    return None


def _keys_of(subject: str, client_address: str) -> list[ThrottleKey]:
    account = _account_key(subject)
    keys = [account] if account is not None else []
    address = (client_address or "").strip()
    if address:
        keys.append(ThrottleKey(throttling.ADDRESS, address[: throttling.MAX_KEY_LENGTH]))
    return keys


def _check_own_password(
    uow: UnitOfWork,
    hasher: Hasher,
    limits: LoginLimits,
    subject: str,
    password: str,
    client_address: str,
    now: float,
) -> None:
    """The caller's current password, checked like a login: throttled, a wrong one counts."""
    keys = _keys_of(subject, client_address)
    kind, _, name = subject.partition(":")

    def load(u: UnitOfWork) -> str | None:
        if kind == "customer":
            credential = u.credentials.get_customer(name)
            return credential.password_hash if credential and credential.status != model.RETIRED else None
        if kind == "staff":
            account = u.credentials.get_staff(name)
            return account.password_hash if account else None
        return None

    password_hash = _load_unless_locked(uow, keys, now, load)
    if not _password_matches(hasher, password_hash, password):
        _register_failure(uow, keys, limits, now)
        raise Unauthenticated(_WRONG_CURRENT_PASSWORD, code=INVALID_CREDENTIALS)


def _check_subject_for_factor(subject: str) -> str:
    if _account_key(subject) is None:
        raise Forbidden("Only customer and staff logins have a second factor.")
    return subject


def start_second_factor(
    *,
    uow: UnitOfWork,
    hasher: Hasher,
    limits: LoginLimits,
    subject: str,
    current_password: str,
    client_address: str,
    now: float,
) -> Enrolment:
    """A new secret, stored inactive (a started enrolment replaces one that was never
    confirmed). 409 second_factor_active when one is active."""
    _check_subject_for_factor(subject)
    _check_own_password(uow, hasher, limits, subject, current_password, client_address, now)
    secret = second_factor.new_secret()
    with uow:
        existing = uow.second_factors.get(subject)
        if existing is not None and existing.active:
            raise Conflict("Two-factor authentication is already on.", code=SECOND_FACTOR_ACTIVE)
        uow.second_factors.save(second_factor.SecondFactor(subject, secret, active=False))
        uow.commit()
    account = subject.partition(":")[2]
    return Enrolment(secret, second_factor.otpauth_uri(secret, account))


def confirm_second_factor(
    *,
    uow: UnitOfWork,
    subject: str,
    code: str,
    now: float,
    email: str = "",
    market: str = "",
    language: str = "",
) -> list[str]:
    """Activates the started enrolment with a code of its secret; returns ten recovery codes
    (only their hashes are stored) and queues the notice to `email`."""
    _check_subject_for_factor(subject)
    recipient = password_reset.check_email(email)
    codes = second_factor.new_recovery_codes()
    with uow:
        factor = uow.second_factors.get(subject)
        if factor is None or factor.active:
            raise Conflict(
                "No enrolment of two-factor authentication was started.", code=NO_SECOND_FACTOR_ENROLMENT
            )
        step = second_factor.matching_step(
            factor.secret, second_factor.normalise_code(code), now=now, last_used_step=factor.last_used_step
        )
        if step is None:
            raise Unauthenticated(_WRONG_CODE, code=INVALID_CREDENTIALS)
        factor.active = True
        factor.last_used_step = step
        factor.recovery_hashes = [second_factor.hash_code(c) for c in codes]
        uow.second_factors.save(factor)
        if subject.startswith("customer:"):
            number = subject.partition(":")[2]
            _queue_notice(uow, notices.SECOND_FACTOR_ON, number, recipient, market, language, event=str(step))
        uow.commit()
    return codes


def _match_code(factor: second_factor.SecondFactor, code: str, now: float) -> tuple[str, int | str] | None:
    """("second_factor", step) or ("recovery_code", its hash) when `code` may be right; the
    single-use spend happens in the caller's transaction."""
    typed = second_factor.normalise_code(code)
    if second_factor.looks_like_totp(typed):
        step = second_factor.matching_step(
            factor.secret, typed, now=now, last_used_step=factor.last_used_step
        )
        return (second_factor.SECOND_FACTOR, step) if step is not None else None
    if not typed or len(typed) > 64:
        return None
    return second_factor.RECOVERY_CODE, second_factor.hash_code(typed)


def _spend(uow: UnitOfWork, subject: str, match: tuple[str, int | str]) -> bool:
    method, value = match
    if method == second_factor.SECOND_FACTOR:
        return uow.second_factors.use_step(subject, int(value))
    return uow.second_factors.spend_recovery_code(subject, str(value))


@_counted("second_factor")
def complete_second_factor(
    *,
    uow: UnitOfWork,
    limits: LoginLimits,
    challenge: str,
    code: str,
    client_address: str,
    now: float,
    session: SessionStart | None = None,
) -> CompletedLogin:
    """The second step of a login: the challenge of the right password and a code. Refused
    before the code is checked while the account or the address is locked; a wrong code, an
    unknown, used or expired challenge answer 401 invalid_credentials and count as a failed
    login (a challenge that names no account counts against the address only). The challenge,
    the code and the account's failures are spent in one transaction."""
    challenge_hash = second_factor.hash_challenge(challenge)
    with uow:
        found = uow.second_factors.get_challenge(challenge_hash) if challenge else None
    subject = found.subject if found is not None else ""
    keys = _keys_of(subject, client_address)
    factor = _load_unless_locked(uow, keys, now, lambda u: u.second_factors.get(subject) if subject else None)
    if found is None or not found.usable(now) or factor is None or not factor.active:
        _register_failure(uow, keys, limits, now)
        raise Unauthenticated(_WRONG_CHALLENGE, code=INVALID_CREDENTIALS)
    match = _match_code(factor, code, now)
    opening = _opener(subject.split(":", 1)[0], session, now)
    session_id, new_device = "", False
    with uow:
        spent = match is not None and _spend(uow, subject, match)
        if spent and not uow.second_factors.spend_challenge(challenge_hash, now=now):
            raise Unauthenticated(_WRONG_CHALLENGE, code=INVALID_CREDENTIALS)  # another was faster
        if spent:
            assert match is not None
            account = _account_key(subject)
            if account is not None and uow.throttle.get(account) is not None:
                uow.throttle.reset(account)
            if opening is not None:
                session_id, new_device = opening(uow, subject, match[0])
            rule = uow.revocations.get_rule(subject)
            login_completed(uow=uow, subject=subject, method=match[0], now=now)
            uow.commit()
    if not spent:

        def failed(u: UnitOfWork) -> None:
            if session is not None and subject.startswith("customer:"):
                # The kind of code typed, by the same rule that picked how to check it.
                totp = second_factor.looks_like_totp(second_factor.normalise_code(code))
                method = sessions.SECOND_FACTOR if totp else sessions.RECOVERY_CODE
                _record_attempt(u, subject, session, success=False, now=now, method=method)

        _register_failure(uow, keys, limits, now, also=failed)
        raise Unauthenticated(_WRONG_CODE, code=INVALID_CREDENTIALS)
    assert match is not None
    login = LoginResult(subject, rule.generation if rule else 0, session_id=session_id, new_device=new_device)
    return CompletedLogin(login, match[0])


def disable_second_factor(
    *,
    uow: UnitOfWork,
    hasher: Hasher,
    limits: LoginLimits,
    subject: str,
    current_password: str,
    code: str,
    client_address: str,
    now: float,
    email: str = "",
    market: str = "",
    language: str = "",
) -> None:
    """Turns the second factor off with the current password and a code (TOTP or recovery),
    each checked like a login; queues the notice to `email`."""
    _check_subject_for_factor(subject)
    recipient = password_reset.check_email(email)
    _check_own_password(uow, hasher, limits, subject, current_password, client_address, now)
    keys = _keys_of(subject, client_address)
    with uow:
        factor = uow.second_factors.get(subject)
    if factor is None or not factor.active:
        raise Conflict("Two-factor authentication is not on.", code=NO_SECOND_FACTOR)
    match = _match_code(factor, code, now)
    with uow:
        spent = match is not None and _spend(uow, subject, match)
        if spent:
            uow.second_factors.remove(subject)
            if subject.startswith("customer:"):
                number = subject.partition(":")[2]
                _queue_notice(
                    uow, notices.SECOND_FACTOR_OFF, number, recipient, market, language, event=str(int(now))
                )
            uow.commit()
    if not spent:
        _register_failure(uow, keys, limits, now)
        raise Unauthenticated(_WRONG_CODE, code=INVALID_CREDENTIALS)


def second_factor_status(*, uow: UnitOfWork, subject: str) -> SecondFactorStatus:
    with uow:
        factor = uow.second_factors.get(subject)
        left = uow.second_factors.count_recovery_codes(subject) if factor and factor.active else 0
    return SecondFactorStatus(
        active=bool(factor and factor.active),
        pending=bool(factor and not factor.active),
        recovery_codes_left=left,
    )


def ensure_staff_second_factor(*, uow: UnitOfWork, username: str, secret: str) -> None:
    """Start-up: the staff account's second factor from STAFF_TOTP_SECRET (required in
    production), active at once; a changed secret replaces the old one and its recovery
    codes. An empty secret changes nothing (development: staff may enrol like customers)."""
    if not secret:
        return
    value = second_factor.check_secret(secret, field_name="STAFF_TOTP_SECRET")
    subject = f"staff:{model.check_username(username)}"
    with uow:
        factor = uow.second_factors.get(subject)
        if factor is not None and factor.active and factor.secret == value:
            return
        uow.second_factors.remove(subject)
        uow.second_factors.save(second_factor.SecondFactor(subject, value, active=True))
        uow.commit()
