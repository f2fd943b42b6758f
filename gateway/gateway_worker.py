"""The gateway's gunicorn worker (deploy/gunicorn.conf.py names it as `worker_class`): gthread,
plus two things about the connection that only the server can get right.

1. `Connection: close` whenever the request body was not read to its end (a 413 for a 1.1 MB
   body, a 401 before an upload was read). gunicorn announces keep-alive in the headers and
   only afterwards drains at most 64 KB of the unread body, closing the socket it had promised
   to keep: a client that reuses it fails with "Remote end closed connection without response".
   Here the request's `should_close()` already says so when the headers are written. The close
   lingers (RFC 9112 section 9.6), in the request's thread: the write side is shut and the rest
   of the body read and dropped until the client closes or a LINGER_* limit is reached, so a
   client that sends its whole body before reading (http.client) sees the 413, not a reset
   ("Broken pipe").

2. JSON for a request line or headers too large under `/api/`. gunicorn refuses them while
   parsing, with an HTML page, before any application sees the request (its limits stay the
   only ones). The worker answers its LimitRequestLine/LimitRequestHeaders errors as 414
   `uri_too_long` / 431 `request_header_fields_too_large` in the API's error shape when the
   request target (kept from the buffer the head is read into) starts with `/api/`, and with
   gunicorn's plain page elsewhere (the web pages).

A top-level module on purpose: the gunicorn master imports the worker class before it forks,
and importing `gateway_app` there would load Flask and gRPC into the master.
"""

from __future__ import annotations

import errno
import json
import socket
import time
from typing import Any

from gunicorn import util
from gunicorn.http.body import ChunkedReader, LengthReader
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.workers import gthread

API_PREFIX = b"/api/"
HEAD_BYTES = 512  # how much of the start of a request is kept to find its target
# The lingering close (see above): like nginx's lingering_time / lingering_timeout, with a cap.
LINGER_SECONDS = 10.0
LINGER_IDLE_SECONDS = 2.0
LINGER_MAX_BYTES = 16 * 1024 * 1024

_LIMIT_ERRORS: dict[type[Exception], tuple[int, str, str]] = {
    LimitRequestLine: (414, "URI Too Long", "uri_too_long"),
    LimitRequestHeaders: (431, "Request Header Fields Too Large", "request_header_fields_too_large"),
}


def body_fully_read(body: Any) -> bool:
    """Whether nothing of a request body is left on the connection or in gunicorn's buffers
    (an unknown reader counts as not read)."""
    if body is None:
        return True
    if getattr(body, "failed", False) is True:
        return False
    buffered = getattr(body, "buf", None)
    if buffered is None or buffered.tell() != 0:
        return False
    reader = getattr(body, "reader", None)
    if isinstance(reader, LengthReader):
        return reader.length == 0
    if isinstance(reader, ChunkedReader):
        return reader.parser is None and reader.buf.tell() == 0
    return False


def request_target(head: bytes) -> bytes:
    """The request target of the start of a request ("GET /api/v1/x?y HTTP/1.1..." ->
    b"/api/v1/x?y"), possibly cut short; an absolute URI gives its path. b"" when unknown."""
    if head.startswith(b"\r\n"):  # one empty line may precede the request line (RFC 9112 2.2)
        head = head[2:]
    parts = head.split(b" ", 2)
    if len(parts) < 2:
        return b""
    target = parts[1].split(b"\r", 1)[0]
    if target[:7].lower() == b"http://" or target[:8].lower() == b"https://":
        after_scheme = target.split(b"//", 1)[1]
        slash = after_scheme.find(b"/")
        target = after_scheme[slash:] if slash >= 0 else b""
    return target


def is_api_target(target: bytes) -> bool:
    return target.startswith(API_PREFIX) or target == API_PREFIX.rstrip(b"/")


def limit_message(error: Exception, cfg: Any) -> str:
    """A sentence a person can act on, with the limit that was exceeded."""
    if isinstance(error, LimitRequestLine):
        limit = getattr(error, "max_size", None) or cfg.limit_request_line
        return (
            f"The request line (method, path and query) is longer than {limit} bytes. "
            "Please shorten the query."
        )
    return (
        f"The request headers are too large: at most {cfg.limit_request_fields} header fields of at "
        f"most {cfg.limit_request_field_size} bytes each. Please send fewer or smaller headers "
        "(cookies, for example)."
    )


