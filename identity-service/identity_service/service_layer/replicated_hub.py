"""Revocation across identity copies that share one PostgreSQL database.

Each copy has its own watchers (the gateway workers and service copies whose WatchRevocations
stream it serves). A revocation committed through copy A must reach the watchers of every
copy before A's revoking call returns. The database carries it:

- Sequence numbers come from the one counter row (`revocation_sequence`), locked until
  commit: all copies draw from it, so every copy sees one ordered stream of changes. The
  transaction that takes a number also sends NOTIFY with it (delivered on commit).
- Every copy LISTENs (adapters/pg_revocations.py). On a notification it reads what is new
  since the last change it published (`services.revocation_changes_since`: the rules and
  denied tokens carry the sequence of their last change) and publishes that to its
  in-process state and its watchers, in sequence order. The same read runs after every
  (re)connection of the listener and once per heartbeat, so a lost notification costs at
  most a heartbeat of delay and never a change.
- Every copy records in `revocation_replicas` the highest sequence that all its watchers
  (and its own state) have acknowledged, with NOTIFY on an ack channel, and refreshes a
  heartbeat there every TTL/5 while its listener is connected.
- The revoking copy waits, within REVOCATION_ACK_TIMEOUT_SECONDS as before, for its own
  watchers and for the recorded ack of every other copy whose heartbeat is younger than the
  TTL (REVOCATION_REPLICA_TTL_SECONDS). On timeout it answers anyway and logs which copies
  were late, as one copy does with a slow watcher.

Failure behaviour: a copy that dies stops heart-beating and is no longer waited for once its
heartbeat is older than the TTL (so for up to a TTL, revoking calls take the ack timeout);
its watchers lose their stream, turn stale and reconnect elsewhere. A copy whose listener
connection breaks ends its watchers' streams at once (the gateway then fails closed until it
has a fresh snapshot) and refuses new watchers until it has reconnected and caught up from
the database; it stops heart-beating meanwhile. A copy that is stalled longer than the TTL
(yet alive) is presumed dead: revocations made meanwhile reach its watchers only once it runs
again, right away from its catch-up.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from cc_common.errors import ServiceUnavailable
from cc_common.revocation import RevocationState

from identity_service.domain.revocation import RevocationChange
from identity_service.service_layer import services
from identity_service.service_layer.revocation_hub import RevocationHub, Watcher
from identity_service.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# How often a waiting copy looks at the other copies' acks without a notification.
REMOTE_POLL_SECONDS = 0.1


class ChangeFeed(Protocol):
    """The notifications between copies (adapters/pg_revocations.py). The callbacks are called
    from the feed's own thread."""

    connected: bool

    def start(
        self,
        *,
        on_change: Callable[[int], None],
        on_ack: Callable[[], None],
        on_connected: Callable[[], None],
        on_lost: Callable[[], None],
    ) -> None: ...

    def stop(self) -> None: ...


