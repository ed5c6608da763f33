"""The Dask cluster of a batch job, started by the job's worker while the kernel starts.

A LocalCluster runs in the worker's process group, so a cancel (SIGTERM, then SIGKILL of that
group) stops every Dask process with it. With ``--env`` its scheduler runs here and its workers
are ``dask worker`` processes of the environment's interpreter (``python``), in the same group.
A standby worker starts one of the last job's shape before its job exists; the job uses it when
its settings ask for that shape. The notebook finds the
cluster through ``cluster.json`` in the job's folder, written once both the cluster and the
folder are known.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from pathlib import Path

from ..errors import InvalidInput
from .job import write_json

SCHEDULER_CONNECT_TIMEOUT = 3.0  # seconds a job's request waits to reach a --scheduler


def check_scheduler(address: str, timeout: float = SCHEDULER_CONNECT_TIMEOUT) -> None:
    """A 400 now, rather than a job failing a minute later, when nothing listens at ``address``
    (``tcp://HOST:PORT``, already checked for its form). A TCP connect only: Dask's handshake
    is the job's."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            return
    except (OSError, ValueError) as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc)).lower()
        raise InvalidInput(
            f"Cannot reach the Dask scheduler at {address} ({why} within {timeout:g} s): start it, "
            "check --scheduler, or leave --scheduler out to run the job on a LocalCluster of its "
            "own."
        ) from None


class ClusterStarter:
    """Starts the job's LocalCluster in a thread, or names the user's scheduler."""

    def __init__(self, settings: dict, folder: Path | None = None, python: str | None = None):
        self.settings = settings
        self.python = python  # the environment's interpreter for the workers; None: this one's
        self.workers: subprocess.Popen | None = None  # the environment's `dask worker` processes
        self.cluster = None
        self.info: dict | None = None
        self._folder = folder
        self._published = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._start, name="modelhub-batch-cluster", daemon=True)

    def start(self) -> ClusterStarter:
        self._thread.start()
        return self

    def wait(self) -> ClusterStarter:
        """Until the cluster has started (or failed to: ``info`` says which)."""
        self._thread.join()
        return self

    def matches(self, settings: dict) -> bool:
        """True if this cluster has the shape ``settings`` ask for (env_vars are set per job on the
        workers, when they load the model)."""
        return (
            not settings.get("scheduler")
            and not settings.get("environment")
            and settings["workers"] == self.settings["workers"]
            and settings["max_concurrency"] == self.settings["max_concurrency"]
        )

    def attach(self, folder: Path) -> None:
        """The job this cluster is for: ``cluster.json`` goes into its folder."""
        with self._lock:
            self._folder = folder
        self._publish()

    def _start(self) -> None:
        settings = self.settings
        try:
            if settings.get("scheduler"):
                info = {
                    "address": settings["scheduler"],
                    "description": f"Dask scheduler at {settings['scheduler']}",
                    "memory_limit": None,
                }
            else:
                from distributed import LocalCluster

                logging.getLogger("distributed").setLevel(logging.WARNING)
                env = dict(settings.get("env_vars") or {})
                if self._folder is not None:  # known now: each worker loads the model as it starts (preload.py)
                    env["MODELHUB_BATCH_JOB_DIR"] = str(self._folder)
                if self.python is None:
                    self.cluster = LocalCluster(
                        n_workers=settings["workers"],
                        threads_per_worker=settings["max_concurrency"],
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                        preload=["jupyter_modelhub.batch.preload"],
                        env=env,
                    )
                    limits = {
                        w.memory_manager.memory_limit
                        for w in self.cluster.workers.values()
                        if getattr(w, "memory_manager", None) is not None
                    }
                else:
                    self.cluster = LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address=None)
                    limits = self._start_environment_workers(env)
                limit = next(iter(limits), None)
                info = {
                    "address": self.cluster.scheduler_address,
                    "memory_limit": limit,
                    "description": f"LocalCluster at {self.cluster.scheduler_address}: {settings['workers']} "
                    f"worker processes x {settings['max_concurrency']} threads"
                    + (f", memory limit {limit / 2**30:.1f} GiB each" if limit else ""),
                }
        except Exception as exc:
            info = {"error": f"The Dask cluster could not start: {type(exc).__name__}: {exc}"}
        with self._lock:
            self.info = info
        self._publish()

    def _start_environment_workers(self, env: dict) -> set:
        """``dask worker`` processes of the environment's interpreter, joined to the scheduler here;
        their memory limits."""
        settings, scheduler = self.settings, self.cluster.scheduler
        self.workers = subprocess.Popen(
            [
                self.python,
                "-m",
                "distributed.cli.dask_worker",
                self.cluster.scheduler_address,
                "--nworkers",
                str(settings["workers"]),
                "--nthreads",
                str(settings["max_concurrency"]),
                "--host",
                "127.0.0.1",
                "--no-dashboard",
                "--memory-limit",
                "auto",
                "--preload",
                "jupyter_modelhub.batch.preload",
            ],
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env, "PYTHONNOUSERSITE": "1"},
        )
        deadline = time.monotonic() + 120
        while len(scheduler.workers) < settings["workers"]:
            if self.workers.poll() is not None:
                raise RuntimeError(
                    f"the environment's Dask workers exited with code {self.workers.returncode} "
                    f"(the job's log has their output)"
                )
            if time.monotonic() > deadline:
                raise RuntimeError("the environment's Dask workers did not join within 120 s")
            time.sleep(0.05)
        return {w.memory_limit for w in list(scheduler.workers.values()) if w.memory_limit}

    def _publish(self) -> None:
        with self._lock:
            if self._published or self.info is None or self._folder is None:
                return
            self._published = True
            info, folder = self.info, self._folder
        write_json(folder / "cluster.json", info)
        print(f"[{time.strftime('%H:%M:%S')}] {info.get('description') or info.get('error')}", flush=True)

    def close(self) -> None:
        self._thread.join(60)
        if self.workers is not None:
            self.workers.terminate()
            try:
                self.workers.wait(10)
            except subprocess.TimeoutExpired:
                self.workers.kill()
        if self.cluster is not None:
            try:
                self.cluster.close(timeout=10)
            except Exception:  # its processes are in this worker's group: they end with it anyway
                pass
