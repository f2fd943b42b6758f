"""A local replica of identity-service's revocation state.

Every verifier (the gateway, the services) keeps one in memory and checks it on every request,
so revocation costs no network hop. identity-service streams a snapshot and then each change;
the replica acknowledges what it applied, and identity's revoking RPCs wait for those
acknowledgements, so the very next request after a logout already fails.

A replica is `synced` from its first snapshot until its stream breaks (identity stopped,
restarted or unreachable); then it is stale (`mark_stale`) until the next snapshot arrives.
While not synced it still answers from the last state it had (empty before the first
snapshot). What a verifier does with an unsynced replica is its choice:

- the gateway fails closed: a request waits up to REVOCATION_SYNC_WAIT (2 s) for a snapshot and
  then answers 503 (a logout right after identity restarted can never be missed);
- the gRPC services (`start_replica`) fail open: they keep answering from the last known state
  (nothing revoked before the first snapshot), so they keep working while identity is down.
  A service that is down gives a clean 503 only for the features that need it, and a user
  token reaches a service directly only from inside the network.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc

from cc_common import metrics
from cc_common.config import GrpcTls, TokenSettings
from cc_common.grpc_client import make_channel
from cc_common.tokens import Principal, ServiceCredential

if TYPE_CHECKING:
    from customercenter.v2.identity_pb2 import WatchRevocationsRequest

log = logging.getLogger(__name__)

# The longest pause between two attempts to reach identity: short, because the gateway waits
# only REVOCATION_SYNC_WAIT for a restarted identity before it answers 503.
MAX_BACKOFF = 0.5


@dataclass(frozen=True)
class SubjectRule:
    subject: str
    min_generation: int
    keep_jti: str = ""


class RevocationState:
    """Pure, thread-safe: which tokens are dead. Needs no network to test."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: dict[str, SubjectRule] = {}
        self._denied: dict[str, int] = {}  # jti -> expires_at
        self.sequence = 0
        self._synced = threading.Event()

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    def wait_synced(self, timeout: float) -> bool:
        return self._synced.wait(timeout)

    def mark_stale(self) -> None:
        """The stream to identity broke: changes may be missed until the next snapshot."""
        self._synced.clear()

    def apply(
        self,
        *,
        sequence: int,
        snapshot: bool,
        rules: Iterable[SubjectRule] = (),
        denied: Iterable[tuple[str, int]] = (),
    ) -> None:
        now = int(time.time())
        with self._lock:
            if snapshot:
                self._rules.clear()
                self._denied.clear()
            for rule in rules:
                current = self._rules.get(rule.subject)
                if current is None or rule.min_generation >= current.min_generation:
                    self._rules[rule.subject] = rule
            for jti, expires_at in denied:
                if expires_at > now:
                    self._denied[jti] = expires_at
            self.sequence = max(self.sequence, sequence) if not snapshot else sequence
            if len(self._denied) > 10_000:
                self._denied = {j: e for j, e in self._denied.items() if e > now}
        self._synced.set()

    def is_revoked(self, principal: Principal) -> bool:
        if principal.jti in self._denied:
            return True
        rule = self._rules.get(principal.subject)
        if rule is None:
            return False
        return principal.generation < rule.min_generation and principal.jti != rule.keep_jti


class RevocationWatcher:
    """Keeps a RevocationState in step with identity-service, in a daemon thread."""

    def __init__(
        self, channel: grpc.Channel, token_source: Callable[[], str], state: RevocationState
    ) -> None:
        # Imported here: the generated stubs are not needed by processes that never watch.
        from customercenter.v2 import identity_pb2, identity_pb2_grpc

        self._pb2 = identity_pb2
        self._stub = identity_pb2_grpc.IdentityServiceStub(channel)
        self._token_source = token_source
        self.state = state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="revocation-watcher", daemon=True)
        self._call: grpc.Call | None = None

    def start(self) -> RevocationWatcher:
        metrics.REPLICA_SYNCED.set(0)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._call is not None:
            self._call.cancel()

    def _run(self) -> None:
        backoff = 0.05
        while not self._stop.is_set():
            acks: queue.Queue[int | None] = queue.Queue()
            try:
                metadata = (("authorization", f"Bearer {self._token_source()}"),)
                call = self._stub.WatchRevocations(self._ack_iter(acks), metadata=metadata)
                self._call = call
                for event in call:
                    self.state.apply(
                        sequence=event.sequence,
                        snapshot=event.snapshot,
                        rules=[SubjectRule(r.subject, r.min_generation, r.keep_jti) for r in event.rules],
                        denied=[(d.jti, d.expires_at.seconds) for d in event.denied],  # whole unix seconds
                    )
                    acks.put(event.sequence)
                    metrics.REPLICA_SEQUENCE.set(self.state.sequence)
                    metrics.REPLICA_SYNCED.set(1)
                    metrics.REPLICA_APPLIED_AGE.set(time.time())
                    backoff = 0.05
            except grpc.RpcError as exc:
                if self._stop.is_set():
                    return
                log.debug("revocation watch interrupted: %s", exc)
            finally:
                acks.put(None)
            # The stream ended (an error, or identity shutting down): until the next snapshot
            # this replica may miss revocations.
            self.state.mark_stale()
            metrics.REPLICA_SYNCED.set(0)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _ack_iter(self, acks: queue.Queue[int | None]) -> Iterator[WatchRevocationsRequest]:
        while True:
            seq = acks.get()
            if seq is None:
                return
            yield self._pb2.WatchRevocationsRequest(sequence=seq)


def start_replica(
    identity_addr: str, token_settings: TokenSettings, name: str, tls: GrpcTls | None = None
) -> RevocationWatcher:
    """A service's replica of identity's revocation state, kept in step in a daemon thread
    with the service credential `service:<name>` (signed with that service's own key,
    `<NAME>_SERVICE_KEY_FILE`; WatchRevocations accepts each calling service), over mTLS when
    `tls` is given. Pass `watcher.state` as the `revocation` of the service's TokenVerifier;
    `watcher.stop()` on shutdown.

    Fails open (see the module docstring): start-up never waits for identity, and until the
    first snapshot (or while identity is down) tokens count as not revoked beyond what the
    replica already knew. The watcher retries quietly in the background (DEBUG log only)."""
    credential = ServiceCredential.from_settings(token_settings, name)
    return RevocationWatcher(make_channel(identity_addr, tls), credential.token, RevocationState()).start()
