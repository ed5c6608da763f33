"""What a batch job is asked to do: Azure's batch deployment settings, and the input files.

The settings carry Azure ML's names and defaults (``mini_batch_size`` 10 files,
``max_concurrency`` 1 per worker, ``error_threshold`` -1, ``max_retries`` 3, ``timeout`` 30 s,
``append_row`` into ``predictions.csv``), so a configuration moved from Azure means the same
here. Inputs are files, folders and globs, resolved on the server and checked against its
folders before anything starts: a job that cannot work is a 400, not a failed job.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import InvalidInput
from .tables import TABLE_SUFFIXES

OUTPUT_SUFFIXES = (".csv", ".parquet", ".jsonl")
ENV_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
SCHEDULER_RE = re.compile(r"^tcp://[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}$")
MAX_FILES = 100_000
JOB_NOTEBOOK_RE = re.compile(r"^job-[0-9]+\.ipynb$")  # the executed notebook a job copies next to its output


class BatchSettings(BaseModel):
    """Azure's batch deployment settings, plus where the mini-batches run (Dask)."""

    # strict: `true` or "10" for a count is a mistake to name, not a value to guess at (an int is a float)
    model_config = ConfigDict(extra="forbid", strict=True)

    mini_batch_size: int = Field(10, ge=1, le=100_000, description="files per mini-batch (Azure's default 10)")
    max_concurrency: int = Field(1, ge=1, le=64, description="mini-batches run at once on each worker")
    output_action: Literal["append_row", "summary_only"] = "append_row"
    output_file_name: str = Field("predictions.csv", description="a file name ending in .csv, .parquet or .jsonl")
    error_threshold: int = Field(
        -1,
        ge=-1,
        le=2**31 - 1,
        description="failed items (files) tolerated; -1 ignores failures, N fails the job once more than N failed",
    )
    max_retries: int = Field(3, ge=0, le=100, description="attempts after the first for a failed mini-batch")
    timeout: float = Field(30.0, gt=0, le=86_400, description="seconds each mini-batch may take")
    env_vars: dict[str, str] = Field(default_factory=dict, description="environment variables for init() and run()")
    workers: int = Field(1, ge=1, le=64, description="processes of the LocalCluster the job starts")
    scheduler: Optional[str] = Field(None, description="tcp://HOST:PORT of an existing Dask scheduler instead")
    environment: Optional[str] = Field(
        None,
        max_length=200,
        description="a registered environment (NAME or NAME:VERSION) whose packages "
        "the job's Dask workers, and so the entry script, run with",
    )

    @field_validator("output_file_name")
    @classmethod
    def _plain_file_name(cls, value: str) -> str:
        if (
            "/" in value
            or "\\" in value
            or value.startswith(".")
            or not value.endswith(OUTPUT_SUFFIXES)
            or len(value) > 200
            or "\x00" in value
        ):
            raise ValueError(
                f"{value!r} is not a file name ending in {', '.join(OUTPUT_SUFFIXES)} (the output folder is --output)"
            )
        return value

    @field_validator("env_vars")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not ENV_VAR_RE.match(key):
                raise ValueError(f"{key!r} is not an environment variable name (letters, digits and '_')")
            if "\x00" in text:
                raise ValueError(f"the value of {key} contains a NUL character")
        return value

    @field_validator("scheduler")
    @classmethod
    def _scheduler_address(cls, value: str | None) -> str | None:
        if value is not None and not SCHEDULER_RE.match(value):
            raise ValueError(f"{value!r} is not a Dask scheduler address like tcp://127.0.0.1:8786")
        return value


def checked_settings(values: dict) -> BatchSettings:
    """``values`` as settings, or a 400 naming each wrong one and what it takes."""
    from pydantic import ValidationError

    try:
        return BatchSettings(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]) or "settings"
            problems.append(f"{field}: {error['msg'].removeprefix('Value error, ')}")
        raise InvalidInput("Invalid batch settings: " + "; ".join(problems) + ".") from None


def user_path(path: str, roots: list[Path], what: str) -> Path:
    """A path the user gave, resolved (links too) and checked to be inside the server's folders."""
    if not path or "\x00" in path:
        raise InvalidInput(f"{what} is empty; give a path.")
    resolved = Path(path).expanduser().resolve()
    if not any(resolved == r or resolved.is_relative_to(r) for r in roots):
        raise InvalidInput(
            f"{what} {path} is outside the server's folders; use one under "
            + (", ".join(map(str, roots)) or "the server's root")
            + "."
        )
    return resolved


