"""The connected revocation watchers of this process (asyncio, in memory).

A watcher is one WatchRevocations stream. Each change is put in every watcher's queue in
sequence order; the watcher acknowledges the sequence numbers it applied. A revoking RPC
waits until every connected watcher has acknowledged its change, or the ack timeout passed.

identity-service checks its own callers' tokens against `local`, a RevocationState loaded from
the database at start-up and updated in `publish`, in process (no stream to itself): a change
is applied there before any watcher hears of it, so it is never stale.

This hub alone serves one identity copy (the SQLite default). Copies sharing a PostgreSQL
database use its subclass in replicated_hub.py, which also publishes the changes the other
copies committed and waits for their watchers as well.
"""

from __future__ import annotations

import asyncio
import logging

from cc_common.revocation import RevocationState
from cc_common.revocation import SubjectRule as ReplicaRule

from identity_service.domain.revocation import RevocationChange

log = logging.getLogger(__name__)


class Watcher:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[RevocationChange | None] = asyncio.Queue()
        self.acked = 0
        self.closed = False


def apply_to(state: RevocationState, change: RevocationChange) -> None:
    state.apply(
        sequence=change.sequence,
        snapshot=change.snapshot,
        rules=[ReplicaRule(r.subject, r.min_generation, r.keep_jti) for r in change.rules],
        denied=[(d.jti, d.expires_at) for d in change.denied],
    )


class RevocationHub:
    def __init__(self, *, ack_timeout: float, local: RevocationState | None = None) -> None:
        self.ack_timeout = ack_timeout
        self.local = local
        self._watchers: set[Watcher] = set()
        self._changed = asyncio.Condition()
        self._publishing = asyncio.Lock()
        self.published = 0  # the sequence number of the last change published

    def load(self, snapshot: RevocationChange) -> None:
        """The state read from the database at start-up, before anyone watches."""
        if self.local is not None:
            apply_to(self.local, snapshot)
        self.published = snapshot.sequence

    @property
    def watcher_count(self) -> int:
        return len(self._watchers)

    def watcher_lag(self) -> int:
        """Changes published and not yet acknowledged by the slowest connected watcher."""
        return max((self.published - w.acked for w in list(self._watchers) if not w.closed), default=0)

    def connect(self) -> Watcher:
        watcher = Watcher()
        self._watchers.add(watcher)
        return watcher

    async def disconnect(self, watcher: Watcher) -> None:
        watcher.closed = True
        self._watchers.discard(watcher)
        async with self._changed:
            self._changed.notify_all()

    async def ack(self, watcher: Watcher, sequence: int) -> None:
        if sequence > watcher.acked:
            watcher.acked = sequence
            async with self._changed:
                self._changed.notify_all()

    @property
    def publishing(self) -> asyncio.Lock:
        """Held from taking a sequence number until its change is published, so each watcher
        receives changes in sequence order (an ack of N then covers every change up to N)."""
        return self._publishing

    def publish(self, change: RevocationChange) -> None:
        if self.local is not None:
            apply_to(self.local, change)
        for watcher in list(self._watchers):
            watcher.queue.put_nowait(change)
        self.published = max(self.published, change.sequence)

    async def wait_acked(self, sequence: int, timeout: float | None = None) -> bool:
        """True when every connected watcher has acknowledged `sequence`; False on timeout."""

        def done() -> bool:
            return all(w.closed or w.acked >= sequence for w in list(self._watchers))

        try:
            async with self._changed:
                await asyncio.wait_for(
                    self._changed.wait_for(done), self.ack_timeout if timeout is None else timeout
                )
            return True
        except TimeoutError:
            slow = sum(1 for w in list(self._watchers) if not w.closed and w.acked < sequence)
            log.warning("revocation %d: %d watcher(s) did not acknowledge in time", sequence, slow)
            return False

    def close(self) -> None:
        """Ends every watcher's stream (shutdown)."""
        for watcher in list(self._watchers):
            watcher.queue.put_nowait(None)