def json_error_response(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 response in the API's error shape, closing the connection."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def linger(sock: socket.socket, clock: Any = time.monotonic) -> int:
    """Shuts the write side of `sock` (the answer is complete) and reads what the client still
    sends, throwing it away, until it closes or a limit is reached. Returns the bytes read."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        return 0
    deadline = clock() + LINGER_SECONDS
    read = 0
    try:
        while read < LINGER_MAX_BYTES and (remaining := deadline - clock()) > 0:
            sock.settimeout(min(remaining, LINGER_IDLE_SECONDS))
            data = sock.recv(65536)
            if not data:
                break
            read += len(data)
    except OSError:  # timeout, reset
        pass
    return read


class GatewayRequest(Request):
    """gunicorn's request, which (1) closes the connection when its body was not read to the
    end, and (2) marks a limit error with the request target it was reading."""

    def __init__(self, cfg: Any, unreader: Any, peer_addr: Any, req_number: int = 1) -> None:
        self._head_buffer: bytearray | None = None
        super().__init__(cfg, unreader, peer_addr, req_number)

    def read_into(self, unreader: Any, buf: bytearray, stop: bool = False) -> None:
        # The first buffer a request is read into starts with its request line; both of
        # gunicorn's parsers keep appending to it while the request line is incomplete.
        if self._head_buffer is None:
            self._head_buffer = buf
        super().read_into(unreader, buf, stop)

    def parse(self, unreader: Any) -> bytes:
        try:
            return super().parse(unreader)
        except (LimitRequestLine, LimitRequestHeaders) as error:
            head = bytes(self._head_buffer[:HEAD_BYTES]) if self._head_buffer is not None else b""
            error.request_target = request_target(head)
            raise
        finally:
            self._head_buffer = None

    def should_close(self) -> bool:
        if super().should_close():
            return True
        if not body_fully_read(self.body):
            self.force_close()  # sticky: the headers and the connection agree
            return True
        return False


class GatewayRequestParser(RequestParser):
    mesg_class = GatewayRequest


class GatewayConn(gthread.TConn):
    parser: Any  # set by TConn.init (gunicorn is untyped)

    def init(self) -> None:
        if self.initialized:
            return
        super().init()
        if type(self.parser) is RequestParser:  # plain HTTP/1.x (not HTTP/2, not uwsgi)
            unreader = self.parser.unreader  # may hold bytes already read from the socket
            self.parser = GatewayRequestParser(self.cfg, self.sock, self.client)
            self.parser.unreader = unreader


class GatewayWorker(gthread.ThreadWorker):
    """gunicorn's gthread worker with GatewayConn connections, a lingering close after an
    answer that left the body unread, and JSON limit errors."""

    def _keepalive_after(self, conn: Any, keepalive: bool) -> bool:
        # Runs in the request's thread once the answer is written.
        reused = super()._keepalive_after(conn, keepalive)
        request = getattr(conn.parser, "mesg", None)
        if not reused and request is not None and not body_fully_read(request.body):
            linger(conn.sock)
        return reused

    def accept(self, listener: Any) -> None:
        # gthread.ThreadWorker.accept, with GatewayConn for TConn.
        try:
            client_sock, client_addr = listener.accept()
            self.nr_conns += 1
            client_sock.setblocking(True)
            conn = GatewayConn(self.cfg, client_sock, client_addr, listener.getsockname())
            self.enqueue_req(conn)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        known = next((v for k, v in _LIMIT_ERRORS.items() if isinstance(exc, k)), None)
        target = getattr(exc, "request_target", b"")
        if known is None or not is_api_target(target):
            super().handle_error(req, client, addr, exc)
            return
        status, reason, code = known
        ip = (addr or ("",))[0]
        self.log.warning("Invalid request from ip=%s: %s (answered %s as JSON)", ip, exc, status)
        try:
            util.write_nonblock(
                client, json_error_response(status, reason, code, limit_message(exc, self.cfg))
            )
        except Exception:
            self.log.debug("Failed to send error message.")
