"""A batch job as its operation's worker runs it: plan, cluster, notebook, outcome.

The worker process (``operations.worker``, kind ``batch``) writes the plan into the job's
folder, starts the Dask cluster (a LocalCluster in its own process group, so a cancel stops
every worker process with it) while papermill starts the one kernel of the job, runs the
shipped ``scoring.ipynb`` there, turns the notebook's ``events.jsonl`` into the operation's
progress, and records the outcome. The executed notebook is the job's log: it stays in the
job's folder and a copy is written next to the output, where JupyterLab can open it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
import time
from pathlib import Path

from ..errors import ModelHubError
from ..operations.progress import Progress
from .job import write_json
from .settings import default_output, mini_batches
from .tables import part_suffix

NOTEBOOK = Path(__file__).with_name("scoring.ipynb")
TAIL_INTERVAL = 0.2


class JobFailed(ModelHubError):
    """A batch job that ran and failed; ``report`` is its summary, the message says why."""

    status = 400
    reason = "job_failed"

    def __init__(self, message: str, report: dict | None = None):
        super().__init__(message)
        self.report = report


def job_dir(root: Path, job_id: int) -> Path:
    return Path(root) / "operations" / str(job_id)


def run_job(services, inputs: dict, progress: Progress) -> dict:
    job_id = int(getattr(progress, "id", 0) or inputs["job"])
    folder = job_dir(services.root, job_id)
    plan = _plan(services, job_id, folder, inputs)
    progress.step(f"starting {plan['cluster']['label']} and the scoring notebook", 0, len(plan["mini_batches"]),
                  unit="mini-batches")
    cluster = ClusterStarter(folder, inputs["settings"])
    cluster.start()
    tail = ProgressTail(folder / "events.jsonl", progress)
    tail.start()
    try:
        _execute(folder, inputs)
    except Exception as exc:
        outcome = _outcome(folder)
        message = outcome.get("message") or _notebook_error(exc)
        raise JobFailed(f"Batch job {job_id} failed: {message} The executed notebook has the details: "
                        f"{_publish_notebook(folder, plan)}", report=outcome.get("summary")) from None
    finally:
        tail.stop()
        stop_kernel(folder)
        cluster.close()
    outcome = _outcome(folder)
    notebook = _publish_notebook(folder, plan)
    with progress.final():
        shutil.rmtree(folder / "parts", ignore_errors=True)  # the output has them now
        summary = outcome.get("summary") or {}
        progress.step(outcome.get("message") or "done", summary.get("done"), summary.get("mini_batches"),
                      unit="mini-batches")
    return {"job": job_id, "status": "succeeded", "message": outcome.get("message", ""), "output": outcome.get("output"),
            "notebook": notebook, "summary": summary}


# -- the plan ---------------------------------------------------------------------------------------

def _plan(services, job_id: int, folder: Path, inputs: dict) -> dict:
    settings = inputs["settings"]
    checked = services.registry.verify_files(inputs["model"])  # a changed file is refused before any work
    version = services.registry.get_version(inputs["model"])
    files = inputs["files"]
    batches = mini_batches([Path(f) for f in files], settings["mini_batch_size"])
    base = os.path.commonpath(files) if len(files) > 1 else str(Path(files[0]).parent)
    output_dir = Path(inputs["output"]) if inputs.get("output") else default_output(inputs, job_id)
    name = settings["output_file_name"]
    plan = {
        "job": job_id, "endpoint": inputs.get("endpoint"), "resume": inputs.get("resume"),
        "model": {"ref": version["ref"], "flavor": version["flavor"], "model_dir": checked["files_dir"],
                  "signature": version.get("signature")},
        "entry_script": inputs.get("entry_script"), "settings": settings, "files": files,
        "file_labels": [os.path.relpath(f, base) for f in files], "mini_batches": batches,
        "output": {"dir": str(output_dir), "file": str(output_dir / name),
                   "partial": str(output_dir / f".{name}.partial-{job_id}"), "suffix": part_suffix(name)},
        "cluster": {"label": f"Dask at {settings['scheduler']}" if settings.get("scheduler")
                    else f"a LocalCluster of {settings['workers']} worker{'s' if settings['workers'] != 1 else ''}"},
        "reused": _reused(services.root, inputs.get("resume"), batches, folder / "parts", part_suffix(name)),
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "job.json").write_text(json.dumps(plan))
    return plan


def _reused(root: Path, resume: int | None, batches: list[list[str]], parts: Path, suffix: str) -> dict:
    """The mini-batches an earlier failed job finished, with their part files copied over."""
    if not resume:
        return {}
    earlier = job_dir(root, resume)
    try:
        plan = json.loads((earlier / "job.json").read_text())
        records = json.loads((earlier / "mini-batches.json").read_text())["records"]
    except (OSError, ValueError, KeyError):
        return {}
    reused = {}
    for record in records:
        index = record["index"]
        part = earlier / "parts" / f"{index:06d}{suffix}"
        if record.get("error") or record.get("status") == "retrying" or index >= len(batches) \
                or plan["mini_batches"][index] != batches[index]:
            continue
        if plan["settings"]["output_action"] == "append_row" and not part.exists():
            continue
        parts.mkdir(parents=True, exist_ok=True)
        if part.exists():
            shutil.copyfile(part, parts / part.name)
        reused[str(index)] = {**record, "reused_from": record.get("reused_from") or resume}
    return reused


# -- the cluster ------------------------------------------------------------------------------------

class ClusterStarter:
    """Starts the job's LocalCluster in a thread (while the kernel starts), or names the user's
    scheduler, and tells the notebook where it is through ``cluster.json``."""

    def __init__(self, folder: Path, settings: dict):
        self.folder, self.settings = folder, settings
        self.cluster = None
        self._thread = threading.Thread(target=self._start, name="modelhub-batch-cluster", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _start(self) -> None:
        settings = self.settings
        try:
            if settings.get("scheduler"):
                info = {"address": settings["scheduler"], "description": f"Dask scheduler at {settings['scheduler']}",
                        "memory_limit": None}
            else:
                from distributed import LocalCluster

                logging.getLogger("distributed").setLevel(logging.WARNING)
                self.cluster = LocalCluster(
                    n_workers=settings["workers"], threads_per_worker=settings["max_concurrency"], processes=True,
                    host="127.0.0.1", dashboard_address=None, preload=["jupyter_modelhub.batch.preload"],
                    env={**(settings.get("env_vars") or {}), "MODELHUB_BATCH_JOB_DIR": str(self.folder)})
                limits = {w.memory_manager.memory_limit for w in self.cluster.workers.values()
                          if getattr(w, "memory_manager", None) is not None}
                limit = next(iter(limits), None)
                info = {"address": self.cluster.scheduler_address, "memory_limit": limit,
                        "description": f"LocalCluster at {self.cluster.scheduler_address}: {settings['workers']} "
                                       f"worker processes x {settings['max_concurrency']} threads"
                                       + (f", memory limit {limit / 2**30:.1f} GiB each" if limit else "")}
        except Exception as exc:
            info = {"error": f"The Dask cluster could not start: {type(exc).__name__}: {exc}"}
        write_json(self.folder / "cluster.json", info)
        print(f"[{time.strftime('%H:%M:%S')}] {info.get('description') or info.get('error')}", flush=True)

    def close(self) -> None:
        self._thread.join(60)
        if self.cluster is not None:
            try:
                self.cluster.close(timeout=10)
            except Exception:  # its processes are in this worker's group: they end with it anyway
                pass


# -- the notebook -----------------------------------------------------------------------------------

def _execute(folder: Path, inputs: dict) -> None:
    import papermill

    cwd = Path(inputs["entry_script"]).parent if inputs.get("entry_script") else folder
    papermill.execute_notebook(str(NOTEBOOK), str(folder / "job.ipynb"), parameters={"job_dir": str(folder)},
                               kernel_name="python3", progress_bar=False, cwd=str(cwd), log_output=False)


def _outcome(folder: Path) -> dict:
    try:
        return json.loads((folder / "outcome.json").read_text())
    except (OSError, ValueError):
        return {}


def _notebook_error(exc: Exception) -> str:
    evalue = getattr(exc, "evalue", None)
    ename = getattr(exc, "ename", None)
    if evalue is not None:
        return evalue if ename == "JobFailed" else f"{ename}: {evalue}"
    return f"{type(exc).__name__}: {exc}"


def _publish_notebook(folder: Path, plan: dict) -> str:
    """A copy of the executed notebook next to the output, where JupyterLab can open it."""
    source = folder / "job.ipynb"
    target = Path(plan["output"]["dir"]) / f"job-{plan['job']}.ipynb"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return str(target)
    except OSError:
        return str(source)


def stop_kernel(folder: Path) -> None:
    """Stop the job's kernel if it still runs (papermill starts it in a session of its own)."""
    try:
        pid, _, connection = (folder / "kernel.pid").read_text().partition(" ")
        pid = int(pid)
    except (OSError, ValueError):
        return
    try:
        import psutil

        process = psutil.Process(pid)
        if not connection or connection not in process.cmdline():  # that kernel, not a pid reused since
            return
        for child in process.children(recursive=True):
            child.kill()
        os.kill(pid, signal.SIGKILL)
    except Exception:  # already gone, or not ours to stop
        return


