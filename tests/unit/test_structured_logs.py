"""cc_common.logs (one JSON object per line, trace ids, redaction) and the gRPC access log
(cc_common.grpc_access); the gateway's access log is in tests/unit/test_gateway_access_log.py,
the logs of a whole run in tests/e2e/test_logs.py."""

from __future__ import annotations

import io
import json
import logging
import sys

import grpc
import pytest
from cc_common import logs
from cc_common.grpc_server import ServerSpec, create_server
from cc_common.testing import ServerThread, TokenFactory, metadata, token_settings_in
from cc_common.tokens import TokenVerifier
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
SPAN_ID = 0xB7AD6B7169203331


@pytest.fixture
def configured():
    """configure() on a private stream; the root logger as it was afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, sys.excepthook, logging._srcfile)
    stream = io.StringIO()

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    def setup(service: str = "identity", fmt: str = "json", level: int = logging.INFO):
        logs.configure(service, fmt=fmt, level=level, stream=stream)
        return stream, lines

    yield setup
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    sys.excepthook = saved[2]
    logging._srcfile = saved[3]
    logging.captureWarnings(False)


def test_a_line_is_one_json_object_with_the_fields_of_every_line(configured):
    stream, lines = configured("contract")
    logging.getLogger("some.module").info("customer %s created", "10000001", extra={"status": 201})
    (line,) = lines()
    assert list(line)[:7] == ["time", "level", "service", "logger", "message", "trace_id", "span_id"]
    assert line["level"] == "INFO" and line["service"] == "contract" and line["logger"] == "some.module"
    assert line["message"] == "customer 10000001 created"
    assert line["trace_id"] is None and line["span_id"] is None
    assert line["status"] == 201
    assert line["time"].endswith("Z") and "T" in line["time"]


def test_an_exception_is_one_line_with_the_traceback_in_a_field(configured):
    stream, lines = configured()
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("x").exception("it failed")
    assert len(stream.getvalue().splitlines()) == 1
    (line,) = lines()
    assert line["level"] == "ERROR" and line["message"] == "it failed"
    assert line["exception"].startswith("Traceback") and "ValueError: broken" in line["exception"]


def test_the_ids_of_the_current_span_are_added_without_a_tracing_sdk(configured):
    stream, lines = configured()
    context = SpanContext(trace_id=TRACE_ID, span_id=SPAN_ID, is_remote=True, trace_flags=TraceFlags(1))
    with trace.use_span(NonRecordingSpan(context)):
        logging.getLogger("x").info("inside")
    logging.getLogger("x").info("outside")
    inside, outside = lines()
    assert inside["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert inside["span_id"] == "b7ad6b7169203331"
    assert outside["trace_id"] is None


def test_the_ids_of_a_span_of_the_opentelemetry_sdk_are_added(configured):
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    stream, lines = configured()
    tracer = sdk_trace.TracerProvider().get_tracer("test")  # a local provider: no global change
    with tracer.start_as_current_span("work") as span:
        logging.getLogger("x").warning("in a span")
        expected = span.get_span_context()
    (line,) = lines()
    assert line["trace_id"] == format(expected.trace_id, "032x") and len(line["trace_id"]) == 32
    assert line["span_id"] == format(expected.span_id, "016x") and len(line["span_id"]) == 16


def test_text_format_is_one_readable_line(configured):
    stream, _ = configured("merge", fmt="text")
    logging.getLogger("merge_service.saga").info("merge %s done", "m-1")
    line = stream.getvalue()
    assert line.count("\n") == 1
    assert " merge INFO merge_service.saga: merge m-1 done" in line


def test_log_level_and_format_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("LOG_FORMAT", "TEXT")
    assert logs.log_level() == logging.WARNING and logs.log_format() == "text"
    monkeypatch.delenv("LOG_LEVEL")
    monkeypatch.delenv("LOG_FORMAT")
    assert logs.log_level() == logging.INFO and logs.log_format() == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(RuntimeError, match="LOG_FORMAT"):
        logs.log_format()
    monkeypatch.setenv("LOG_LEVEL", "loud")
    with pytest.raises(RuntimeError, match="LOG_LEVEL"):
        logs.log_level()


def test_warnings_and_uncaught_exceptions_become_json_lines(configured):
    import warnings

    stream, lines = configured()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("old API", UserWarning, stacklevel=1)
    try:
        raise KeyError("lost")
    except KeyError:
        sys.excepthook(*sys.exc_info())
    warning, uncaught = lines()
    assert warning["logger"] == "py.warnings" and "old API" in warning["message"]
    assert uncaught["level"] == "CRITICAL" and "KeyError" in uncaught["exception"]


def test_an_uncaught_exception_in_a_thread_is_an_error_line_with_its_traceback(configured):
    import threading

    stream, lines = configured()

    def fail() -> None:
        raise KeyError("lost in a thread")

    worker = threading.Thread(target=fail, name="worker-1")
    worker.start()
    worker.join()
    (line,) = lines()
    assert line["level"] == "ERROR" and line["message"] == "uncaught exception in thread worker-1"
    assert "KeyError: 'lost in a thread'" in line["exception"] and "in fail" in line["exception"]


@pytest.mark.parametrize(
    "secret",
    [
        "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMDAwMDAwMSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
        "DE89370400440532013000",
        "DE89 3704 0044 0532 0130 00",
        "NL91ABNA0417164300",
        "GB29NWBK60161331926819",
        "4111111111111111",
        "4242 4242 4242 4242",
        "5555-5555-5555-4444",
    ],
)
def test_what_looks_like_a_token_an_iban_or_a_card_number_is_masked(configured, secret):
    stream, lines = configured()
    logging.getLogger("x").info("value %s here", secret, extra={"field": f"also {secret}"})
    try:
        raise ValueError(f"bad {secret}")
    except ValueError:
        logging.getLogger("x").exception("failed")
    assert secret not in stream.getvalue()
    assert secret.replace(" ", "") not in stream.getvalue().replace(" ", "")
    assert "[redacted]" in lines()[0]["message"]


@pytest.mark.parametrize(
    "harmless",
    [
        "10000001",
        "1234567890123",
        "2026-01-31T12:00:00.123Z",
        "DE00123456789012345678",
        "GET /api/v1/customers/me 200 3.1 ms",
        "0af7651916cd43dd8448eb211c80319c",
    ],
)
def test_ordinary_values_are_not_masked(harmless):
    assert logs.redact(harmless) == harmless


def test_gunicorn_gets_the_same_handler_and_passes_its_records_to_it(monkeypatch):
    import logging.config

    monkeypatch.setenv("LOG_FORMAT", "json")
    config = logs.dict_config("gateway", "info")
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        logging.config.dictConfig(config)
        (made,) = root.handlers
        assert isinstance(made.formatter, logs.JsonLineFormatter)
        stream = io.StringIO()
        made.setStream(stream)
        logging.getLogger("gunicorn.error").info("Booting worker with pid: %s", 42)
        line = json.loads(stream.getvalue())
        assert line["service"] == "gateway" and line["logger"] == "gunicorn.error"
        assert logging.getLogger("gunicorn.error").handlers == []
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


# --- the gRPC access log ------------------------------------------------------------------------


async def _ok(request, context):
    return b"pong"


async def _refused(request, context):
    await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "no")


async def _broken(request, context):
    raise RuntimeError("bug")


async def _stream(request, context):
    for part in (b"a", b"b"):
        yield part


def _register(_servicer, server):
    identity = (lambda b: b, lambda b: b)
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "test.Echo",
                {
                    "Ok": grpc.unary_unary_rpc_method_handler(_ok, *identity),
                    "Refused": grpc.unary_unary_rpc_method_handler(_refused, *identity),
                    "Broken": grpc.unary_unary_rpc_method_handler(_broken, *identity),
                    "Stream": grpc.unary_stream_rpc_method_handler(_stream, *identity),
                },
            ),
        )
    )


@pytest.fixture
def echo_server(tmp_path):
    tokens = token_settings_in(tmp_path)
    spec = ServerSpec([(_register, None)], ["test.Echo"], TokenVerifier.from_settings(tokens))
    thread = ServerThread(lambda: create_server("127.0.0.1:0", spec)).start()
    channel = grpc.insecure_channel(thread.address)
    yield channel, TokenFactory(tokens)
    channel.close()
    thread.stop()


def _access_lines(caplog):
    return [r for r in caplog.records if r.name == "access.grpc"]


def test_every_grpc_call_gets_one_access_line_with_its_code_and_never_its_payload(echo_server, caplog):
    channel, factory = echo_server
    caplog.set_level(logging.DEBUG, logger="access.grpc")
    call = channel.unary_unary("/test.Echo/Ok")
    assert call(b"secret-payload", metadata=metadata(factory.service("gateway")), timeout=5) == b"pong"
    for name, code in (("Refused", grpc.StatusCode.FAILED_PRECONDITION), ("Broken", grpc.StatusCode.UNKNOWN)):
        with pytest.raises(grpc.RpcError) as err:
            channel.unary_unary(f"/test.Echo/{name}")(b"secret-payload", timeout=5)
        assert err.value.code() == code
    with pytest.raises(grpc.RpcError) as err:  # refused by the authentication interceptor
        call(b"secret-payload", metadata=(("authorization", "Bearer forged"),), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert list(channel.unary_stream("/test.Echo/Stream")(b"x", timeout=5)) == [b"a", b"b"]

    records = _access_lines(caplog)
    assert [(r.grpc_method, r.grpc_code) for r in records] == [
        ("/test.Echo/Ok", "OK"),
        ("/test.Echo/Refused", "FAILED_PRECONDITION"),
        ("/test.Echo/Broken", "UNKNOWN"),
        ("/test.Echo/Ok", "UNAUTHENTICATED"),
        ("/test.Echo/Stream", "OK"),
    ]
    assert records[0].caller == "service:gateway" and records[1].caller is None
    assert [r.levelno for r in records] == [
        logging.INFO,
        logging.INFO,
        logging.WARNING,
        logging.INFO,
        logging.INFO,
    ]
    for record in records:
        assert record.duration_ms >= 0 and record.peer and record.access == "grpc"
        assert "secret" not in record.getMessage() and "forged" not in str(record.__dict__)


def test_a_health_check_that_answers_is_logged_at_debug_only(echo_server, caplog):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    channel, _ = echo_server
    caplog.set_level(logging.DEBUG, logger="access.grpc")
    health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    (record,) = _access_lines(caplog)
    assert record.grpc_method == "/grpc.health.v1.Health/Check" and record.levelno == logging.DEBUG
