"""Two copies of every process on PostgreSQL behind haproxy (`make cluster`), end to end:
revocation on every copy at once, a merge finished by the surviving merge copy after kill -9,
the per-address lockout through the balancer, and a rolling restart under load that loses no
request."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.support.invariants import check_invariants, holdings

pytestmark = [pytest.mark.xdist_group("cluster"), pytest.mark.cluster]

# Enough requests that haproxy's round robin reaches both gateway copies and each copy's
# workers many times over.
SPREAD = 40


class Holder:
    """What tests/support/invariants.py needs: the staff key and one address per service."""

    def __init__(self, cluster) -> None:
        from cc_common.config import TokenSettings

        self.token_settings = TokenSettings.in_directory(cluster.layout.var_dir / "keys")
        self.addresses = {
            name: cluster.layout.addresses(name)[0] for name in ("identity", "contract", "package", "merge")
        }


def unique_domain() -> str:
    return f"cl-{uuid.uuid4().hex[:10]}.example"


def refused_everywhere(api, token: str) -> Counter:
    return Counter(api.api("GET", "/api/v1/customer", token=token).status_code for _ in range(SPREAD))


def pair(api, packages: int = 2, invoices: int = 2):
    target = api.create_customer("de")
    same = {k: target.fields[k] for k in ("first_name", "last_name", "company")}
    source = api.create_customer("de", **same)
    api.create_package(target.number, domains=[unique_domain()])
    for _ in range(packages):
        api.create_package(source.number, domains=[unique_domain()])
    for _ in range(invoices):
        api.create_invoice(source.number)
    return target, source


def start_and_submit(api, target, source) -> tuple[str, str]:
    token = api.login_customer(target.number, target.password)
    merge = api.api(
        "POST",
        "/api/v1/merges",
        token=token,
        expect=201,
        json={"source_customer_number": source.number, "source_password": source.password},
    ).json()
    api.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=token, expect=200)
    api.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token, expect=202)
    return merge["id"], token


def wait_merge(api, merge_id: str, wanted: set[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = api.api(
            "GET", f"/api/v1/admin/merges/{merge_id}", token=api.staff_token(), expect=200
        ).json()["status"]
        if status in wanted:
            return status
        time.sleep(0.1)
    raise AssertionError(f"merge {merge_id} stayed {status}, expected {wanted}")


def test_a_logout_password_change_and_merge_are_refused_by_every_copy_at_once(cluster):
    api = cluster.api
    customer = api.create_customer("de")
    # Logout.
    token = api.login_customer(customer.number, customer.password)
    assert refused_everywhere(api, token) == Counter({200: SPREAD})
    api.api("POST", "/api/v1/auth/logout", token=token, expect=204)
    assert refused_everywhere(api, token) == Counter({401: SPREAD})
    # Password change: every other token dies, the changing one lives.
    first = api.login_customer(customer.number, customer.password)
    second = api.login_customer(customer.number, customer.password)
    api.api(
        "PUT",
        "/api/v1/customer/password",
        token=first,
        expect=204,
        json={"current_password": customer.password, "new_password": "Another-cluster-Passw0rd!"},
    )
    assert refused_everywhere(api, second) == Counter({401: SPREAD})
    assert refused_everywhere(api, first) == Counter({200: SPREAD})
    # A completed merge: the absorbed number's token dies.
    target, source = pair(api, packages=1, invoices=1)
    source_token = api.login_customer(source.number, source.password)
    merge_id, _ = start_and_submit(api, target, source)
    api.api("POST", f"/api/v1/admin/merges/{merge_id}/approve", token=api.staff_token(), expect=202)
    assert wait_merge(api, merge_id, {"completed", "failed"}, timeout=60) == "completed"
    assert refused_everywhere(api, source_token) == Counter({401: SPREAD})


def test_twenty_failures_from_one_client_address_do_not_lock_out_another(cluster):
    api = cluster.api
    customer = api.create_customer("de")

    def client_from(address: str) -> requests.Session:
        class SourceAdapter(HTTPAdapter):
            def init_poolmanager(self, *args, **kwargs):
                kwargs["source_address"] = (address, 0)
                super().init_poolmanager(*args, **kwargs)

        session = requests.Session()
        session.mount("http://", SourceAdapter())
        return session

    attacker, neighbour = client_from("127.0.0.2"), client_from("127.0.0.3")
    url = f"{cluster.layout.base_url}/api/v1/auth/customer-login"
    statuses = Counter()
    for i in range(25):
        # Spoofed headers from a client are dropped by the balancer, not believed.
        reply = attacker.post(
            url,
            headers={"X-Forwarded-For": f"10.9.{i}.1"},
            json={"customer_number": f"9{uuid.uuid4().int % 10**7:07d}", "password": "wrong-password"},
            timeout=30,
        )
        statuses[reply.status_code] += 1
    assert statuses[429] >= 1, statuses  # the attacker's address is locked ...
    locked = attacker.post(
        url, json={"customer_number": customer.number, "password": customer.password}, timeout=30
    )
    assert locked.status_code == 429, locked.text
    # ... and only the attacker's: the neighbour behind the same balancer signs in.
    ok = neighbour.post(
        url, json={"customer_number": customer.number, "password": customer.password}, timeout=30
    )
    assert ok.status_code == 200, ok.text


def test_a_merge_whose_copy_dies_is_finished_by_the_other_copy_exactly_once(cluster):
    api = cluster.api
    target, source = pair(api)
    numbers = [target.number, source.number]
    holder = Holder(cluster)
    before = holdings(holder, numbers)
    merge_id, _ = start_and_submit(api, target, source)
    # Whichever copy runs the saga stops for good before its third step.
    cluster.fault_file.write_text("hang:merge:before:move_contracts\n")
    offsets = {p: len(cluster.log(p)) for p in ("merge-1", "merge-2")}
    try:
        api.api("POST", f"/api/v1/admin/merges/{merge_id}/approve", token=api.staff_token(), expect=202)
        owner = None
        deadline = time.monotonic() + 30
        while owner is None and time.monotonic() < deadline:
            for program, offset in offsets.items():
                if (
                    "fault point merge:before:move_contracts reached: this thread hangs"
                    in cluster.log(program)[offset:]
                ):
                    owner = program
            time.sleep(0.1)
        assert owner is not None, "no merge copy reached the step"
    finally:
        cluster.fault_file.unlink()
    survivor = "merge-2" if owner == "merge-1" else "merge-1"
    pid = cluster.pid(owner)
    # kill -9, and keep supervisord from starting it again during the check: frozen first, the
    # stop asked for (SIGTERM stays pending), then killed, so supervisord sees a copy it stops.
    os.kill(pid, signal.SIGSTOP)
    stopper = threading.Thread(target=cluster.supervisorctl, args=("stop", owner), kwargs={"check": False})
    stopper.start()
    time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    stopper.join(60)
    killed_at = time.monotonic()
    try:
        assert "STOPPED" in cluster.supervisorctl("status", owner, check=False)
        assert wait_merge(api, merge_id, {"completed", "failed"}, timeout=60) == "completed"
        took = time.monotonic() - killed_at
        lease = float(cluster.layout.env["MERGE_LEASE_SECONDS"])
        print(f"\n{survivor} completed the merge {took:.1f}s after {owner} was killed (lease {lease:.0f}s)")
        assert took < lease + 10
        assert "STOPPED" in cluster.supervisorctl("status", owner, check=False)  # not restarted meanwhile
        after = check_invariants(holder, numbers, before)
        assert after.statuses[source.number] == "retired"
        for email in (target.fields["email"], source.fields["email"]):
            time.sleep(0.5)
            done = [m for m in cluster.mails.to(email) if m.merged]
            assert len(done) == 1, f"{len(done)} completion mails to {email}"
    finally:
        cluster.supervisorctl("start", owner, check=False)


@dataclass
class Load:
    """A steady load of reads, logins and merges through the balancer while copies restart."""

    api: object
    stop: threading.Event = field(default_factory=threading.Event)
    counts: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, reply_or_error, wanted: set[int]) -> bool:
        with self.lock:
            self.counts[kind] += 1
            if isinstance(reply_or_error, Exception):
                self.failures.append(f"{kind}: {type(reply_or_error).__name__}: {reply_or_error}")
                return False
            if reply_or_error.status_code not in wanted:
                self.failures.append(f"{kind}: {reply_or_error.status_code} {reply_or_error.text[:200]}")
                return False
        return True

    def call(self, kind: str, method: str, path: str, wanted: set[int], **kwargs):
        try:
            reply = self.api.api(method, path, **kwargs)
        except requests.RequestException as exc:
            self.record(kind, exc, wanted)
            return None
        return reply if self.record(kind, reply, wanted) else None

    def reader(self, customer) -> None:
        token = self.api.login_customer(customer.number, customer.password)
        while not self.stop.is_set():
            for path in ("/api/v1/packages", "/api/v1/invoices", "/api/v1/customer"):
                self.call("read", "GET", path, {200}, token=token)

    def logins(self, customer) -> None:
        while not self.stop.is_set():
            self.call(
                "login",
                "POST",
                "/api/v1/auth/customer-login",
                {200},
                json={"customer_number": customer.number, "password": customer.password},
            )
            time.sleep(0.05)

    def merges(self) -> None:
        """Merge after merge until the load stops: new customers (staff writes), sign in, start,
        take over, submit, approve, wait for completion."""
        staff = self.api.staff_token()
        while not self.stop.is_set():
            try:
                target, source = pair(self.api, packages=1, invoices=1)
            except (AssertionError, requests.RequestException) as exc:
                self.record("setup", exc, set())
                continue
            with self.lock:
                self.counts["setup"] += 5  # two customers, two packages, an invoice
            login = self.call(
                "login",
                "POST",
                "/api/v1/auth/customer-login",
                {200},
                json={"customer_number": target.number, "password": target.password},
            )
            if login is None:
                continue
            token = login.json()["access_token"]
            merge = self.call(
                "merge",
                "POST",
                "/api/v1/merges",
                {201},
                token=token,
                json={"source_customer_number": source.number, "source_password": source.password},
            )
            if merge is None:
                continue
            merge_id = merge.json()["id"]
            if (
                self.call("merge", "POST", f"/api/v1/merges/{merge_id}/take-over-data", {200}, token=token)
                is None
            ):
                continue
            if self.call("merge", "POST", f"/api/v1/merges/{merge_id}/submit", {202}, token=token) is None:
                continue
            if (
                self.call("merge", "POST", f"/api/v1/admin/merges/{merge_id}/approve", {202}, token=staff)
                is None
            ):
                continue
            deadline = time.monotonic() + 60
            status = None
            while time.monotonic() < deadline:
                reply = self.call("read", "GET", f"/api/v1/merges/{merge_id}", {200}, token=token)
                status = reply.json()["status"] if reply is not None else status
                if status in ("completed", "failed"):
                    break
                time.sleep(0.2)
            with self.lock:
                self.counts[f"merge {status}"] += 1
                if status != "completed":
                    self.failures.append(f"merge {merge_id} ended {status}")


def test_a_rolling_restart_under_load_loses_no_request(cluster):
    api = cluster.api
    readers = [api.create_customer("de") for _ in range(2)]
    for customer in readers:
        api.create_package(customer.number, domains=[unique_domain()])
        api.create_invoice(customer.number)
    load = Load(api)
    threads = [threading.Thread(target=load.reader, args=(c,)) for c in readers]
    threads.append(threading.Thread(target=load.logins, args=(readers[0],)))
    threads.append(threading.Thread(target=load.merges))
    for thread in threads:
        thread.start()
    restarted: list[str] = []
    try:
        time.sleep(1)
        cluster.script.rolling_restart(cluster.layout, report=restarted.append)
        time.sleep(1)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(120)
    total = sum(v for k, v in load.counts.items() if not k.startswith("merge "))
    print(
        f"\nrolling restart of {len(restarted)} copies under load: {total} requests "
        f"({dict(load.counts)}), {len(load.failures)} failed"
    )
    for line in restarted:
        print("  " + line)
    assert len(restarted) == 10
    assert load.counts["read"] > 100 and load.counts["login"] > 20 and load.counts["merge"] >= 6
    assert load.counts["merge completed"] >= 5
    assert load.failures == []
