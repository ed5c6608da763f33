"""One worker: the runtime its requests share, serving on HTTP connections until SIGTERM.

The port listens before the model is loaded: liveness answers at once, readiness and scoring
once the model is in, and ``MODELHUB_READY port=P`` is printed then. Built-in scorers run on the
event loop, since onnxruntime answers in microseconds and a thread hand-off would cost more than
the call; entry scripts run in one thread per worker, as Azure ML runs them, under the request
timeout. On SIGTERM the worker stops accepting, lets requests in flight finish and exits 0.

:class:`Runtime` is what ``http.Connection`` calls (``http.Application``): it finds a request's
route, checks the size limit and the key, runs the route, and answers errors in the route's
protocol; every answer goes through :meth:`Runtime.send`, which records it in the access log
and the metrics. The event loop is uvloop's where it is installed.

Not here: HTTP (``http.py``), the routes (``handlers.py``, ``scoring.py``), bodies
(``protocols.py``), models (``scorers.py``), processes (``workers.py``).
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import importlib.metadata
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from time import monotonic

import orjson

from . import handlers, openapi, protocols, scorers
from .batching import Batcher
from .errors import ServingError, error_body
from .http import JSON, Connection
from .metrics import Metrics
from .requestlog import RequestLog
from .signature import Signature

log = logging.getLogger("jupyter_modelhub.serving")


def _server_version() -> str:
    try:
        return importlib.metadata.version("jupyter_modelhub")
    except importlib.metadata.PackageNotFoundError:  # shipped as bare files into an image
        return "unknown"


class Runtime:
    """What the requests of one worker share (options, the model, metrics, the access log), and how they are answered."""

    def __init__(self, options, metrics: Metrics, worker: int = 0, workers: int = 1):
        self.options = options
        self.metrics = metrics
        self.worker, self.workers = worker, workers
        self.name = options.name
        self.version = options.version
        self.signature: Signature | None = options.signature
        self.auth_header = f"Bearer {options.auth_key}".encode() if options.auth_key else None
        self.max_bytes = options.max_request_bytes
        self.timeout = options.request_timeout
        self.request_log = RequestLog(metrics, tag=f" w{worker}" if workers > 1 else "")
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="modelhub-model")
        self.scorer: scorers.BuiltinScorer | None = None
        self.script: scorers.EntryScript | None = None
        self.batcher: Batcher | None = None
        self.platform = "unknown"
        self.ready = False
        self.stopping = False
        self.in_flight = 0
        self.connections: set[Connection] = set()
        self.loop = asyncio.get_running_loop()
        self.idle = asyncio.Event()
        self.stopped = asyncio.Event()
        self.servers: list[asyncio.AbstractServer] = []
        self.grpc = None  # grpc.transport.GrpcServer, with --grpc-port
        self.repository = None  # repository.Repository: many versions (--repository), routed by multi.py
        self.fixed, self.resolve = handlers.FIXED, handlers.resolve
        self.server_metadata = protocols.dumps(
            {"name": "jupyter_modelhub.serving", "version": _server_version(), "extensions": ["binary_tensor_data"]}
        )
        self.openapi = protocols.dumps(
            openapi.document(self.name, self.version, self.signature, bool(self.auth_header))
        )

    async def load(self) -> None:
        options = self.options
        if getattr(options, "repository", None):
            return await self._load_repository()
        loaded = await self.loop.run_in_executor(
            self.executor,
            scorers.load,
            options.model_dir,
            options.flavor,
            options.entry_script,
            options.signature,
            options.threads,
        )
        if isinstance(loaded, scorers.EntryScript):
            self.script = loaded
        else:
            self.scorer = loaded
            self.signature = loaded.signature
            if options.max_batch_size > 1:
                self.batcher = Batcher(
                    loaded.predict,
                    options.max_batch_size,
                    options.max_batch_wait_ms / 1000,
                    self.metrics.model_call,
                    self.others_may_send,
                )
        self.platform = loaded.platform
        self.openapi = protocols.dumps(
            openapi.document(self.name, self.version, self.signature, bool(self.auth_header))
        )
        self.ready = True

    async def _load_repository(self) -> None:
        """Many versions, none loaded yet: they load on first use (``repository.py``)."""
        from . import multi
        from .repository import Repository

        options = self.options
        metrics = options.model_metrics
        metrics.use_row(self.worker)
        self.repository = Repository(options.repository, options.memory_budget, options.threads, self.executor, metrics)
        self.fixed, self.resolve = multi.FIXED, multi.resolve
        await self.repository.warm_up()
        self.platform = "repository"
        self.server_metadata = protocols.dumps(
            {
                "name": "jupyter_modelhub.serving",
                "version": _server_version(),
                "extensions": ["binary_tensor_data", "model_repository"],
            }
        )
        self.ready = True

    # -- scoring -------------------------------------------------------------------------------

    def call_model(self, inputs: dict, scorer: scorers.BuiltinScorer | None = None) -> dict:
        """The model's outputs for one request's inputs, now: this runtime's model, or the version
        ``scorer`` of a multi-model runtime (REST and gRPC alike)."""
        try:
            outputs = (self.scorer if scorer is None else scorer).predict(inputs)
        except Exception as exc:
            raise self.model_failure(exc) from None
        metrics = self.metrics  # counted as integers here, added to the shared table with the access log
        metrics.model_calls_alone += 1
        for array in inputs.values():  # the rows of the first input (all inputs have as many)
            metrics.rows_alone += len(array) if array.ndim else 1
            break
        return outputs

    async def run_script(self, body: bytes) -> bytes:
        try:
            raw = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ServingError(400, f"The request body is not UTF-8 text: {exc}.") from None
        future = self.loop.run_in_executor(self.executor, self.script.run, raw)
        try:
            result = await asyncio.wait_for(future, self.timeout)
        except asyncio.TimeoutError:
            self.metrics.model_error()
            raise ServingError(504, f"run() did not return within {self.timeout:g} s (--request-timeout).") from None
        except Exception as exc:
            raise self.model_failure(exc) from None
        self.metrics.model_call(1, 1)
        try:
            return protocols.dumps(result)
        except TypeError as exc:
            raise ServingError(
                500, f"run() returned a value that is not JSON-serialisable: {exc}.", "TypeError"
            ) from None

    def model_failure(self, exc: Exception) -> ServingError:
        """A 500 naming the exception; the traceback goes to stderr and the worker keeps serving."""
        log.error("%s raised %s: %s", "run()" if self.script else "the model", type(exc).__name__, exc, exc_info=exc)
        self.metrics.model_error()
        return ServingError(500, f"{type(exc).__name__}: {exc}", type(exc).__name__)

    def check_model(self, name: str, version: str | None) -> None:
        """A request names this runtime's model, or gets a 404 naming what it serves. (A multi-model
        runtime never asks: ``multi.py`` and ``grpc/multi.py`` find versions in its repository.)"""
        if name != self.name:
            raise ServingError(404, f"Unknown model {name!r}: this server serves {self.name!r}.")
        if version is not None and version != self.version:
            serves = f"version {self.version!r}" if self.version else "it without versions"
            raise ServingError(404, f"Model {name!r} has no version {version!r} here: this server serves {serves}.")

    def model_metadata(self) -> dict:
        metadata = {"name": self.name}
        if self.version is not None:
            metadata["versions"] = [self.version]
        metadata["platform"] = self.platform
        metadata.update(self.signature.metadata() if self.signature else {"inputs": [], "outputs": []})
        return metadata

    def others_may_send(self) -> bool:
        """Whether a request may still come to join a batch: a connection without a request in
        flight. Without one, waiting for company is waiting for nobody."""
        return len(self.connections) > self.in_flight

    def require_ready(self) -> None:
        if not self.ready:
            raise ServingError(503, "The server is shutting down." if self.stopping else "The model is still loading.")

    # -- http.Application: requests in, answers out ----------------------------------------------

    def connected(self, connection: Connection) -> None:
        self.connections.add(connection)

    def closed(self, connection: Connection) -> None:
        self.connections.discard(connection)

    def headers_received(self, request) -> None:
        route = self.fixed.get(request.path)
        if route is not None:  # a fixed path: nothing to take from it
            request.route = route
        else:
            request.route, request.args = self.resolve(request.path)

    def request_received(self, request) -> None:
        """Check the size limit, the key and the method, then let the route answer (now or later)."""
        self.in_flight += 1
        route = request.route
        try:
            if request.too_large:
                raise ServingError(
                    413, f"The request body is larger than {self.max_bytes} bytes (--max-request-bytes)."
                )
            if (
                self.auth_header is not None
                and not route.public
                and not hmac.compare_digest(request.authorization, self.auth_header)
            ):
                raise ServingError(401, "This endpoint needs an 'Authorization: Bearer KEY' header with its key.")
            if route.method is not None and request.method != route.method:
                raise ServingError(405, f"{request.method} is not allowed here: send a {route.method}.")
            route.serve(self, request)
        except ServingError as error:
            self.fail(request, error)
        except Exception:
            self.fail_unexpectedly(request)

    def send(self, request, status: int, body: bytes, content_type: bytes = JSON, headers: dict | None = None) -> None:
        """Answer a request, and account for it: access log, metrics, requests in flight."""
        if request.answered:
            return
        request.respond(status, body, content_type, headers)
        self.request_log.record(request, monotonic())
        self.in_flight -= 1
        if self.stopping and self.in_flight == 0:
            self.idle.set()

    def fail(self, request, error: ServingError) -> None:
        status = error.status
        headers = (
            {"WWW-Authenticate": 'Bearer realm="modelhub"'}
            if status == 401
            else {"Allow": request.route.method}
            if status == 405
            else None
        )
        self.send(request, status, error_body(request.route.style, error), JSON, headers)

    def fail_unexpectedly(self, request) -> None:
        log.exception("unexpected error answering %s %s", request.method, request.uri)
        self.fail(request, ServingError(500, "Internal server error; see the server's log."))

    def disconnected(self, request) -> None:
        """A request whose client went away before its answer: logged as 499, no longer in flight."""
        self.request_log.record(request, monotonic())
        self.request_done()

    def refused(self, request) -> None:
        """What the connection answered itself (a request it could not parse, or too slow to come)."""
        request.route = handlers.NOT_FOUND
        self.request_log.record(request, monotonic())

    def failed(self, exc: BaseException) -> None:
        log.error("unexpected error reading a request", exc_info=exc)

    def request_done(self) -> None:
        self.in_flight -= 1
        if self.stopping and self.in_flight == 0:
            self.idle.set()

    # -- timers and shutdown -------------------------------------------------------------------

    def sweep(self) -> None:
        """Once a second: requests too slow to arrive (408) and idle keep-alive connections."""
        now = monotonic()
        for connection in list(self.connections):
            connection.sweep(now)

    def connection(self) -> Connection:
        return Connection(self, self.max_bytes, self.timeout, max(75.0, self.timeout))

    def begin_shutdown(self) -> None:
        if not self.stopping:
            self.stopping = True
            asyncio.ensure_future(self._shutdown())

    async def _shutdown(self) -> None:
        """Stop accepting, let requests in flight finish (up to the request timeout), then stop."""
        self.ready = False
        for server in self.servers:
            server.close()
        for connection in list(self.connections):
            connection.close_if_idle()  # answers from now on close their connection
        if self.in_flight:
            try:
                await asyncio.wait_for(self.idle.wait(), self.timeout + 1)
            except asyncio.TimeoutError:
                log.warning("stopping with %d requests still in flight", self.in_flight)
        for connection in list(self.connections):
            connection.abort()
        self.request_log.flush()
        self.stopped.set()


# -- one worker --------------------------------------------------------------------------------


async def serve(
    options,
    sockets: list,
    metrics: Metrics,
    worker: int = 0,
    workers: int = 1,
    on_ready=None,
    listen_first: bool = True,
) -> int:
    """Serve on ``sockets`` until SIGTERM or SIGINT; return the exit code.

    A first start listens while the model loads (liveness answers, scoring says 503). A worker
    restarted after a crash loads first: connections queue on its socket meanwhile and are then
    answered, instead of getting a 503 from an endpoint that was healthy a moment ago.
    """
    runtime = Runtime(options, metrics, worker, workers)
    loop = asyncio.get_running_loop()

    async def listen() -> None:
        for sock in sockets:
            runtime.servers.append(await loop.create_server(runtime.connection, sock=sock, backlog=1024))
        if getattr(options, "grpc_port", None):  # the port workers.py reserved
            from .grpc import transport

            runtime.grpc = await transport.start(runtime, options.host, options.grpc_port)

    if listen_first:
        await listen()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, runtime.begin_shutdown)
    timers = [Repeating(loop, 0.25, runtime.request_log.flush), Repeating(loop, 1.0, runtime.sweep)]
    try:
        await runtime.load()
    except Exception as exc:
        if isinstance(exc, (ValueError, FileNotFoundError)):
            log.error("cannot load the model: %s", exc)
        else:
            log.exception("cannot load the model")
        return 1
    if not listen_first:
        await listen()
    # What loading made lives as long as the process: keep the collector from scanning it again.
    gc.collect()
    gc.freeze()
    if not runtime.stopping:
        if runtime.repository is not None:
            log.info("worker %d ready: %s", worker, runtime.repository.describe())
        else:
            log.info("worker %d ready: %s model %r from %s", worker, runtime.platform, runtime.name, options.model_dir)
        if on_ready is not None:
            on_ready(sockets[0].getsockname()[1])
    await runtime.stopped.wait()
    if runtime.grpc is not None:
        await runtime.grpc.wait_stopped()
    for timer in timers:
        timer.stop()
    return 0


class Repeating:
    """Call ``function`` every ``seconds`` on the loop until stopped."""

    def __init__(self, loop, seconds: float, function):
        self.loop, self.seconds, self.function = loop, seconds, function
        self.handle = loop.call_later(seconds, self._tick)

    def _tick(self) -> None:
        try:
            self.function()
        finally:
            self.handle = self.loop.call_later(self.seconds, self._tick)

    def stop(self) -> None:
        self.handle.cancel()


def read_signature(path: Path | None) -> Signature | None:
    if path is None:
        return None
    try:
        return Signature.from_json(orjson.loads(path.read_bytes()))
    except (OSError, orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise SystemExit(f"error: cannot read the signature file {path}: {exc}") from None
