"""The scoring POSTs (/score, /invocations, /v2/.../infer), served on Tornado's HTTP layer.

A scoring request is an ``HTTPMessageDelegate``: it reads the body under the size limit and the
body timeout, checks the key, decodes, calls the model and writes the response on the
connection itself. It does without a ``RequestHandler`` because this is the path measured
against a bare handler: a handler's set-up, its task and its response machinery cost more per
request than all of the checks, metrics and logging here (bench/serving.py prints the ratio).
Everything else about a request is as for the other routes: the same error bodies, access log
line, metrics and in-flight count for a graceful stop.

A body over ``--max-request-bytes`` is answered 413 without being decoded; up to twice the limit
the rest is read and dropped, so the client reads the 413 rather than a reset and keeps its
connection; beyond that the answer is immediate and the connection closes. A body sent with
``Content-Encoding: gzip`` or ``deflate`` is inflated first, under the same limit
(``content_encoding.py``).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from email.utils import formatdate

from tornado.httputil import HTTPHeaders, HTTPMessageDelegate, ResponseStartLine, responses
from tornado.web import RequestHandler

from . import binary_tensors, content_encoding, protocols
from .errors import ServingError, error_body
from .metrics import ROUTE_INDEX

log = logging.getLogger("jupyter_modelhub.serving")


class ScoringRoute(RequestHandler):
    """Marks a route served by a :class:`ScoringRequest`; its target_kwargs name which one.

    Tornado's router hands only RequestHandler classes to ``Application.get_handler_delegate``,
    where ``server.ServingApp`` swaps in the scoring request; this class itself never serves.
    """


class ScoringRequest(HTTPMessageDelegate):
    route = ROUTE_INDEX["other"]
    error_style = "azure"
    compresses = False  # answers compressed when Accept-Encoding asks (v2 inference only)

    def __init__(self, runtime, request, path_args: list):
        self.runtime = runtime
        self.request = request
        self.args = [a.decode("utf-8", "replace") if isinstance(a, bytes) else a for a in path_args]
        self.chunks: list[bytes] = []
        self.size = 0
        self.too_large = False
        self.error: ServingError | None = None
        self.status = 0  # 0 until answered
        self.batch = 0
        self.closed = False
        self.task = None
        self.answer_headers: dict[str, str] = {}  # of a successful answer, beyond Content-Type and Length

    # -- tornado's message delegate ------------------------------------------------------------

    def headers_received(self, start_line, headers) -> None:
        runtime = self.runtime
        runtime.in_flight += 1
        if start_line.method != "POST":
            self.error = ServingError(405, f"{start_line.method} is not allowed here: send a POST.")
        elif runtime.auth_header is not None and not hmac.compare_digest(
                headers.get("Authorization", "").encode(), runtime.auth_header):
            self.error = ServingError(401, "This endpoint needs an 'Authorization: Bearer KEY' header with its key.")
        length = int(headers.get("Content-Length") or 0)
        if length > runtime.max_bytes:
            self.too_large = True
            if length > 2 * runtime.max_bytes:
                self.reply_error(self.payload_too_large(), close=True)
                return
        runtime.reading[self] = runtime.loop.time() + runtime.timeout

    def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.runtime.max_bytes:
            if self.size > 2 * self.runtime.max_bytes and not self.status:
                self.reply_error(self.payload_too_large(), close=True)
            self.too_large, self.chunks = True, []
        elif not self.too_large:
            self.chunks.append(chunk)

    def finish(self) -> None:
        self.runtime.reading.pop(self, None)
        if self.status:  # answered before the body was in
            return
        if self.error is not None:
            return self.reply_error(self.error)
        if self.too_large:
            return self.reply_error(self.payload_too_large())
        chunks = self.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        try:
            coding = self.request.headers.get("Content-Encoding")
            if coding:
                body = content_encoding.inflate(body, coding, self.runtime.max_bytes)
            self.score(body)
        except ServingError as error:
            self.reply_error(error)
        except Exception:
            log.exception("unexpected error answering %s %s", self.request.method, self.request.uri)
            self.reply_error(ServingError(500, "Internal server error; see the server's log."))

    def on_connection_close(self) -> None:
        self.runtime.reading.pop(self, None)
        self.closed = True
        if not self.status:
            self.status = 499  # the client went away first (nginx's name for it)
            self.runtime.request_done()

    # -- scoring -------------------------------------------------------------------------------

    def score(self, body: bytes) -> None:
        runtime = self.runtime
        if not runtime.ready:
            raise ServingError(503, "The server is shutting down." if runtime.stopping else "The model is still loading.")
        if runtime.script is not None:
            self.later(runtime.run_script(self.script_body(body)), encoded=True)
            return
        inputs = self.decode(body)
        if runtime.batcher is not None:
            self.later(runtime.call_batched(inputs), encoded=False)
            return
        self.answer(self.encode(runtime.call_model(inputs)))

    def later(self, pending, encoded: bool) -> None:
        """Answer when ``pending`` is done: an entry script's run(), or a batch."""
        async def answer():
            try:
                if encoded:
                    self.answer(await pending)
                else:
                    outputs, self.batch = await pending
                    self.answer(self.encode(outputs))
            except ServingError as error:
                self.reply_error(error)

        self.task = asyncio.ensure_future(answer())  # held here: the loop keeps only a weak reference

    def script_body(self, body: bytes) -> bytes:
        """What an entry script's run() receives: the body, checked against the path (the v2 model name)."""
        return body

    def decode(self, body: bytes) -> dict:
        raise NotImplementedError

    def encode(self, outputs: dict) -> bytes:
        raise NotImplementedError

    # -- answering -----------------------------------------------------------------------------

    def payload_too_large(self) -> ServingError:
        return ServingError(413, f"The request body is larger than {self.runtime.max_bytes} bytes "
                                 "(--max-request-bytes).")

    def answer(self, body: bytes) -> None:
        """A 200 with the encoded outputs, compressed if the client asks and it is worth it."""
        headers = self.answer_headers
        if self.compresses and len(body) >= content_encoding.MIN_COMPRESSED_BYTES:
            coding = content_encoding.accepted(self.request.headers.get("Accept-Encoding"))
            if coding:
                body = content_encoding.compress(body, coding)
                headers = {**headers, "Content-Encoding": coding, "Vary": "Accept-Encoding"}
        self.reply(200, body, extra=headers)

    def reply_error(self, error: ServingError, close: bool = False) -> None:
        extra = {401: {"WWW-Authenticate": 'Bearer realm="modelhub"'}, 405: {"Allow": "POST"}}.get(error.status)
        self.reply(error.status, error_body(self.error_style, error), close, extra)

    def reply(self, status: int, body: bytes, close: bool = False, extra: dict | None = None) -> None:
        if self.status:
            return
        self.status = status
        runtime = self.runtime
        if not self.closed:
            headers = HTTPHeaders({"Content-Type": "application/json", "Content-Length": str(len(body)),
                                   "Date": http_date()})
            if close:
                headers["Connection"] = "close"
            if extra:
                headers.update(extra)
            connection = self.request.connection
            connection.write_headers(ResponseStartLine("HTTP/1.1", status, responses.get(status, "Unknown")),
                                     headers, body)
            connection.finish()
        runtime.request_log.record(self)
        runtime.request_done()

    def get_status(self) -> int:  # what the request log asks of a handler
        return self.status