def resolve_inputs(
    inputs: list[str], roots: list[Path], any_file: bool, output: Path | None = None, remote=None
) -> list[Path | str]:
    """Files, folders and globs as the sorted list of files they name, each inside ``roots``.

    ``any_file`` (an entry script reads the files) accepts every file; the built-in scorer
    takes only tables it can read (CSV, Parquet, JSON lines). A folder or glob never yields
    what the product writes next to an output: the job's own ``output`` file, an executed
    notebook copy (``job-N.ipynb``) beside it, or a hidden partial file; so an output folder
    inside an input folder is not scored by the next run. ``remote(url)`` resolves an
    ``s3://`` input (``locations.resolve_url_input``) to the URLs of its objects.
    """
    if not inputs:
        raise InvalidInput("No inputs: give files, folders or globs to score, e.g. %batch churn data/*.parquet.")
    files: list[Path | str] = []
    for text in inputs:
        if not isinstance(text, str) or not text or "\x00" in text:
            raise InvalidInput(f"Input {text!r} is not a path.")
        if "://" in text:
            if remote is None or not text.startswith("s3://"):
                raise InvalidInput(f"Input {text} is not a local path or an s3:// URL.")
            files.extend(remote(text))
            continue
        if glob.has_magic(text):
            user_path(_glob_base(text), roots, f"Input {text}")
            matches = sorted(Path(p) for p in glob.glob(text, recursive=True))
            found = [user_path(str(p), roots, f"Input {p}") for p in matches if p.is_file()]
            found = [
                p for p in found if (any_file or p.suffix.lower() in TABLE_SUFFIXES) and not _written_by_jobs(p, output)
            ]
            if not found:
                raise InvalidInput(f"Input {text} matches no {'' if any_file else 'CSV, Parquet or JSON lines '}files.")
            files.extend(found)
            continue
        path = user_path(text, roots, f"Input {text}")
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and (any_file or p.suffix.lower() in TABLE_SUFFIXES)
                and not _written_by_jobs(p.resolve(), output)
            )
            if not found:
                raise InvalidInput(
                    f"Input folder {text} has no {'' if any_file else 'CSV, Parquet or JSON lines '}files to score."
                )
            files.extend(user_path(str(p), roots, f"Input {p}") for p in found)
        elif path.is_file():
            if output is not None and path == output:
                raise InvalidInput(
                    f"Input {text} is this job's output file: a job cannot score the file it "
                    "writes; choose another --output or --output-file-name."
                )
            if not any_file and path.suffix.lower() not in TABLE_SUFFIXES:
                raise InvalidInput(
                    f"Input {text} is a {path.suffix or 'suffix-less'} file; the built-in scorer reads "
                    "CSV, Parquet and JSON lines (.csv, .parquet, .jsonl). Other files need an entry "
                    "script (--entry-script) whose run() reads them."
                )
            files.append(path)
        else:
            raise InvalidInput(f"Input {text} does not exist.")
    unique = list(dict.fromkeys(files))  # a file named twice is scored once, in its first place
    if len(unique) > MAX_FILES:
        raise InvalidInput(f"The inputs name {len(unique)} files; a job takes at most {MAX_FILES}.")
    return unique


def _written_by_jobs(path: Path, output: Path | None) -> bool:
    """A file batch jobs write (not an input): a hidden partial output, or, next to this job's
    output, the output itself and the executed notebooks copied there."""
    if path.name.startswith(".") and ".partial-" in path.name:
        return True
    if output is None:
        return False
    return path == output or (path.parent == output.parent and JOB_NOTEBOOK_RE.match(path.name) is not None)


def _glob_base(pattern: str) -> str:
    """The folder part of a glob before its first wildcard, to check it against the roots."""
    parts = Path(pattern).parts
    base = [p for p in parts[: next(i for i, p in enumerate(parts) if glob.has_magic(p))]]
    return str(Path(*base)) if base else "."


def mini_batches(files: list[Path | str], size: int) -> list[list[str]]:
    return [[str(f) for f in files[i : i + size]] for i in range(0, len(files), size)]


def default_output(inputs: dict, job_id: int) -> Path:
    """Without --output: ``batch-outputs/<model or endpoint>-<job>`` in the kernel's folder."""
    label = (inputs.get("endpoint") or inputs["model"]).replace(":", "-").replace("@", "-")
    return Path(inputs["cwd"]) / "batch-outputs" / f"{label}-{job_id}"


def output_location(inputs: dict, job_id: int) -> Path | str:
    """Where a job writes: its --output folder or ``s3://`` prefix, else the default folder."""
    output = inputs.get("output")
    if output and output.startswith("s3://"):
        return output
    return Path(output) if output else default_output(inputs, job_id)
