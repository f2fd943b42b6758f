"""HTTP hygiene of the real gateway (gunicorn with deploy/gunicorn.conf.py), over raw sockets
where the connection itself is the point: an answer given before the request body was read
says `Connection: close` and the server really closes; an answer after a body that was read
keeps the connection; under /api/ a too-long request line or too-large headers answer JSON
414/431; a legal proof within its 5 MB is accepted and one over it answers 413 with the limit."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

PDF_HEAD = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n"
PDF_TAIL = b"\n%%EOF\n"
LOGIN = "/api/v1/auth/customer-login"


def pdf_of_size(size: int) -> bytes:
    """A PDF (as merge-service checks it) of exactly `size` bytes."""
    return PDF_HEAD + b"%" * (size - len(PDF_HEAD) - len(PDF_TAIL)) + PDF_TAIL


def connect(suite) -> socket.socket:
    return socket.create_connection(("127.0.0.1", suite.ports["gateway"]), timeout=15)


def send(sock: socket.socket, data: bytes) -> None:
    """Sends all of `data`; the server may stop reading (and reset) once it has answered."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response from `sock` (status, headers with lower-case names, body)."""
    response = http.client.HTTPResponse(sock, method="POST")
    response.begin()
    body = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def server_closed(sock: socket.socket, timeout: float = 10) -> bool:
    """True when the server ends the connection (EOF or reset) within `timeout`."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def request_head(method: str, path: str, headers: dict[str, str], port: int) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def healthz_on(sock: socket.socket, port: int) -> int:
    sock.sendall(request_head("GET", "/healthz", {}, port))
    status, _, _ = read_response(sock)
    return status


def test_a_body_over_one_megabyte_answers_413_with_connection_close_and_the_server_closes(suite):
    port = suite.ports["gateway"]
    body = b'{"customer_number": "1", "password": "' + b"x" * (1100 * 1024) + b'"}'
    sock = connect(suite)
    try:
        head = request_head(
            "POST", LOGIN, {"Content-Type": "application/json", "Content-Length": str(len(body))}, port
        )
        send(sock, head + body)
        status, headers, reply = read_response(sock)
        assert status == 413
        assert headers["connection"] == "close"
        error = json.loads(reply)["error"]
        assert error["code"] == "payload_too_large"
        assert "1 MB" in error["message"]
        assert server_closed(sock)
    finally:
        sock.close()
    # The next request, on a new connection as the answer told the client, is served.
    fresh = connect(suite)
    try:
        assert healthz_on(fresh, port) == 200
    finally:
        fresh.close()


def test_http_client_sends_its_next_request_after_a_413_without_an_error(suite):
    """What a client library does with the answer: a second request after the 413 works."""
    client = http.client.HTTPConnection("127.0.0.1", suite.ports["gateway"], timeout=15)
    try:
        client.request(
            "POST",
            LOGIN,
            body=b"{" + b" " * (1100 * 1024) + b"}",
            headers={"Content-Type": "application/json"},
        )
        first = client.getresponse()
        first.read()
        assert first.status == 413 and first.getheader("Connection") == "close"
        client.request("GET", "/healthz")
        second = client.getresponse()
        second.read()
        assert second.status == 200
    finally:
        client.close()


def test_a_client_that_sends_its_body_after_the_413_was_written_still_reads_the_413(suite):
    """The server answers 413 from the Content-Length alone, before it reads the body; a client
    that sends the whole body before reading (as http.client does) must be able to send it and
    then read the answer: the server reads and discards the body while it closes instead of
    resetting the connection under the client."""
    port = suite.ports["gateway"]
    body = b"{" + b" " * (1100 * 1024) + b"}"
    # A small send buffer, so that the body cannot sit in this side's kernel buffers: most of
    # it is still to be sent when the server has answered, as on a real network.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    sock.settimeout(15)
    sock.connect(("127.0.0.1", port))
    try:
        head = request_head(
            "POST", LOGIN, {"Content-Type": "application/json", "Content-Length": str(len(body))}, port
        )
        sock.sendall(head)
        assert sock.recv(12, socket.MSG_PEEK).startswith(b"HTTP/1.1 413")  # answered, not read
        sock.sendall(body)  # raises BrokenPipeError/ConnectionResetError if the server reset
        status, headers, reply = read_response(sock)
        assert status == 413 and headers["connection"] == "close"
        assert json.loads(reply)["error"]["code"] == "payload_too_large"
        assert server_closed(sock)
    finally:
        sock.close()


def test_a_chunked_body_over_the_limit_answers_413_and_the_server_closes(suite):
    port = suite.ports["gateway"]
    chunk = b"x" * (64 * 1024)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(18))  # 1.125 MB
    sock = connect(suite)
    try:
        head = request_head(
            "POST", LOGIN, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, port
        )
        send(sock, head + chunks + b"0\r\n\r\n")
        status, headers, reply = read_response(sock)
        assert status == 413
        assert headers["connection"] == "close"
        assert json.loads(reply)["error"]["code"] == "payload_too_large"
        assert server_closed(sock)
    finally:
        sock.close()


def test_an_error_before_an_upload_was_read_closes_the_connection(suite):
    """401 for a missing token: the view never reads the body, so the connection cannot be reused."""
    port = suite.ports["gateway"]
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf_of_size(200 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    sock = connect(suite)
    try:
        head = request_head(
            "POST",
            "/api/v1/merges/mrg_x/legal-proof",
            {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(len(body))},
            port,
        )
        send(sock, head + body)
        status, headers, reply = read_response(sock)
        assert status == 401
        assert headers["connection"] == "close"
        assert json.loads(reply)["error"]["code"] == "unauthenticated"
        assert server_closed(sock)
    finally:
        sock.close()


def test_a_small_unread_body_also_closes_the_connection(suite):
    port = suite.ports["gateway"]
    body = b'{"new_password": "whatever-it-is"}'
    sock = connect(suite)
    try:
        head = request_head(
            "PUT",
            "/api/v1/customer/password",
            {"Content-Type": "application/json", "Content-Length": str(len(body))},
            port,
        )
        send(sock, head + body)
        status, headers, _ = read_response(sock)
        assert status == 401
        assert headers["connection"] == "close"
        assert server_closed(sock)
    finally:
        sock.close()


def test_a_connection_stays_usable_after_answers_that_read_the_whole_body(suite):
    port = suite.ports["gateway"]
    body = json.dumps({"customer_number": "99999999", "password": "not-the-password"}).encode()
    sock = connect(suite)
    try:
        assert healthz_on(sock, port) == 200
        head = request_head(
            "POST", LOGIN, {"Content-Type": "application/json", "Content-Length": str(len(body))}, port
        )
        sock.sendall(head + body)
        status, headers, reply = read_response(sock)
        assert status == 401 and json.loads(reply)["error"]["code"] == "invalid_credentials"
        assert headers["connection"] == "keep-alive"
        # The same socket serves the next request.
        assert healthz_on(sock, port) == 200
    finally:
        sock.close()


def test_a_keep_alive_client_reuses_its_connection_for_a_second_request(suite):
    client = http.client.HTTPConnection("127.0.0.1", suite.ports["gateway"], timeout=15)
    try:
        client.request("GET", "/healthz")
        first = client.getresponse()
        first.read()
        used = client.sock
        client.request("GET", "/api/openapi.json")
        second = client.getresponse()
        second.read()
        assert (first.status, second.status) == (200, 200)
        assert first.getheader("Connection") == "keep-alive"
        assert client.sock is used  # not reconnected
    finally:
        client.close()


def raw_exchange(suite, data: bytes) -> tuple[int, dict[str, str], bytes]:
    sock = connect(suite)
    try:
        send(sock, data)
        return read_response(sock)
    finally:
        sock.close()


@pytest.mark.parametrize("path", ["/api/v1/packages", "/api/openapi.json"])
def test_a_request_line_over_the_limit_under_api_answers_json_414(suite, path):
    line = f"GET {path}?q={'a' * 5000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    status, headers, body = raw_exchange(suite, line)
    assert status == 414
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    error = json.loads(body)["error"]
    assert error["code"] == "uri_too_long" and "4094" in error["message"]


def test_a_header_over_the_limit_under_api_answers_json_431(suite):
    request = b"GET /api/v1/packages HTTP/1.1\r\nHost: x\r\nCookie: " + b"c" * 9000 + b"\r\n\r\n"
    status, headers, body = raw_exchange(suite, request)
    assert status == 431 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "request_header_fields_too_large"


def test_too_many_headers_under_api_answer_json_431(suite):
    many = b"".join(b"X-Field-%d: v\r\n" % i for i in range(150))
    status, headers, body = raw_exchange(
        suite, b"GET /api/v1/packages HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"
    )
    assert status == 431 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "request_header_fields_too_large"


def test_a_request_line_over_the_limit_outside_api_answers_a_plain_page(suite):
    status, headers, body = raw_exchange(
        suite, f"GET /login?q={'a' * 5000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )
    assert status == 414
    assert headers["content-type"].startswith("text/html")
    assert body.lstrip().startswith(b"<html")  # the web pages get a page, not JSON


@pytest.fixture(scope="module")
def blocked_merge(suite):
    """A merge of two numbers with different last names: it needs the signed form."""
    kept = suite.create_customer("de", last_name="Brandt")
    absorbed = suite.create_customer("de", last_name="Albers")
    token = suite.login_customer(kept.number, kept.password)
    merge = suite.api(
        "POST",
        "/api/v1/merges",
        token=token,
        expect=201,
        json={"source_customer_number": absorbed.number, "source_password": absorbed.password},
    ).json()
    assert merge["status"] == "needs_legal_proof"
    return token, merge["id"]


def test_a_legal_proof_of_four_and_a_half_megabytes_is_accepted_and_kept_whole(suite, blocked_merge):
    token, merge_id = blocked_merge
    form = pdf_of_size(4608 * 1024)
    reply = suite.api(
        "POST",
        f"/api/v1/merges/{merge_id}/legal-proof",
        token=token,
        files={"file": ("form.pdf", form, "application/pdf")},
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["legal_proof_uploaded"] is True
    stored = suite.api(
        "GET", f"/api/v1/admin/merges/{merge_id}/legal-proof", token=suite.staff_token(), expect=200
    )
    assert stored.content == form


@pytest.mark.parametrize("size", [5 * 1024 * 1024 + 1, 6 * 1024 * 1024])
def test_a_legal_proof_over_five_megabytes_answers_413_stating_the_limit(suite, blocked_merge, size):
    token, merge_id = blocked_merge
    reply = suite.api(
        "POST",
        f"/api/v1/merges/{merge_id}/legal-proof",
        token=token,
        files={"file": ("form.pdf", pdf_of_size(size), "application/pdf")},
    )
    assert reply.status_code == 413
    error = reply.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "5 MB" in error["message"]
    # The suite's own keep-alive session goes on working (a closed connection is replaced).
    assert suite.api("GET", "/healthz").status_code == 200
