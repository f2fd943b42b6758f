"""Tokens at the gateway: issuing user tokens after a login, and the `token_required` decorator.

Sessions (docs/passwords-and-sessions.md): a login names its token before it is issued
(`pending_token`), so identity records the session with the token's jti; every authenticated
request notes its token with the SessionToucher of its worker process.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from cc_common.config import TokenSettings
from cc_common.errors import Forbidden, ServiceUnavailable, Unauthenticated
from cc_common.revocation import RevocationState, RevocationWatcher
from cc_common.tokens import (
    USER_KINDS,
    Principal,
    TokenSigner,
    TokenVerifier,
    TrustedKey,
    ensure_keypair,
    load_public_key,
)
from flask import Flask, current_app, g, request

EXTENSION = "gateway_tokens"
F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingToken:
    """The id and times of a token about to be issued (if the login succeeds)."""

    jti: str
    issued_at: int
    expires_at: int


class SessionToucher:
    """Tells identity which sessions were used: each token at most once per `interval` seconds
    in this process, in batches every `flush_every` seconds from a daemon thread, so a request
    never waits for identity. A lost batch (identity down) only leaves an older `last_used_at`."""

    MAX_TRACKED = 100_000

    def __init__(
        self, send: Callable[[list[str]], None], *, interval: float = 60.0, flush_every: float = 5.0
    ) -> None:
        self._send = send
        self._interval = interval
        self._flush_every = flush_every
        self._last: dict[str, float] = {}
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def seen(self, jti: str) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(jti)
            if last is not None and now - last < self._interval:
                return
            if len(self._last) >= self.MAX_TRACKED:  # forget the tokens not seen for a while
                self._last = {k: v for k, v in self._last.items() if now - v < self._interval}
            self._last[jti] = now
            self._pending.add(jti)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="session-toucher", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        with self._lock:
            batch = sorted(self._pending)
            self._pending.clear()
        if not batch:
            return
        try:
            self._send(batch)
        except Exception as exc:  # identity down: the sessions keep their older time
            log.info("could not mark %d sessions as used: %s", len(batch), exc)

    def _run(self) -> None:
        while not self._stop.wait(self._flush_every):
            self.flush()

    def stop(self) -> None:
        self._stop.set()


class TokenGuard:
    """The extension with the signer, the verifier and the local replica of identity's revocation
    state. A RevocationWatcher keeps the replica in step; it and the SessionToucher start on first
    use in each worker process (gunicorn forks without --preload: no thread or gRPC stream may
    cross a fork)."""

    signer: TokenSigner
    verifier: TokenVerifier

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._toucher: SessionToucher | None = None

    def init_app(
        self,
        app: Flask,
        *,
        tokens: TokenSettings,
        sync_wait: float,
        revocation_state: RevocationState | None = None,
        watcher_factory: Callable[[RevocationState], RevocationWatcher] | None = None,
        touch: Callable[[list[str]], None] | None = None,
    ) -> None:
        """`touch` sends the ids of used tokens to identity (None: sessions are not touched)."""
        private_key = ensure_keypair(tokens.signing_key_file, tokens.public_key_file)
        self.signer = TokenSigner(
            private_key, issuer=tokens.issuer, audience=tokens.audience, ttl=tokens.ttl_seconds
        )
        # Only the user signing key is trusted here: a service credential is no user token.
        self.verifier = TokenVerifier(
            [TrustedKey(load_public_key(tokens.public_key_file), tokens.audience, USER_KINDS)],
            issuer=tokens.issuer,
        )
        self.sync_wait = sync_wait
        self._touch = touch
        self._state = revocation_state  # injected (unit tests): no watcher
        self._watcher_factory = watcher_factory if revocation_state is None else None
        app.extensions[EXTENSION] = self

    def _start_in_this_process(self) -> None:
        pid = os.getpid()
        if self._pid == pid:
            return
        with self._lock:
            if self._pid == pid:
                return
            if self._watcher_factory is not None:
                state = RevocationState()
                self._watcher_factory(state).start()
                self._state = state
            if self._touch is not None:
                self._toucher = SessionToucher(self._touch)
            self._pid = pid

    def revocation_state(self) -> RevocationState:
        """The replica; starts the watcher on first use in this process."""
        self._start_in_this_process()
        assert self._state is not None
        return self._state

    def authenticate(self, token: str) -> Principal:
        """The verified, unrevoked principal of `token`; 401 or 503 otherwise."""
        principal = self.verifier.verify(token)  # signature, kid, alg, iss, aud, exp (cached)
        state = self.revocation_state()
        if not state.synced and not state.wait_synced(self.sync_wait):
            raise ServiceUnavailable(
                "The identity service is not available at the moment. Please try again shortly.",
                extra={"service": "identity"},
            )
        if state.is_revoked(principal):
            raise Unauthenticated("This token has been revoked. Please sign in again.")
        if self._toucher is not None:
            self._toucher.seen(principal.jti)
        return principal

    def pending_token(self) -> PendingToken:
        """Names the token a login is about to issue (its session is recorded with it)."""
        now = int(time.time())
        return PendingToken(uuid.uuid4().hex, now, now + self.signer.ttl)

    def issue(
        self,
        *,
        kind: str,
        subject: str,
        generation: int,
        customer_number: str | None = None,
        package_id: str | None = None,
        pending: PendingToken | None = None,
    ) -> dict[str, Any]:
        """The JSON body of a successful login (the token named by `pending`, when given)."""
        token, _claims = self.signer.issue(
            kind=kind,
            subject=subject,
            generation=generation,
            customer_number=customer_number,
            package_id=package_id,
            jti=pending.jti if pending else None,
            issued_at=pending.issued_at if pending else None,
        )
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.signer.ttl, "kind": kind}

    def jwks(self) -> dict[str, Any]:
        return self.verifier.jwks(USER_KINDS)


def guard() -> TokenGuard:
    return cast(TokenGuard, current_app.extensions[EXTENSION])


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
    return token


def token_required(*kinds: str) -> Callable[[F], F]:
    """The endpoint needs a valid token of one of `kinds` (customer, package, staff).

    No, bad, expired or revoked token: 401 unauthenticated; a valid token of another kind:
    403 forbidden. The principal is put on `flask.g.principal`.
    """
    allowed = frozenset(kinds)
    if not allowed or not allowed <= USER_KINDS:
        raise ValueError(f"token kinds must be some of {sorted(USER_KINDS)}, not {kinds!r}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            principal = guard().authenticate(bearer_token())
            if principal.kind not in allowed:
                raise Forbidden(f"This endpoint is not available with a {principal.kind} token.")
            g.principal = principal
            return view(*args, **kwargs)

        wrapped.token_kinds = allowed  # type: ignore[attr-defined]  # read by the OpenAPI test
        return wrapped  # type: ignore[return-value]  # functools.wraps keeps the view's signature

    return decorate


def current_principal() -> Principal:
    return cast(Principal, g.principal)


def current_token() -> str:
    """The bearer token of the signed-in principal, forwarded to the services."""
    return current_principal().token
