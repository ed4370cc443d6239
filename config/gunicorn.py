"""gunicorn configuration for production: `gunicorn -c config/gunicorn.py config.wsgi`."""

import multiprocessing
import os
import re

from gunicorn.glogging import Logger

from config.clientip import client_address

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# The master imports the app once (config/wsgi.py also imports every view) and forks warm
# workers: a worker that replaces another serves at once instead of after ~3 s of imports.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() not in ("0", "false", "no")
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
# Spread over half the limit, so that workers started together are not replaced together (a
# new worker's first requests are slow while it loads what it caches).
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 2))
accesslog = "-"
errorlog = "-"
access_log_format = (
    '{"time": "%(t)s", "logger": "gunicorn.access", "method": "%(m)s", "path": "%(U)s", '
    '"status": %(s)s, "bytes": "%(B)s", "duration_ms": %(M)s, "client": "%(h)s", '
    '"request_id": "%({x-request-id}o)s"}'
)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
TRUSTED_PROXY_COUNT = int(os.environ.get("SPECGATE_TRUSTED_PROXY_COUNT") or 0)


ADDRESS_NOISE = re.compile(r"[^0-9A-Za-z:.\[\]_-]")


class AccessLogger(Logger):
    """The access log's ``%(h)s`` is the client behind SPECGATE_TRUSTED_PROXY_COUNT proxies
    (the address the app's lockouts and throttles count by), not the proxy's."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        client = client_address(
            environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"), TRUSTED_PROXY_COUNT
        )
        # X-Forwarded-For is text a client may have written: keep the JSON line whole.
        atoms["h"] = ADDRESS_NOISE.sub("?", client)[:64]
        return atoms


logger_class = AccessLogger

# gunicorn (since 25.1) opens a control socket for ``gunicornc`` at one path per user
# ($XDG_RUNTIME_DIR/gunicorn.ctl): a second instance on the host took the first one's over,
# and the first to stop removed it for both. Off, unless GUNICORN_CONTROL_SOCKET gives this
# instance a path of its own.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
