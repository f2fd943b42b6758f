"""The gateway of the customer center: a Flask app in front of the gRPC services.

Served by `gunicorn -k gthread -w 2 --threads 4 'gateway_app:create_app()'` (never with
--preload: each worker builds its own channels and revocation watcher).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from cc_common import telemetry
from cc_common.config import is_production, refuse_unsafe_production_settings
from cc_common.revocation import RevocationState, RevocationWatcher
from cc_common.tokens import ServiceCredential, ensure_all_keys
from flask import Flask

from gateway_app import access_log, api, errors, metrics, proxy
from gateway_app import backends as backends_ext
from gateway_app.backends import Backends, build_backends
from gateway_app.clients.identity import touch_sessions
from gateway_app.security import TokenGuard
from gateway_app.settings import GatewaySettings


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The composition root. `test_config` may hold, besides Flask config keys:
    GATEWAY_SETTINGS (a GatewaySettings), BACKENDS (a Backends of fakes) and
    REVOCATION_STATE (a RevocationState used instead of a watcher on identity)."""
    refuse_unsafe_production_settings("gateway")  # APP_ENV=production: one line, exit (UnsafeSettings)
    # Traces (OTEL_*): set up in the worker, after gunicorn's fork, before any channel is made.
    telemetry.setup("gateway")
    app = Flask(__name__, static_folder=None)
    metrics.init_app(app)  # request metrics, served by the gunicorn master (gateway_app/metrics.py)
    overrides = dict(test_config or {})
    settings: GatewaySettings = overrides.pop("GATEWAY_SETTINGS", None) or GatewaySettings.from_env()
    backends: Backends | None = overrides.pop("BACKENDS", None)
    revocation_state: RevocationState | None = overrides.pop("REVOCATION_STATE", None)

    app.config.from_mapping(
        MAX_CONTENT_LENGTH=settings.max_content_length,
        HEALTH_TIMEOUT=settings.health_timeout,
        PUBLIC_BASE_URL=settings.public_base_url,
        # Production is served over https only: cookies are Secure there whatever the scheme.
        ALWAYS_SECURE_COOKIES=is_production(),
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # DefaultJSONProvider's setting, not on the base type
    app.config.update(overrides)
    # Logs: the app's records reach the root logger's handler (under gunicorn: cc_common.logs,
    # set up by deploy/gunicorn.conf.py); one access line per request.
    access_log.init_app(app)

    if not is_production():
        ensure_all_keys(settings.tokens)  # generated under var/keys on the first local start
    credential = ServiceCredential.from_settings(settings.tokens, "gateway")
    if backends is None:
        backends = build_backends(
            settings.addresses,
            service_token=credential.token,
            timeout=settings.grpc_timeout,
            tls=settings.tls,
        )
    backends_ext.init_app(app, backends)

    identity_channel = getattr(backends.identity, "channel", None)

    def watcher_factory(state: RevocationState) -> RevocationWatcher:
        if identity_channel is None:  # fake BACKENDS come with a REVOCATION_STATE
            raise RuntimeError("BACKENDS without a channel to identity need a REVOCATION_STATE")
        return RevocationWatcher(identity_channel, credential.token, state)

    # last_used_at of the sessions, off the request's path (security.SessionToucher)
    touch = functools.partial(touch_sessions, backend=backends.identity) if revocation_state is None else None
    TokenGuard().init_app(
        app,
        tokens=settings.tokens,
        sync_wait=float(app.config.get("REVOCATION_SYNC_WAIT", settings.revocation_sync_wait)),
        revocation_state=revocation_state,
        watcher_factory=watcher_factory,  # unused with a REVOCATION_STATE
        touch=touch,
    )
    errors.init_app(app)
    # X-Forwarded-For/-Proto only from TRUSTED_PROXIES; HSTS on https answers.
    proxy.init_app(app, settings.trusted_proxies)

    from gateway_app.blueprints import (
        account,
        admin,
        auth,
        billing,
        customer,
        docs,
        health,
        merges,
        packages,
        terminations,
    )

    api_areas = (auth.bp, customer.bp, account.bp, packages.bp, terminations.bp, merges.bp)
    # docs: /api/docs, the reference of the generated document (api.py), in a browser
    blueprints = (*api_areas, merges.objections_bp, admin.bp, billing.bp, health.bp, api.bp, docs.bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    from gateway_app import web

    web.init_app(app)  # the web pages: HTML, CSRF, languages
    # The request's span (continuing a client's traceparent), the parent of the gRPC calls.
    telemetry.instrument_flask(app)
    return app
