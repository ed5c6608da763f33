"""Batch jobs as a resource: checking a request, starting it as an operation, describing it.

A job is an operation of kind ``batch`` (its id is the operation's): it has the operation's
status, progress, log and cancel, plus what a batch user asks about: the settings, the
mini-batch table, the output and the executed notebook. Everything a job needs is checked
here, in the request, so a job that cannot work is a 400 and nothing starts: the model or
batch endpoint, every input path against the server's folders, the settings, the entry
script, the output folder, and a ``--resume`` of a job that can be resumed.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from ..errors import Conflict, InvalidInput, NotFound
from ..flavors import BUILTIN_FLAVORS
from . import locations, views
from .cluster import check_scheduler
from .contributions import BATCH
from .execution import job_dir
from .settings import checked_settings, default_output, output_location, resolve_inputs, user_path

KIND = BATCH.name
TABLE_PREVIEW = 500  # mini-batch rows a job's description carries


class BatchService:
    def __init__(
        self,
        registry,
        endpoints,
        operations,
        root: Path,
        roots: list[str],
        environments=None,
        storage_options: dict | None = None,
    ):
        self.registry, self.endpoints, self.operations = registry, endpoints, operations
        self.environments = environments  # EnvironmentStore: what --env names
        self.storage_options = storage_options  # the artifact store's: s3:// inputs and outputs use them too
        self._fs = None
        self.root = Path(root)
        self.roots = [Path(r).resolve() for r in roots] or [Path.cwd().resolve()]
        self._claiming = threading.Lock()  # a job's output is checked free and its row written as one step

    # -- starting -------------------------------------------------------------------------------

    def submit(self, request: dict, user: str = "") -> dict:
        """Check everything, then queue the job; returns its description (status queued)."""
        inputs = self.prepare(request)
        with self._claiming:  # no second job can take the same output between the check and the row
            self._check_output_free(inputs)
            operation = self.operations.submit(KIND, inputs["model"], inputs, user=user)
        return self.describe(operation).as_dict()

    def _check_output_free(self, inputs: dict) -> None:
        """A 409 for an output file another active job writes, or one that exists (unless overwrite).

        The job checks the second again when it commits (a file made meanwhile is not replaced)."""
        target = output_file(inputs)
        if target is None:
            return
        if locations.is_url(target):
            self._check_prefix_free(inputs)
        for job_id, kind, status, _pid in self.operations.store.active():
            if kind != KIND:
                continue
            try:
                theirs = output_file(self.operations.store.inputs(job_id))
            except (OSError, ValueError, KeyError):
                continue
            if theirs == target:
                raise Conflict(
                    f"Job {job_id} ({status}) writes {target}; wait for it, cancel it, or choose another --output."
                )
        if not locations.is_url(target) and target.exists() and not inputs.get("overwrite"):
            raise Conflict(
                f"{target} exists; a job does not replace a file unless asked: give --overwrite "
                "(overwrite: true) to replace it, or choose another --output."
            )

    def _check_prefix_free(self, inputs: dict) -> None:
        """An ``s3://`` output holds nothing the product did not write, and no committed output
        unless ``overwrite`` (``locations.check_output_prefix``)."""

        def leftovers_of(prefix: str) -> list[int]:
            jobs = self.operations.list(kind=KIND, status="failed,cancelled", page=1, per_page=500)["operations"]
            found = []
            for operation in jobs:
                try:
                    if self.operations.store.inputs(operation["id"]).get("output") == prefix:
                        found.append(operation["id"])
                except (OSError, ValueError, KeyError):
                    continue
            return sorted(found)

        locations.check_output_prefix(
            self.filesystem(), inputs["output"], inputs.get("overwrite", False), inputs.get("resume"), leftovers_of
        )

    def filesystem(self):
        """The s3fs file system of s3:// inputs and outputs (opened on first use)."""
        if self._fs is None:
            self._fs = locations.filesystem(locations.job_storage_options(self.storage_options))
        return self._fs

    def prepare(self, request: dict) -> dict:
        request = dict(request)
        endpoint = None
        target = request.pop("model", None) or ""
        if request.get("endpoint"):
            endpoint = self.endpoints.settings(request.pop("endpoint"))
        elif target and ":" not in target and "@" not in target:
            endpoint = self._endpoint_named(target)
        if endpoint is not None:  # the saved settings, with this request's own on top
            saved = endpoint["settings"]
            request["settings"] = {
                **saved,
                **{k: v for k, v in (request.get("settings") or {}).items() if v is not None},
            }
            request.setdefault("entry_script", None)
            request["entry_script"] = request["entry_script"] or endpoint["entry_script"]
            target = endpoint["model"]
        if not target:
            raise InvalidInput("Name a model (NAME, NAME:VERSION or NAME@ALIAS) or a batch endpoint to score with.")
        version = self.registry.get_version(target)
        settings = checked_settings(request.get("settings") or {}).model_dump()
        self._check_environment(settings)
        script = self._entry_script(request.get("entry_script"))
        if script is None and version["flavor"] not in BUILTIN_FLAVORS:
            raise InvalidInput(_needs_script(version))
        resume = request.get("resume")
        previous = self._resumable(resume) if resume else None
        inputs = request.get("inputs") or (previous["files"] if previous else [])
        output = request.get("output")
        output_url = locations.normal_url(output) if locations.is_url(output) else None
        if output and "://" in output and output_url is None:
            raise InvalidInput(f"--output {output} is not a local folder or an s3:// URL.")
        output_dir = user_path(output, self.roots, "--output") if output and output_url is None else None
        if output_dir is not None and output_dir.exists() and not output_dir.is_dir():
            raise InvalidInput(f"--output {output} is a file; give a folder (the file name is --output-file-name).")
        any_file = script is not None

        def accept(name: str) -> bool:
            from .tables import TABLE_SUFFIXES

            return any_file or Path(name).suffix.lower() in TABLE_SUFFIXES

        files = resolve_inputs(
            inputs,
            self.roots,
            any_file=any_file,
            output=output_dir / settings["output_file_name"] if output_dir else None,
            remote=lambda url: locations.resolve_url_input(self.filesystem(), url, accept, output_url),
        )
        cwd = self._cwd(request.get("cwd"))
        if settings.get("scheduler"):
            check_scheduler(settings["scheduler"])
        if previous and previous["model"] != version["ref"]:
            raise InvalidInput(
                f"Job {resume} scored {previous['model']}, not {version['ref']}: --resume continues a "
                "job with the same model."
            )
        return {
            "model": version["ref"],
            "endpoint": endpoint["name"] if endpoint else None,
            "endpoint_version": endpoint["version"] if endpoint else None,
            "settings": settings,
            "files": [str(f) for f in files],
            "entry_script": str(script) if script else None,
            "output": output_url or (str(output_dir) if output_dir else None),
            "overwrite": bool(request.get("overwrite")),
            "cwd": str(cwd),
            "resume": resume,
        }

    def _check_environment(self, settings: dict) -> None:
        """--env names a registered environment (a 404 if not), pinned to its version now."""
        if not settings.get("environment"):
            return
        if settings.get("scheduler"):
            raise InvalidInput(
                "Give either --env (the job's own Dask workers run in that environment) or --scheduler "
                "(an existing cluster, whose workers have their own packages), not both."
            )
        if self.environments is None:
            raise InvalidInput("This server has no environments.")
        settings["environment"] = self.environments.get_ref(settings["environment"])["ref"]

    def save_endpoint(self, request: dict, user: str = "") -> dict:
        """A new version of a batch endpoint, checked as a job with it would be (but no inputs)."""
        version = self.registry.get_version(request["model"])
        settings = checked_settings(request.get("settings") or {}).model_dump()
        self._check_environment(settings)
        script = self._entry_script(request.get("entry_script"))
        if script is None and version["flavor"] not in BUILTIN_FLAVORS:
            raise InvalidInput(_needs_script(version))
        return self.endpoints.save(
            request["name"],
            version["ref"],
            settings,
            str(script) if script else None,
            description=request.get("description") or "",
            user=user,
        )

    def _endpoint_named(self, name: str) -> dict | None:
        """A bare name is a batch endpoint when one has it, else a model."""
        try:
            return self.endpoints.settings(name)
        except NotFound:
            return None

    def _entry_script(self, path: str | None) -> Path | None:
        if not path:
            return None
        script = user_path(path, self.roots, "Entry script")
        if not script.is_file() or script.suffix != ".py":
            raise InvalidInput(f"Entry script {path} is not a Python file (.py) that exists.")
        return script

    def _cwd(self, cwd: str | None) -> Path:
        if not cwd:
            return self.roots[0]
        folder = Path(cwd).resolve()
        # the kernel's folder only decides where a default output goes: outside the roots, use the root
        return (
            folder
            if any(folder == r or folder.is_relative_to(r) for r in self.roots) and folder.is_dir()
            else self.roots[0]
        )

    def _resumable(self, job_id) -> dict:
        if not isinstance(job_id, int) or isinstance(job_id, bool) or job_id < 1:
            raise InvalidInput(f"--resume takes a job number; got {job_id!r}.")
        operation = self.operations.get(job_id)
        if operation["kind"] != KIND:
            raise InvalidInput(f"Operation {job_id} is a {operation['kind']}, not a batch job; --resume takes a job.")
        if operation["status"] not in ("failed", "cancelled"):
            raise Conflict(f"Job {job_id} is {operation['status']}; --resume continues a failed or cancelled job.")
        inputs = self.operations.store.inputs(job_id)
        return {"files": inputs["files"], "model": inputs["model"]}

    # -- describing -----------------------------------------------------------------------------

    def get(self, job_id: int) -> views.Job:
        """The job with its mini-batch table."""
        operation = self.operations.get(job_id)
        if operation["kind"] != KIND:
            raise NotFound(f"No batch job {job_id} (operation {job_id} is a {operation['kind']}); %jobs lists jobs.")
        return self.describe(operation, table=True)

    def list(self, status: str | None = None, page: int = 1, per_page: int = 50) -> views.JobPage:
        """Jobs, newest first (``status``: several separated by commas), without their tables."""
        listed = self.operations.list(kind=KIND, status=status, page=page, per_page=per_page)
        return views.JobPage(
            jobs=[self.describe(op) for op in listed["operations"]],
            total=listed["total"],
            page=listed["page"],
            per_page=listed["per_page"],
        )

    def cancel(self, job_id: int, user: str = "") -> views.Job:
        self.get(job_id)
        return self.describe(self.operations.cancel(job_id, user=user), table=True)

    def describe(self, operation: dict, table: bool = False) -> views.Job:
        """The job of ``operation`` (its JSON): the operation's fields and the job's own; with
        ``table``, its first mini-batches."""
        inputs = self.operations.store.inputs(operation["id"])
        folder = job_dir(self.root, operation["id"])
        output_dir = output_location(inputs, operation["id"])
        name = inputs["settings"]["output_file_name"]
        state = _read_json(folder / "mini-batches.json") or {}
        result = operation.get("result") or {}
        notebook_dir = default_output(inputs, operation["id"]) if locations.is_url(output_dir) else output_dir
        notebook = result.get("notebook") or str(notebook_dir / f"job-{operation['id']}.ipynb")
        described = {
            **operation,
            "job": operation["id"],
            "model": inputs["model"],
            "endpoint": inputs.get("endpoint"),
            "settings": {**inputs["settings"], "env_vars": sorted(inputs["settings"]["env_vars"])},  # names only
            "entry_script": inputs.get("entry_script"),
            "inputs": {"files": len(inputs["files"]), "first": inputs["files"][:5]},
            # no output path for a job that ended without one: it was never written
            "output": (f"{output_dir}/" if locations.is_url(output_dir) else str(output_dir / name))
            if inputs["settings"]["output_action"] == "append_row"
            and operation["status"] not in ("failed", "cancelled")
            else None,
            "output_dir": str(output_dir),
            "notebook": notebook if Path(notebook).exists() else None,
            "notebook_lab_path": self._lab_path(notebook) if Path(notebook).exists() else None,
            "summary": result.get("summary") or (operation.get("error") or {}).get("report") or state.get("summary"),
            "resume": inputs.get("resume"),
        }
        if table:
            described["mini_batches"] = [_row(r) for r in (state.get("records") or [])[:TABLE_PREVIEW]]
        return views.Job(**described)

    def _lab_path(self, path: str) -> str | None:
        """The notebook's path as JupyterLab opens it (relative to the server's root), if inside."""
        resolved = Path(path).resolve()
        root = self.roots[0]
        return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else None


