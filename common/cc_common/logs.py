"""Logging of every process, configured once here: one JSON object per line on stderr.

    from cc_common import logs
    logs.configure("identity")          # first thing in a process's entry point

Every line has `time` (UTC, ISO 8601), `level`, `service`, `logger`, `message`, `trace_id`
and `span_id` (hex, 32 and 16 characters, of the OpenTelemetry span current when the line
was written; null outside a span), then whatever `extra={...}` a call passed (the access
lines: tests/e2e/test_logs.py and docs/observability.md list their fields), and for an
exception its traceback as one string in `exception`.

LOG_FORMAT=json (the default) or `text` (one readable line: `make run`, the Procfile);
LOG_LEVEL (default INFO) the lowest level written.

The rule is that nothing logs a password, a token, a full IBAN or a card number: log calls
name ids and codes, never request bodies, headers or query strings. As a safety net the
formatters mask what still looks like one in a finished line (`redact`): JSON Web Tokens,
IBANs (with a valid checksum) and card numbers (12-19 digits passing the Luhn check, by
cc_common/rules/cards.py).

The gateway's gunicorn routes its own logger through the same handler (`dict_config`,
named by deploy/gunicorn.conf.py as `logconfig_dict`).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

from cc_common.rules.cards import card_number_runs
from cc_common.settings import SharedSettings

FORMATS = ("json", "text")
# Libraries whose INFO lines say nothing an operator needs (alembic: one line per plugin).
QUIET_LOGGERS = {"alembic.runtime.plugins": logging.WARNING}
_MARK = "_cc_logs"  # set on the handlers made here, so that configure() replaces only its own

# --- redaction ------------------------------------------------------------------------------

REDACTED = "[redacted]"
# A JSON Web Token: three base64url parts, the first one a JSON object ("eyJ" is `{"`).
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# An IBAN, printed in one piece or in groups of four: country, check digits, 11-30 more.
_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}\b")


def _iban_checksum_ok(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
    except ValueError:
        return False


def _mask_iban(match: re.Match[str]) -> str:
    text = match.group(0)
    return f"{text[:2]}**{REDACTED}" if _iban_checksum_ok(text) else text


def _mask_cards(text: str) -> str:
    parts, end = [], 0
    for run in card_number_runs(text):
        parts += [text[end : run.start()], REDACTED, re.sub(r"[ -]", "", run.group(0))[-4:]]
        end = run.end()
    return "".join(parts) + text[end:] if parts else text


def redact(text: str) -> str:
    """`text` with JSON Web Tokens, IBANs and card numbers masked (the last four digits of a
    card and the country of an IBAN stay). A safety net, not a license to log secrets."""
    if len(text) < 12:  # shorter than any of them
        return text
    if "eyJ" in text:
        text = _JWT.sub(REDACTED, text)
    text = _IBAN.sub(_mask_iban, text)
    return _mask_cards(text)


# --- fields -----------------------------------------------------------------------------------


class ContextFilter(logging.Filter):
    """Adds `service`, and `trace_id`/`span_id` of the current OpenTelemetry span (None when
    there is none: without a tracing SDK every span is invalid). On the handler, so it sees
    the records of every logger."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        else:
            record.trace_id = record.span_id = None
        return True


def _redact_structure(value: Any) -> Any:
    """A list, dict or other object of an `extra`, as JSON, redacted (str() for what JSON
    cannot encode)."""
    return json.loads(redact(json.dumps(value, default=str)))


def _iso_time(created: float) -> str:
    return datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLineFormatter(JsonFormatter):
    """python-json-logger with our field names and order; the finished line is redacted."""

    FIRST = ("time", "level", "service", "logger", "message", "trace_id", "span_id")

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["time"] = _iso_time(record.created)
        log_data.setdefault("service", None)
        log_data.setdefault("trace_id", None)
        log_data.setdefault("span_id", None)
        if record.levelno >= logging.ERROR or log_data.get("exception"):
            log_data.setdefault("thread", record.threadName)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # The fields of every line first. Then the message and every other field redacted,
        # value by value (not the finished line: that is several times as much text to scan,
        # on every access line); time, level, ids and names come from trusted values.
        ordered = {key: log_data.pop(key, None) for key in self.FIRST}
        ordered["message"] = redact(str(ordered["message"]))
        for key, value in log_data.items():
            if isinstance(value, str):
                value = redact(value)
            elif value is not None and not isinstance(value, (bool, int, float)):
                value = _redact_structure(value)
            ordered[key] = value
        return ordered


class TextFormatter(logging.Formatter):
    """`12:00:00.123 identity INFO cc_common.grpc_server: message [trace=...]`, redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(service)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created).strftime("%H:%M:%S.") + f"{int(record.msecs):03d}"

    def format(self, record: logging.LogRecord) -> str:
        record.__dict__.setdefault("service", "-")
        line = super().format(record)
        trace_id = getattr(record, "trace_id", None)
        if trace_id:
            first, newline, rest = line.partition("\n")
            line = f"{first} [trace={trace_id}]{newline}{rest}"
        return redact(line)


# --- set-up -----------------------------------------------------------------------------------


def log_format() -> str:
    value = SharedSettings.load().log_format.strip().lower()
    if value not in FORMATS:
        raise RuntimeError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {value!r}")
    return value


def log_level() -> int:
    value = SharedSettings.load().log_level.strip().upper()
    level = logging.getLevelName(value)
    if not isinstance(level, int):
        raise RuntimeError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {value!r}")
    return level


def handler(service: str, fmt: str | None = None, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to `stream` (stderr) in LOG_FORMAT, adding the service and the span."""
    made = logging.StreamHandler(stream if stream is not None else sys.stderr)
    made.setFormatter(JsonLineFormatter() if (fmt or log_format()) == "json" else TextFormatter())
    made.addFilter(ContextFilter(service))
    setattr(made, _MARK, True)
    return made


def configure(
    service: str, *, fmt: str | None = None, level: int | str | None = None, stream: TextIO | None = None
) -> None:
    """Sends every logger's records to one stderr handler of the root logger (replacing one
    installed here before), at LOG_LEVEL; warnings and uncaught exceptions become log lines
    too, so that nothing but log lines reaches stderr."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler(service, fmt, stream))
    root.setLevel(level if level is not None else log_level())
    # No line shows the file and line of the call: skip finding them for every record (the
    # logging HOWTO's "Optimization"; an access line is written for every request).
    logging._srcfile = None
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _log_uncaught(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("uncaught").critical("uncaught exception, exiting", exc_info=(kind, value, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("uncaught").error("uncaught exception in thread %s", name, exc_info=args.exc_value)


def dict_config(service: str, level: str | None = None) -> dict[str, Any]:
    """A logging.config.dictConfig of the same set-up, for gunicorn's `logconfig_dict`: the
    root logger writes through `handler`, and gunicorn's error logger passes its records on
    to it (no handler of its own)."""
    name = logging.getLevelName(level.upper()) if level else logging.getLevelName(log_level())
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {},
        "handlers": {"stderr": {"()": handler, "service": service}},
        "root": {"level": name, "handlers": ["stderr"]},
        "loggers": {
            **{logger: {"level": logging.getLevelName(quiet)} for logger, quiet in QUIET_LOGGERS.items()},
            "gunicorn.error": {"level": name, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
