"""The routes of a multi-model runtime (``--repository``): the Open Inference Protocol's model
paths for any served version, and its model repository extension, as Triton defines it (so
``tritonclient`` calls it unchanged):

- ``POST /v2/repository/index`` (body ``{"ready": true}`` optional): ``[{"name", "version",
  "state", "reason"}]``, every version, state READY, LOADING or UNAVAILABLE;
- ``POST /v2/repository/models/{name}/load``: load the latest version of ``name``; 200, no body;
- ``POST /v2/repository/models/{name}/unload``: unload every loaded version of ``name``;
- ``/v2/models/{name}[/versions/{v}]`` (metadata), ``/ready`` and ``/infer``: that version, or
  the latest one of ``name`` when no version is given; an unloaded version loads first.

``/score`` and ``/invocations`` name no model: here they answer 404 saying where to score.
The same calls over gRPC are ``grpc/multi.py``'s, sharing the repository's finding, loading,
metadata and metrics, and ``Runtime.call_model``.

Not here: which versions are loaded and why (``repository.py``), gRPC (``grpc/multi.py``).
"""

from __future__ import annotations

import asyncio
import re
from time import monotonic
from urllib.parse import unquote

import orjson

from . import binary_tensors, content_encoding, handlers, protocols, scoring
from .errors import ServingError
from .handlers import Route
from .http import JSON
from .metrics import ROUTE_INDEX


def _no_model(runtime, request) -> None:
    raise ServingError(
        404,
        f"{request.path} scores one model; this endpoint serves many: POST /v2/models/NAME[/versions/V]/infer "
        "(POST /v2/repository/index lists them).",
    )


def _body(runtime, request) -> dict:
    """The request's body as JSON (empty: ``{}``), for the repository routes."""
    body = scoring._body(runtime, request)
    if not body.strip():
        return {}
    doc = protocols.loads(body)
    if not isinstance(doc, dict):
        raise ServingError(400, 'The request body is a JSON object, e.g. {} or {"ready": true}.')
    return doc


def index(runtime, request) -> None:
    ready = _body(runtime, request).get("ready", False)
    if not isinstance(ready, bool):
        raise ServingError(400, f'"ready" is true or false; got {ready!r}.')
    runtime.send(request, 200, orjson.dumps(runtime.repository.index(ready)))


def load(runtime, request) -> None:
    _body(runtime, request)
    entry = runtime.repository.find(request.args[0], None)

    async def answer() -> None:
        try:
            await runtime.repository.load(entry)
            runtime.send(request, 200, b"")
        except ServingError as error:
            runtime.fail(request, error)
        except Exception:
            runtime.fail_unexpectedly(request)

    request.task = asyncio.ensure_future(answer())


def unload(runtime, request) -> None:
    _body(runtime, request)
    runtime.repository.unload_model(request.args[0])
    runtime.send(request, 200, b"")


def model_ready(runtime, request) -> None:
    entry = runtime.repository.find(*request.args)
    ready = runtime.ready and entry.scorer is not None
    body = orjson.dumps({"name": entry.name, "version": entry.version, "ready": ready, "state": entry.state})
    runtime.send(request, 200 if ready else handlers.NOT_READY, body)


def metadata(runtime, request) -> None:
    runtime.require_ready()
    repository = runtime.repository
    runtime.send(request, 200, orjson.dumps(repository.metadata(repository.find(*request.args))))


def infer(runtime, request) -> None:
    """Score with the version the path names; when it is not loaded, answer once it is."""
    body = scoring._body(runtime, request)
    repository = runtime.repository
    entry = repository.find(*request.args)
    scorer = entry.scorer
    if scorer is not None:
        repository.use(entry)
        return _answer(runtime, request, entry, scorer, body)

    async def answer() -> None:
        try:
            try:
                scorer = await repository.load(entry)
            except BaseException:
                _count(runtime, request, entry, failed=True)
                raise
            _answer(runtime, request, entry, scorer, body)
        except ServingError as error:
            runtime.fail(request, error)
        except Exception:
            runtime.fail_unexpectedly(request)

    request.task = asyncio.ensure_future(answer())


def _answer(runtime, request, entry, scorer, body: bytes) -> None:
    try:
        header_length = request.header(b"inference-header-content-length")
        inputs, ask = protocols.decode_infer(body, scorer.signature, header_length)
        protocols.check_outputs(ask.outputs, scorer.output_names)
        outputs = runtime.call_model(inputs, scorer)
        encoded, json_length = protocols.encode_infer(outputs, entry.name, entry.version, ask)
    except Exception:
        _count(runtime, request, entry, failed=True)
        raise
    headers = {binary_tensors.HEADER_LENGTH: str(json_length)} if json_length is not None else None
    if len(encoded) >= content_encoding.MIN_COMPRESSED_BYTES:
        coding = content_encoding.accepted(request.header(b"accept-encoding"))
        if coding:
            encoded = content_encoding.compress(encoded, coding)
            headers = {**(headers or {}), "Content-Encoding": coding, "Vary": "Accept-Encoding"}
    _count(runtime, request, entry, failed=False)
    runtime.send(request, 200, encoded, scoring.OCTET_STREAM if json_length is not None else JSON, headers)


def _count(runtime, request, entry, failed: bool) -> None:
    runtime.repository.metrics.answered(entry.index, monotonic() - request.started, failed)


FIXED = {
    **handlers.FIXED,
    "/score": Route(ROUTE_INDEX["/score"], _no_model, "POST"),
    "/invocations": Route(ROUTE_INDEX["/invocations"], _no_model, "POST", style="mlflow"),
    "/v2/repository/index": Route(ROUTE_INDEX["/v2/repository/index"], index, "POST", style="v2"),
}
MODEL_ROUTES = {
    None: Route(ROUTE_INDEX["/v2/models/{name}"], metadata, style="v2"),
    "/ready": Route(ROUTE_INDEX["/v2/models/{name}/ready"], model_ready, public=True, style="v2", quiet=True),
    "/infer": Route(ROUTE_INDEX["/v2/models/{name}/infer"], infer, "POST", style="v2"),
}
REPOSITORY_ROUTES = {
    "load": Route(ROUTE_INDEX["/v2/repository/models/{name}/load"], load, "POST", style="v2"),
    "unload": Route(ROUTE_INDEX["/v2/repository/models/{name}/unload"], unload, "POST", style="v2"),
}
_REPOSITORY_PATH = re.compile(r"/v2/repository/models/([^/]+)/(load|unload)")


def resolve(path: str) -> tuple[Route, tuple]:
    route = FIXED.get(path)
    if route is not None:
        return route, ()
    match = handlers._MODEL_PATH.fullmatch(path)
    if match is not None:
        name, version, action = match.groups()
        return MODEL_ROUTES[action], (unquote(name), unquote(version) if version is not None else None)
    match = _REPOSITORY_PATH.fullmatch(path)
    if match is not None:
        return REPOSITORY_ROUTES[match.group(2)], (unquote(match.group(1)),)
    return handlers.NOT_FOUND, ()
