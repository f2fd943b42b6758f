"""Several copies of one service behind one `<SERVICE>_ADDR`: two real package-service servers
(the real servicer, one database) behind "127.0.0.1:p1,127.0.0.1:p2". The callers' channel
spreads calls over both, and when one copy stops, reads keep succeeding on the other."""

from __future__ import annotations

import collections
import time

import grpc
import pytest
from cc_common import service as service_module
from cc_common.grpc_client import ServiceClient, make_channel
from cc_common.grpc_server import set_serving
from cc_common.testing import ServerThread, TokenFactory, token_settings_in
from customercenter.v2 import package_pb2, package_pb2_grpc
from package_service import bootstrap as package_boot

from tests.integration.test_grpc_mtls import CertificateAuthority

LIST_PRODUCTS = "/customercenter.v2.PackageService/ListProducts"


class CallCounter(grpc.aio.ServerInterceptor):
    """Counts the calls one server receives, by method."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()

    async def intercept_service(self, continuation, handler_call_details):
        self.calls[handler_call_details.method] += 1
        return await continuation(handler_call_details)


@pytest.fixture
def copies(tmp_path, monkeypatch):
    """start(tls=None) -> [(thread, counter), (thread, counter)]: two package-service servers
    on one database, each counting its calls."""
    tokens = token_settings_in(tmp_path)
    counters: list[CallCounter] = []
    real_create = service_module._create_server

    async def counting_create(address, spec):
        counter = CallCounter()
        counters.append(counter)
        spec.extra_interceptors.append(counter)
        return await real_create(address, spec)

    monkeypatch.setattr(service_module, "_create_server", counting_create)
    threads: list[ServerThread] = []

    def start(tls=None):
        settings = package_boot.Settings(
            database_url=f"sqlite:///{tmp_path / 'package.db'}", listen="127.0.0.1:0", tokens=tokens, tls=tls
        )
        pairs = []
        for _ in range(2):
            thread = ServerThread(lambda: package_boot.create_server("127.0.0.1:0", settings)).start()
            thread.run(set_serving(thread.extra[0], [package_boot.SERVICE_NAME], True))
            threads.append(thread)
            pairs.append((thread, counters[-1]))
        return pairs

    start.tokens = TokenFactory(tokens)  # type: ignore[attr-defined]
    yield start
    for thread in threads:
        thread.stop()


def client_of(address: str, tokens: TokenFactory, tls=None) -> ServiceClient:
    return ServiceClient(
        "package service",
        make_channel(address, tls),
        package_pb2_grpc.PackageServiceStub,
        service_token=tokens.staff,  # ListProducts admits staff
        timeout=5,
    )


def wait_until_both_serve(client: ServiceClient, counters: list[CallCounter], timeout: float = 10) -> None:
    """round_robin connects to every copy in the background; calls until both have had one."""
    deadline = time.monotonic() + timeout
    while not all(c.calls[LIST_PRODUCTS] for c in counters):
        assert time.monotonic() < deadline, [dict(c.calls) for c in counters]
        client.invoke(client.stub.ListProducts, package_pb2.ListProductsRequest())
        time.sleep(0.02)


def test_calls_are_spread_over_every_copy(copies):
    (one, first), (two, second) = copies()
    address = f"127.0.0.1:{one.port},127.0.0.1:{two.port}"
    client = client_of(address, copies.tokens)
    wait_until_both_serve(client, [first, second])
    before = first.calls[LIST_PRODUCTS], second.calls[LIST_PRODUCTS]
    for _ in range(40):
        client.invoke(client.stub.ListProducts, package_pb2.ListProductsRequest())
    spread = first.calls[LIST_PRODUCTS] - before[0], second.calls[LIST_PRODUCTS] - before[1]
    assert sum(spread) == 40
    assert min(spread) >= 15, spread  # round robin: about half each


def test_reads_keep_succeeding_when_one_copy_stops(copies):
    (one, first), (two, second) = copies()
    client = client_of(f"127.0.0.1:{one.port},127.0.0.1:{two.port}", copies.tokens)
    wait_until_both_serve(client, [first, second])
    one.stop()
    served_before = second.calls[LIST_PRODUCTS]
    for _ in range(30):
        reply = client.invoke(client.stub.ListProducts, package_pb2.ListProductsRequest())
        assert reply.products
    assert second.calls[LIST_PRODUCTS] - served_before >= 30
    assert client.serving()


def test_a_copy_reporting_not_serving_gets_no_new_calls(copies):
    """Client-side health checking: a copy that drains (NOT_SERVING) is left out at once."""
    (one, first), (two, second) = copies()
    client = client_of(f"127.0.0.1:{one.port},127.0.0.1:{two.port}", copies.tokens)
    wait_until_both_serve(client, [first, second])
    one.run(one.extra[0].enter_graceful_shutdown())
    time.sleep(0.3)  # the Watch stream brings the change to the channel
    before = first.calls[LIST_PRODUCTS]
    for _ in range(20):
        client.invoke(client.stub.ListProducts, package_pb2.ListProductsRequest())
    assert first.calls[LIST_PRODUCTS] == before


def test_mtls_works_with_a_list_of_copies(copies, tmp_path, monkeypatch):
    monkeypatch.delenv("GRPC_TLS_SERVER_NAME", raising=False)
    from cc_common.config import GrpcTls

    ca = CertificateAuthority(tmp_path / "pki")
    server_cert, server_key = ca.issue("package", server=True)  # names 127.0.0.1 and localhost
    client_cert, client_key = ca.issue("gateway", server=False)
    (one, first), (two, second) = copies(GrpcTls(server_cert, server_key, ca.ca_file))
    client_tls = GrpcTls(client_cert, client_key, ca.ca_file)
    for address in (
        f"127.0.0.1:{one.port},127.0.0.1:{two.port}",
        f"localhost:{one.port},localhost:{two.port}",
    ):
        client = client_of(address, copies.tokens, client_tls)
        wait_until_both_serve(client, [first, second])
        assert client.serving()
