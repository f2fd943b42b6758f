"""A stand-in WSGI application for the gateway's shutdown test: `GET /?seconds=N` answers
"done" after N seconds. Served by gunicorn with the gateway's own settings and worker
(deploy/gunicorn.conf.py), so the test checks what they do with a request in flight."""

from __future__ import annotations

import time
from urllib.parse import parse_qs


def app(environ, start_response):
    seconds = float(parse_qs(environ.get("QUERY_STRING", "")).get("seconds", ["0"])[0])
    time.sleep(seconds)
    body = b"done"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
