"""Processes: one worker in this process, or several forked workers sharing the port.

With several workers the parent binds one listening socket per worker, all on the same port
with SO_REUSEPORT, so the kernel spreads connections evenly; it then forks the workers (each
loads its own model: onnxruntime sessions do not survive a fork), prints the ready line once all
of them are ready, restarts a worker that dies after it was ready, forwards SIGTERM and SIGINT,
and exits 0 once all have stopped. The parent keeps every socket open, so a restarted worker
takes over its predecessor's socket and the connections already queued on it.

Not here: serving HTTP (``server.py``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import signal
import sys
import traceback

from . import READY_LINE_PREFIX
from .http import bind_sockets
from .metrics import Metrics
from .server import serve

log = logging.getLogger("jupyter_modelhub.serving")

MAX_RESTARTS = 100


def announce(port: int, workers: int = 1, grpc_port: int | None = None) -> None:
    """The line a parent process waits for: the model is loaded and the port listens."""
    line = f"{READY_LINE_PREFIX} port={port}" + (f" workers={workers}" if workers > 1 else "")
    sys.stdout.write(line + (f" grpc_port={grpc_port}" if grpc_port else "") + "\n")
    sys.stdout.flush()


def run(options) -> int:
    """Serve until stopped; the process's exit code."""
    count = options.workers
    try:
        sockets = [bind_sockets(options.port, options.host, reuse_port=count > 1)]
        port = sockets[0][0].getsockname()[1]
        sockets += [bind_sockets(port, options.host, reuse_port=True) for _ in range(count - 1)]
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", options.host, options.port, exc)
        return 1
    grpc_reserved = _reserve_grpc(options)  # kept open until exit: the workers' gRPC port
    if grpc_reserved is False:
        return 1
    log.info("listening on %s port %d; loading the model", options.host, port)
    metrics = Metrics(count)
    if getattr(options, "repository", None):  # shared before the fork, like metrics
        from .model_metrics import ModelMetrics

        options.model_metrics = ModelMetrics(len(options.repository), count)
    if count == 1:
        return run_loop(serve(options, sockets[0], metrics, on_ready=lambda p: announce(p, 1, options.grpc_port)))
    return _supervise(options, sockets, metrics, port)


def _reserve_grpc(options):
    """The socket holding the gRPC port (``options.grpc_port`` becomes the port it holds); None
    without gRPC (not asked for, or grpcio missing here: then HTTP alone, said in the log); False
    when the port cannot be had."""
    if options.grpc_port is None:
        return None
    from . import grpc as grpc_transport  # not grpc itself: it must not start before a fork

    missing = grpc_transport.unavailable()
    if missing:
        log.warning("not serving gRPC: %s (pip install grpcio protobuf)", missing)
        options.grpc_port = None
        return None
    try:
        sock = grpc_transport.reserve(options.host, options.grpc_port)
    except OSError as exc:
        log.error("cannot serve gRPC on %s:%s: %s", options.host, options.grpc_port, exc)
        return False
    options.grpc_port = sock.getsockname()[1]
    return sock


def _supervise(options, sockets: list[list], metrics: Metrics, port: int) -> int:
    count = len(sockets)
    ready_read, ready_write = os.pipe()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)  # a signal wakes the select() below
    stopping = False

    def on_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    children: dict[int, int] = {}  # pid -> worker index
    ready: set[int] = set()
    announced = forwarded = False
    exit_code, restarts = 0, 0

    def spawn(index: int, restarted: bool = False) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            children[pid] = index
            return
        code = 1
        try:
            _die_with_parent()
            signal.set_wakeup_fd(-1)
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                signal.signal(signum, signal.SIG_DFL)
            for fd in (ready_read, wake_read, wake_write):
                os.close(fd)
            for other, group in enumerate(sockets):
                if other != index:
                    for sock in group:
                        sock.close()
            metrics.use_row(index)
            code = run_loop(
                serve(
                    options,
                    sockets[index],
                    metrics,
                    index,
                    count,
                    on_ready=lambda _port: os.write(ready_write, f"{index}\n".encode()),
                    listen_first=not restarted,
                )
            )
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    for index in range(count):
        spawn(index)
    while children:
        if stopping and not forwarded:
            forwarded = True
            for pid in children:
                os.kill(pid, signal.SIGTERM)
        readable, _, _ = select.select([ready_read, wake_read], [], [])
        if ready_read in readable:
            ready.update(int(line) for line in os.read(ready_read, 4096).split())
            if not announced and len(ready) == count:
                announced = True
                announce(port, count, options.grpc_port)
        if wake_read in readable:
            try:
                os.read(wake_read, 4096)
            except BlockingIOError:
                pass
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                break
            if pid == 0:
                break
            index = children.pop(pid)
            code = os.waitstatus_to_exitcode(status)
            if stopping:
                exit_code = max(exit_code, code)
            elif index not in ready or restarts >= MAX_RESTARTS:
                log.error("worker %d (pid %d) exited with %d before it was ready; stopping", index, pid, code)
                stopping, exit_code = True, 1
            else:
                restarts += 1
                log.warning("worker %d (pid %d) exited with %d; starting a new one", index, pid, code)
                ready.discard(index)
                spawn(index, restarted=True)
    return exit_code


def run_loop(main) -> int:
    """Run the coroutine on uvloop (libuv: about twice asyncio's own loop for small requests), or on
    asyncio's loop where uvloop is not installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _die_with_parent() -> None:
    """Ask Linux to send this worker SIGTERM if the parent dies (even by SIGKILL): no orphans."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's SIGTERM forwarding still applies
        pass
