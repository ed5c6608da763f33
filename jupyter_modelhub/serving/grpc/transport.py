"""The worker's gRPC server: started beside its HTTP server, stopped with it.

A grpc.aio server on the worker's event loop (uvloop's where it runs: grpc.aio works on it), so
gRPC calls and HTTP requests take turns on one thread and a model call is never run twice at
once. It binds the port the parent reserved (``reserve`` in ``__init__``), with SO_REUSEPORT as
every worker does. Messages up to ``--max-request-bytes`` are read (larger ones get
RESOURCE_EXHAUSTED from grpc, as HTTP answers 413).

Shutdown follows the worker's: ``close()`` (called with the HTTP servers' when SIGTERM comes)
refuses new calls and lets those in flight finish within the request timeout;
``wait_stopped()`` returns when they have.

Not here: the calls (``service.py``; a multi-model runtime's, ``multi.py``).
"""

from __future__ import annotations

import asyncio

import grpc

from . import address
from .multi import RepositoryService
from .service import InferenceService

SERVER_OPTIONS = [
    ("grpc.so_reuseport", 1),
    ("grpc.max_send_message_length", -1),
    # channelz (grpc's live introspection service) keeps per-call counters that nothing here reads:
    # about 3% of a small call's CPU.
    ("grpc.enable_channelz", 0),
]


class GrpcServer:
    def __init__(self, server: grpc.aio.Server, port: int, grace: float):
        self.server, self.port, self.grace = server, port, grace
        self.stopping: asyncio.Future | None = None

    def close(self) -> None:
        if self.stopping is None:
            self.stopping = asyncio.ensure_future(self.server.stop(self.grace))

    async def wait_stopped(self) -> None:
        self.close()
        await self.stopping


async def start(runtime, host: str, port: int) -> GrpcServer:
    """Serve the protocol on ``host:port`` for ``runtime``; raises OSError when the port cannot be bound."""
    server = grpc.aio.server(options=[*SERVER_OPTIONS, ("grpc.max_receive_message_length", runtime.max_bytes)])
    # a multi-model runtime reads its repository after this starts listening: ask its options
    service = RepositoryService if getattr(runtime.options, "repository", None) else InferenceService
    server.add_generic_rpc_handlers((service(runtime).handler(),))
    try:
        bound = server.add_insecure_port(address(host, port))
    except RuntimeError as exc:  # grpc's "Failed to bind"
        raise OSError(f"cannot serve gRPC on {address(host, port)}: {exc}") from None
    await server.start()
    grpc_server = GrpcServer(server, bound, runtime.timeout)
    runtime.servers.append(grpc_server)  # closed with the HTTP servers on shutdown
    return grpc_server