class ScoreRequest(ScoringRequest):
    """Azure ML: ``POST /score`` with ``{"data": ...}``."""

    route = ROUTE_INDEX["/score"]

    def decode(self, body: bytes) -> dict:
        return protocols.decode_score(body, self.runtime.signature)

    def encode(self, outputs: dict) -> bytes:
        return protocols.encode_score(outputs)


class InvocationsRequest(ScoringRequest):
    """MLflow: ``POST /invocations``."""

    route, error_style = ROUTE_INDEX["/invocations"], "mlflow"

    def decode(self, body: bytes) -> dict:
        content_type = self.request.headers.get("Content-Type", "")
        return protocols.decode_invocations(body, content_type, self.runtime.signature)

    def encode(self, outputs: dict) -> bytes:
        return protocols.encode_invocations(outputs)


class InferRequest(ScoringRequest):
    """Open Inference Protocol: ``POST /v2/models/{name}[/versions/{version}]/infer``, its tensors
    in JSON or as binary data after it (then the ``Inference-Header-Content-Length`` header gives
    the JSON part's length, in the request and in the response)."""

    route, error_style, compresses = ROUTE_INDEX["/v2/models/{name}/infer"], "v2", True
    ask: protocols.InferAsk

    def header_length(self) -> str | None:
        return self.request.headers.get(binary_tensors.HEADER_LENGTH)

    def script_body(self, body: bytes) -> bytes:
        self.runtime.check_model(*self.args)
        header_length = self.header_length()
        return body if header_length is None else protocols.inline_binary(body, header_length)

    def decode(self, body: bytes) -> dict:
        runtime = self.runtime
        runtime.check_model(*self.args)
        inputs, self.ask = protocols.decode_infer(body, runtime.signature, self.header_length())
        protocols.check_outputs(self.ask.outputs, runtime.scorer.output_names)
        return inputs

    def encode(self, outputs: dict) -> bytes:
        body, json_length = protocols.encode_infer(outputs, self.args[0], self.runtime.version, self.ask)
        if json_length is not None:
            self.answer_headers = {"Content-Type": "application/octet-stream",
                                   binary_tensors.HEADER_LENGTH: str(json_length)}
        return body


class HttpDate:
    """The Date header, formatted once a second rather than once a response."""

    def __init__(self):
        self._second = -1
        self._text = ""

    def __call__(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second, self._text = second, formatdate(second, usegmt=True)
        return self._text


http_date = HttpDate()
