"""The route table, and the routes that do not score: health, readiness, metadata, metrics, OpenAPI.

A :class:`Route` names its metrics label, whether it answers without the key (liveness and
readiness do), whether its routine answers stay out of the access log (probes and ``/metrics``:
see ``requestlog.py``), its protocol's error style (``errors.error_body``), its method and the
function that serves it. :func:`resolve` finds the route of a path: a dict lookup for the fixed paths, one
regular expression for ``/v2/models/...``. The scoring POSTs are in ``scoring.py``.
"""

from __future__ import annotations

import re
from typing import Callable, NamedTuple
from urllib.parse import unquote

import orjson

from . import scoring
from .errors import ServingError
from .http import TEXT
from .metrics import ROUTE_INDEX

METRICS_TYPE = b"text/plain; version=0.0.4; charset=utf-8"


class Route(NamedTuple):
    index: int  # in metrics.ROUTES
    serve: Callable  # (runtime, request) -> None; answers now or later
    method: str | None = "GET"  # None: any
    public: bool = False  # answers without the key
    style: str = "azure"  # or "mlflow", "v2"
    quiet: bool = False  # a probe or a scrape: counted in /metrics, but no access line when routine


NOT_READY = 503


def liveness(runtime, request) -> None:
    runtime.send(request, 200, b"Healthy\n", TEXT)


def ping(runtime, request) -> None:
    runtime.require_ready()
    runtime.send(request, 200, b"\n")


def v2_server(runtime, request) -> None:
    runtime.send(request, 200, runtime.server_metadata)


def v2_live(runtime, request) -> None:
    runtime.send(request, 200, b'{"live":true}')


def v2_ready(runtime, request) -> None:
    """Ready once the model is loaded. Not ready is a 503 (the protocol asks for a non-200;
    KServe and Kubernetes' probes read 503 as "starting, try again"; a 4xx would blame the client)."""
    ready = runtime.ready
    runtime.send(request, 200 if ready else NOT_READY, b'{"ready":true}' if ready else b'{"ready":false}')


def v2_model_ready(runtime, request) -> None:
    name, version = request.args
    runtime.check_model(name, version)
    ready = runtime.ready
    runtime.send(request, 200 if ready else NOT_READY, orjson.dumps({"name": name, "ready": ready}))


def v2_model(runtime, request) -> None:
    runtime.check_model(*request.args)
    runtime.require_ready()
    runtime.send(request, 200, orjson.dumps(runtime.model_metadata()))


def metrics(runtime, request) -> None:
    runtime.request_log.flush()  # this worker's counts up to now
    info = {"name": runtime.name, "version": runtime.version or "", "platform": runtime.platform}
    text = runtime.metrics.render(info, runtime.workers)
    if runtime.repository is not None:  # a multi-model runtime: each version's counts too
        text += runtime.repository.render_metrics().encode()
    runtime.send(request, 200, text, METRICS_TYPE)


def openapi(runtime, request) -> None:
    runtime.send(request, 200, runtime.openapi)


def not_found(runtime, request) -> None:
    raise ServingError(404, f"No route {request.method} {request.path}; see GET /openapi.json for the routes.")


def _scoring(path: str, serve: Callable, style: str = "azure") -> Route:
    return Route(ROUTE_INDEX[path], serve, "POST", style=style)


FIXED = {
    "/": Route(ROUTE_INDEX["/"], liveness, public=True, quiet=True),
    "/score": _scoring("/score", scoring.score),
    "/ping": Route(ROUTE_INDEX["/ping"], ping, public=True, style="mlflow", quiet=True),
    "/invocations": _scoring("/invocations", scoring.invocations, "mlflow"),
    "/v2": Route(ROUTE_INDEX["/v2"], v2_server, style="v2"),
    "/v2/health/live": Route(ROUTE_INDEX["/v2/health/live"], v2_live, public=True, style="v2", quiet=True),
    "/v2/health/ready": Route(ROUTE_INDEX["/v2/health/ready"], v2_ready, public=True, style="v2", quiet=True),
    "/metrics": Route(ROUTE_INDEX["/metrics"], metrics, quiet=True),
    "/openapi.json": Route(ROUTE_INDEX["/openapi.json"], openapi),
}
FIXED["/v2/"] = FIXED["/v2"]
MODEL_ROUTES = {
    None: Route(ROUTE_INDEX["/v2/models/{name}"], v2_model, style="v2"),
    "/ready": Route(ROUTE_INDEX["/v2/models/{name}/ready"], v2_model_ready, public=True, style="v2", quiet=True),
    "/infer": _scoring("/v2/models/{name}/infer", scoring.infer, "v2"),
}
NOT_FOUND = Route(ROUTE_INDEX["other"], not_found, None)
_MODEL_PATH = re.compile(r"/v2/models/([^/]+)(?:/versions/([^/]+))?(/ready|/infer)?")


def resolve(path: str) -> tuple[Route, tuple]:
    """The route of a path, and what it takes from the path (the v2 model name and version)."""
    route = FIXED.get(path)
    if route is not None:
        return route, ()
    match = _MODEL_PATH.fullmatch(path)
    if match is None:
        return NOT_FOUND, ()
    name, version, action = match.groups()
    return MODEL_ROUTES[action], (unquote(name), unquote(version) if version is not None else None)
