"""The endpoint host: one process per endpoint that routes its traffic and supervises its
deployments' scoring processes.

It owns the endpoint's port (key auth, traffic split, mirroring), answers as one endpoint with
one contract (below), on the scoring runtime's own HTTP layer (``serving/http.py``: httptools on
uvloop), and forwards over pooled keep-alive connections (``upstream.py``). The key check and the
traffic split read only the headers: bodies go on as bytes, never parsed; a mirrored copy is
sent once the client has its answer. It starts each deployment as
``python -m jupyter_modelhub.serving`` on a private loopback port, writes their output to
rotating log files, restarts a crashed one with backoff, and replaces a deployment by starting
the new process, switching traffic to it once it is ready, and only then stopping the old one,
so an update fails no request.

One endpoint, one contract: a scoring POST goes where the traffic weights say, but an Open
Inference Protocol path that names a model or a version (``/v2/models/churn/versions/1/infer``)
goes to the deployment serving it, whatever the weights; reads (metadata, health, OpenAPI) are
answered by the primary deployment, the one with the most traffic, so they do not change with
the deployment a request happens to reach (``/v2/models/NAME`` lists every version served);
``/metrics`` is every deployment's, each sample labelled with its ``deployment``.

The Jupyter server controls it through files in the endpoint's folder, which outlive both:
``spec.json`` (desired state, written by the server, re-read on SIGHUP) and ``status.json``
(actual state, written here). A restarted server finds a live host through its pid and adopts
it; SIGTERM stops the host and everything it runs.

    python -m jupyter_modelhub.deploy.host ENDPOINT_FOLDER
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import random
import re
import signal
import sys
import time
from pathlib import Path

import aiohttp

from ..monitoring.collector import Collector, identify, request_id
from ..serving.http import JSON, Connection, Request, bind_sockets
from .prometheus import merge
from .targets.base import Instance
from .targets.process import ProcessInstance
from .upstream import Pool

log = logging.getLogger("modelhub.host")
START_TIMEOUT = 120.0
OPEN_PATHS = {"/", "/ping", "/v2/health/live", "/v2/health/ready"}  # liveness needs no key
# Not forwarded either way. Bodies are forwarded as they came, with their Content-Encoding, and
# every other header (Inference-Header-Content-Length of binary tensors, Accept-Encoding) with them.
HOP_HEADERS = {
    b"connection",
    b"keep-alive",
    b"transfer-encoding",
    b"content-length",
    b"host",
    b"authorization",
    b"expect",
    b"te",
    b"upgrade",
    b"proxy-connection",
}
ANSWER_OWN = HOP_HEADERS | {
    b"content-type",
    b"date",
    b"x-request-id",
}  # an answer's own framing, set where it is written
REQUEST_TIMEOUT = 60.0  # to receive a client's request
IDLE_TIMEOUT = 75.0
V2_MODEL_PATH = re.compile(r"^/v2/models/([^/]+)(?:/versions/([^/]+))?(/[^/]*)?$")
SCRAPE_TIMEOUT = 5.0


def primary(traffic: dict[str, int], names) -> str | None:
    """The deployment whose contract is the endpoint's: the most traffic, the first name on a tie."""
    ordered = sorted(names)
    return max(ordered, key=lambda name: traffic.get(name, 0)) if ordered else None


