"""With no OTEL_* variable set (no SDK, nothing recorded) a client's `traceparent` still goes
through: Flask request -> gRPC call -> the service's handler sees the client's trace
(cc_common.telemetry). Run in a fresh interpreter, where no test has set a TracerProvider."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import grpc
from flask import Flask
from opentelemetry import trace

from cc_common import telemetry
from cc_common.grpc_client import make_channel
from cc_common.grpc_server import ServerSpec, create_server
from cc_common.testing import ServerThread
from cc_common.tokens import TokenVerifier

assert not telemetry.setup("gateway")  # nothing set: no export
assert not hasattr(trace.get_tracer_provider(), "add_span_processor")  # no SDK provider


async def seen(request, context):
    return telemetry.current_traceparent().encode()


def add(_servicer, server):
    handler = grpc.unary_unary_rpc_method_handler(seen)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Trace", {"Seen": handler}),))


spec = ServerSpec(registrations=[(add, None)], service_names=[], verifier=TokenVerifier([], issuer="test"))
thread = ServerThread(lambda: create_server("127.0.0.1:0", spec)).start()
channel = make_channel(thread.address)
app = Flask(__name__)


@app.get("/call")
def call():
    return channel.unary_unary("/test.Trace/Seen")(b"", timeout=5).decode()


telemetry.instrument_flask(app)
client = app.test_client()
sent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
print("WITH", client.get("/call", headers={"traceparent": sent}).get_data(as_text=True))
print("WITHOUT", client.get("/call").get_data(as_text=True) or "-")
channel.close()
thread.stop()
"""


def test_a_clients_traceparent_reaches_the_service_without_any_exporter():
    # The installed packages only (no PYTHONPATH), as in production.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") and k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    # The no-op tracer hands the client's span context on unchanged: same trace, same parent.
    assert lines["WITH"] == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert lines["WITHOUT"] == "-"  # nothing sent, nothing made up
