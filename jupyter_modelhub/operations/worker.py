"""The worker process of one operation: ``python -m jupyter_modelhub.operations.worker ROOT --operation=ID``.

Started by the server's ``OperationRunner`` in a process group of its own (so a cancel stops it
and everything it started), it opens its own database connection and services, runs the
operation's work (the kind's, declared by its service package and collected by the
composition root, ``jupyter_modelhub.services``, which builds the worker's services as it builds
the server's), and writes progress and the outcome to the operation's row
itself. It therefore finishes, and is found again, even if the server restarts meanwhile.
stdout and stderr are the operation's log, bounded (``output``): they and those of everything
the worker starts go through a pipe it reads. When the work ends, whatever it left running in
the worker's process group is killed.

SIGTERM is the cancel: it raises ``Cancelled`` wherever the work is, unless the work is inside
``Progress.final()`` (registering its result), in which case the work completes.

``--standby=KIND`` starts a worker ahead of its operation: it does its imports and the kind's
warm-up (``OperationKind.warm_up``), then reads the operation's id from stdin, sends its output (and
that of the kernel and Dask workers it started ahead) to the operation's log instead of the
standby log, and runs it as any worker would.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from traitlets.config import Config

from .. import timestamps
from ..errors import ModelHubError
from ..progress import Cancelled, Progress
from ..services import KINDS, build_services, classes_in
from ..store.database import Database
from .groups import kill_leftovers
from .output import DEFAULT_LIMIT, BoundedOutput
from .store import OperationStore

PROGRAM = "python -m jupyter_modelhub.operations.worker"
PROGRESS_INTERVAL = 0.2  # seconds between progress writes to the database
EVENT_INTERVAL = 0.5  # seconds between progress events in the feed


class WorkerProgress(Progress):
    """Progress written to the operation's row (throttled) and to its log."""

    def __init__(self, store: OperationStore, operation_id: int):
        self.store, self.id = store, operation_id
        self.log = sys.stdout.buffer
        self.current = {"done": 0, "total": None, "unit": "steps", "message": ""}
        self._written = self._evented = 0.0
        self._final_depth = 0
        self.cancel_pending = False

    def step(self, message: str, done: int | None = None, total: int | None = None, unit: str = "steps") -> None:
        changed = message != self.current["message"]
        self.current = {
            "done": self.current["done"] if done is None else done,
            "total": self.current["total"] if total is None else total,
            "unit": unit,
            "message": message,
            "updated_time": timestamps.now(),
        }
        if changed:
            self.log.write(f"[{time.strftime('%H:%M:%S')}] {message}\n".encode())
            self.log.flush()
        now = time.monotonic()
        if changed or now - self._written >= PROGRESS_INTERVAL:
            event = changed or now - self._evented >= EVENT_INTERVAL
            self.store.set_progress(self.id, dict(self.current), event=event)
            self._written = now
            self._evented = now if event else self._evented

    @contextmanager
    def final(self) -> Iterator[None]:
        self._final_depth += 1
        try:
            yield
        finally:
            self._final_depth -= 1

    def on_sigterm(self, signum, frame) -> None:
        if self._final_depth:
            self.cancel_pending = True  # too late to undo: the result is being recorded
            return
        raise Cancelled()


def run(root: Path, operation_id: int, warm=None, output: BoundedOutput | None = None) -> int:
    settings = json.loads((root / "operations" / str(operation_id) / "worker.json").read_text())
    database = Database(settings["db_url"], migrate=False)
    store = OperationStore(database, root)
    progress = WorkerProgress(store, operation_id)
    signal.signal(signal.SIGTERM, progress.on_sigterm)
    config = Config(settings["config"])
    # the same root as the server's: the classes and settings it resolved, built on first use
    services = build_services(database, root, classes=classes_in(config), config=config)
    services.warm = warm
    try:
        return _work(_LogFirst(store, output), services, operation_id, progress)
    finally:
        for step in services.after_outcome:
            try:
                step()
            except Exception:
                traceback.print_exc()
        database.dispose()


class _LogFirst:
    """The store, whose ``finish`` first completes the log (the cut note and the tail): a client
    that reads the log once the operation ended finds all of it."""

    def __init__(self, store: OperationStore, output: BoundedOutput | None):
        self._store, self._output = store, output

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def finish(self, *args, **kwargs) -> bool:
        if self._output is not None:
            self._output.settle()
        return self._store.finish(*args, **kwargs)