def alive(pid: int | None, folder: Path) -> bool:
    """True if ``pid`` is the host of the endpoint whose folder is ``folder`` (not a recycled pid
    of another program): what the server checks before it signals or adopts a host."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"jupyter_modelhub.deploy.host" in cmdline and str(folder).encode() in cmdline


def write_json(path: Path, data: dict) -> None:
    """Replace ``path`` atomically, readable by its owner only (a spec holds the endpoint's keys)."""
    temporary = path.with_suffix(".tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(json.dumps(data, indent=1))
    os.replace(temporary, path)


def error(request: Request, status: int, message: str, reason: str) -> bytes:
    """The host's own errors, in the error shape of the protocol the path belongs to."""
    if request.path.startswith("/v2"):
        return json.dumps({"error": message}).encode()
    return json.dumps({"message": message, "reason": reason}).encode()


class RotatingLog:
    """Append-only log file rotated at ``max_bytes`` into ``.1`` .. ``.{keep}``."""

    def __init__(self, path: Path, max_bytes: int = 10 * 1024 * 1024, keep: int = 3):
        self.path, self.max_bytes, self.keep = path, max_bytes, keep
        self.file = open(path, "ab", buffering=0)

    def write(self, data: bytes) -> None:
        self.file.write(data)
        if self.file.tell() >= self.max_bytes:
            self.file.close()
            for i in range(self.keep - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{i}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{i + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
            self.file = open(self.path, "ab", buffering=0)

    def close(self) -> None:
        self.file.close()


def instance_for(spec: dict) -> type[Instance]:
    """The target a deployment runs on: a container of its image, or a local process."""
    if spec.get("container"):
        from .targets.docker import ContainerInstance  # the Docker SDK only where containers run

        return ContainerInstance
    return ProcessInstance


class Host:
    def __init__(self, folder: Path):
        self.folder = folder
        self.spec_path, self.status_path = folder / "spec.json", folder / "status.json"
        (folder / "logs").mkdir(exist_ok=True)
        self.spec: dict = {}
        self.live: dict[str, Instance] = {}  # deployment name -> instance taking traffic
        self.state: dict[str, dict] = {}  # deployment name -> status shown to the server
        self.logs: dict[str, RotatingLog] = {}
        self.internal_key = os.urandom(16).hex()
        self.reconciling = asyncio.Lock()
        self.stopped = asyncio.Event()
        self.backoff: dict[str, int] = {}  # deployment name -> step of its restart backoff
        self.pools: dict[Instance, Pool] = {}  # keep-alive connections to each instance taking traffic
        self.connections: set[Connection] = set()  # clients'
        self.tasks: set[asyncio.Future] = set()  # /metrics answers and mirrored requests under way
        self.grpc = None  # grpc_gateway.Gateway: the endpoint's gRPC port
        self.collector = Collector(folder)  # payload collection (monitoring.collector)

    # -- status ----------------------------------------------------------------------------

    def publish(self) -> None:
        write_json(
            self.status_path,
            {
                "pid": os.getpid(),
                "port": self.spec.get("port"),
                "grpc_port": self.grpc.port if self.grpc else None,
                "updated": time.time(),
                "revision": self.spec.get("revision"),  # the spec in force: the server waits for it
                "deployments": self.state,
            },
        )

    def set_state(self, name: str, **fields) -> None:
        self.state.setdefault(name, {"restarts": 0}).update(fields, since=time.time())
        self.publish()

    # -- reconciling -----------------------------------------------------------------------

    async def reconcile(self) -> None:
        async with self.reconciling:
            self.spec = json.loads(self.spec_path.read_text())
            self.collector.configure(self.spec.get("collect"))
            self.publish()  # the traffic and collection of this revision are in force from here
            wanted = self.spec.get("deployments", {})
            for name, spec in wanted.items():
                current = self.live.get(name)
                if current is None or current.generation != spec["generation"]:
                    asyncio.create_task(self.replace(name, spec))
            for name in list(self.live):
                if name not in wanted:
                    instance = self.live.pop(name)
                    self.state.pop(name, None)
                    self.publish()
                    await instance.stop()
                    self.close_pool(instance)

    async def replace(self, name: str, spec: dict, restart: bool = False) -> None:
        """Start a new generation; once ready it takes the traffic and the old one stops."""
        if name not in self.logs:
            self.logs[name] = RotatingLog(self.folder / "logs" / f"{name}.log")
        if not restart:
            self.set_state(name, state="creating", generation=spec["generation"], reason="")
        spec_here = {**spec, "endpoint": self.spec.get("endpoint", ""), "endpoint_folder": str(self.folder)}
        instance = instance_for(spec_here)(name, spec_here, self.internal_key, self.logs[name])
        try:
            await instance.start()
            ok = await asyncio.wait_for(asyncio.shield(instance.ready), START_TIMEOUT)
        except Exception as exc:  # an engine that refuses the container (no GPU, no image) too
            ok = False
            instance.logfile.write(f"--- could not start: {type(exc).__name__}: {exc}\n".encode())
        if not ok:
            await instance.stop()
            if self.spec.get("deployments", {}).get(name, {}).get("generation") == spec["generation"]:
                self.set_state(
                    name,
                    state="failed",
                    reason=f"the scoring {instance.kind} ended before it was ready",
                    log_tail=instance.log_tail(),
                )
            return
        if self.spec.get("deployments", {}).get(name, {}).get("generation") != spec["generation"]:
            await instance.stop()  # superseded or removed while starting
            return
        old = self.live.get(name)
        self.live[name] = instance
        self.set_state(
            name,
            state="healthy",
            generation=spec["generation"],
            port=instance.port,
            pid=instance.ident,
            target=instance.kind,
            reason="",
            log_tail="",
        )
        asyncio.create_task(self.watch(name, instance))
        if spec.get("reload") and spec.get("entry_script"):
            asyncio.create_task(self.watch_script(name, instance))
        if old is not None:
            await old.stop()
            self.close_pool(old)

    async def watch(self, name: str, instance: Instance) -> None:
        """Restart a deployment whose process died on its own, with exponential backoff that
        starts again from its first step once the deployment has served for a healthy while
        (``backoff_reset_s``); ``restarts`` counts them all, ``last_crash`` says when."""
        healthy_since = time.monotonic()
        code = await instance.wait()
        if instance.stopping or self.stopped.is_set() or self.live.get(name) is not instance:
            return
        restarts = self.state.get(name, {}).get("restarts", 0) + 1
        reset = time.monotonic() - healthy_since >= self.spec.get("backoff_reset_s", 60.0)
        step = 1 if reset else self.backoff.get(name, 0) + 1
        self.backoff[name] = step
        delay = min(30.0, 0.5 * 2 ** min(step - 1, 6))
        self.set_state(
            name,
            state="restarting",
            restarts=restarts,
            last_crash=time.time(),
            reason=f"the scoring {instance.kind} exited with code {code}; restart {restarts} in {delay:.1f} s",
            log_tail=instance.log_tail(),
        )
        await asyncio.sleep(delay)
        if self.live.get(name) is instance and not self.stopped.is_set():
            await self.replace(name, instance.spec, restart=True)

    async def watch_script(self, name: str, instance: Instance) -> None:
        """--reload: a changed entry script starts a new generation (zero-downtime as any update)."""
        path = Path(instance.spec["entry_script"])
        seen = path.stat().st_mtime if path.exists() else 0
        while self.live.get(name) is instance and not self.stopped.is_set():
            await asyncio.sleep(0.5)
            mtime = path.stat().st_mtime if path.exists() else 0
            if mtime != seen:
                self.logs[name].write(f"--- {path.name} changed: reloading\n".encode())
                await self.replace(name, instance.spec, restart=True)
                return

    # -- routing ---------------------------------------------------------------------------

    def authorised(self, request: Request) -> bool:
        auth = self.spec.get("auth", {})
        if auth.get("mode") == "none" or (request.method == "GET" and request.path in OPEN_PATHS):
            return True
        scheme, _, given = (request.header(b"authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and any(
            key and hmac.compare_digest(given.strip(), key) for key in auth.get("keys", [])
        )

    def choose(self, request: Request) -> tuple[str | None, bytes | None, int]:
        """The deployment to answer ``request``, or the answer itself (and its status) when none can."""
        asked = request.header(b"azureml-model-deployment") or request.header(b"x-modelhub-deployment")
        if asked:
            return asked, None, 0
        candidates = list(self.live)
        match = V2_MODEL_PATH.match(request.path)
        if match and candidates:
            model, version, _ = match.groups()
            deployments = self.spec.get("deployments", {})
            serving = [n for n in candidates if model in _serves(deployments.get(n, {}))]
            if not serving:
                models = sorted({m for n in candidates for m in _serves(deployments.get(n, {}))})
                shown = ", ".join(map(repr, models[:20])) + (
                    f" and {len(models) - 20} more" if len(models) > 20 else ""
                )
                return (
                    None,
                    error(
                        request,
                        404,
                        f"Unknown model {model!r}: endpoint {self.spec.get('endpoint')!r} serves {shown}.",
                        "not_found",
                    ),
                    404,
                )
            if version is not None:
                versions = sorted({v for n in serving for v in _serves(deployments[n])[model]}, key=_number)
                serving = [n for n in serving if version in _serves(deployments[n])[model]]
                if not serving:
                    return (
                        None,
                        error(
                            request,
                            404,
                            f"Model {model!r} has no version {version!r} on endpoint "
                            f"{self.spec.get('endpoint')!r}: it serves version "
                            f"{', '.join(versions)}.",
                            "not_found",
                        ),
                        404,
                    )
            candidates = serving
        elif request.path.startswith("/v2/repository/") and candidates:  # the multi-model deployments' own
            deployments = self.spec.get("deployments", {})
            candidates = [n for n in candidates if "serves" in deployments.get(n, {})] or candidates
        traffic = self.spec.get("traffic", {})
        if request.method == "GET":
            return primary(traffic, candidates), None, 0
        weighted = {n: traffic.get(n, 0) for n in candidates if traffic.get(n, 0) > 0}
        if not weighted:  # a version or model asked for by name, on a deployment without traffic
            return (primary(traffic, candidates), None, 0) if match else (None, None, 0)
        pick = random.uniform(0, sum(weighted.values()))
        for name, percent in weighted.items():
            pick -= percent
            if pick <= 0:
                return name, None, 0
        return name, None, 0

    # -- serving.http's Application: the clients' requests ---------------------------------------

    def connected(self, connection: Connection) -> None:
        self.connections.add(connection)

    def closed(self, connection: Connection) -> None:
        self.connections.discard(connection)

    def headers_received(self, request: Request) -> None:
        pass

    def disconnected(self, request: Request) -> None:
        pass  # its upstream answer, when it comes, is dropped

    def refused(self, request: Request) -> None:
        pass

    def failed(self, exc: BaseException) -> None:
        log.error("unexpected error reading a request", exc_info=exc)

    def request_received(self, request: Request) -> None:
        """Route a request: key check and traffic split from its headers alone; its body goes on as it came."""
        try:
            self.route(request)
        except Exception:
            log.exception("unexpected error routing %s %s", request.method, request.path)
            self.reply(request, 500, error(request, 500, "Internal error of the endpoint host; see its log.", "error"))

    def route(self, request: Request) -> None:
        identify(request)  # its x-request-id, sent on to the deployment and answered
        if request.too_large:
            limit = self.spec.get("max_request_bytes", 100 * 1024 * 1024)
            self.reply(
                request,
                413,
                error(request, 413, f"The request body is larger than {limit} bytes.", "request_too_large"),
            )
            return
        if not self.authorised(request):
            self.reply(
                request,
                401,
                error(
                    request,
                    401,
                    "Missing or wrong key: send 'Authorization: Bearer KEY' (see %endpoint NAME for the keys).",
                    "unauthorized",
                ),
            )
            return
        if request.path == "/metrics" and request.method == "GET":
            self.hold(asyncio.ensure_future(self.metrics(request)))
            return
        name, answer, status = self.choose(request)
        if answer is not None:
            self.reply(request, status, answer)
            return
        instance = self.live.get(name) if name else None
        if instance is None or not instance.port:
            known = ", ".join(self.live) or "none is ready"
            message = (
                f"Deployment {name!r} is not running (ready: {known})."
                if name
                else "No deployment receives traffic; set traffic with %traffic."
            )
            self.reply(request, 503, error(request, 503, message, "unavailable"))
            return
        head = self.upstream_head(request)
        instance.in_flight += 1
        self.pool(instance).forward(
            head,
            request.body,
            lambda status, headers, payload, error: self.answer(
                request, name, instance, head, status, headers, payload, error
            ),
        )

    def upstream_head(self, request: Request) -> bytes:
        """The request line and headers sent on to a deployment: the client's, but for hop-by-hop
        ones and its key (the pool adds the host's own key)."""
        target = (
            request.url
            if request.url[:1] == b"/"
            else (request.path.encode("latin-1") + (b"?" + request.query if request.query else b""))
        )
        parts = [request.method.encode(), b" ", target, b" HTTP/1.1\r\n"]
        for name, value in request.headers:
            if name.lower() not in HOP_HEADERS:
                parts += (name, b": ", value, b"\r\n")
        parts.append(b"Content-Length: %d\r\n" % len(request.body))
        return b"".join(parts)

    def answer(
        self,
        request: Request,
        name: str,
        instance: Instance,
        head: bytes,
        status: int,
        headers: list,
        payload: bytes,
        error_: Exception | None,
    ) -> None:
        instance.in_flight -= 1
        if error_ is not None:
            self.reply(
                request,
                502,
                error(request, 502, f"Deployment {name!r} did not answer: {error_}", "bad_gateway"),
                name=name,
            )
        else:
            if status == 200 and request.method == "GET" and _is_model_metadata(request.path):
                out, content_type = {}, JSON
                for key, value in headers:
                    lower = key.lower()
                    if lower == b"content-type":
                        content_type = value
                    elif lower not in ANSWER_OWN:
                        out[key.decode("latin-1")] = value.decode("latin-1")
                out["x-modelhub-deployment"] = name
                self.reply(request, status, self.all_versions(payload, out), content_type, out, name=name)
            else:  # the deployment's headers pass on as bytes, but for the answer's own framing
                content_type, lines = JSON, [b"x-modelhub-deployment: %s\r\n" % name.encode("latin-1")]
                for key, value in headers:
                    lower = key.lower()
                    if lower == b"content-type":
                        content_type = value
                    elif lower not in ANSWER_OWN:
                        lines.append(b"%s: %s\r\n" % (key, value))
                self.reply(
                    request, status, payload, content_type, raw_headers=b"".join(lines), name=name, upstream=headers
                )
        mirror = self.spec.get("mirror")
        if mirror and mirror.get("deployment") in self.live and random.uniform(0, 100) < mirror.get("percent", 0):
            self.send_mirror(mirror["deployment"], request, head)  # once the client has its answer

    def reply(
        self,
        request: Request,
        status: int,
        body: bytes,
        content_type: bytes = JSON,
        headers: dict | None = None,
        raw_headers: bytes = b"",
        name: str | None = None,
        upstream: list | None = None,
    ) -> None:
        """Every answer of the host: with the request's x-request-id, and offered to payload
        collection (``name``: the deployment that answered, ``upstream``: its answer's headers)."""
        request.respond(
            status, body, content_type, headers, raw_headers=raw_headers + b"x-request-id: %s\r\n" % request_id(request)
        )
        self.collector.answered(request, status, body, name, self.served(name, request.path), upstream)

    def served(self, name: str | None, path: str) -> tuple:
        """The (model, version) deployment ``name`` answered ``path`` with: its own, or for a multi-model
        deployment the version the path names (none named: the latest it serves, as its runtime
        picks); Nones when no deployment answered."""
        deployment = self.spec.get("deployments", {}).get(name) if name else None
        if not deployment:
            return None, None
        serves = deployment.get("serves")
        if serves is None:
            return deployment.get("model"), deployment.get("version")
        match = V2_MODEL_PATH.match(path)
        if not match or match.group(1) not in serves:
            return None, None
        model, version = match.group(1), match.group(2) or max(serves[match.group(1)], key=_number)
        return model, int(version) if version.isdigit() else None

    def pool(self, instance: Instance) -> Pool:
        pool = self.pools.get(instance)
        if pool is None:
            pool = self.pools[instance] = Pool(
                instance.port,
                f"Host: 127.0.0.1:{instance.port}\r\nAuthorization: Bearer {instance.key}\r\n\r\n".encode(),
            )
        return pool

    def close_pool(self, instance: Instance) -> None:
        pool = self.pools.pop(instance, None)
        if pool is not None:
            pool.close()
        if self.grpc is not None:
            self.grpc.forget(instance)

    def hold(self, future: asyncio.Future) -> None:
        """Keep a reference to work under way (the loop keeps only weak ones)."""
        self.tasks.add(future)
        future.add_done_callback(self.tasks.discard)

    def all_versions(self, payload: bytes, headers: dict) -> bytes:
        """A model's v2 metadata from the primary deployment, listing every version the endpoint serves."""
        try:
            metadata = json.loads(payload)
        except ValueError:
            return payload
        metadata["versions"] = self.served_versions(metadata.get("name"))
        headers.pop("Content-Encoding", None)
        return json.dumps(metadata).encode()

    def served_versions(self, model: str) -> list[str]:
        """Every version of ``model`` the running deployments serve (multi-model ones' too), in order."""
        deployments = self.spec.get("deployments", {})
        return sorted({v for n in self.live for v in _serves(deployments.get(n, {})).get(model, ())}, key=_number)

    async def metrics(self, request: Request) -> None:
        """Every deployment's metrics in one exposition, labelled by deployment, with whether each answered."""
        names = sorted(self.live)

        async def scrape(name: str) -> str:
            instance = self.live[name]
            try:
                async with instance.session.get(
                    "/metrics",
                    timeout=aiohttp.ClientTimeout(total=SCRAPE_TIMEOUT),
                    headers={"Accept-Encoding": "identity"},
                ) as response:
                    if response.status == 200:
                        return _up(1) + await response.text()
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            return _up(0)

        texts = await asyncio.gather(*(scrape(name) for name in names))
        self.reply(request, 200, merge(dict(zip(names, texts))).encode(), b"text/plain; version=0.0.4; charset=utf-8")

    def send_mirror(self, name: str, request: Request, head: bytes) -> None:
        """The same request to the mirror deployment; its answer is logged, and offered to payload
        collection (recorded when the client's answer was)."""
        instance = self.live.get(name)
        if instance is None or not instance.port:
            return
        started = time.monotonic()
        sent = self.pool(instance).request(head, request.body)
        what = f"mirror {request.method} {request.path}"

        def done(answer: asyncio.Future) -> None:
            error_ = answer.exception()
            status = f"error {type(error_).__name__}" if error_ is not None else answer.result()[0]
            log_file = self.logs.get(name)
            if log_file is not None:
                log_file.write(f"{what} -> {status} (answer not sent to the client)\n".encode())
            code, headers, body = (502, None, None) if error_ is not None else answer.result()
            self.collector.mirrored(request, started, code, body, name, self.served(name, request.path), headers)

        self.hold(sent)
        sent.add_done_callback(done)

    # -- lifetime --------------------------------------------------------------------------

    def sweep(self) -> None:
        """Once a second: clients too slow to send their request (408), idle keep-alive connections."""
        now = time.monotonic()  # the clock of serving.http's request times
        for connection in list(self.connections):
            connection.sweep(now)
        self.sweeper = asyncio.get_running_loop().call_later(1.0, self.sweep)

    async def run(self) -> None:
        self.spec = json.loads(self.spec_path.read_text())
        if any(d.get("container") for d in self.spec.get("deployments", {}).values()):
            from .targets.docker import remove_orphans

            left = await asyncio.get_running_loop().run_in_executor(None, remove_orphans, str(self.folder))
            if left:
                log.info("removed %d containers a previous host left: %s", len(left), ", ".join(left))
        max_bytes = self.spec.get("max_request_bytes", 100 * 1024 * 1024)
        loop = asyncio.get_running_loop()
        try:
            sockets = bind_sockets(self.spec["port"], self.spec.get("host", "127.0.0.1"))
        except OSError as exc:
            write_json(
                self.status_path,
                {
                    "pid": os.getpid(),
                    "error": f"port {self.spec['port']}: {exc.strerror}",
                    "deployments": {},
                    "updated": time.time(),
                },
            )
            raise SystemExit(3) from None
        servers = [
            await loop.create_server(
                lambda: Connection(self, max_bytes, REQUEST_TIMEOUT, IDLE_TIMEOUT), sock=sock, backlog=1024
            )
            for sock in sockets
        ]
        from . import grpc_gateway  # grpc only in hosts, not where host.py is merely imported

        self.grpc = await grpc_gateway.start(self)
        self.sweeper = loop.call_later(1.0, self.sweep)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.create_task(self.reconcile()))
        loop.add_signal_handler(signal.SIGUSR1, self.collector.commit_soon)  # the server is about to read
        loop.add_signal_handler(signal.SIGTERM, self.stopped.set)
        loop.add_signal_handler(signal.SIGINT, self.stopped.set)
        self.publish()
        await self.reconcile()
        await self.stopped.wait()
        for server in servers:
            server.close()
        for connection in list(self.connections):
            connection.close_if_idle()
        if self.grpc is not None:
            await self.grpc.stop()
        await asyncio.gather(*(instance.stop() for instance in self.live.values()))
        await loop.run_in_executor(None, self.collector.close)  # what was collected is written
        self.sweeper.cancel()
        for connection in list(self.connections):
            connection.abort()
        write_json(
            self.status_path,
            {"pid": None, "port": self.spec.get("port"), "deployments": {}, "stopped": True, "updated": time.time()},
        )


def _serves(deployment: dict) -> dict[str, list[str]]:
    """The versions a deployment serves, by model: its own, or a multi-model one's list."""
    serves = deployment.get("serves")
    if serves is not None:
        return serves
    return {deployment.get("model"): [str(deployment.get("version"))]} if deployment else {}


def _number(version: str):
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


def _is_model_metadata(path: str) -> bool:
    match = V2_MODEL_PATH.match(path)
    return bool(match) and match.group(2) is None and match.group(3) in (None, "/")


def _up(value: int) -> str:
    return (
        "# HELP modelhub_deployment_up Whether the deployment answered the endpoint's scrape.\n"
        f"# TYPE modelhub_deployment_up gauge\nmodelhub_deployment_up {value}\n"
    )


def main() -> None:
    folder = Path(sys.argv[1]).resolve()
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=folder / "logs" / "host.log", level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        import uvloop  # roughly doubles what the router forwards per second on one core
    except ImportError:
        asyncio.run(Host(folder).run())
    else:
        uvloop.run(Host(folder).run())


if __name__ == "__main__":
    main()
