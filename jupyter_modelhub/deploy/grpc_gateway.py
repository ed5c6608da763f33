"""The endpoint host's gRPC port: the Open Inference Protocol's gRPC service, one endpoint in
front of its deployments, with the same contract as its HTTP port.

Each call of ``inference.GRPCInferenceService`` is checked and routed by the host's own rules
(``Host.authorised`` and ``Host.choose``, given a stand-in for an HTTP request): the key comes
as the metadata ``authorization: Bearer KEY``; ServerLive and ServerReady need none, as their
HTTP routes; ``azureml-model-deployment`` (or ``x-modelhub-deployment``) metadata picks a
deployment; a call naming a model goes to a deployment serving it (a multi-model deployment
serves many: ``Host.choose`` knows which), a ModelInfer naming a version (``model_version``) to
the deployment serving that version, and otherwise where the traffic weights say; reads go to
the primary deployment. The model repository extension's calls (RepositoryIndex,
RepositoryModelLoad, RepositoryModelUnload) go to the multi-model deployments, as their HTTP
paths do. The call is then forwarded as bytes to that deployment's runtime (its own gRPC port,
the host's key), never decoded: only the model's name and version are read. The answer says which deployment served it in the ``x-modelhub-deployment`` trailing metadata;
a deployment's error passes through with its code and message; ModelMetadata lists every
version the endpoint serves, as over HTTP; a mirrored ModelInfer goes out beside the answer,
never delaying it, and its outcome goes to the mirror deployment's log.

The port is chosen once (any free one) and kept in the endpoint folder's ``grpc.json``, so the
endpoint's gRPC address stays the same across restarts of its host while the port is free.
The status file shows it as ``grpc_port``.

Not here: the runtime's gRPC service (``serving/grpc``), HTTP routing (``host.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from pathlib import Path
from urllib.parse import quote

import grpc

from ..monitoring.collector import grpc_request_id
from ..serving.grpc import SERVICE, address
from ..serving.grpc import inference_pb2 as pb
from ..serving.grpc.service import STATUS_CODES, status_code

log = logging.getLogger("modelhub.host")
STOP_GRACE = 5.0
# Metadata not passed on: the caller's key (the host sends its own) and what grpc sets itself.
NOT_FORWARDED = {"authorization", "user-agent", "te", "content-type"}
HTTP_STATUS = {code: status for status, code in reversed(STATUS_CODES.items())}  # for payload collection


def _health(path: str):
    return lambda name, version: path


def _model(suffix: str):
    def path(name: str, version: str) -> str:
        # quoted as an HTTP path would be: Host.choose reads it with the same pattern
        versioned = f"/versions/{quote(version, safe='')}" if version else ""
        return f"/v2/models/{quote(name, safe='')}{versioned}{suffix}"

    return path


def _repository(action: str):
    return lambda name, version: f"/v2/repository/models/{quote(name, safe='')}/{action}"


def _model_of(request: bytes) -> tuple[str, str]:
    """The name and version of ModelReady, ModelMetadata and ModelInfer (their fields 1 and 2)."""
    ref = pb.ModelReadyRequest.FromString(request)
    return ref.name, ref.version


def _repository_model_of(request: bytes) -> tuple[str, str]:
    """The model of RepositoryModelLoad and RepositoryModelUnload (field 2 of both)."""
    return pb.RepositoryModelLoadRequest.FromString(request).model_name, ""


# method -> (the HTTP method and path whose routing rules it follows, how to read the model it names)
ROUTES = {
    "ServerLive": ("GET", _health("/v2/health/live"), None),
    "ServerReady": ("GET", _health("/v2/health/ready"), None),
    "ServerMetadata": ("GET", _health("/v2"), None),
    "ModelReady": ("GET", _model("/ready"), _model_of),
    "ModelMetadata": ("GET", _model(""), _model_of),
    "ModelInfer": ("POST", _model("/infer"), _model_of),
    # a multi-model deployment's repository extension: to the multi-model deployments, as over HTTP
    "RepositoryIndex": ("POST", _health("/v2/repository/index"), None),
    "RepositoryModelLoad": ("POST", _repository("load"), _repository_model_of),
    "RepositoryModelUnload": ("POST", _repository("unload"), _repository_model_of),
}


class Call:
    """A gRPC call as ``Host.authorised`` and ``Host.choose`` read an HTTP request: a method, a
    path, and headers (the call's metadata)."""

    def __init__(self, method: str, path: str, metadata):
        self.method, self.path, self.metadata = method, path, metadata or ()

    def header(self, name: bytes) -> str | None:
        wanted = name.decode("latin-1")
        for key, value in self.metadata:
            if key == wanted:
                return value if isinstance(value, str) else None
        return None


class Gateway(grpc.GenericRpcHandler):
    def __init__(self, host):
        self.host = host
        self.server: grpc.aio.Server | None = None
        self.port = 0
        self.channels: dict = {}  # instance -> {None: its grpc.aio.Channel, method: its multicallable}
        self.handlers = {
            f"/{SERVICE}/{method}": grpc.unary_unary_rpc_method_handler(self._forwarder(method)) for method in ROUTES
        }

    def service(self, handler_call_details):
        """grpc's question for each call: its handler, or None (UNIMPLEMENTED)."""
        return self.handlers.get(handler_call_details.method)

    # -- lifetime ------------------------------------------------------------------------------

    async def start(self) -> None:
        spec = self.host.spec
        record = self.host.folder / "grpc.json"
        preferred = _recorded_port(record)
        self.server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", spec.get("max_request_bytes", 100 * 1024 * 1024)),
                ("grpc.max_send_message_length", -1),
                ("grpc.enable_channelz", 0),  # per-call counters nothing reads (as the runtime's)
            ]
        )
        self.server.add_generic_rpc_handlers((self,))
        bind = spec.get("host", "127.0.0.1")
        try:
            self.port = self.server.add_insecure_port(address(bind, preferred))
        except RuntimeError:
            if not preferred:
                raise
            log.warning("the endpoint's gRPC port %d is taken now; choosing another", preferred)
            self.port = self.server.add_insecure_port(address(bind, 0))
        await self.server.start()
        if self.port != preferred:
            record.write_text(json.dumps({"port": self.port}))
        log.info("serving gRPC on %s", address(bind, self.port))

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(STOP_GRACE)
        for calls in self.channels.values():
            await calls[None].close()
        self.channels.clear()

    def forget(self, instance) -> None:
        """Close the channel to an instance that no longer takes traffic (its calls are done)."""
        calls = self.channels.pop(instance, None)
        if calls is not None:
            self.host.hold(asyncio.ensure_future(calls[None].close()))

    def callable(self, instance, method: str):
        """The call of ``method`` on an instance's runtime, bytes in and out, over one channel per instance."""
        calls = self.channels.get(instance)
        if calls is None:
            channel = grpc.aio.insecure_channel(
                address("127.0.0.1", instance.grpc_port),
                options=[
                    ("grpc.max_receive_message_length", -1),
                    ("grpc.max_send_message_length", -1),
                    ("grpc.enable_channelz", 0),
                ],
            )
            calls = self.channels[instance] = {None: channel}
        call = calls.get(method)
        if call is None:
            call = calls[method] = calls[None].unary_unary(f"/{SERVICE}/{method}")
        return call

    # -- calls ---------------------------------------------------------------------------------

    def _forwarder(self, method: str):
        async def forward(request: bytes, context) -> bytes:
            started, seen = time.monotonic(), {}  # seen: the call's request id and deployment
            try:
                response = await self.forward(method, request, context, seen)
            except grpc.aio.AbortError:  # an answer given with context.abort
                self.collect(method, seen, started, request, None, context.code())
                raise
            except Exception:
                log.exception("unexpected error routing gRPC %s", method)
                self.collect(method, seen, started, request, None, grpc.StatusCode.INTERNAL)
                await context.abort(grpc.StatusCode.INTERNAL, "Internal error of the endpoint host; see its log.")
            self.collect(method, seen, started, request, response, grpc.StatusCode.OK)
            return response

        return forward

    def collect(self, method: str, seen: dict, started: float, request: bytes, response, code) -> None:
        """Offer a call to payload collection (``monitoring.collector``), with its gRPC code as an HTTP status."""
        deployment = seen.get("deployment")
        served = self.host.served(deployment, seen.get("path", ""))
        status = 200 if code == grpc.StatusCode.OK else HTTP_STATUS.get(code, 500)
        self.host.collector.call_answered(
            method, seen.get("request_id", ""), started, status, request, response, deployment, served
        )

    async def forward(self, method: str, request: bytes, context, seen: dict) -> bytes:
        host = self.host
        metadata = context.invocation_metadata()
        seen["request_id"] = rid = grpc_request_id(metadata)
        context.set_trailing_metadata((("x-request-id", rid),))  # with every answer, errors too
        http_method, path_of, model_of = ROUTES[method]
        name = version = ""
        if model_of is not None:
            try:
                name, version = model_of(request)
            except Exception:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"The {method} request is not a valid message.")
        seen["path"] = path = path_of(name, version)  # which version of a multi-model deployment answers
        call = Call(http_method, path, metadata)
        if not host.authorised(call):
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "Missing or wrong key: send the metadata 'authorization: Bearer KEY' (see %endpoint NAME for the keys).",
            )
        deployment, answer, status = host.choose(call)
        seen["deployment"] = deployment
        if answer is not None:
            await context.abort(status_code(status), json.loads(answer)["error"])
        instance = host.live.get(deployment) if deployment else None
        if instance is None or not instance.port:
            known = ", ".join(host.live) or "none is ready"
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                f"Deployment {deployment!r} is not running (ready: {known})."
                if deployment
                else "No deployment receives traffic; set traffic with %traffic.",
            )
        if not instance.grpc_port:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                f"Deployment {deployment!r} does not serve gRPC ({_why_not(instance)}); "
                f"call it over HTTP on port {host.spec.get('port')}.",
            )
        upstream = [(k, v) for k, v in metadata or () if k not in NOT_FORWARDED and not k.startswith("grpc-")]
        if not any(k == "x-request-id" for k, _ in upstream):
            upstream.append(("x-request-id", rid))
        upstream.append(("authorization", f"Bearer {instance.key}"))
        instance.in_flight += 1
        try:
            response = await self.callable(instance, method)(
                request, metadata=upstream, timeout=context.time_remaining()
            )
        except grpc.aio.AioRpcError as error:
            details = error.details()
            if error.code() == grpc.StatusCode.UNAVAILABLE:
                details = f"Deployment {deployment!r} did not answer: {details}"
            await context.abort(error.code(), details)
        finally:
            instance.in_flight -= 1
        # with the status (no message of its own, as initial metadata would need)
        context.set_trailing_metadata((("x-modelhub-deployment", deployment), ("x-request-id", rid)))
        if method == "ModelMetadata" and not version:
            response = self.all_versions(response)
        elif method == "ModelInfer":
            self.mirror(request, upstream[:-1], deployment)
        return response

    def all_versions(self, response: bytes) -> bytes:
        """A model's metadata from one deployment, listing every version the endpoint serves."""
        metadata = pb.ModelMetadataResponse.FromString(response)
        del metadata.versions[:]
        metadata.versions.extend(self.host.served_versions(metadata.name))
        return metadata.SerializeToString()

    def mirror(self, request: bytes, metadata: list, served_by: str) -> None:
        """The same call to the mirror deployment, in a task of its own; its outcome is only logged."""
        mirror = self.host.spec.get("mirror") or {}
        name = mirror.get("deployment")
        instance = self.host.live.get(name) if name else None
        if instance is None or not instance.grpc_port or name == served_by:
            return
        if random.uniform(0, 100) >= mirror.get("percent", 0):
            return

        async def send() -> None:
            try:
                await self.callable(instance, "ModelInfer")(
                    request, metadata=[*metadata, ("authorization", f"Bearer {instance.key}")], timeout=60
                )
                outcome = "OK"
            except grpc.aio.AioRpcError as error:
                outcome = error.code().name
            log_file = self.host.logs.get(name)
            if log_file is not None:
                log_file.write(f"mirror gRPC ModelInfer -> {outcome} (answer discarded)\n".encode())

        self.host.hold(asyncio.ensure_future(send()))


def _why_not(instance) -> str:
    if instance.kind == "container":
        return "containers serve HTTP only"
    return "its Python has no grpcio, or its runtime predates gRPC; see %logs"


def _recorded_port(path: Path) -> int:
    try:
        port = json.loads(path.read_text()).get("port")
    except (OSError, ValueError, AttributeError):
        return 0
    return port if isinstance(port, int) and 0 < port < 65536 else 0


async def start(host) -> Gateway | None:
    """The endpoint's gRPC port, or None (logged) when it cannot be served: HTTP goes on alone."""
    gateway = Gateway(host)
    try:
        await gateway.start()
    except Exception as exc:
        log.error("not serving gRPC: %s", exc)
        return None
    return gateway
