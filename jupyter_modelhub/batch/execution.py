"""A batch job as its operation's worker runs it: plan, cluster, notebook, outcome.

The worker process (``operations.worker``, kind ``batch``) writes the plan into the job's
folder, starts the Dask cluster (``cluster.py``) and the job's one kernel (``kernel.py``) side
by side, or takes the ones a standby worker started ahead (``standby.py``), has papermill run
the shipped ``scoring.ipynb`` in that kernel, turns the notebook's ``events.jsonl`` into the
operation's progress, and records the outcome. The executed notebook is the job's log: it stays in the
job's folder and a copy is written next to the output, where JupyterLab can open it.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

from ..errors import ModelHubError
from ..progress import Progress
from ..words import plural
from . import locations
from .cluster import ClusterStarter
from .kernel import KERNEL, import_papermill, start_kernel, stop_kernel
from .settings import default_output, mini_batches, output_location
from .standby import remember_shape
from .tables import local_part_suffix, part_suffix

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
    folder.mkdir(parents=True, exist_ok=True)
    settings = inputs["settings"]
    warm = services.warm
    remember_shape(services.root, settings)
    cluster = warm.take_cluster(settings) if warm is not None else None
    kernel = warm.take_kernel() if warm is not None else None
    ahead = (cluster is not None, kernel is not None)
    # On a cold start the cluster and the kernel boot while the plan is made (its workers load the
    # model if the plan is there by then, else the first mini-batch does: preload.py).
    if cluster is None and not settings.get("environment"):
        cluster = ClusterStarter(settings, folder).start()
    if kernel is None:
        kernel = start_kernel(Path(inputs["entry_script"]).parent if inputs.get("entry_script") else folder)
    (folder / "kernel.pid").write_text(f"{kernel.provisioner.pid} {kernel.connection_file}")  # a cancel stops it
    plan = None
    try:
        plan = _plan(services, job_id, folder, inputs)
        _hand_over_credentials(services, folder, inputs)
        progress.step(
            f"{'using' if ahead[0] else 'starting'} {plan['cluster']['label']} and "
            f"{'a kernel started ahead' if ahead[1] else 'the kernel'} for the scoring notebook",
            0,
            len(plan["mini_batches"]),
            unit="mini-batches",
        )
        if cluster is None:  # the workers run the environment's interpreter
            environment = services.environments.store.get_ref(settings["environment"])
            python = services.environments.batch_python_for(environment, progress)
            cluster = ClusterStarter(settings, folder, python).start()
        cluster.attach(folder)
        tail = ProgressTail(folder / "events.jsonl", progress)
        tail.start()
        try:
            _execute(folder, kernel)
        except Exception as exc:
            outcome = _outcome(folder)
            message = outcome.get("message") or _notebook_error(exc)
            _record_finished(services, job_id, inputs, "failed", message, outcome)
            raise JobFailed(
                f"Batch job {job_id} failed: {message} The executed notebook has the details: "
                f"{_publish_notebook(folder, plan)}",
                report=outcome.get("summary"),
            ) from None
        finally:
            tail.stop()
    finally:
        stop_kernel(folder)
        (folder / CREDENTIALS).unlink(missing_ok=True)
        if plan is not None and plan["output"]["partial"]:  # joined as the job ran: a stopped notebook leaves it
            Path(plan["output"]["partial"]).unlink(missing_ok=True)
        if cluster is not None:
            services.after_outcome.append(cluster.close)  # closing it is not on the job's time
    outcome = _outcome(folder)
    notebook = _publish_notebook(folder, plan)
    with progress.final():
        shutil.rmtree(folder / "parts", ignore_errors=True)  # the output has them now
        summary = outcome.get("summary") or {}
        progress.step(
            outcome.get("message") or "done", summary.get("done"), summary.get("mini_batches"), unit="mini-batches"
        )
    _record_finished(services, job_id, inputs, "succeeded", outcome.get("message", ""), outcome)
    return {
        "job": job_id,
        "status": "succeeded",
        "message": outcome.get("message", ""),
        "output": outcome.get("output"),
        "notebook": notebook,
        "summary": summary,
    }


def _record_finished(services, job_id: int, inputs: dict, status: str, message: str, outcome: dict) -> None:
    """The history's ``job.finished`` entry (webhooks send it): which model, how it ended, where its output is."""
    from ..refs import parse_ref
    from ..registry import history

    ref = parse_ref(inputs["model"])
    new = {"job": job_id, "status": status, "message": message[:500], "output": outcome.get("output")}
    services.db.write(
        lambda session: history.record(
            session,
            "job.finished",
            f"job {job_id}",
            model=ref.name,
            version=ref.version,
            new=new,
            user=inputs.get("user", ""),
        )
    )


