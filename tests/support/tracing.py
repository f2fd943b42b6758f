"""Spans recorded in memory for tests: the process-wide TracerProvider of the SDK gets one
processor that keeps spans only while a test holds `recording()` (the global provider can be
set once per process; tests that do not ask for spans record none)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_lock = threading.Lock()
_exporter = InMemorySpanExporter()
_on = threading.Event()
_installed = False


class _WhileRecording(SimpleSpanProcessor):
    def on_end(self, span: ReadableSpan) -> None:
        if _on.is_set():
            super().on_end(span)


@contextmanager
def recording() -> Iterator[InMemorySpanExporter]:
    """The exporter of the spans ended inside the block (cleared before and after)."""
    global _installed
    with _lock:
        if not _installed:
            provider = trace.get_tracer_provider()
            if not isinstance(provider, TracerProvider):
                provider = TracerProvider()
                trace.set_tracer_provider(provider)
            if not isinstance(trace.get_tracer_provider(), TracerProvider):  # pragma: no cover
                raise RuntimeError("another TracerProvider was set in this process")
            provider.add_span_processor(_WhileRecording(_exporter))
            _installed = True
    _exporter.clear()
    _on.set()
    try:
        yield _exporter
    finally:
        _on.clear()
        _exporter.clear()
