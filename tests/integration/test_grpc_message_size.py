"""The size of a message a service accepts, on a real grpc.aio server built by
cc_common.grpc_server.create_server: a signed form of 5 MB gets through (gRPC's default limit
of 4 MB refused it, and the refusal came back to the client as a throttle, 429), and a message
over the server's limit comes back as PayloadTooLarge (413), never as TooManyAttempts."""

from __future__ import annotations

import pytest
from cc_common.errors import NotFound, PayloadTooLarge
from cc_common.grpc_client import ServiceClient, make_channel
from cc_common.grpc_server import MAX_RECEIVE_MESSAGE_BYTES, ServerSpec, create_server
from cc_common.testing import ServerThread
from cc_common.tokens import TokenVerifier
from grpc_health.v1 import health_pb2, health_pb2_grpc

MB = 1024 * 1024


@pytest.fixture
def health_client():
    spec = ServerSpec(registrations=[], service_names=[], verifier=TokenVerifier([], issuer="test"))
    thread = ServerThread(lambda: create_server("127.0.0.1:0", spec)).start()
    channel = make_channel(thread.address)
    yield ServiceClient("test service", channel, health_pb2_grpc.HealthStub, service_token=None, timeout=10)
    channel.close()
    thread.stop()


def check(client: ServiceClient, size: int) -> None:
    # The health service answers NOT_FOUND for a service name it does not know: a message
    # that gets that far was accepted whatever its size.
    client.invoke(client.stub.Check, health_pb2.HealthCheckRequest(service="x" * size))


def test_a_message_of_five_and_a_half_megabytes_reaches_the_service(health_client):
    with pytest.raises(NotFound):
        check(health_client, 5 * MB + MB // 2)


def test_a_message_over_the_servers_limit_is_payload_too_large_not_a_throttle(health_client):
    with pytest.raises(PayloadTooLarge) as refused:
        check(health_client, MAX_RECEIVE_MESSAGE_BYTES + 1)
    assert refused.value.http_status == 413 and refused.value.code == "payload_too_large"
