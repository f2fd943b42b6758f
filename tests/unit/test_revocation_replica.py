"""cc_common.revocation: a replica goes stale when its stream breaks, and a service's replica
(start_replica) fails open without ever blocking start-up."""

from __future__ import annotations

import socket
import time

import pytest
from cc_common.revocation import RevocationState, SubjectRule, start_replica
from cc_common.testing import token_settings_in
from cc_common.tokens import Principal


def principal(generation: int = 0, jti: str = "j1") -> Principal:
    now = int(time.time())
    return Principal("customer", "customer:100", jti, generation, now + 600, now, customer_number="100")


def test_a_stale_replica_is_no_longer_synced_but_keeps_what_it_knew():
    state = RevocationState()
    state.apply(sequence=1, snapshot=True, rules=[SubjectRule("customer:100", 1)])
    assert state.synced

    state.mark_stale()

    assert not state.synced and not state.wait_synced(0.01)
    assert state.is_revoked(principal(generation=0))
    state.apply(sequence=2, snapshot=True)  # the next snapshot after the reconnect
    assert state.synced and not state.is_revoked(principal(generation=0))


def unused_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def test_a_service_replica_without_identity_starts_at_once_and_fails_open(tmp_path, caplog):
    settings = token_settings_in(tmp_path)
    watcher = start_replica(unused_address(), settings, "package")
    try:
        # It returned without a snapshot (start-up did not wait for identity), and a few retries
        # against the unreachable address later it still has none.
        assert not watcher.state.synced
        assert not watcher.state.wait_synced(0.3)
        assert not watcher.state.is_revoked(principal())
        assert [r for r in caplog.records if r.levelname in ("WARNING", "ERROR", "CRITICAL")] == []
    finally:
        watcher.stop()


@pytest.mark.parametrize("snapshot_first", [True, False])
def test_the_replica_answers_from_its_state_whether_synced_or_not(snapshot_first):
    state = RevocationState()
    if snapshot_first:
        state.apply(sequence=1, snapshot=True, denied=[("j1", int(time.time()) + 600)])
        state.mark_stale()
        assert state.is_revoked(principal(jti="j1"))
    assert not state.is_revoked(principal(jti="j2"))
