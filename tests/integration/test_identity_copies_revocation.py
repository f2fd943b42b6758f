"""Two identity-service copies (real `python -m identity_service` processes) on one fresh
PostgreSQL database, a revocation watcher (what the gateway workers and the services keep)
connected to each: a token revoked through one copy is refused by the watchers of the other
copy, and by that copy itself, when the revoking call returns. The listener of a copy that
loses its PostgreSQL connection catches up without losing a change, and a copy that dies is
no longer waited for once its heartbeat has expired. (One copy, SQLite or PostgreSQL:
test_identity_revocation_grpc.py.)"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from cc_common.revocation import RevocationState, RevocationWatcher
from cc_common.testing import TokenFactory, metadata
from cc_common.tokens import TokenVerifier
from customercenter.v2 import identity_pb2 as pb
from customercenter.v2 import identity_pb2_grpc
from sqlalchemy import create_engine, text

from tests.conftest import PgDatabases, require_postgres
from tests.e2e.harness import Suite, free_ports, grpc_status

pytestmark = pytest.mark.postgres

TIMEOUT = 10


class Copy:
    """One identity-service process."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.address = f"127.0.0.1:{free_ports(1)[0]}"
        self.log_path = workdir / f"identity-{name}.log"
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "identity_service"],
                env={**env, "LISTEN_ADDR": self.address},
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.channel = grpc.insecure_channel(self.address)
        self.stub = identity_pb2_grpc.IdentityServiceStub(self.channel)

    def wait_serving(self, timeout: float = 60) -> Copy:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise AssertionError(f"identity {self.name} exited:\n{self.log()}")
            if grpc_status(self.address) == "SERVING":
                return self
            time.sleep(0.1)
        raise AssertionError(f"identity {self.name} did not serve within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.channel.close()
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


class Copies:
    def __init__(self, workdir: Path, url: str, **env: str) -> None:
        suite = Suite(workdir, processes=["identity"], mail_sink=False)  # keys and environment only
        self.env = {
            **suite.base_env(),
            "DATABASE_URL": url,
            "STAFF_PASSWORD": "Staff-copies-Passw0rd!",
            **env,
        }
        self.workdir = workdir
        self.url = url
        self.tokens = TokenFactory(suite.token_settings)
        self.verifier = TokenVerifier.from_settings(suite.token_settings)
        self.gateway = metadata(self.tokens.service())
        self.copies: list[Copy] = []
        self.watchers: list[RevocationWatcher] = []

    def start(self, name: str) -> Copy:
        copy = Copy(name, self.env, self.workdir)
        self.copies.append(copy)
        return copy.wait_serving()

    def watch(self, copy: Copy) -> RevocationState:
        state = RevocationState()
        watcher = RevocationWatcher(grpc.insecure_channel(copy.address), self.tokens.service, state).start()
        self.watchers.append(watcher)
        assert state.wait_synced(TIMEOUT)
        return state

    def set_customer_password(self, copy: Copy, number: str, password: str) -> None:
        request = pb.SetCustomerPasswordRequest(customer_number=number, password=password)
        copy.stub.SetCustomerPassword(request, metadata=metadata(self.tokens.staff("staff")), timeout=TIMEOUT)

    def customer(self, number: str = "100"):
        """A fresh customer token and what a verifier makes of it."""
        token = self.tokens.customer(number)
        return token, self.verifier.verify(token)

    def close(self) -> None:
        for watcher in self.watchers:
            watcher.stop()
        for copy in self.copies:
            copy.stop()


@pytest.fixture
def pg_url():
    require_postgres()
    dbs = PgDatabases()
    yield dbs.create("identity_copies")
    dbs.drop_all()


@pytest.fixture
def copies(tmp_path, pg_url):
    group = Copies(tmp_path, pg_url, REVOCATION_ACK_TIMEOUT_SECONDS="3")
    yield group
    group.close()


def revoke_own(copy: Copy, token: str) -> float:
    """Logout through `copy`; the seconds the call took."""
    started = time.perf_counter()
    copy.stub.RevokeOwnToken(pb.RevokeOwnTokenRequest(), metadata=metadata(token), timeout=TIMEOUT)
    return time.perf_counter() - started


def listener_pid(url: str, copy: Copy) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE application_name LIKE :name"),
                {"name": f"identity-revocations %:{copy.popen.pid}:%"},
            ).scalar_one()
    finally:
        engine.dispose()


