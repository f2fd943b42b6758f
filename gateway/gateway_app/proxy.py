"""The gateway behind a reverse proxy: who the client is, and whether it came over https.

`X-Forwarded-For` and `X-Forwarded-Proto` count only when the direct peer (`REMOTE_ADDR`) is
one of TRUSTED_PROXIES (empty by default), and then for exactly one hop (werkzeug's ProxyFix:
the last entry, the one the trusted proxy appended). From any other peer they change nothing.
gunicorn trusts nobody's forwarding headers (deploy/gunicorn.conf.py): this is the only place
that reads them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from cc_common.config import IPNetwork
from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

# One year; no includeSubDomains and no preload: other hosts of the domain are not ours to bind.
HSTS_VALUE = "max-age=31536000"


def peer_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address of a `REMOTE_ADDR` (IPv4-mapped as IPv4); None for a UNIX socket, nothing."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """WSGI middleware: ProxyFix for requests whose direct peer is in `networks`."""

    def __init__(self, app: Any, networks: Iterable[IPNetwork]) -> None:
        self.app = app
        self.networks = tuple(networks)
        # Host, port and prefix stay the gateway's own: links in mails use PUBLIC_BASE_URL.
        self._proxied = ProxyFix(app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        peer = peer_address(environ.get("REMOTE_ADDR") or "")
        if peer is not None and any(peer in network for network in self.networks):
            return self._proxied(environ, start_response)
        return self.app(environ, start_response)


def client_address() -> str:
    """The peer of the current request, or the address a trusted proxy forwarded; "" when unknown.
    Login throttling and lockout, reset and merge limits count per this address."""
    return request.remote_addr or ""


def secure_cookies() -> bool:
    """Whether cookies set now get `Secure`: the request came over https, or APP_ENV=production
    (https only there: a plain-http request means a proxy missing from TRUSTED_PROXIES)."""
    return request.is_secure or bool(current_app.config.get("ALWAYS_SECURE_COOKIES", False))


def add_hsts(response: Response) -> Response:
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS_VALUE)
    return response


def init_app(app: Flask, networks: Iterable[IPNetwork]) -> None:
    app.wsgi_app = TrustedProxies(app.wsgi_app, networks)  # type: ignore[method-assign]  # Flask's documented middleware hook
    app.after_request(add_hsts)
