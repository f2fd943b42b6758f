"""Helpers for tests: run an asyncio gRPC server in a background thread, and mint tokens.

Used by integration tests (real server on port 0, real database) and by the end-to-end
harness; nothing here is imported by production code.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import grpc

from cc_common.config import TokenSettings
from cc_common.tokens import TokenSigner, ensure_all_keys, ensure_keypair


class ServerThread:
    """Starts `factory()` -> (server, port[, ...]) on its own event loop in a daemon thread."""

    def __init__(self, factory: Callable[[], Coroutine[Any, Any, tuple[Any, ...]]]) -> None:
        self._factory = factory
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.server: grpc.aio.Server | None = None
        self.port = 0
        self.extra: tuple[Any, ...] = ()

    def start(self) -> ServerThread:
        self._thread.start()
        created = self.run(self._factory())
        self.server, self.port, *rest = created
        self.extra = tuple(rest)
        self.run(self.server.start())
        return self

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stops the server (calls in flight are cancelled) and its loop; again: nothing."""
        if not self._thread.is_alive():
            return
        from cc_common.outbox import Dispatcher
        from cc_common.revocation import RevocationWatcher

        for extra in self.extra:  # a service's revocation replica and mail dispatcher end with it
            if isinstance(extra, RevocationWatcher | Dispatcher) or getattr(extra, "stop_with_server", False):
                extra.stop()
        if self.server is not None:
            self.run(self.server.stop(0))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def token_settings_in(directory: Path) -> TokenSettings:
    """TokenSettings with fresh keys under `directory`."""
    settings = TokenSettings.in_directory(directory / "keys")
    ensure_all_keys(settings)
    return settings


class TokenFactory:
    """Mints user and service tokens with the keys of `settings`, for tests."""

    def __init__(self, settings: TokenSettings) -> None:
        self.user = TokenSigner(
            ensure_keypair(settings.signing_key_file, settings.public_key_file),
            issuer=settings.issuer,
            audience=settings.audience,
            ttl=settings.ttl_seconds,
        )
        # One signer per calling service, each with that service's own key.
        self.service_signers = {
            files.name: TokenSigner(
                ensure_keypair(files.private, files.public),
                issuer=settings.issuer,
                audience=settings.service_audience,
                ttl=300,
            )
            for files in settings.service_keys
        }

    def customer(self, number: str, generation: int = 0) -> str:
        return self.user.issue(
            kind="customer", subject=f"customer:{number}", customer_number=number, generation=generation
        )[0]

    def package(self, package_id: str) -> str:
        """A package login's token: no customer number (the owner is found by the services)."""
        return self.user.issue(kind="package", subject=f"package:{package_id}", package_id=package_id)[0]

    def staff(self, username: str = "admin") -> str:
        return self.user.issue(kind="staff", subject=f"staff:{username}")[0]

    def service(self, name: str = "gateway", *, signed_by: str | None = None) -> str:
        """The credential `service:<name>`, signed with that service's key (or, to forge one,
        with the key of `signed_by`)."""
        signer = self.service_signers[signed_by or name]
        return signer.issue(kind="service", subject=f"service:{name}")[0]


def metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)
