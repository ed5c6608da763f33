"""One worker: the runtime its requests share, the route table, serving until SIGTERM.

The port listens before the model is loaded: liveness answers at once, readiness and scoring
once the model is in, and ``MODELHUB_READY port=P`` is printed then. Built-in scorers run on the
event loop, since onnxruntime answers in microseconds and a thread hand-off would cost more than
the call; entry scripts run in one thread per worker, as Azure ML runs them, under the request
timeout. On SIGTERM the worker stops accepting, lets requests in flight finish and exits 0.

Not here: the routes (``handlers.py``), bodies (``protocols.py``), models (``scorers.py``),
processes (``workers.py``).
"""

from __future__ import annotations

import asyncio
import gc
import importlib.metadata
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
from tornado.httpserver import HTTPServer
from tornado.ioloop import PeriodicCallback
from tornado.web import Application

from . import handlers, openapi, protocols, scorers, scoring
from .batching import Batcher
from .errors import ServingError
from .metrics import Metrics
from .requestlog import RequestLog
from .scoring import ScoringRoute
from .signature import Signature

log = logging.getLogger("jupyter_modelhub.serving")


def _server_version() -> str:
    try:
        return importlib.metadata.version("jupyter_modelhub")
    except importlib.metadata.PackageNotFoundError:  # shipped as bare files into an image
        return "unknown"


class Runtime:
    """What the handlers of one worker share: options, the model, metrics, the access log."""

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
        self.reading: dict = {}  # scoring requests whose body is on its way -> deadline
        self.loop = asyncio.get_running_loop()
        self.idle = asyncio.Event()
        self.stopped = asyncio.Event()
        self.servers: list[HTTPServer] = []
        self.server_metadata = protocols.dumps(
            {"name": "jupyter_modelhub.serving", "version": _server_version(), "extensions": ["binary_tensor_data"]})
        self.openapi = protocols.dumps(openapi.document(self.name, self.version, self.signature, bool(self.auth_header)))

    async def load(self) -> None:
        options = self.options
        loaded = await self.loop.run_in_executor(
            self.executor, scorers.load, options.model_dir, options.flavor, options.entry_script,
            options.signature, options.threads)
        if isinstance(loaded, scorers.EntryScript):
            self.script = loaded
        else:
            self.scorer = loaded
            self.signature = loaded.signature
            if options.max_batch_size > 1:
                self.batcher = Batcher(loaded.predict, options.max_batch_size, options.max_batch_wait_ms / 1000,
                                       self.metrics.model_call)
        self.platform = loaded.platform
        self.openapi = protocols.dumps(openapi.document(self.name, self.version, self.signature, bool(self.auth_header)))
        self.ready = True

    # -- scoring -------------------------------------------------------------------------------

    def call_model(self, inputs: dict) -> dict:
        """The model's outputs for one request's inputs, now."""
        try:
            outputs = self.scorer.predict(inputs)
        except Exception as exc:
            raise self.model_failure(exc) from None
        self.metrics.model_call(1, _rows(inputs))
        return outputs

    async def call_batched(self, inputs: dict) -> tuple[dict, int]:
        """This request's share of a batched call's outputs, and how many requests shared it."""
        try:
            return await self.batcher.submit(inputs, _rows(inputs))
        except Exception as exc:
            raise self.model_failure(exc) from None

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
            raise ServingError(500, f"run() returned a value that is not JSON-serialisable: {exc}.", "TypeError") from None

    def model_failure(self, exc: Exception) -> ServingError:
        """A 500 naming the exception; the traceback goes to stderr and the worker keeps serving."""
        log.error("%s raised %s: %s", "run()" if self.script else "the model", type(exc).__name__, exc, exc_info=exc)
        self.metrics.model_error()
        return ServingError(500, f"{type(exc).__name__}: {exc}", type(exc).__name__)

    def check_model(self, name: str, version: str | None) -> None:
        if name != self.name:
            raise ServingError(404, f"Unknown model {name!r}: this server serves {self.name!r}.")
        if version is not None and version != self.version:
            serves = f"version {self.version!r}" if self.version else "it without versions"
            raise ServingError(404, f"Model {name!r} has no version {version!r} here: this server serves {serves}.")

    def model_metadata(self) -> dict:
        def tensors(specs):
            return [{"name": s.name, "datatype": s.datatype, "shape": list(s.shape) if s.shape else [-1]}
                    for s in specs]

        metadata = {"name": self.name}
        if self.version is not None:
            metadata["versions"] = [self.version]
        metadata["platform"] = self.platform
        metadata["inputs"] = tensors(self.signature.inputs) if self.signature else []
        metadata["outputs"] = tensors(self.signature.outputs) if self.signature else []
        return metadata

    # -- request accounting and shutdown -------------------------------------------------------

    def sweep(self) -> None:
        """Disconnect clients that are too slow to send their request body."""
        now = self.loop.time()
        for scoring_request, deadline in list(self.reading.items()):
            if now > deadline:
                del self.reading[scoring_request]
                log.info("closing a connection whose request body took over %g s", self.timeout)
                scoring_request.request.connection.close()

    def request_done(self) -> None:
        self.in_flight -= 1
        if self.stopping and self.in_flight == 0:
            self.idle.set()

    def begin_shutdown(self) -> None:
        if not self.stopping:
            self.stopping = True
            asyncio.ensure_future(self._shutdown())

    async def _shutdown(self) -> None:
        """Stop accepting, let requests in flight finish (up to the request timeout), then stop."""
        self.ready = False
        for server in self.servers:
            server.stop()
            server.conn_params.no_keep_alive = True  # answers from now on close their connection
        if self.in_flight:
            try:
                await asyncio.wait_for(self.idle.wait(), self.timeout + 1)
            except asyncio.TimeoutError:
                log.warning("stopping with %d requests still in flight", self.in_flight)
        for server in self.servers:
            await server.close_all_connections()
        self.request_log.flush()
        self.stopped.set()