def test_a_revocation_through_one_copy_is_refused_by_the_watchers_of_the_other_when_the_call_returns(copies):
    a = copies.start("a")
    b = copies.start("b")
    on_a, on_b = copies.watch(a), copies.watch(b)
    copies.set_customer_password(a, "100", "first password")

    # RevokeSubject (every session of a subject) through A.
    _, session = copies.customer("900")
    a.stub.RevokeSubject(
        pb.RevokeSubjectRequest(subject="customer:900"), metadata=copies.gateway, timeout=TIMEOUT
    )
    assert on_b.is_revoked(session) and on_a.is_revoked(session)

    # Logouts through either copy, each checked on the watcher of the other copy at once.
    latencies = []
    for i in range(20):
        copy, other = (a, on_b) if i % 2 == 0 else (b, on_a)
        token, principal = copies.customer()
        latencies.append(revoke_own(copy, token))
        assert other.is_revoked(principal), (
            f"logout {i} through {copy.name} not yet applied on the other copy"
        )

    # A password change through B: the other sessions die on A's watchers, and A itself refuses them.
    _, bystander = copies.customer()
    bystander_token = copies.tokens.customer("100")
    own = copies.tokens.customer("100")
    change = pb.ChangeCustomerPasswordRequest(
        current_password="first password", new_password="second password"
    )
    b.stub.ChangeCustomerPassword(change, metadata=metadata(own), timeout=TIMEOUT)
    assert on_a.is_revoked(copies.verifier.verify(bystander_token)) and on_a.is_revoked(bystander)
    assert not on_a.is_revoked(copies.verifier.verify(own))
    again = pb.ChangeCustomerPasswordRequest(
        current_password="second password", new_password="third password"
    )
    with pytest.raises(grpc.RpcError) as refused:
        a.stub.ChangeCustomerPassword(again, metadata=metadata(bystander_token), timeout=TIMEOUT)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert on_a.sequence == on_b.sequence  # one ordered stream for both copies

    print(
        f"\nlogout through one copy, applied on the other copy's watcher when it returns: "
        f"median {statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )
    assert max(latencies) < 3  # never the ack timeout: every copy acknowledged


def test_a_copy_whose_listener_connection_breaks_catches_up_without_losing_a_change(tmp_path, pg_url):
    # Heartbeats every 12 s: only the reconnection can bring the change below in time.
    group = Copies(tmp_path, pg_url, REVOCATION_ACK_TIMEOUT_SECONDS="3", REVOCATION_REPLICA_TTL_SECONDS="60")
    try:
        a = group.start("a")
        b = group.start("b")
        on_b = group.watch(b)
        group.set_customer_password(a, "100", "first password")

        # A change committed without a notification (as if it were sent while the listener was
        # away), then the listener's connection is killed.
        _, lost = group.customer()
        engine = create_engine(pg_url)
        with engine.begin() as conn:
            sequence = conn.execute(
                text("UPDATE revocation_sequence SET value = value + 1 WHERE id = 1 RETURNING value")
            ).scalar_one()
            conn.execute(
                text("INSERT INTO denied_tokens (jti, expires_at, sequence) VALUES (:jti, :exp, :seq)"),
                {"jti": lost.jti, "exp": lost.expires_at, "seq": sequence},
            )
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listener_pid(pg_url, b)})
        engine.dispose()
        # And a logout through A while B's listener reconnects.
        token, logged_out = group.customer()
        revoke_own(a, token)
        assert on_b.is_revoked(logged_out) or not on_b.synced  # a stale watcher: the gateway fails closed

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (on_b.synced and on_b.is_revoked(lost)):
            time.sleep(0.05)
        assert on_b.synced and on_b.is_revoked(lost) and on_b.is_revoked(logged_out), b.log()
        assert "reconnecting" in b.log()

        # B serves watchers again, and a later revocation through A reaches them before A returns.
        token, later = group.customer()
        revoke_own(a, token)
        assert on_b.is_revoked(later)
    finally:
        group.close()


def test_a_copy_that_died_is_no_longer_waited_for_once_its_heartbeat_expired(tmp_path, pg_url):
    group = Copies(tmp_path, pg_url, REVOCATION_ACK_TIMEOUT_SECONDS="5", REVOCATION_REPLICA_TTL_SECONDS="1")
    try:
        a = group.start("a")
        b = group.start("b")
        group.watch(a)
        group.set_customer_password(a, "100", "first password")
        b.popen.kill()  # no goodbye: its row stays until the heartbeat expires
        b.popen.wait(5)
        time.sleep(1.5)
        token, principal = group.customer()
        assert revoke_own(a, token) < 2
        engine = create_engine(pg_url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM revocation_replicas")).scalar_one()
        engine.dispose()
        assert rows == 2  # the dead copy's row is dropped only after 10 TTLs
    finally:
        group.close()