# -- the plan ---------------------------------------------------------------------------------------


def _plan(services, job_id: int, folder: Path, inputs: dict) -> dict:
    settings = inputs["settings"]
    checked = services.registry.verify_files(inputs["model"])  # a changed file is refused before any work
    version = _version(services, inputs["model"])
    files = inputs["files"]
    batches = mini_batches(files, settings["mini_batch_size"])
    output_dir = output_location(inputs, job_id)
    name = settings["output_file_name"]
    url = output_dir if locations.is_url(output_dir) else None
    script = inputs.get("entry_script")
    plan = {
        "job": job_id,
        "endpoint": inputs.get("endpoint"),
        "resume": inputs.get("resume"),
        "model": {
            "ref": version["ref"],
            "flavor": version["flavor"],
            "model_dir": checked["files_dir"],
            "signature": version.get("signature"),
            # workers of a --scheduler cluster fetch these from the bucket (else: bytes through Dask)
            "objects": _model_objects(services, inputs["model"]) if settings.get("scheduler") else None,
        },
        "entry_script": script,
        # workers of a --scheduler cluster may not read the server's disk: the script goes as text
        "entry_script_text": Path(script).read_text() if script and settings.get("scheduler") else None,
        "remote": bool(settings.get("scheduler")),
        "settings": settings,
        "files": files,
        "file_labels": locations.labels(files),
        "mini_batches": batches,
        "output": {
            # an s3:// output: parts under the prefix, committed by _SUCCESS (locations.py)
            "url": url,
            "dir": str(default_output(inputs, job_id) if url else output_dir),
            "file": url + "/" if url else str(output_dir / name),
            "partial": None if url else str(output_dir / f".{name}.partial-{job_id}"),
            "suffix": part_suffix(name),
            "overwrite": bool(inputs.get("overwrite")),
        },
        "cluster": {
            "label": f"Dask at {settings['scheduler']}"
            if settings.get("scheduler")
            else f"a LocalCluster of {settings['workers']} worker{'s' if settings['workers'] != 1 else ''}"
        },
        "reused": _reused(
            services.root, inputs.get("resume"), batches, folder / "parts", part_suffix(name), url, services
        ),
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "job.json").write_text(json.dumps(plan))
    return plan


def _version(services, ref: str) -> dict:
    """The version as the plan needs it (ref, flavor, signature), without what uses it: asking
    every service for its references builds them all in a fresh worker (a third of a second of a
    cold job's start)."""
    return services.registry.version(ref, used=False).as_dict()


