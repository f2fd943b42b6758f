"""Tokens at the gateway: issuing user tokens after a login, and the `token_required` decorator.

`TokenGuard` is the extension (`init_app`) that holds the signer, the verifier and the local
replica of identity's revocation state. The replica is kept in step by a RevocationWatcher,
started lazily once per worker process (gunicorn forks workers without --preload, and a
thread or a gRPC stream must not cross a fork).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
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


class TokenGuard:
    """Signer, verifier and revocation replica of one app."""

    def __init__(self) -> None:
        self.signer: TokenSigner | None = None
        self.verifier: TokenVerifier | None = None
        self._state: RevocationState | None = None
        self._watcher: RevocationWatcher | None = None
        self._watcher_factory: Callable[[RevocationState], RevocationWatcher] | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self.sync_wait = 2.0

    def init_app(
        self,
        app: Flask,
        *,
        tokens: TokenSettings,
        sync_wait: float,
        revocation_state: RevocationState | None = None,
        watcher_factory: Callable[[RevocationState], RevocationWatcher] | None = None,
    ) -> None:
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
        if revocation_state is not None:
            self._state = revocation_state  # injected (unit tests): no watcher
        else:
            self._watcher_factory = watcher_factory
        app.extensions[EXTENSION] = self

    # --- revocation ----------------------------------------------------------------------

    def revocation_state(self) -> RevocationState:
        """The replica; starts the watcher on first use in this process."""
        if self._watcher_factory is None:
            assert self._state is not None
            return self._state
        pid = os.getpid()
        if self._watcher is None or self._pid != pid:
            with self._lock:
                if self._watcher is None or self._pid != pid:
                    state = RevocationState()
                    self._watcher = self._watcher_factory(state).start()
                    self._state = state
                    self._pid = pid
        assert self._state is not None
        return self._state

    def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()

    # --- tokens --------------------------------------------------------------------------

    def authenticate(self, token: str) -> Principal:
        """The verified, unrevoked principal of `token`; 401 or 503 otherwise."""
        assert self.verifier is not None
        principal = self.verifier.verify(token)  # signature, kid, alg, iss, aud, exp (cached)
        state = self.revocation_state()
        if not state.synced and not state.wait_synced(self.sync_wait):
            raise ServiceUnavailable(
                "The identity service is not available at the moment. Please try again shortly.",
                extra={"service": "identity"},
            )
        if state.is_revoked(principal):
            raise Unauthenticated("This token has been revoked. Please sign in again.")
        return principal

    def issue(
        self,
        *,
        kind: str,
        subject: str,
        generation: int,
        customer_number: str | None = None,
        package_id: str | None = None,
    ) -> dict[str, Any]:
        """The JSON body of a successful login."""
        assert self.signer is not None
        token, _claims = self.signer.issue(
            kind=kind,
            subject=subject,
            generation=generation,
            customer_number=customer_number,
            package_id=package_id,
        )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.signer.ttl,
            "kind": kind,
        }

    def jwks(self) -> dict[str, Any]:
        assert self.verifier is not None
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
