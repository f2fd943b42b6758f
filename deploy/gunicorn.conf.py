"""gunicorn settings of the gateway, the same for `make run`, the containers, the end-to-end
tests and the benchmark: gthread workers, 2 processes x 4 threads, never --preload (each
worker opens its own gRPC channels after the fork).

GATEWAY_HOST (default 127.0.0.1; the container sets 0.0.0.0) and GATEWAY_PORT (default 8000)
give the address; a --bind on the command line wins over them.
"""

from cc_common import logs
from cc_common.settings import GatewayEnv, InvalidSetting, SharedSettings

try:  # a value of the wrong type stops gunicorn here with one line naming the variable
    _env = GatewayEnv.load()
    _shared = SharedSettings.load()
except InvalidSetting as exc:
    raise SystemExit(f"gateway: refusing to start: {exc}") from None

bind = f"{_env.gateway_host}:{_env.gateway_port}"
workers = _env.gateway_workers
threads = _env.gateway_threads
preload_app = False
keepalive = 5
timeout = 30
# On SIGTERM the master closes the listening sockets, each worker stops accepting, finishes the
# requests it has (at most graceful_timeout seconds) and exits; then the master exits 0.
graceful_timeout = 10
# Logs: gunicorn's own lines go through the handler every process uses (cc_common.logs): one
# JSON object per line on stderr, LOG_FORMAT=text for a readable line, LOG_LEVEL. No gunicorn
# access log: it would write the raw request line, query string (reset and restore tokens)
# included. The application writes one line per request instead (gateway/gateway_app/access_log.py).
accesslog = None
errorlog = "-"
loglevel = _shared.log_level.lower()
logconfig_dict = logs.dict_config("gateway")
# No runtime control socket: it defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl),
# which the many gunicorns of a test run would share, and $HOME is read-only in the images.
control_socket_disable = True
# One listening socket per worker (SO_REUSEPORT): the kernel spreads new connections over the
# workers. Without it, keep-alive connections can all land on one worker, which then does all
# the work on one core while the other idles (measured: 3,500 instead of 8,400 req/s for a
# constant route). GATEWAY_REUSE_PORT=0 turns it off: the end-to-end tests do, so that a port
# taken by another test's gateway fails loudly instead of being shared.
reuse_port = _env.gateway_reuse_port != "0"
# gunicorn's gthread worker with two fixes of its own (gateway/gateway_worker.py): an answer
# given before the request body was read to its end says `Connection: close` and closes (a
# client never reuses a socket the server is about to close), and a request line or headers
# over the limits below answer 414/431 in the API's JSON error shape under /api/.
worker_class = "gateway_worker.GatewayWorker"
# The limits of a request's head, enforced by gunicorn while it parses (these are its defaults,
# written out because the API documents them): a request line of at most 4094 bytes, at most
# 100 header fields of at most 8190 bytes each. Bodies are limited by the application (1 MB of
# JSON; 5 MB for the signed contract-transfer form).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# gunicorn trusts nobody's forwarding headers: by default it would take X-Forwarded-Proto (and
# SCRIPT_NAME/PATH_INFO headers) from 127.0.0.1. The application alone applies
# X-Forwarded-For/-Proto, and only from TRUSTED_PROXIES (gateway/gateway_app/proxy.py).
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
forwarder_headers = ""


def worker_exit(server, worker):
    """Flushes the spans a worker still holds (cc_common.telemetry; set up in the worker by
    create_app, never here in the master: the exporter's thread would not survive the fork)."""
    import sys

    telemetry = sys.modules.get("cc_common.telemetry")
    if telemetry is not None:
        telemetry.shutdown()


# APP_ENV=production: refuse unsafe settings while gunicorn reads this file, before the master
# logs or forks anything (one line on stderr, exit 1); create_app checks the same in each worker.
from cc_common.config import UnsafeSettings, refuse_unsafe_production_settings, trusted_proxies  # noqa: E402

refuse_unsafe_production_settings("gateway")
try:  # an invalid TRUSTED_PROXIES stops gunicorn here with one line, before any worker boots
    trusted_proxies()
except RuntimeError as exc:
    raise UnsafeSettings(f"gateway: {exc}") from None


# Metrics (gateway/gateway_metrics.py): the workers count requests into files of a fresh
# directory made here, before any worker is forked (prometheus_client's multiprocess mode),
# and the master serves their sum as /metrics on GATEWAY_METRICS_PORT (default 9100; 0 or
# empty: off) at METRICS_HOST, never on the public port.
import gateway_metrics  # noqa: E402

gateway_metrics.prepare()
when_ready = gateway_metrics.when_ready
child_exit = gateway_metrics.child_exit
on_exit = gateway_metrics.on_exit