# -- the application ---------------------------------------------------------------------------

class ServingApp(Application):
    """Tornado's application, with the scoring POSTs served by their ``ScoringRequest``."""

    def get_handler_delegate(self, request, target_class, target_kwargs=None, path_args=None, path_kwargs=None):
        if target_class is ScoringRoute:
            return target_kwargs["serve"](target_kwargs["runtime"], request, path_args or [])
        return super().get_handler_delegate(request, target_class, target_kwargs, path_args, path_kwargs)


def make_app(runtime: Runtime) -> Application:
    model = r"/v2/models/([^/]+)(?:/versions/([^/]+))?"
    routes = [
        (r"/", handlers.LivenessHandler), (r"/score", ScoringRoute, scoring.ScoreRequest),
        (r"/ping", handlers.PingHandler), (r"/invocations", ScoringRoute, scoring.InvocationsRequest),
        (r"/v2/?", handlers.V2ServerHandler), (r"/v2/health/live", handlers.V2LiveHandler),
        (r"/v2/health/ready", handlers.V2ReadyHandler), (model + r"/ready", handlers.V2ModelReadyHandler),
        (model + r"/infer", ScoringRoute, scoring.InferRequest), (model, handlers.V2ModelHandler),
        (r"/metrics", handlers.MetricsHandler), (r"/openapi.json", handlers.OpenApiHandler),
    ]
    return ServingApp([(path, target, {"runtime": runtime, "serve": serve[0]} if serve else {"runtime": runtime})
                       for path, target, *serve in routes],
                      default_handler_class=handlers.NotFoundHandler, default_handler_args={"runtime": runtime},
                      log_function=runtime.request_log.record, compress_response=False)


# -- one worker --------------------------------------------------------------------------------

async def serve(options, sockets: list, metrics: Metrics, worker: int = 0, workers: int = 1,
                on_ready=None, listen_first: bool = True) -> int:
    """Serve on ``sockets`` until SIGTERM or SIGINT; return the exit code.

    A first start listens while the model loads (liveness answers, scoring says 503). A worker
    restarted after a crash loads first: connections queue on its socket meanwhile and are then
    answered, instead of getting a 503 from an endpoint that was healthy a moment ago.
    """
    runtime = Runtime(options, metrics, worker, workers)
    # Scoring requests enforce the size limit themselves (413, reading up to twice the limit to
    # keep the connection) and the body timeout (swept once a second, not a timer per request);
    # Tornado's own limit sits just above, for the other routes.
    server = HTTPServer(make_app(runtime), max_body_size=2 * options.max_request_bytes + 1, decompress_request=False,
                        idle_connection_timeout=max(75.0, options.request_timeout))
    if listen_first:
        server.add_sockets(sockets)
    runtime.servers.append(server)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, runtime.begin_shutdown)
    flusher = PeriodicCallback(runtime.request_log.flush, 250)
    flusher.start()
    sweeper = PeriodicCallback(runtime.sweep, 1000)
    sweeper.start()
    try:
        await runtime.load()
    except Exception as exc:
        if isinstance(exc, (ValueError, FileNotFoundError)):
            log.error("cannot load the model: %s", exc)
        else:
            log.exception("cannot load the model")
        return 1
    if not listen_first:
        server.add_sockets(sockets)
    # What loading made lives as long as the process: keep the collector from scanning it again.
    gc.collect()
    gc.freeze()
    if not runtime.stopping:
        log.info("worker %d ready: %s model %r from %s", worker, runtime.platform, runtime.name, options.model_dir)
        if on_ready is not None:
            on_ready(sockets[0].getsockname()[1])
    await runtime.stopped.wait()
    flusher.stop()
    sweeper.stop()
    return 0


def _rows(inputs: dict) -> int:
    for array in inputs.values():
        return len(array) if array.ndim else 1
    return 0


def read_signature(path: Path | None) -> Signature | None:
    if path is None:
        return None
    try:
        return Signature.from_json(orjson.loads(path.read_bytes()))
    except (OSError, orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise SystemExit(f"error: cannot read the signature file {path}: {exc}") from None
