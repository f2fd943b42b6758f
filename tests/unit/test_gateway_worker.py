"""The gateway's gunicorn worker without a network: gunicorn's own parser fed from bytes
(requests that do or do not leave body bytes behind), the request target of a refused head,
the JSON answer of a limit error, and gRPC's size refusal mapped to 413, not 429."""

from __future__ import annotations

import http.client
import io
import json
import socket
import threading

import gateway_worker
import grpc
import pytest
from cc_common.errors import InvalidInput, PayloadTooLarge, TooManyAttempts, from_rpc_error, to_trailers
from gateway_worker import (
    GatewayRequestParser,
    GatewayWorker,
    body_fully_read,
    is_api_target,
    json_error_response,
    request_target,
)
from gunicorn.config import Config
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine


def gunicorn_config(**settings) -> Config:
    cfg = Config()
    for name, value in settings.items():
        cfg.set(name, value)
    return cfg


def first_request(raw: bytes, cfg: Config | None = None, piece: int = 7):
    """The first request gunicorn parses from `raw`, arriving in pieces of `piece` bytes."""
    pieces = [raw[i : i + piece] for i in range(0, len(raw), piece)]
    parser = GatewayRequestParser(cfg or gunicorn_config(), pieces, ("127.0.0.1", 40000))
    return next(parser)


def post(body: bytes) -> bytes:
    return b"POST /api/v1/x HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def chunked(*parts: bytes) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    return b"POST /api/v1/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body


def test_a_request_without_a_body_keeps_the_connection():
    request = first_request(b"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n")
    assert body_fully_read(request.body)
    assert request.should_close() is False


def test_a_body_read_to_its_last_byte_keeps_the_connection():
    request = first_request(post(b'{"a": "' + b"x" * 3000 + b'"}'))
    assert request.body.read() == b'{"a": "' + b"x" * 3000 + b'"}'
    assert request.should_close() is False


def test_an_unread_body_closes_the_connection():
    request = first_request(post(b'{"a": 1}'))
    assert request.should_close() is True


def test_a_body_read_in_part_closes_the_connection_and_the_decision_stays():
    request = first_request(post(b"y" * 5000))
    request.body.read(100)
    assert request.should_close() is True
    request.body.read()  # what gunicorn drains afterwards does not turn the answer round
    assert request.should_close() is True


def test_a_chunked_body_read_to_its_end_keeps_the_connection():
    request = first_request(chunked(b"a" * 100, b"b" * 200))
    assert request.body.read() == b"a" * 100 + b"b" * 200
    assert request.should_close() is False


def test_a_chunked_body_read_up_to_a_limit_closes_the_connection():
    request = first_request(chunked(b"a" * 100, b"b" * 200))
    assert request.body.read(150) == b"a" * 100 + b"b" * 50
    assert request.should_close() is True


