"""The routes that do not score: health, readiness, metadata, metrics, the OpenAPI document.

One small Tornado handler per route, each naming its metrics label and its protocol's error
style (``errors.error_body``). Liveness and readiness answer without the key. The scoring POSTs
are in ``scoring.py``; the route table is in ``server.make_app``.
"""

from __future__ import annotations

import hmac

import orjson
from tornado.httputil import responses
from tornado.web import RequestHandler

from .errors import ServingError, error_body
from .metrics import ROUTE_INDEX


class BaseHandler(RequestHandler):
    route = ROUTE_INDEX["other"]
    public = False  # liveness and readiness answer without the key
    error_style = "azure"  # or "mlflow", "v2"
    batch = 0  # requests in the model call that answered this one (access log)
    _counted = False

    def initialize(self, runtime) -> None:
        self.runtime = runtime

    def prepare(self) -> None:
        runtime = self.runtime
        runtime.in_flight += 1
        self._counted = True
        if runtime.auth_header is not None and not self.public:
            given = self.request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, runtime.auth_header):
                self.set_header("WWW-Authenticate", 'Bearer realm="modelhub"')
                self.fail(ServingError(401, "This endpoint needs an 'Authorization: Bearer KEY' header with its key."))

    def on_finish(self) -> None:
        if self._counted:
            self._counted = False
            self.runtime.request_done()

    def on_connection_close(self) -> None:
        super().on_connection_close()
        self.on_finish()

    def send_json(self, body: bytes, status: int = 200) -> None:
        if status != 200:
            self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(body)

    def fail(self, error: ServingError) -> None:
        if not self._finished:
            self.send_json(error_body(self.error_style, error), error.status)

    def write_error(self, status_code: int, **kwargs) -> None:
        """Errors Tornado raises itself (405, bugs): the same JSON bodies, no traceback."""
        reason = responses.get(status_code, "Error") if status_code != 500 else "Internal server error; see the server's log."
        self.clear_header("WWW-Authenticate")
        self.fail(ServingError(status_code, reason))

    def require_ready(self) -> None:
        if not self.runtime.ready:
            raise ServingError(503, "The server is shutting down." if self.runtime.stopping
                               else "The model is still loading.")


class LivenessHandler(BaseHandler):
    route, public = ROUTE_INDEX["/"], True

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.finish("Healthy\n")


class PingHandler(BaseHandler):
    route, public, error_style = ROUTE_INDEX["/ping"], True, "mlflow"

    def get(self) -> None:
        try:
            self.require_ready()
        except ServingError as error:
            return self.fail(error)
        self.set_header("Content-Type", "application/json")
        self.finish("\n")


class V2ServerHandler(BaseHandler):
    route, error_style = ROUTE_INDEX["/v2"], "v2"

    def get(self) -> None:
        self.send_json(self.runtime.server_metadata)


class V2LiveHandler(BaseHandler):
    route, public, error_style = ROUTE_INDEX["/v2/health/live"], True, "v2"

    def get(self) -> None:
        self.send_json(b'{"live":true}')


class V2ReadyHandler(BaseHandler):
    """Ready once the model is loaded; the protocol says a 4xx status means "not ready"."""

    route, public, error_style = ROUTE_INDEX["/v2/health/ready"], True, "v2"

    def get(self) -> None:
        ready = self.runtime.ready
        self.send_json(b'{"ready":true}' if ready else b'{"ready":false}', 200 if ready else 400)


class V2ModelReadyHandler(BaseHandler):
    route, public, error_style = ROUTE_INDEX["/v2/models/{name}/ready"], True, "v2"

    def get(self, name: str, version: str | None = None) -> None:
        try:
            self.runtime.check_model(name, version)
        except ServingError as error:
            return self.fail(error)
        ready = self.runtime.ready
        self.send_json(orjson.dumps({"name": name, "ready": ready}), 200 if ready else 400)


class V2ModelHandler(BaseHandler):
    route, error_style = ROUTE_INDEX["/v2/models/{name}"], "v2"

    def get(self, name: str, version: str | None = None) -> None:
        try:
            self.runtime.check_model(name, version)
            self.require_ready()
        except ServingError as error:
            return self.fail(error)
        self.send_json(orjson.dumps(self.runtime.model_metadata()))


class MetricsHandler(BaseHandler):
    route = ROUTE_INDEX["/metrics"]

    def get(self) -> None:
        runtime = self.runtime
        runtime.request_log.flush()  # this worker's counts up to now
        info = {"name": runtime.name, "version": runtime.version or "", "platform": runtime.platform}
        self.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.finish(runtime.metrics.render(info, runtime.workers))


class OpenApiHandler(BaseHandler):
    route = ROUTE_INDEX["/openapi.json"]

    def get(self) -> None:
        self.send_json(self.runtime.openapi)


class NotFoundHandler(BaseHandler):
    def prepare(self) -> None:
        super().prepare()
        if not self._finished:
            self.fail(ServingError(404, f"No route {self.request.method} {self.request.path}; "
                                        "see GET /openapi.json for the routes."))