class ReplicatedRevocationHub(RevocationHub):
    """The hub of one identity copy among several on one PostgreSQL database.

    `uow_factory` opens ordinary units of work; `snapshot_uow_factory` ones that read one
    consistent snapshot (REPEATABLE READ), for the catch-up reads. `start()` in the server's
    event loop before serving, `stop()` (any thread) on shutdown."""

    def __init__(
        self,
        *,
        ack_timeout: float,
        local: RevocationState | None,
        feed: ChangeFeed,
        uow_factory: Callable[[], UnitOfWork],
        snapshot_uow_factory: Callable[[], UnitOfWork],
        replica_id: str,
        ttl: float,
    ) -> None:
        super().__init__(ack_timeout=ack_timeout, local=local)
        self.feed = feed
        self._uow = uow_factory
        self._snapshot_uow = snapshot_uow_factory
        self.replica_id = replica_id
        self.ttl = ttl
        self.heartbeat_every = ttl / 5
        self.synced = False  # listening and caught up: watchers are served
        self.reported = 0  # the ack recorded in the database
        self._epoch = 0  # bumped on each (re)connection of the feed
        self._dirty = asyncio.Event()  # something may be new in the database
        self._acks_moved = asyncio.Event()  # this copy's ack watermark may have moved
        self._remote_acks = asyncio.Event()  # replaced on each ack notification
        self._stopped = threading.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._last_heartbeat = 0.0

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self, connect_timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        first = threading.Event()

        def call(fn: Callable[..., None], *args: Any) -> None:
            try:
                loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:  # the loop is closed: shutting down
                pass

        def connected() -> None:
            first.set()
            call(self._on_connected)

        self.feed.start(
            on_change=lambda sequence: call(self._on_change, sequence),
            on_ack=lambda: call(self._on_remote_ack),
            on_connected=connected,
            on_lost=lambda: call(self._on_lost),
        )
        if not await asyncio.to_thread(first.wait, connect_timeout):
            self.feed.stop()
            raise RuntimeError("identity-service could not LISTEN for the revocations of its other copies")
        # Listening before the state is read: whatever commits from now on is notified.
        snapshot = await asyncio.to_thread(
            services.revocation_snapshot, uow=self._uow(), now=int(time.time())
        )
        self.load(snapshot)
        self.reported = self.published  # no watcher yet: the state is all there is
        await asyncio.to_thread(self._heartbeat)
        self.synced = True
        self._tasks = [loop.create_task(self._sync_loop()), loop.create_task(self._report_loop())]
        log.info("revocations: copy %s joined at sequence %d", self.replica_id, self.published)

    def stop(self) -> None:
        """Stops listening and removes this copy's row, so nobody waits for it any longer."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.feed.stop()
        try:
            services.remove_replica(uow=self._uow(), replica_id=self.replica_id)
        except Exception as exc:  # noqa: BLE001 - the row then expires with its heartbeat
            log.warning("revocations: could not remove copy %s: %s", self.replica_id, exc)

    # --- watchers -------------------------------------------------------------------------

    def connect(self) -> Watcher:
        if not self.synced:
            raise ServiceUnavailable("identity is catching up with the revocations of its other copies.")
        watcher = super().connect()
        self._acks_moved.set()
        return watcher

    async def disconnect(self, watcher: Watcher) -> None:
        await super().disconnect(watcher)
        self._acks_moved.set()

    async def ack(self, watcher: Watcher, sequence: int) -> None:
        await super().ack(watcher, sequence)
        self._acks_moved.set()

    def watermark(self) -> int:
        """The highest sequence that this copy's state and every connected watcher applied."""
        return min([self.published, *(w.acked for w in list(self._watchers) if not w.closed)])

    # --- publishing -----------------------------------------------------------------------

    def publish(self, change: RevocationChange) -> None:
        """A change this copy committed (under `publishing`). Published at once when it is the
        next number; when another copy's change comes first, both are read from the database
        by the catch-up (`wait_acked` waits for it), so watchers never see a gap."""
        if change.snapshot or change.sequence == self.published + 1:
            self._deliver(change)
        elif change.sequence > self.published:
            self._dirty.set()

    def _deliver(self, change: RevocationChange) -> None:
        RevocationHub.publish(self, change)
        self._acks_moved.set()

    async def catch_up(self) -> None:
        """Publishes whatever was committed after the last published sequence."""
        async with self.publishing:
            change = await asyncio.to_thread(
                services.revocation_changes_since,
                uow=self._snapshot_uow(),
                after=self.published,
                now=int(time.time()),
            )
            if change is not None and change.snapshot:
                log.error(
                    "revocations: the database's sequence went back from %d to %d (restored?); "
                    "starting over from its state",
                    self.published,
                    change.sequence,
                )
                self.load(change)
                self.reported = change.sequence
                self.close()  # the watchers' acks count the old numbers: they must resubscribe
            elif change is not None:
                self._deliver(change)
        if change is not None:
            async with self._changed:
                self._changed.notify_all()

    # --- waiting --------------------------------------------------------------------------

    async def wait_acked(self, sequence: int, timeout: float | None = None) -> bool:
        """True once this copy's watchers and every other live copy acknowledged `sequence`;
        False when the ack timeout passed first."""
        loop = asyncio.get_running_loop()
        budget = self.ack_timeout if timeout is None else timeout
        deadline = loop.time() + budget
        if self.published < sequence:
            self._dirty.set()
            try:
                async with self._changed:
                    await asyncio.wait_for(self._changed.wait_for(lambda: self.published >= sequence), budget)
            except TimeoutError:
                log.warning("revocation %d: not published by this copy in time", sequence)
                return False
        remaining = max(0.001, deadline - loop.time())
        here, elsewhere = await asyncio.gather(
            super().wait_acked(sequence, remaining), self._wait_other_copies(sequence, deadline)
        )
        return here and elsewhere

    async def _wait_other_copies(self, sequence: int, deadline: float) -> bool:
        loop = asyncio.get_running_loop()
        while True:
            woken = self._remote_acks
            lagging = await asyncio.to_thread(
                services.lagging_replicas,
                uow=self._uow(),
                replica_id=self.replica_id,
                sequence=sequence,
                alive_within=self.ttl,
            )
            if not lagging:
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                log.warning(
                    "revocation %d: identity copies %s did not acknowledge in time",
                    sequence,
                    ", ".join(lagging),
                )
                return False
            try:
                await asyncio.wait_for(woken.wait(), min(remaining, REMOTE_POLL_SECONDS))
            except TimeoutError:
                pass

    # --- feed callbacks (in the event loop) -------------------------------------------------

    def _on_change(self, sequence: int) -> None:
        if sequence > self.published:
            self._dirty.set()

    def _on_remote_ack(self) -> None:
        woken, self._remote_acks = self._remote_acks, asyncio.Event()
        woken.set()

    def _on_connected(self) -> None:
        self._epoch += 1
        self._dirty.set()

    def _on_lost(self) -> None:
        self._unsync("the listener connection to PostgreSQL broke")

    def _unsync(self, reason: str) -> None:
        if self.synced:
            log.warning(
                "revocations: %s; ending %d watch stream(s) until caught up", reason, self.watcher_count
            )
        self.synced = False
        self.close()  # the watchers turn stale and reconnect; refused until caught up

    # --- background tasks -------------------------------------------------------------------

    async def _sync_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                await asyncio.wait_for(self._dirty.wait(), self.heartbeat_every)
            except TimeoutError:
                pass
            self._dirty.clear()
            if self._stopped.is_set():
                return
            epoch = self._epoch
            try:
                await self.catch_up()
                if self.feed.connected and epoch == self._epoch and not self.synced:
                    self.synced = True
                    log.info("revocations: caught up at sequence %d, serving watchers again", self.published)
                if self.feed.connected and time.monotonic() - self._last_heartbeat >= self.heartbeat_every:
                    await asyncio.to_thread(self._heartbeat)
            except Exception as exc:  # noqa: BLE001 - the database is unreachable: retried
                self._unsync(f"the revocations could not be read ({exc})")
                await asyncio.sleep(min(0.5, self.heartbeat_every))
                self._dirty.set()

    async def _report_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                await asyncio.wait_for(self._acks_moved.wait(), self.heartbeat_every)
            except TimeoutError:
                pass
            self._acks_moved.clear()
            mark = self.watermark()
            if mark <= self.reported or self._stopped.is_set():
                continue
            try:
                await asyncio.to_thread(
                    services.record_replica_ack, uow=self._uow(), replica_id=self.replica_id, sequence=mark
                )
                self.reported = mark
            except Exception as exc:  # noqa: BLE001 - retried; the waiting copies time out
                log.warning("revocations: could not record ack %d: %s", mark, exc)
                await asyncio.sleep(0.2)
                self._acks_moved.set()

    def _heartbeat(self) -> None:
        services.replica_heartbeat(
            uow=self._uow(), replica_id=self.replica_id, acked=self.reported, forget_after=10 * self.ttl
        )
        self._last_heartbeat = time.monotonic()
