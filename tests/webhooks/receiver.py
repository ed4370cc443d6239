"""A webhook receiver on loopback for the tests: records what it is sent, answers as scripted."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """An HTTP server on ``host`` (a loopback address) that records each request's headers and
    body and answers the scripted statuses in turn (204 once they run out).

    ``hang_first``: the first request gets no answer until ``release()`` (or ``hang_seconds``):
    a receiver that is slow, or a worker that dies while waiting for it."""

    def __init__(self, statuses=(), *, host="127.0.0.1", body=b"receiver says no", headers=None):
        self.requests = []
        self.statuses = list(statuses)
        self.answer_body = body
        self.answer_headers = dict(headers or {})
        self.hang_first = False
        self.hang_seconds = 30.0
        self.on_request = None  # called with (headers, body) before answering
        self._released = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.requests.append((dict(self.headers), body))
                    first = len(receiver.requests) == 1
                    status = receiver.statuses.pop(0) if receiver.statuses else 204
                if receiver.on_request is not None:
                    receiver.on_request(dict(self.headers), body)
                if first and receiver.hang_first:
                    receiver._released.wait(receiver.hang_seconds)
                    return  # no answer at all
                self.send_response(status)
                for name, value in receiver.answer_headers.items():
                    self.send_header(name, value)
                if status >= 300:
                    self.send_header("Content-Length", str(len(receiver.answer_body)))
                    self.end_headers()
                    self.wfile.write(receiver.answer_body)
                else:
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host = host
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}/hook/T0SECRET/B0SECRET?token=s3cr3t"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def release(self):
        self._released.set()

    def close(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()


def receivers(settings):
    """The ``receiver`` fixture: ``receiver(statuses, host=…)`` → a loopback receiver, reachable
    because the test allows its address by name (``SPECGATE_WEBHOOK_ALLOWED_HOSTS``), as an
    on-premises install would."""
    receivers = []

    def make(statuses=(), **kwargs):
        rx = Receiver(statuses, **kwargs)
        receivers.append(rx)
        allowed = set(getattr(settings, "SPECGATE_WEBHOOK_ALLOWED_HOSTS", []))
        settings.SPECGATE_WEBHOOK_ALLOWED_HOSTS = sorted(allowed | {rx.host})
        return rx

    yield make
    for rx in receivers:
        rx.close()