def _reused(
    root: Path,
    resume: int | None,
    batches: list[list[str]],
    parts: Path,
    suffix: str,
    url: str | None = None,
    services=None,
) -> dict:
    """The mini-batches an earlier failed job finished, with their part files copied over (on
    object storage: the earlier job's uncommitted parts, kept where they are when the output is
    the same prefix)."""
    if not resume:
        return {}
    earlier = job_dir(root, resume)
    try:
        plan = json.loads((earlier / "job.json").read_text())
        records = json.loads((earlier / "mini-batches.json").read_text())["records"]
    except (OSError, ValueError, KeyError):
        return {}
    earlier_url = (plan["output"].get("url") if plan["settings"]["output_action"] == "append_row" else None) or None
    if plan["settings"]["output_action"] == "append_row" and (earlier_url is None) != (url is None):
        return {}  # a local output from parts in a bucket, or the other way: score again
    fs = None
    reused = {}
    for record in records:
        index = record["index"]
        part = earlier / "parts" / f"{index:06d}{local_part_suffix(suffix)}"
        if (
            record.get("error")
            or record.get("status") == "retrying"
            or index >= len(batches)
            or plan["mini_batches"][index] != batches[index]
        ):
            continue
        if url is not None and plan["settings"]["output_action"] == "append_row":
            name = locations.part_name(index, suffix)
            source, target = f"{earlier_url}/{name}"[5:], f"{url}/{name}"[5:]
            fs = fs or locations.filesystem(_storage_options(services))
            if not fs.exists(source):
                continue
            if source != target:
                fs.copy(source, target)
        elif plan["settings"]["output_action"] == "append_row" and not part.exists():
            continue
        elif part.exists():
            parts.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(part, parts / part.name)
        reused[str(index)] = {**record, "reused_from": record.get("reused_from") or resume}
    return reused


def _model_objects(services, ref: str) -> list[dict] | None:
    """With the artifact store on a bucket: each file of the version as ``{"path", "sha256",
    "size", "url"}``, which a worker elsewhere downloads and checks itself."""
    store = services.registry.artifacts
    if not getattr(store, "is_remote", False):
        return None
    registry = services.registry
    with registry.db.read() as session:
        row = registry.resolve(session, ref)
        artifact_dir, files = row.artifact_dir, list(row.files)
    return [
        {
            "path": entry["path"],
            "sha256": entry["sha256"],
            "size": entry["size"],
            "url": "s3://" + store.key_of(artifact_dir, "files", entry["path"]),
        }
        for entry in files
    ]


def _storage_options(services) -> dict:
    """The server's ``storage_options`` (as the artifact store's) with the AWS environment's."""
    return locations.job_storage_options((getattr(services, "_storage", None) or {}).get("storage_options"))


CREDENTIALS = "storage.json"  # in the job's folder, the owner's only, removed by the kernel once read


def _hand_over_credentials(services, folder: Path, inputs: dict) -> None:
    """The s3fs options of the job's kernel (and through it its Dask workers) when the job reads
    or writes a bucket: a file only the owner can read, never in the notebook or its parameters."""
    remote_model = inputs["settings"].get("scheduler") and getattr(services.registry.artifacts, "is_remote", False)
    if not (
        remote_model or locations.is_url(inputs.get("output")) or any(locations.is_url(f) for f in inputs["files"])
    ):
        return
    options = _storage_options(services)
    path = folder / CREDENTIALS
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as f:
        json.dump(options, f)


# -- the notebook -----------------------------------------------------------------------------------


def _execute(folder: Path, kernel) -> None:
    import_papermill().execute_notebook(
        str(NOTEBOOK),
        str(folder / "job.ipynb"),
        parameters={"job_dir": str(folder)},
        kernel_name=KERNEL,
        km=kernel,
        progress_bar=False,
        log_output=False,
    )


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
    target = Path(plan["output"]["dir"]) / f"job-{plan['job']}.ipynb"  # for a bucket: the default folder
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return str(target)
    except OSError:
        return str(source)


def cleanup(root: Path, job_id: int) -> None:
    """After a worker was killed without cleaning up: its kernel, and any partial output."""
    folder = job_dir(root, job_id)
    stop_kernel(folder)
    try:
        (folder / CREDENTIALS).unlink(missing_ok=True)
        plan = json.loads((folder / "job.json").read_text())
        if plan["output"]["partial"]:
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
    parts.append(plural(event.get("rows_out", 0), "row"))
    if event.get("rows_per_second"):
        parts.append(f"{event['rows_per_second']:.0f} rows/s")
    if event.get("eta") is not None:
        parts.append(f"ETA {event['eta']:.0f} s")
    return parts[0] + ": " + " · ".join(parts[1:])
