"""The gateway behind a reverse proxy: who the client is, and whether it came over https.

The client address and the original scheme are taken from `X-Forwarded-For` and
`X-Forwarded-Proto` only when the direct peer (the socket's `REMOTE_ADDR`) is one of
TRUSTED_PROXIES (addresses or networks; empty by default, so nobody is trusted). Then
werkzeug's ProxyFix applies them for exactly one hop: the last entry of each header, the one
the trusted proxy itself appended. From any other peer the headers change nothing (a client
can send any `X-Forwarded-For` it likes), and the peer's own address and scheme count.

gunicorn is told to trust nobody's forwarding headers (deploy/gunicorn.conf.py), so this
middleware is the only place where they are read.

Everything that needs the client address (login throttling and lockout, reset and merge
limits, all counted per address by identity and merge) calls `client_address()`; cookies
are `Secure` and HSTS is sent when the request, after this rule, came over https
(`secure_cookies()`, `add_hsts`).
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
    """The IP address of a `REMOTE_ADDR`, an IPv4-mapped IPv6 address as IPv4; None when it
    is not an IP address (a UNIX socket, nothing)."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """WSGI middleware: ProxyFix (X-Forwarded-For and X-Forwarded-Proto, one hop each) for
    requests whose direct peer is in `networks`; every other request passes unchanged."""

    def __init__(self, app: Any, networks: Iterable[IPNetwork]) -> None:
        self.app = app
        self.networks = tuple(networks)
        # Host, port and prefix stay the gateway's own: links in mails use PUBLIC_BASE_URL.
        self._proxied = ProxyFix(app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)

    def trusts(self, remote_addr: str) -> bool:
        address = peer_address(remote_addr)
        return address is not None and any(address in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.networks and self.trusts(environ.get("REMOTE_ADDR") or ""):
            return self._proxied(environ, start_response)
        return self.app(environ, start_response)


def client_address() -> str:
    """The client's address of the current request: the peer, or the address a trusted proxy
    forwarded (TrustedProxies rewrote REMOTE_ADDR); "" when unknown."""
    return request.remote_addr or ""


def secure_cookies() -> bool:
    """Whether cookies set now get `Secure`: the request came over https (after the proxy
    rule), and always with APP_ENV=production (served over https only: PUBLIC_BASE_URL must
    be https there, so a plain-http request means a proxy missing from TRUSTED_PROXIES, and
    a cookie must not leak over it)."""
    return request.is_secure or bool(current_app.config.get("ALWAYS_SECURE_COOKIES", False))


def add_hsts(response: Response) -> Response:
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS_VALUE)
    return response


def init_app(app: Flask, networks: Iterable[IPNetwork]) -> None:
    """Puts TrustedProxies in front of the app and HSTS on every https answer."""
    app.wsgi_app = TrustedProxies(app.wsgi_app, networks)  # type: ignore[method-assign]  # Flask's documented middleware hook
    app.after_request(add_hsts)