def output_file(inputs: dict) -> Path | str | None:
    """The file a job's --output names, or its ``s3://`` prefix (None for summary_only or the
    default, per-job folder)."""
    if not inputs.get("output") or inputs["settings"]["output_action"] != "append_row":
        return None
    if locations.is_url(inputs["output"]):
        return inputs["output"]
    return Path(inputs["output"]) / inputs["settings"]["output_file_name"]


def _needs_script(version: dict) -> str:
    return (
        f"{version['ref']} is a {version['flavor']} model: the built-in batch scorer reads sklearn, ONNX and "
        "MLflow models; give an entry script (--entry-script) that scores it."
    )


def _row(record: dict) -> dict:
    failed_files = [
        {"file": os.path.basename(f["file"]), "error": f["error"]} for f in record.get("failed_files") or []
    ]
    if record.get("reused_from"):
        status = "reused"
    elif record.get("status") == "retrying":
        status = "retrying"
    elif record.get("error"):
        status = "failed"
    else:
        status = "partly failed" if failed_files else "succeeded"
    return {
        "index": record["index"],
        "status": status,
        "files": [os.path.basename(f) for f in record["files"]],
        "failed_files": failed_files,
        "retries": record.get("retries") or [],
        "not_retried": record.get("not_retried"),
        "rows_in": record.get("rows_in"),
        "rows_out": record.get("rows_out"),
        "seconds": record.get("seconds"),
        "attempts": record.get("attempt"),
        "worker": record.get("worker"),
        "error": record.get("error"),
        "traceback": record.get("traceback"),
        "reused_from": record.get("reused_from"),
    }


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
