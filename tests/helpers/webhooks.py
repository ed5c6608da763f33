"""A webhook receiver for tests: an HTTP server on 127.0.0.1 that records each POST with whether
its signature holds, and the server options that make deliveries quick (``FAST``)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jupyter_modelhub.webhooks.secrets import verify

SECRET = "s3cret-for-the-receiver-0123456789"
FAST = ["--WebhookDispatcher.backoff=0.2", "--WebhookDispatcher.poll_interval=0.2", "--WebhookDispatcher.timeout=2"]


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST with whether its signature holds.
    ``fail`` answers 503 to that many requests first; ``hold`` makes each request wait until
    ``release`` is set."""

    def __init__(self, secret: str = SECRET, fail: int = 0, hold: bool = False, port: int = 0):
        self.secret, self.fail, self.received = secret, fail, []
        self.release = threading.Event()
        self.arrived = threading.Event()
        if not hold:
            self.release.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.arrived.set()
                receiver.release.wait(60)
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(503)
                    self.end_headers()
                    self.wfile.write(b"not now")
                    return
                receiver.received.append(
                    {
                        "body": json.loads(body),
                        "signed": verify(receiver.secret, body, self.headers["X-Modelhub-Signature"]),
                        "event": self.headers["X-Modelhub-Event"],
                        "delivery": self.headers["X-Modelhub-Delivery"],
                    }
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[tuple[str, str]]:
        return [(r["event"], r["body"]["subject"]) for r in self.received]

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