def cleanup(root: Path, job_id: int) -> None:
    """After a worker was killed without cleaning up: its kernel, and any partial output."""
    folder = job_dir(root, job_id)
    stop_kernel(folder)
    try:
        plan = json.loads((folder / "job.json").read_text())
        Path(plan["output"]["partial"]).unlink(missing_ok=True)
    except (OSError, ValueError, KeyError):
        pass


# -- progress -----------------------------------------------------------------------------------------

class ProgressTail:
    """Turns the notebook's progress lines into the operation's progress."""

    def __init__(self, path: Path, progress: Progress):
        self.path, self.progress = path, progress
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="modelhub-batch-progress", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        offset = 0
        while not self._stop.wait(TAIL_INTERVAL):
            try:
                with open(self.path, "rb") as f:
                    f.seek(offset)
                    data = f.read()
            except OSError:
                continue
            end = data.rfind(b"\n")
            if end < 0:
                continue
            offset += end + 1
            lines = data[: end + 1].splitlines()
            try:
                event = json.loads(lines[-1])
            except ValueError:
                continue
            self.progress.step(progress_message(event), event["done"], event["mini_batches"], unit="mini-batches")


def progress_message(event: dict) -> str:
    """``scoring: 3 failed · 120000 rows · 40000 rows/s · ETA 3 s``."""
    parts = ["scoring"]
    if event.get("failed"):
        parts.append(f"{event['failed']} failed")
    parts.append(f"{event.get('rows_out', 0)} rows")
    if event.get("rows_per_second"):
        parts.append(f"{event['rows_per_second']:.0f} rows/s")
    if event.get("eta") is not None:
        parts.append(f"ETA {event['eta']:.0f} s")
    return parts[0] + ": " + " · ".join(parts[1:])