def _work(store: OperationStore, services, operation_id: int, progress: WorkerProgress) -> int:
    """Run the operation and record its outcome: succeeded, failed (with its error) or cancelled."""
    kind = store.get(operation_id)["kind"]
    try:
        result, link = services.kinds[kind].run(services, store.inputs(operation_id), progress)
    except Cancelled:
        print(f"[{time.strftime('%H:%M:%S')}] cancelled", flush=True)
        end_group()  # a client that sees 'cancelled' finds no process of it left
        store.finish(
            operation_id,
            "cancelled",
            error={"message": f"Operation {operation_id} was cancelled.", "reason": "cancelled"},
            expected=("running",),
        )
        return 1
    except ModelHubError as exc:
        print(f"[{time.strftime('%H:%M:%S')}] failed: {exc.message}", flush=True)
        error = {"message": exc.message, "reason": exc.reason}
        if getattr(exc, "report", None) is not None:
            error["report"] = exc.report
        store.finish(operation_id, "failed", error=error, expected=("running",))
        return 1
    except Exception as exc:
        traceback.print_exc()
        sys.stdout.flush()
        store.finish(
            operation_id,
            "failed",
            expected=("running",),
            error={
                "message": f"The {kind} failed: {type(exc).__name__}: {exc}. Its log has the details "
                f"(%operation {operation_id} --log).",
                "reason": "failed",
            },
        )
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    print(f"[{time.strftime('%H:%M:%S')}] succeeded", flush=True)
    store.finish(operation_id, "succeeded", result=result, link=link, expected=("running",))
    return 0


def standby(root: Path, kind: str, output: BoundedOutput) -> int:
    """Warm up for ``kind``, wait for an operation id on stdin, run that operation."""
    warm_up = KINDS[kind].warm_up if kind in KINDS else None
    warm = warm_up(root) if warm_up is not None else None
    print(f"[{time.strftime('%H:%M:%S')}] standby worker {os.getpid()} ready for a {kind} operation", flush=True)
    line = sys.stdin.readline().strip()
    if not line.isdigit():  # the server stopped (or died) before handing over an operation
        if warm is not None:
            warm.close()
        return 0
    operation_id = int(line)
    log = os.open(OperationStore.log_path_in(root, operation_id), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    # this worker's output and that of what it started ahead (kernel, Dask workers) is the operation's now
    output.switch(log)
    os.close(log)
    return run(root, operation_id, warm, output)


def end_group() -> None:
    """Kill what the work started and left running in this worker's group (the runner starts
    every worker leading a group of its own), whatever the outcome."""
    if os.getpgid(0) == os.getpid():
        kill_leftovers(os.getpid())


def _spawn_without_this_module() -> None:
    """A process multiprocessing starts by spawning (a batch job's Dask workers) imports its
    parent's ``__main__`` module again before it runs anything: this module, and through it every
    service, SQLAlchemy and the ORM, about half a second of a core per Dask worker on a job's cold
    start, for nothing it uses (its tasks are functions of importable modules). Without a spec or
    a file, ``__main__`` is left alone in the children."""
    main = sys.modules.get("__main__")
    if main is not None and getattr(main.__spec__, "name", None) == __spec__.name:
        main.__spec__ = None
        main.__dict__.pop("__file__", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROGRAM)
    parser.add_argument("root", help="the Model Hub root folder")
    parser.add_argument("--operation", type=int, help="the operation's id")
    parser.add_argument("--standby", metavar="KIND", help="start ahead: warm up for KIND, read the id from stdin")
    parser.add_argument(
        "--log-limit",
        type=int,
        default=DEFAULT_LIMIT,
        help="bytes of output the log keeps (the first and the last half)",
    )
    args = parser.parse_args(argv)
    if args.operation is None and not args.standby:
        parser.error("give --operation=ID or --standby=KIND")
    _spawn_without_this_module()
    output = BoundedOutput(1, args.log_limit)
    try:
        if args.standby:
            return standby(Path(args.root).resolve(), args.standby, output)
        return run(Path(args.root).resolve(), args.operation, output=output)
    finally:
        end_group()
        output.close()


if __name__ == "__main__":
    sys.exit(main())
