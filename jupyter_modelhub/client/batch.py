"""The batch scoring part of the client: jobs and batch endpoints (mixed into ModelHubClient).

Paths (inputs, ``output``, ``entry_script``) are taken from the caller's working folder, as a
user expects, and sent absolute; the server checks them against its folders.
"""

from __future__ import annotations

import os
from urllib.parse import quote

from .. import display

SETTINGS = (
    "mini_batch_size",
    "max_concurrency",
    "output_action",
    "output_file_name",
    "error_threshold",
    "max_retries",
    "timeout",
    "env_vars",
    "workers",
    "scheduler",
    "environment",
)


def _absolute(path) -> str | None:
    """Relative to the current folder (globs keep their wildcards); a URL (``s3://...``) as given."""
    if isinstance(path, str) and "://" in path:
        return path
    return os.path.abspath(os.path.expanduser(os.fspath(path))) if path else None


class BatchMethods:
    """``batch``, ``jobs``, ``job``, ``cancel_job`` and the batch endpoint methods."""

    def batch(
        self,
        target: str,
        inputs=(),
        *,
        output=None,
        overwrite: bool = False,
        entry_script=None,
        resume: int | None = None,
        wait: bool = True,
        progress=None,
        **settings,
    ) -> display.Job:
        """Score files with a model (NAME, NAME:VERSION, NAME@ALIAS) or a batch endpoint's name.

        ``inputs`` are files, folders or globs; ``settings`` are Azure's batch settings
        (``mini_batch_size=10``, ``max_concurrency=1``, ``error_threshold=-1``, ``max_retries=3``,
        ``timeout=30``, ``output_action="append_row"``, ``output_file_name="predictions.csv"``,
        ``env_vars={}``) and where it runs (``workers=1`` or ``scheduler="tcp://..."``, and
        ``environment="NAME[:VERSION]"`` for the workers' packages).
        An existing output file is replaced only with ``overwrite=True`` (else a Conflict).
        ``wait=False`` returns the job at once.
        """
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:
            raise TypeError(f"Unknown batch settings {unknown}; the settings are {', '.join(SETTINGS)}.")
        inputs = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
        body = {
            "model": target,
            "inputs": [_absolute(p) for p in inputs],
            "output": _absolute(output),
            "overwrite": bool(overwrite),
            "entry_script": _absolute(entry_script),
            "resume": resume,
            "cwd": os.getcwd(),
            "settings": {k: v for k, v in settings.items() if v is not None},
        }
        job = display.Job(self._call("POST", "jobs", json=body), client=self)
        if not wait:
            return job
        return job.wait(progress=progress).outcome()

    def jobs(self, status: str | None = None, page: int = 1, per_page: int = 50) -> display.JobList:
        params = {"page": page, "per_page": per_page, **({"status": status} if status else {})}
        listed = self._call("GET", "jobs", params=params)
        return display.JobList({**listed, "jobs": [display.Job(j, client=self) for j in listed["jobs"]]})

    def job(self, job_id: int) -> display.Job:
        return display.Job(self._call("GET", f"jobs/{int(job_id)}"), client=self)

    def cancel_job(self, job_id: int) -> display.Job:
        """Cancel it and wait until its worker stopped (the server answers a cancel at once)."""
        state = self._call("POST", f"jobs/{int(job_id)}/cancel", json={})
        return self.job(job_id) if self._stopped(state) is not state else display.Job(state, client=self)

    def save_batch_endpoint(
        self, name: str, model: str, *, entry_script=None, description: str = "", **settings
    ) -> display.BatchEndpointInfo:
        """Save (or add a version of) batch endpoint ``name``: ``model`` and the batch settings."""
        body = {
            "name": name,
            "model": model,
            "entry_script": _absolute(entry_script),
            "description": description,
            "settings": {k: v for k, v in settings.items() if v is not None},
        }
        return display.BatchEndpointInfo(self._call("POST", "batch-endpoints", json=body))

    def batch_endpoints(self) -> display.BatchEndpointList:
        return display.BatchEndpointList(self._call("GET", "batch-endpoints"))

    def batch_endpoint(self, name: str) -> display.BatchEndpointInfo:
        return display.BatchEndpointInfo(self._call("GET", f"batch-endpoints/{quote(name, safe='')}"))

    def delete_batch_endpoint(self, name: str) -> display.Deleted:
        return display.Deleted(self._call("DELETE", f"batch-endpoints/{quote(name, safe='')}"))
