"""OperationRunner: the server's side of long work. Queues, starts, watches, cancels, recovers.

``submit`` only writes a row (so starting an operation costs about what a plain GET does); one
thread of the runner's own (not the REST API's pool, not the event loop) starts queued
operations as worker processes (``worker``) within ``max_parallel`` per kind, reaps the ones
that end, and records an outcome for any whose process died without writing one. At start it
adopts the workers still running from before a restart and fails the ones that are gone.

For the kinds in ``standby_kinds`` (batch jobs) it keeps the next worker started ahead: a
*standby* worker that has done its imports and its kind's warm-up (for a batch job, a kernel and
a Dask cluster of the last job's shape) and waits on its stdin for an operation id. The first
operation of such a kind starts cold; once none of the kind runs, a standby is started for the
next one, and it ends after ``standby_idle_timeout`` without use or when the server stops (or
dies: its stdin closes).

Not here: the work of each kind (declared by its service package, ``jupyter_modelhub.contributions``),
the rows (``store``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from traitlets import Bool, Dict, Float, Integer, List
from traitlets.config import LoggingConfigurable

from ..errors import Conflict
from ..store.database import Database
from . import views
from .groups import kill_leftovers, signal_group
from .output import DEFAULT_LIMIT
from .store import FINAL, RENAMED_KINDS, OperationStore

MARKER = "jupyter_modelhub.operations.worker"  # in every worker's command line
STANDBY_CLAIM = "standby.pid"  # in an operation's folder: the pid of the standby worker it was handed to

RESTARTED = "the server restarted while it ran"


def _config_for_workers(config: dict) -> dict:
    """Service settings as JSON a worker can load (classes become import paths)."""

    def plain(value):
        if isinstance(value, type):
            return f"{value.__module__}.{value.__qualname__}"
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        json.dumps(value)  # raises for anything else that is not JSON
        return value

    out: dict = {}
    for section, values in config.items():
        for name, value in values.items():
            try:
                out.setdefault(section, {})[name] = plain(value)
            except (TypeError, ValueError):
                continue  # e.g. a callable: workers do without it
    return out


class OperationRunner(LoggingConfigurable):
    """Runs operations in worker processes, a limited number of each kind at a time."""

    max_parallel = Dict(
        {"convert": 1, "deploy": 2, "image_build": 1, "batch": 2},
        config=True,
        help="How many operations of each kind run at once; the rest wait as 'queued'. One conversion "
        "at a time by default, so two speed reports do not distort each other.",
    )
    default_parallel = Integer(1, config=True, help="Limit for a kind that max_parallel does not name.")
    cancel_grace = Float(
        10.0,
        config=True,
        help="Seconds a cancelled worker has to clean up before its process group is killed.",
    )
    standby_kinds = List(
        ["batch"],
        config=True,
        help="Kinds whose next worker is started ahead and warmed up (imports; for batch, a kernel and a Dask "
        "cluster), so that an operation of the kind starts at once. Empty: every worker starts cold.",
    )
    standby_idle_timeout = Float(
        600.0,
        config=True,
        help="Seconds a standby worker waits for an operation before it is stopped.",
    )
    log_limit = Integer(
        DEFAULT_LIMIT,
        config=True,
        help="Bytes of output an operation's log keeps (the first and the last half, with a line saying how much "
        "was cut between): an entry script that prints without end cannot fill the disk.",
    )
    cancel_on_shutdown = Bool(
        True,
        config=True,
        help="Cancel running operations when the server stops. Off: they run on, and the next start adopts them.",
    )

    def __init__(
        self,
        database: Database,
        root: Path,
        worker_config: dict | None = None,
        cleanups: dict[str, Callable[[int], None]] | None = None,
        kinds: tuple[str, ...] = (),
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.db_url = database.url
        self.root = Path(root).resolve()
        self.store = OperationStore(database, self.root, kinds)
        self.worker_config = _config_for_workers(worker_config or {})
        # run after a worker was killed without cleaning up: kind -> callable(operation_id), each
        # declared by its service package (jupyter_modelhub.contributions) and given by the root
        self.cleanups: dict[str, Callable[[int], None]] = dict(cleanups or {})
        self._children: dict[int, subprocess.Popen] = {}
        self._adopted: dict[int, int] = {}  # operation id -> pid of a worker from before a restart
        self._standby: dict[str, subprocess.Popen] = {}  # kind -> its worker started ahead
        self._used: dict[str, float] = {}  # kind -> when an operation of it last started (monotonic)
        # operation id -> (worker pid or None, when its group is killed): stops the runner's thread finishes
        self._cancelling: dict[int, tuple[int | None, float]] = {}
        self._lock = threading.Lock()  # held while a worker is started, signalled or reaped (never while waiting)
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # -- the API the handlers call -----------------------------------------------------------

    def submit(self, kind: str, subject: str, inputs: dict, user: str = "") -> dict:
        """Queue an operation; it starts as soon as its kind has room."""
        operation = self.store.create(kind, subject, {**inputs, "user": user}, user=user)
        self._wake.set()
        return operation

    def operation(self, operation_id: int) -> views.Operation:
        return self.store.operation(operation_id)

    def get(self, operation_id: int) -> dict:
        return self.store.get(operation_id)

    def page(self, **filters) -> views.OperationPage:
        """Recent operations, newest first (``OperationStore.page``'s filters)."""
        return self.store.page(**filters)

    def list(self, **filters) -> dict:
        return self.store.list(**filters)

    def log_path(self, operation_id: int) -> Path:
        self.store.get(operation_id)  # 404 for an unknown one
        return self.store.log_path(operation_id)

    def tail(self, operation_id: int, lines: int = 100) -> str:
        path = self.log_path(operation_id)
        if lines <= 0 or not path.exists():
            return ""
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - max(lines, 1) * 400))
            return "\n".join(f.read().decode(errors="replace").splitlines()[-lines:])

    def cancel(self, operation_id: int, user: str = "") -> dict:
        """Stop the work and everything it started; the operation ends 'cancelled'.

        Idempotent, and it never waits: a running worker is sent SIGTERM and the answer is the
        operation as it is now (usually still running, with the stop under way); the runner's
        thread waits for the worker, kills its group after ``cancel_grace`` and records the
        outcome. A cancel of a cancelled operation answers it again; one of an operation that
        succeeded or failed is a 409 naming its status.
        """
        operation = self.store.get(operation_id)
        if operation["status"] == "queued" and self.store.finish(
            operation_id,
            "cancelled",
            expected=("queued",),
            error={"message": f"Operation {operation_id} was cancelled before it started.", "reason": "cancelled"},
        ):
            return self.store.get(operation_id)
        if operation["status"] == "running" or self.store.status(operation_id) == "running":
            elsewhere = self.store.runs_elsewhere(operation_id)
            if elsewhere:
                raise Conflict(
                    f"Operation {operation_id} runs on another Model Hub server that shares this registry's "
                    f"database ({elsewhere}): cancel it from that server."
                )
            with self._lock:  # held only to read the pid and send the signal
                asked = self._request_stop(operation_id)
            self._wake.set()
            if asked:  # what clients (the panel) show until the worker has stopped
                self.store.set_progress(operation_id, {**operation["progress"], "message": "cancelling"}, event=True)
        operation = self.store.get(operation_id)
        if operation["status"] in ("succeeded", "failed"):
            raise Conflict(f"Operation {operation_id} already {operation['status']}; there is nothing to cancel.")
        return operation

    # -- lifetime ----------------------------------------------------------------------------

    def start(self) -> None:
        """At server start: adopt live workers, fail the ones that died, then start the thread."""
        for operation_id, _kind, status, pid in self.store.active():
            if status != "running":
                continue
            if _is_worker(pid, self.root, operation_id):
                self._adopted[operation_id] = pid
                self.log.info("Model Hub: adopted operation %s (worker pid %s)", operation_id, pid)
            else:
                self._fail_dead(operation_id, RESTARTED)
        self._thread = threading.Thread(target=self._loop, name="modelhub-operations", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        for kind in list(self._standby):
            self._stop_standby(kind)
        if self.cancel_on_shutdown:
            with self._lock:
                for operation_id in list(self._children) + list(self._adopted):
                    self._request_stop(operation_id)
        while self._cancelling:  # the server is stopping: this thread may wait for its workers
            self._settle_cancels()
            time.sleep(0.02)

    # -- the runner's thread -----------------------------------------------------------------

    def _loop(self) -> None:
        last_complaint = 0.0
        while not self._stopping:
            try:
                self._settle_cancels()
                self._reap()
                self._keep_standbys(self._launch())
            except Exception as exc:  # a database outage must not end the runner, nor flood the log
                if time.monotonic() - last_complaint > 30:
                    self.log.warning(
                        "Model Hub: the operation runner cannot reach its database (%s: %s); retrying",
                        type(exc).__name__,
                        str(exc).splitlines()[0] if str(exc) else "",
                    )
                    last_complaint = time.monotonic()
            self._wake.wait(0.25)
            self._wake.clear()

    def _reap(self) -> None:
        """Record the end of workers that ended on their own, and kill what they left behind:
        a process an entry script or a build started outlives its worker otherwise."""
        # under the lock: a worker being cancelled is the cancel's to finish, not a crash
        for operation_id, child in list(self._children.items()):
            with self._lock:
                if operation_id in self._cancelling or not _ended(child):
                    continue
                signal_group(child.pid, signal.SIGKILL)  # its leader is unreaped: the group's id is still its own
                code = child.poll()
                if self._children.pop(operation_id, None) is not None:
                    self._fail_dead(operation_id, _exit_reason(code))
        for operation_id, pid in list(self._adopted.items()):
            with self._lock:
                if operation_id in self._cancelling or _is_worker(pid, self.root, operation_id):
                    continue
                if self._adopted.pop(operation_id, None):
                    kill_leftovers(pid)
                    self._fail_dead(operation_id, "its worker process ended without reporting")

    def _launch(self) -> dict[str, int]:
        """Start queued operations where their kind has room; returns how many of each kind run."""
        active = self.store.active()  # one read per round: the counts and the queue come from it
        running: dict[str, int] = {}
        for _id, kind, status, _pid in active:
            if status == "running":
                running[kind] = running.get(kind, 0) + 1
        for operation_id, kind, status, _pid in active:
            if self._stopping or status != "queued":
                continue
            if running.get(kind, 0) >= self._limit(kind):
                continue
            with self._lock:
                if not self.store.claim(operation_id):
                    continue  # cancelled meanwhile
                running[kind] = running.get(kind, 0) + 1
                self._spawn(operation_id, kind)
        return running

    def _limit(self, kind: str) -> int:
        """How many operations of ``kind`` may run at once; a limit set under a kind's earlier
        name (``"build"``) still counts."""
        if kind in self.max_parallel:
            return self.max_parallel[kind]
        for name, value in self.max_parallel.items():
            if RENAMED_KINDS.get(name, name) == kind:
                return value
        return self.default_parallel

    def _spawn(self, operation_id: int, kind: str) -> None:
        folder = self.store.work_dir(operation_id)
        settings = folder / "worker.json"
        settings.write_text(json.dumps({"db_url": self.db_url, "config": self.worker_config}))
        os.chmod(settings, 0o600)
        self._used[kind] = time.monotonic()
        child = self._hand_to_standby(operation_id, kind)
        if child is None:
            child = self._start_worker(f"--operation={operation_id}", self.store.log_path(operation_id))
        self._children[operation_id] = child
        self.store.set_pid(operation_id, child.pid)
        self.log.info("Model Hub: operation %s started (worker pid %s)", operation_id, child.pid)

    # -- standby workers -------------------------------------------------------------------

    def _hand_to_standby(self, operation_id: int, kind: str) -> subprocess.Popen | None:
        """Give the operation to the kind's standby worker; None if there is none alive."""
        child = self._standby.pop(kind, None)
        if child is None or child.poll() is not None:
            return None
        (self.store.work_dir(operation_id) / STANDBY_CLAIM).write_text(str(child.pid))
        try:
            child.stdin.write(f"{operation_id}\n".encode())
            child.stdin.close()
        except OSError:  # it died just now
            signal_group(child.pid, signal.SIGKILL)
            child.wait(5)
            return None
        return child

    def _keep_standbys(self, running: dict[str, int]) -> None:
        """A standby for each kind used lately, started once none of the kind runs (its warm-up
        would slow the one running); stopped once it has waited standby_idle_timeout."""
        now = time.monotonic()
        for kind in self.standby_kinds:
            child = self._standby.get(kind)
            if child is not None:
                if child.poll() is not None:  # its warm-up failed (see standby-KIND.log): none until next use
                    self._standby.pop(kind)
                    self._used.pop(kind, None)
                elif now - self._used.get(kind, 0.0) > self.standby_idle_timeout:
                    self._stop_standby(kind)
                continue
            if self._stopping or kind not in self._used or now - self._used[kind] > self.standby_idle_timeout:
                continue
            if running.get(kind):
                continue
            log = self.store.folder / f"standby-{kind}.log"
            if log.exists() and log.stat().st_size > self.log_limit:  # each standby's warm-up adds a few lines
                log.replace(log.with_name(log.name + ".1"))
            self._standby[kind] = self._start_worker(f"--standby={kind}", log, stdin=subprocess.PIPE)

    def _start_worker(self, mode: str, log_path: Path, stdin=subprocess.DEVNULL) -> subprocess.Popen:
        """A worker process in a session of its own (a cancel signals its group), writing to ``log_path``."""
        with open(log_path, "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", MARKER, str(self.root), mode, f"--log-limit={self.log_limit}"],
                stdin=stdin,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def _stop_standby(self, kind: str) -> None:
        child = self._standby.pop(kind, None)
        if child is not None:
            signal_group(child.pid, signal.SIGKILL)  # it, its kernel and its Dask processes: nothing to save
            child.wait(5)

    # -- stopping and failing ----------------------------------------------------------------

    def _pid(self, operation_id: int) -> int | None:
        child = self._children.get(operation_id)
        if child is not None:  # not reaped here: only the runner's thread reaps, after killing the group
            return None if _ended(child) else child.pid
        return self._adopted.get(operation_id)

    def _request_stop(self, operation_id: int) -> bool:
        """SIGTERM the worker's process group (it cleans up and records 'cancelled'), once (True
        then); the runner's thread finishes the stop (``_settle_cancels``). Called under the lock."""
        if operation_id in self._cancelling:
            return False
        pid = self._pid(operation_id)
        if pid is not None:
            signal_group(pid, signal.SIGTERM)
        self._cancelling[operation_id] = (pid, time.monotonic() + self.cancel_grace)
        return True

    def _settle_cancels(self) -> None:
        """Finish the stops whose worker ended, or whose grace period is over (SIGKILL): kill what
        the worker left behind, clean up after a killed one, and record 'cancelled' if it did not."""
        for operation_id, (pid, deadline) in list(self._cancelling.items()):
            with self._lock:  # signalling and reaping only: a cancel request waits on this lock
                running = pid is not None and self._running(operation_id, pid)
                if running and time.monotonic() < deadline:
                    continue
                self._cancelling.pop(operation_id, None)
                child = self._children.pop(operation_id, None)
                if child is not None and child.returncode is None:  # unreaped: its pid is still its group's
                    signal_group(child.pid, signal.SIGKILL)  # whatever the worker started and left behind, too
                    child.wait(5)
                elif pid is not None and running:  # an adopted worker past its grace period
                    signal_group(pid, signal.SIGKILL)
                elif pid is not None:  # an adopted worker that ended: init reaped it, its pid may be reused
                    kill_leftovers(pid)
                self._adopted.pop(operation_id, None)
            # the clean-up (files to remove) and the record happen outside the lock
            if running or self.store.status(operation_id) not in FINAL:
                cleanup = self.cleanups.get(self.store.get(operation_id)["kind"])
                if cleanup is not None:
                    cleanup(operation_id)
                self.store.finish(
                    operation_id,
                    "cancelled",
                    expected=("running",),
                    error={"message": f"Operation {operation_id} was cancelled.", "reason": "cancelled"},
                )

    def _running(self, operation_id: int, pid: int) -> bool:
        child = self._children.get(operation_id)
        if child is not None:
            return not _ended(child)
        return _is_worker(pid, self.root, operation_id)

    def _fail_dead(self, operation_id: int, why: str) -> None:
        """A worker ended without recording an outcome (killed, crashed, or the server restarted)."""
        if self.store.status(operation_id) in FINAL:
            return
        kind = self.store.get(operation_id)["kind"]
        cleanup = self.cleanups.get(kind)
        if cleanup is not None:
            cleanup(operation_id)
        tail = self.tail(operation_id, 3).strip()
        message = f"The {kind} operation {operation_id} failed: {why}" + (f". Last log lines:\n{tail}" if tail else ".")
        if self.store.finish(
            operation_id,
            "failed",
            expected=("running",),
            error={"message": message, "reason": "restarted" if why == RESTARTED else "failed"},
        ):
            self.log.warning("Model Hub: operation %s failed: %s", operation_id, why)


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"its worker process was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"its worker process was killed by signal {-code}"
    return f"its worker process exited with code {code} without reporting"


def _ended(child: subprocess.Popen) -> bool:
    """True if the child ended, without reaping it: while it is an unreaped zombie its pid (its
    group's id) cannot be given to a new process, so signalling the group reaches only its own."""
    if child.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped already
        return True


def _is_worker(pid: int | None, root: Path, operation_id: int) -> bool:
    """True if ``pid`` is the worker of this operation (not a recycled pid of another program)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z" or MARKER.encode() not in cmdline or str(root).encode() not in cmdline:
        return False
    if f"--operation={operation_id}".encode() in cmdline:
        return True
    try:  # a standby worker the operation was handed to
        claim = (root / "operations" / str(operation_id) / STANDBY_CLAIM).read_text().strip()
    except OSError:
        return False
    return claim == str(pid) and any(arg.startswith(b"--standby=") for arg in cmdline)
