"""The scoring POSTs: ``/score`` (Azure ML), ``/invocations`` (MLflow), ``/v2/.../infer`` (Open
Inference Protocol), from the request's body to its answer.

The hot path of the runtime, kept short: the body is inflated if it came compressed
(``content_encoding.py``), decoded once (``protocols.py``), checked against the signature,
scored, and the outputs are encoded straight from their numpy arrays by orjson. A built-in
scorer answers at once, on the event loop; with adaptive batching the answer comes when the
batch is scored (a callback: no task, no future); an entry script's ``run()`` answers from its
thread. Errors are raised as ``ServingError`` and answered in the route's protocol by
``server.Runtime``; the size limit (413) and the key (401) are checked there before a route
runs.

Not here: HTTP (``http.py``), the route table (``handlers.py``), batching (``batching.py``).
"""

from __future__ import annotations

import asyncio
import logging

from . import binary_tensors, content_encoding, protocols
from .errors import ServingError
from .http import JSON

log = logging.getLogger("jupyter_modelhub.serving")
OCTET_STREAM = b"application/octet-stream"


def _body(runtime, request) -> bytes:
    body = request.body
    if request.encoding:
        body = content_encoding.inflate(body, request.encoding.decode("latin-1"), runtime.max_bytes)
    if not runtime.ready:
        raise ServingError(503, "The server is shutting down." if runtime.stopping else "The model is still loading.")
    return body


def _score(runtime, request, inputs: dict, encode) -> None:
    """Call the model now, or submit to the batch and answer when it is scored. ``encode`` turns
    the outputs into a JSON body, or into (body, content type, headers)."""
    batcher = runtime.batcher
    if batcher is None or batcher.alone_now():
        answer = encode(runtime.call_model(inputs))
        if type(answer) is bytes:  # JSON
            runtime.send(request, 200, answer)
        else:
            runtime.send(request, 200, *answer)
        return

    def answer(outputs: dict | None, batch: int, error: BaseException | None) -> None:
        if request.answered:
            return
        try:
            if error is not None:
                raise runtime.model_failure(error)
            request.batch = batch
            answer = encode(outputs)
            if type(answer) is bytes:
                runtime.send(request, 200, answer)
            else:
                runtime.send(request, 200, *answer)
        except ServingError as failure:
            runtime.fail(request, failure)
        except Exception:
            runtime.fail_unexpectedly(request)

    batcher.submit(inputs, rows(inputs), answer, lambda: not request.answered)


def _run_script(runtime, request, body: bytes) -> None:
    async def answer() -> None:
        try:
            runtime.send(request, 200, await runtime.run_script(body))
        except ServingError as error:
            runtime.fail(request, error)

    request.task = asyncio.ensure_future(answer())


def score(runtime, request) -> None:
    """Azure ML: ``POST /score`` with ``{"data": ...}``."""
    if runtime.ready and not request.encoding and runtime.batcher is None and runtime.scorer is not None:
        # The usual request in as few steps as it takes: a plain body, a built-in scorer, no batching.
        inputs = protocols.decode_score(request.body, runtime.signature)
        runtime.send(request, 200, protocols.encode_score(runtime.call_model(inputs)))
        return
    body = _body(runtime, request)
    if runtime.script is not None:
        return _run_script(runtime, request, body)
    _score(runtime, request, protocols.decode_score(body, runtime.signature), protocols.encode_score)


def invocations(runtime, request) -> None:
    """MLflow: ``POST /invocations``."""
    if runtime.ready and not request.encoding and runtime.batcher is None and runtime.scorer is not None:
        inputs = protocols.decode_invocations(request.body, request.content_type.decode("latin-1"), runtime.signature)
        runtime.send(request, 200, protocols.encode_invocations(runtime.call_model(inputs)))
        return
    body = _body(runtime, request)
    if runtime.script is not None:
        return _run_script(runtime, request, body)
    content_type = request.content_type.decode("latin-1")
    _score(
        runtime,
        request,
        protocols.decode_invocations(body, content_type, runtime.signature),
        protocols.encode_invocations,
    )


def infer(runtime, request) -> None:
    """Open Inference Protocol: ``POST /v2/models/{name}[/versions/{version}]/infer``, its tensors in
    JSON or as binary data after it (then the ``Inference-Header-Content-Length`` header gives the
    JSON part's length, in the request and in the response). Answers are compressed when the
    client asks in ``Accept-Encoding`` and they are large enough to gain."""
    body = _body(runtime, request)
    runtime.check_model(*request.args)
    header_length = request.header(b"inference-header-content-length")
    if runtime.script is not None:
        if header_length is not None:
            body = protocols.inline_binary(body, header_length)
        return _run_script(runtime, request, body)
    inputs, ask = protocols.decode_infer(body, runtime.signature, header_length)
    protocols.check_outputs(ask.outputs, runtime.scorer.output_names)
    name, version = request.args[0], runtime.version

    def encode(outputs: dict):
        body, json_length = protocols.encode_infer(outputs, name, version, ask)
        headers = {binary_tensors.HEADER_LENGTH: str(json_length)} if json_length is not None else None
        if len(body) >= content_encoding.MIN_COMPRESSED_BYTES:
            coding = content_encoding.accepted(request.header(b"accept-encoding"))
            if coding:
                body = content_encoding.compress(body, coding)
                headers = {**(headers or {}), "Content-Encoding": coding, "Vary": "Accept-Encoding"}
        return body, OCTET_STREAM if json_length is not None else JSON, headers

    _score(runtime, request, inputs, encode)


def rows(inputs: dict) -> int:
    for array in inputs.values():
        return len(array) if array.ndim else 1
    return 0
