"""Batch inputs and outputs in a bucket: ``s3://`` URLs beside local paths, and the commit of an
output on object storage, where there is no atomic rename.

Inputs: ``s3://bucket/data/*.parquet`` (a glob), ``s3://bucket/data/`` (a folder: every object
under it, hidden ``.``/``_`` names left out) or one object, resolved on the server before the job
starts, as local paths are. They are read through fsspec's s3fs with the server's
``storage_options`` (the artifact store's) and the standard AWS environment.

Outputs (``--output s3://bucket/preds/``): every mini-batch's worker writes its part
``part-NNNNNN.<suffix>`` under the prefix, and the job commits by writing ``_SUCCESS`` last: a
manifest naming the job and its parts, as Spark and Dask writers mark a finished output. Readers
(``pandas.read_parquet("s3://bucket/preds/")``) skip ``_`` names. A job that fails writes no
``_SUCCESS``: its finished parts stay, uncommitted, for ``--resume``. The product never deletes
or replaces an object it did not write: a prefix holding any is refused.

Credentials reach the job's kernel in a file of the job's folder that only the owner can read
(removed once read), and the Dask workers through a worker plugin: never in the notebook, its
parameters or its log.

Not here: local paths (``settings``), the artifact store (``store/artifacts``).
"""

from __future__ import annotations

import json
import os
import posixpath
import re

from ..errors import Conflict, InvalidInput, Unavailable

URL_SCHEMES = ("s3://",)
SUCCESS = "_SUCCESS"
PART_RE = re.compile(r"^part-[0-9]{6}\.(csv|parquet|jsonl)$")
# the AWS environment a worker elsewhere needs to reach the same store as the server
AWS_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


def is_url(text) -> bool:
    return isinstance(text, str) and text.startswith(URL_SCHEMES)


def normal_url(url: str) -> str:
    """``s3://bucket/preds/`` -> ``s3://bucket/preds`` (one spelling per prefix)."""
    bucket, _, key = url[len("s3://") :].partition("/")
    if not bucket or "\x00" in url:
        raise InvalidInput(f"{url!r} is not an s3:// URL: expected s3://BUCKET/PREFIX.")
    key = posixpath.normpath(key) if key.strip("/") else ""
    if key.startswith("..") or "/../" in f"/{key}/":
        raise InvalidInput(f"{url!r} is not an s3:// URL: '..' is not a folder in a bucket.")
    return f"s3://{bucket}/{key}".rstrip("/") if key not in ("", ".") else f"s3://{bucket}"


def part_name(index: int, suffix: str) -> str:
    return f"part-{index:06d}{suffix}"


def job_storage_options(storage_options: dict | None) -> dict:
    """s3fs options for a job's kernel and workers: the server's ``storage_options`` with the
    standard AWS environment filled in, so workers on other machines reach the same store."""
    options = dict(storage_options or {})
    env = os.environ
    if "key" not in options and env.get("AWS_ACCESS_KEY_ID"):
        options["key"] = env["AWS_ACCESS_KEY_ID"]
        options.setdefault("secret", env.get("AWS_SECRET_ACCESS_KEY", ""))
        if env.get("AWS_SESSION_TOKEN"):
            options.setdefault("token", env["AWS_SESSION_TOKEN"])
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint and "endpoint_url" not in options and "endpoint_url" not in (options.get("client_kwargs") or {}):
        options["endpoint_url"] = endpoint
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        options["client_kwargs"] = {"region_name": region, **(options.get("client_kwargs") or {})}
    return options


def filesystem(options: dict | None):
    """An s3fs file system (fails fast when the store is away: see ``store.artifacts.s3``)."""
    from ..store.artifacts.s3 import open_filesystem

    return open_filesystem(options)


def call(url: str, what: str, work, *args, **kwargs):
    """One request about ``url``; a store that cannot be reached or refuses is a clear 503/400."""
    try:
        return work(*args, **kwargs)
    except FileNotFoundError:
        raise
    except PermissionError:
        raise InvalidInput(
            f"The store refused to {what} {url}: check the credentials (AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY, ~/.aws, or c.ModelHubApp.storage_options)."
        ) from None
    except (InvalidInput, Conflict):
        raise
    except Exception as exc:
        raise Unavailable(
            f"Cannot {what} {url}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
            + "; check that the store answers (AWS_ENDPOINT_URL or storage_options['endpoint_url'])."
        ) from None


# -- inputs ------------------------------------------------------------------------------------------


def resolve_url_input(fs, text: str, accept, output: str | None) -> list[str]:
    """The objects an ``s3://`` input names, sorted, as URLs; ``accept(name)`` says whether the
    scorer takes a file of that name. A job's own output prefix is never an input."""
    import glob as globbing

    url = text if globbing.has_magic(text) else normal_url(text)
    path = url[len("s3://") :]
    if globbing.has_magic(text):
        found = sorted(call(text, "list", fs.glob, path))
        files = [p for p in found if _is_object(fs, p)]
    else:
        try:
            info = call(text, "read", fs.info, path)
        except FileNotFoundError:
            raise InvalidInput(f"Input {text} does not exist.") from None
        if info.get("type") == "file":
            if output is not None and posixpath.dirname(url) == output:
                raise InvalidInput(f"Input {text} is in this job's output prefix {output}/: choose another --output.")
            if not accept(path):
                raise InvalidInput(
                    f"Input {text} is not a CSV, Parquet or JSON lines file (.csv, .parquet, .jsonl); other "
                    "files need an entry script (--entry-script) whose run() reads them."
                )
            return [url]
        files = sorted(
            p
            for p in call(text, "list", fs.find, path)
            if not any(part.startswith((".", "_")) for part in posixpath.relpath(p, path).split("/"))
        )
    kept = ["s3://" + p for p in files if accept(p) and (output is None or not ("s3://" + p).startswith(output + "/"))]
    if not kept:
        raise InvalidInput(f"Input {text} matches no files the job can score.")
    return kept


