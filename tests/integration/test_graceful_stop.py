"""Stopping without failing calls: a real service process and a real gunicorn get SIGTERM
while a slow call is in flight. The service reports NOT_SERVING while it still takes calls
(GRPC_DRAIN_SECONDS), then refuses new ones, finishes the slow call and exits 0; gunicorn
stops accepting, finishes the request and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import grpc
import pytest
import requests
from cc_common import healthcheck
from cc_common.testing import TokenFactory, metadata, token_settings_in
from customercenter.v2 import package_pb2, package_pb2_grpc

from tests.e2e.harness import REPO, free_ports

DRAIN = 2.0
SLOW = 4.0  # the slow call: in flight from before SIGTERM until after the drain


def in_thread(fn) -> Future:
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    return future


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_ADDR") and not k.startswith(("GRPC_", "FAULT_")) and k != "PYTHONPATH"
    }
    env.update(
        PYTHONPATH=str(REPO),  # the tests' own modules; the packages are installed in the venv
        PYTHONUNBUFFERED="1",
        VAR_DIR=str(tmp_path / "var"),
        APP_ENV="development",
    )
    env.update(extra)
    return env


@pytest.fixture
def process():
    started: list[subprocess.Popen] = []

    def start(argv, env, log: Path) -> subprocess.Popen:
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_a_service_drains_then_finishes_the_call_in_flight_and_exits_0(tmp_path, process):
    tokens = TokenFactory(token_settings_in(tmp_path / "var"))
    (port,) = free_ports(1)
    address = f"127.0.0.1:{port}"
    env = clean_env(
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'package.db'}",
        LISTEN_ADDR=address,
        PACKAGE_ADDR=address,
        IDENTITY_ADDR="127.0.0.1:1",  # no identity: the revocation replica fails open
        GRPC_DRAIN_SECONDS=str(DRAIN),
        FAULT_INJECT=f"delay:PackageServicer.ListProducts={SLOW}",
    )
    log = tmp_path / "package.log"
    proc = process([sys.executable, "-m", "package_service"], env, log)
    wait_for(lambda: healthcheck.status(address, timeout=0.5) == "SERVING", 30, "package-service")

    channel = grpc.insecure_channel(address)
    stub = package_pb2_grpc.PackageServiceStub(channel)
    slow = in_thread(
        lambda: stub.ListProducts(
            package_pb2.ListProductsRequest(), metadata=metadata(tokens.staff()), timeout=20
        )
    )
    time.sleep(0.5)  # the call is in the server
    terminated = time.monotonic()
    proc.send_signal(signal.SIGTERM)

    # 1. Draining: health says NOT_SERVING (to a new connection), calls are still taken.
    wait_for(lambda: healthcheck.status(address, timeout=0.5) == "NOT_SERVING", DRAIN / 2, "NOT_SERVING")
    assert time.monotonic() - terminated < DRAIN
    # 2. After the drain: a new connection is refused, while the slow call is still running.
    wait_for(lambda: healthcheck.status(address, timeout=0.5) == "UNREACHABLE", DRAIN + 2, "refusal")
    assert time.monotonic() - terminated >= DRAIN - 0.2
    assert not slow.done(), "the slow call ended before the server stopped taking calls"
    # 3. The call in flight finishes with its answer, and the process exits 0.
    reply = slow.result(timeout=15)
    assert reply.products
    assert proc.wait(15) == 0
    channel.close()
    text = log.read_text()
    for phase in ("SIGTERM: reporting NOT_SERVING", "taking no new calls", "stopped"):
        assert phase in text, text


def test_a_second_signal_cuts_the_drain_short(tmp_path, process):
    token_settings_in(tmp_path / "var")
    (port,) = free_ports(1)
    address = f"127.0.0.1:{port}"
    env = clean_env(
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'package.db'}",
        LISTEN_ADDR=address,
        IDENTITY_ADDR="127.0.0.1:1",
        GRPC_DRAIN_SECONDS="30",
    )
    proc = process([sys.executable, "-m", "package_service"], env, tmp_path / "package.log")
    wait_for(lambda: healthcheck.status(address, timeout=0.5) == "SERVING", 30, "package-service")
    proc.send_signal(signal.SIGTERM)
    wait_for(lambda: healthcheck.status(address, timeout=0.5) == "NOT_SERVING", 5, "NOT_SERVING")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 0


def test_an_invalid_drain_time_stops_the_service_at_start_up(tmp_path, process):
    token_settings_in(tmp_path / "var")
    (port,) = free_ports(1)
    env = clean_env(
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'package.db'}",
        LISTEN_ADDR=f"127.0.0.1:{port}",
        IDENTITY_ADDR="127.0.0.1:1",
        GRPC_DRAIN_SECONDS="soon",
    )
    proc = process([sys.executable, "-m", "package_service"], env, tmp_path / "package.log")
    assert proc.wait(30) != 0
    assert "GRPC_DRAIN_SECONDS" in (tmp_path / "package.log").read_text()


def test_gunicorn_with_the_gateway_settings_finishes_a_request_in_flight_and_exits_0(tmp_path, process):
    (port,) = free_ports(1)
    base = f"http://127.0.0.1:{port}"
    env = clean_env(tmp_path, GATEWAY_WORKERS="1", GATEWAY_REUSE_PORT="0")
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(REPO / "deploy" / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "tests.support.slow_wsgi:app",
    ]
    log = tmp_path / "gunicorn.log"
    proc = process(argv, env, log)

    def up() -> bool:
        try:
            return requests.get(f"{base}/?seconds=0", timeout=1).text == "done"
        except requests.ConnectionError:
            return False

    wait_for(up, 30, "gunicorn")
    slow = in_thread(lambda: requests.get(f"{base}/?seconds={SLOW}", timeout=20))
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    # No longer accepting: a new request is not served (refused, or reset when the worker ends).
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/?seconds=0", timeout=SLOW + 5)
    reply = slow.result(timeout=20)
    assert (reply.status_code, reply.text) == (200, "done")
    assert proc.wait(15) == 0, log.read_text()
