"""The Open Inference Protocol over gRPC: the runtime's second transport, beside HTTP.

``python -m jupyter_modelhub.serving --grpc-port P`` serves ``inference.GRPCInferenceService``
(ServerLive, ServerReady, ModelReady, ServerMetadata, ModelMetadata, ModelInfer), the service
Triton's and KServe's gRPC clients call, on a second loopback port, with the same model, key,
signature checks and error messages as ``/v2`` over HTTP. The ready line then says
``MODELHUB_READY port=P grpc_port=G``. A multi-model runtime (``--repository``, ``%deploy EP
--multi``) answers the model calls for each version it serves, by the request's name and
version, and the model repository extension's calls (RepositoryIndex, RepositoryModelLoad,
RepositoryModelUnload), as its REST routes do.

It runs on the worker's own event loop (grpc.aio works on uvloop), so a model call is the same
call whichever transport asked for it. With several workers each one serves gRPC on the same
port (SO_REUSEPORT, as for HTTP): the parent reserves the port here, before it forks, without
importing grpc (grpc's core must not be started before a fork).

Modules: ``inference.proto`` (the protocol's messages), ``inference_pb2`` (generated from it,
committed: nothing is generated at build or run time), ``tensors`` (messages to arrays and back),
``service`` (the six calls on a worker's ``Runtime``), ``multi`` (the calls of a multi-model
runtime), ``transport`` (the grpc.aio server's lifetime). Regenerate ``inference_pb2.py`` after changing the .proto with the protoc it was
made with, grpcio-tools 1.81.1 (protobuf 6.33.5: its code runs on protobuf 6.33.5 and later,
7 included; a newer protoc would make protobuf 7 a requirement), in a virtual environment of its
own (it pins protobuf below 7), from the repository's root::

    pip install grpcio-tools==1.81.1
    python -m grpc_tools.protoc -I. --python_out=. --pyi_out=. jupyter_modelhub/serving/grpc/inference.proto

Not here: HTTP (``serving/http.py``), the endpoint host's gRPC gateway (``deploy/grpc_gateway.py``).
"""

from __future__ import annotations

import importlib.util
import logging
import socket

log = logging.getLogger("jupyter_modelhub.serving")

SERVICE = "inference.GRPCInferenceService"
"""The service's name on the wire (``/inference.GRPCInferenceService/ModelInfer``)."""


def unavailable() -> str | None:
    """Why gRPC cannot be served in this Python (grpcio or protobuf missing), or None."""
    for module, package in (("grpc", "grpcio"), ("google.protobuf", "protobuf")):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # a dotted name imports its parent first: no `google` at all
            found = False
        if not found:
            return f"{package} is not installed in this Python"
    return None


def reserve(host: str, port: int) -> socket.socket:
    """Hold ``port`` (0: any free one) for the workers' gRPC servers: a socket bound with
    SO_REUSEPORT that never listens, so every worker's server can bind the same port beside it
    and the kernel spreads connections over them, never to this one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def address(host: str, port: int) -> str:
    """``host:port`` as grpc writes it (IPv6 addresses in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