def _is_object(fs, path: str) -> bool:
    try:
        return fs.isfile(path)
    except Exception:
        return False


def labels(files: list[str]) -> list[str]:
    """Each input's name relative to what the inputs share (``file`` in the output)."""
    plain = [f[len("s3://") :] if is_url(f) else f for f in files]
    base = posixpath.commonpath(plain) if len(plain) > 1 else posixpath.dirname(plain[0])
    if len(plain) > 1 and base in plain:  # one file named twice over: its folder
        base = posixpath.dirname(base)
    return [posixpath.relpath(f, base) if base else f for f in plain]


# -- outputs -----------------------------------------------------------------------------------------


def read_manifest(fs, prefix: str) -> dict | None:
    """The ``_SUCCESS`` of a committed output under ``prefix``, or None."""
    try:
        raw = fs.cat_file(f"{prefix[len('s3://') :]}/{SUCCESS}")
    except FileNotFoundError:
        return None
    try:
        manifest = json.loads(raw)
        return manifest if isinstance(manifest, dict) and "modelhub_job" in manifest else {"foreign": True}
    except ValueError:
        return {"foreign": True}  # a Spark or Dask writer's empty marker: not ours


def check_output_prefix(fs, prefix: str, overwrite: bool, resume: int | None, leftovers_of) -> None:
    """Refuse an output prefix that holds objects the product did not write, or a committed
    output (without ``overwrite``), or a failed job's uncommitted parts (unless resumed or
    ``overwrite``). ``leftovers_of(prefix)`` names the earlier jobs that wrote there."""
    path = prefix[len("s3://") :]
    try:
        names = sorted(posixpath.relpath(p, path) for p in call(prefix, "list", fs.find, path))
    except FileNotFoundError:
        return
    if not names:
        return
    manifest = read_manifest(fs, prefix) if SUCCESS in names else None
    ours = set()
    if manifest and not manifest.get("foreign"):
        ours = {SUCCESS, *(p["name"] for p in manifest.get("parts", []))}
    earlier = leftovers_of(prefix) if any(PART_RE.match(n) for n in names if n not in ours) else []
    if earlier:
        ours |= {n for n in names if PART_RE.match(n)}
    foreign = [n for n in names if n not in ours]
    if foreign:
        raise Conflict(
            f"--output {prefix}/ holds {len(foreign)} object{'s' if len(foreign) != 1 else ''} Model Hub did not "
            f"write ({', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}); a job never replaces them: "
            "choose an empty prefix for --output."
        )
    if manifest and not overwrite:
        raise Conflict(
            f"--output {prefix}/ holds the committed output of job {manifest['modelhub_job']} ({SUCCESS}); "
            "give --overwrite (overwrite: true) to replace it, or choose another --output."
        )
    uncommitted = [j for j in earlier if j != resume]
    if uncommitted and not manifest and not overwrite and resume not in earlier:
        raise Conflict(
            f"--output {prefix}/ holds the uncommitted parts of job {uncommitted[-1]}, which did not finish: "
            f"--resume {uncommitted[-1]} finishes it, --overwrite replaces them, or choose another --output."
        )


def clear_for_overwrite(fs, prefix: str, keep: set[str]) -> None:
    """Before a job replaces an output: its ``_SUCCESS`` first (the old output is no longer
    committed), then the parts Model Hub wrote there, except those this job reuses."""
    path = prefix[len("s3://") :]
    fs.rm_file(f"{path}/{SUCCESS}") if fs.exists(f"{path}/{SUCCESS}") else None
    try:
        names = [posixpath.relpath(p, path) for p in fs.find(path)]
    except FileNotFoundError:
        return
    stale = [f"{path}/{n}" for n in names if PART_RE.match(n) and n not in keep]
    if stale:
        fs.rm(stale)


def commit(fs, prefix: str, job: int, model: str, parts: list[dict], overwrite: bool) -> str:
    """Write ``_SUCCESS`` last, listing ``parts``: the output is committed from this moment on.
    A ``_SUCCESS`` another job wrote meanwhile is not replaced (the job fails saying so)."""
    path = prefix[len("s3://") :]
    marker = f"{path}/{SUCCESS}"
    if not overwrite and fs.exists(marker):
        raise FileExistsError(
            f"{prefix}/{SUCCESS} was written while job {job} ran: the output there was kept and this job's "
            "was not committed; run it again with --overwrite, or choose another --output."
        )
    manifest = {
        "modelhub_job": job,
        "model": model,
        "rows": sum(p.get("rows") or 0 for p in parts),
        "parts": parts,
    }
    fs.pipe_file(marker, json.dumps(manifest, indent=1).encode())
    return f"{prefix}/"