def test_a_client_that_asks_to_close_gets_close_whatever_the_body():
    request = first_request(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert request.should_close() is True


def test_an_unknown_body_reader_counts_as_unread():
    class Odd:
        buf = io.BytesIO()
        reader = object()

    assert body_fully_read(Odd()) is False


@pytest.mark.parametrize(
    "head, target",
    [
        (b"GET /api/v1/packages?q=aaaa", b"/api/v1/packages?q=aaaa"),
        (b"\r\nPOST /api/v1/merges HTTP/1.1\r\n", b"/api/v1/merges"),
        (b"GET http://gw.example/api/v1/x?y HTTP/1.1", b"/api/v1/x?y"),
        (b"GET https://gw.example HTTP/1.1", b""),
        (b"GET /login?next=/api/ HTTP/1.1", b"/login?next=/api/"),
        (b"GET", b""),
    ],
)
def test_the_request_target_is_read_from_the_start_of_a_request(head, target):
    assert request_target(head) == target


@pytest.mark.parametrize(
    "target, api",
    [(b"/api/v1/x", True), (b"/api", True), (b"/api/", True), (b"/apix", False), (b"/login?x=/api/", False)],
)
def test_only_targets_under_api_are_api_targets(target, api):
    assert is_api_target(target) is api


def test_a_request_line_over_the_limit_is_refused_with_its_target():
    cfg = gunicorn_config(limit_request_line=100)
    with pytest.raises(LimitRequestLine) as refused:
        first_request(b"GET /api/v1/packages?q=" + b"a" * 300 + b" HTTP/1.1\r\nHost: h\r\n\r\n", cfg)
    assert refused.value.request_target.startswith(b"/api/v1/packages?q=aaa")


def test_headers_over_the_limit_are_refused_with_the_target():
    cfg = gunicorn_config(limit_request_fields=5)
    many = b"".join(b"X-%d: v\r\n" % i for i in range(10))
    with pytest.raises(LimitRequestHeaders) as refused:
        first_request(b"GET /api/v1/packages HTTP/1.1\r\n" + many + b"\r\n", cfg)
    assert refused.value.request_target == b"/api/v1/packages"


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    class Source:
        def makefile(self, mode):
            return io.BytesIO(raw)

    response = http.client.HTTPResponse(Source())  # type: ignore[arg-type]
    response.begin()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def test_the_json_error_response_is_a_complete_http_answer_that_closes():
    status, headers, body = parse_response(
        json_error_response(414, "URI Too Long", "uri_too_long", "Too long.")
    )
    assert status == 414
    assert headers["connection"] == "close" and headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": {"code": "uri_too_long", "message": "Too long."}}


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def warning(self, msg, *args):
        self.lines.append(msg % args if args else msg)

    debug = exception = info = warning

    def access(self, *args):
        pass


def answer_of_handle_error(error: Exception) -> tuple[int, dict[str, str], bytes]:
    worker = GatewayWorker.__new__(GatewayWorker)  # no process, only what handle_error uses
    worker.cfg = gunicorn_config()
    worker.log = _Log()
    server, client = socket.socketpair()
    try:
        worker.handle_error(None, server, ("127.0.0.1", 40000), error)
        server.close()
        raw = b""
        while chunk := client.recv(65536):
            raw += chunk
    finally:
        client.close()
    return parse_response(raw)


def test_a_too_long_request_line_under_api_is_answered_as_json_414():
    error = LimitRequestLine(5000, 4094)
    error.request_target = b"/api/v1/packages?q=aaa"
    status, headers, body = answer_of_handle_error(error)
    assert status == 414 and headers["content-type"] == "application/json"
    message = json.loads(body)["error"]
    assert message["code"] == "uri_too_long" and "4094" in message["message"]


def test_too_large_headers_under_api_are_answered_as_json_431():
    error = LimitRequestHeaders("limit request headers fields size")
    error.request_target = b"/api/v1/customer"
    status, headers, body = answer_of_handle_error(error)
    assert status == 431 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "request_header_fields_too_large"


def test_limit_errors_outside_api_keep_gunicorns_plain_page():
    error = LimitRequestLine(5000, 4094)
    error.request_target = b"/login?q=aaa"
    status, headers, body = answer_of_handle_error(error)
    assert status == 414 and headers["content-type"] == "text/html"
    assert body.lstrip().startswith(b"<html")


class _RpcError(grpc.RpcError):
    def __init__(self, status, details, trailers=()):
        self._status, self._details, self._trailers = status, details, trailers

    def code(self):
        return self._status

    def details(self):
        return self._details

    def trailing_metadata(self):
        return self._trailers


def test_grpcs_own_message_size_refusal_is_payload_too_large_not_a_throttle():
    refusal = _RpcError(
        grpc.StatusCode.RESOURCE_EXHAUSTED, "SERVER: Received message larger than max (4608067 vs. 4194304)"
    )
    error = from_rpc_error(refusal, service="merge")
    assert isinstance(error, PayloadTooLarge)
    assert (error.http_status, error.code) == (413, "payload_too_large")
    assert "4194304" not in error.message  # gRPC's internals are not shown to the client


def test_a_throttle_with_its_code_stays_too_many_attempts():
    throttle = _RpcError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "Too many attempts.",
        (("error-code", "too_many_attempts"), ("error-x-retry-after", "30")),
    )
    error = from_rpc_error(throttle, service="identity")
    assert isinstance(error, TooManyAttempts) and error.retry_after == 30


def test_a_service_that_raises_payload_too_large_keeps_its_message_and_field():
    raised = _RpcError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "The file is larger than 5 MB.",
        (("error-code", "payload_too_large"), ("error-field", "file")),
    )
    error = from_rpc_error(raised, service="merge")
    assert isinstance(error, PayloadTooLarge)
    assert (error.message, error.field) == ("The file is larger than 5 MB.", "file")


def test_linger_shuts_the_write_side_and_reads_until_the_client_closes():
    server, client = socket.socketpair()
    payload = b"x" * (3 * 1024 * 1024)

    def send_and_close():
        client.sendall(payload)
        assert client.recv(1) == b""  # the server's write side is shut: EOF here
        client.close()

    sender = threading.Thread(target=send_and_close)
    sender.start()
    try:
        assert gateway_worker.linger(server) == len(payload)
    finally:
        sender.join(10)
        server.close()


def test_linger_stops_at_its_byte_cap(monkeypatch):
    monkeypatch.setattr(gateway_worker, "LINGER_MAX_BYTES", 256 * 1024)
    server, client = socket.socketpair()
    stop = threading.Event()

    def stream():
        try:
            while not stop.is_set():
                client.sendall(b"y" * 65536)
        except OSError:
            pass

    sender = threading.Thread(target=stream)
    sender.start()
    try:
        read = gateway_worker.linger(server)
        assert 256 * 1024 <= read < 256 * 1024 + 65536
    finally:
        stop.set()
        server.close()
        client.close()
        sender.join(10)


def test_an_error_field_that_is_not_printable_ascii_travels_percent_encoded_and_comes_back_whole():
    error = InvalidInput("Unknown setting.", field="settings.\x9cg8 50%", extra={"hint": "ö"})
    trailers = to_trailers(error)
    assert all(0x20 <= ord(c) < 0x7F for _, value in trailers for c in value)
    back = from_rpc_error(_RpcError(grpc.StatusCode.INVALID_ARGUMENT, error.message, trailers))
    assert (back.field, back.extra, back.code) == ("settings.\x9cg8 50%", {"hint": "ö"}, "invalid_input")
