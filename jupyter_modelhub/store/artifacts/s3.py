"""Published versions in an S3-compatible bucket (``c.ModelHubApp.artifact_uri = "s3://BUCKET/PREFIX"``),
read through a local cache, so several servers with no shared disk are one registry.

Layout in the bucket, beside the local one::

    PREFIX/<model>/<id>/files/<path>   a version's files (multipart above the part size)
    PREFIX/<model>/<id>/manifest.json  written last: a folder without one is unfinished
    PREFIX/.endpoints/<endpoint>/collected/  endpoints' collected requests (``monitoring.bucket``)

Through fsspec's s3fs (what pandas and Dask read ``s3://`` with, so batch jobs can use the same
options): the endpoint and credentials come from ``storage_options`` or the standard AWS places
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_ENDPOINT_URL``, ~/.aws). The part size of
multipart uploads is s3fs's ``default_block_size`` if set in ``storage_options`` (else 16 MiB;
S3's minimum is 5 MiB).

Uploads and staging stay on the server's disk (``local``). Publishing writes every file, then the
manifest; anything that fails on the way removes what was written, and what a killed process
left (no manifest, or no version row) is removed by the registry's sweep once older than the
upload time-to-live. Reads go through the cache (``cache``): a file is downloaded once, checked
against the manifest entry the registry holds, and then read from the local disk, so a store
that is down does not stop what is cached (running endpoints, downloads of cached versions).
The store unreachable is ``Unavailable`` (503) naming it; credentials are never in a message.

Not here: uploads, staging and the checks of local files (``local``); eviction (``cache``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ...errors import Damaged, InvalidInput, ModelHubError, NotFound, Unavailable
from ...extras import missing_extra
from ..archives import check_relative_path, clip
from .cache import KEEP_SECONDS, BlobCache
from .local import DEFAULT_MAX_FILES, DEFAULT_MAX_SIZE, ArtifactStore, StagedFiles, damaged, is_version_folder_name

# parts of a multipart upload go up side by side: 16 MiB parts sent 100 MB a third faster than
# s3fs's 50 MiB (bench/storage.py); S3 allows 10,000 parts, so larger files get larger parts
DEFAULT_PART_SIZE = 16 * 2**20
MAX_PARTS = 10_000


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` -> ("bucket", "some/prefix")."""
    rest = uri[len("s3://") :] if uri.startswith("s3://") else ""
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise InvalidInput(f"Invalid artifact_uri {clip(uri)!r}: expected s3://BUCKET or s3://BUCKET/PREFIX.")
    return bucket, prefix.strip("/")


def open_filesystem(storage_options: dict | None):
    """An s3fs file system with our defaults (fail fast when the store is away), or the sentence
    naming the extra to install."""
    try:
        import s3fs
    except ImportError:
        raise ModuleNotFoundError(missing_extra("s3", "An artifact_uri on s3://")) from None
    options = dict(storage_options or {})
    config = dict(options.pop("config_kwargs", None) or {})
    config.setdefault("retries", {"max_attempts": 2, "mode": "standard"})
    # botocore's default CRC32 of every body sent and read is a second pass over the bytes (an
    # eighth of a registration's time); every file is checked against its manifest's sha256 anyway
    config.setdefault("request_checksum_calculation", "when_required")
    config.setdefault("response_checksum_validation", "when_required")
    options.setdefault("use_listings_cache", False)
    fs = s3fs.S3FileSystem(config_kwargs=config, skip_instance_cache=True, **options)
    fs.retries = 2  # s3fs's own retries on top of botocore's: 5 would hold a request ~10 s in an outage
    return fs


class S3ArtifactStore(ArtifactStore):
    """Local uploads and staging (inherited), versions in a bucket, reads through a ``BlobCache``."""

    def __init__(
        self,
        root: str | Path,
        uri: str,
        *,
        storage_options: dict | None = None,
        cache_dir: str | Path | None = None,
        cache_max_bytes: int = 10 * 1024**3,
        keep_seconds: float = KEEP_SECONDS,
        max_size: int = DEFAULT_MAX_SIZE,
        max_files: int = DEFAULT_MAX_FILES,
    ):
        super().__init__(root, max_size=max_size, max_files=max_files)
        self.is_remote = True
        self.bucket, self.prefix = split_uri(uri)
        self._uri = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        self.base = f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket
        self.fs = open_filesystem(storage_options)
        self.part_size = int((storage_options or {}).get("default_block_size") or DEFAULT_PART_SIZE)
        self.cache = BlobCache(cache_dir or self.root / "cache", cache_max_bytes, keep_seconds)
        # a size check walks every blob: done once about a hundredth of the bound has come in
        self._shrink_every = max(1, min(cache_max_bytes // 100, 64 * 2**20))
        self._fetched = 0
        self.log = None  # a function that logs a line (eviction notes), set by whoever owns a log

    @property
    def uri(self) -> str:
        return self._uri

    def part_size_for(self, size: int) -> int:
        return max(self.part_size, -(-size // MAX_PARTS))

    # -- talking to the store --------------------------------------------------------------

    def call(self, what: str, work, *args, **kwargs):
        """One request to the store; anything but a missing object becomes ``Unavailable``."""
        try:
            return work(*args, **kwargs)
        except (FileNotFoundError, ModelHubError):
            raise
        except PermissionError as exc:
            raise Unavailable(
                f"The artifact store {self.uri} refused to {what} ({_cause(exc)}): check its credentials "
                "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws, or c.ModelHubApp.storage_options)."
            ) from None
        except Exception as exc:
            if not _unreachable(exc):
                raise Unavailable(
                    f"The artifact store {self.uri} failed to {what} ({_cause(exc)}); try again, and "
                    "if it goes on, check the store's settings (c.ModelHubApp.storage_options)."
                ) from None
            raise Unavailable(
                f"The artifact store {self.uri} cannot be reached to {what} ({_cause(exc)}); try again once it answers."
            ) from None

    def key_of(self, artifact_dir: str, *parts: str) -> str:
        model, _, folder = artifact_dir.partition("/")
        if not model or "/" in folder or not is_version_folder_name(folder) or model in (".", ".."):
            raise InvalidInput(f"Artifact folder {artifact_dir!r} is not a version's folder.")
        return "/".join((self.base, artifact_dir, *parts))

    # -- publishing ------------------------------------------------------------------------

    def publish(self, staged: StagedFiles, model: str) -> str:
        """Write every file, then the manifest, to the bucket; on any failure remove what was
        written. Keeps the files in the cache (this server has them already) and removes the
        staging folder. Returns the version's relative dir, as the local store does."""
        artifact_dir = f"{model}/{staged.folder.name}"
        try:
            for entry in staged.files:
                self.call(
                    "write a file",
                    self.fs.put_file,
                    str(staged.folder / "files" / entry["path"]),
                    self.key_of(artifact_dir, "files", entry["path"]),
                    chunksize=self.part_size_for(entry["size"]),
                )
            manifest = json.dumps({"files": staged.files}, indent=1).encode()
            self.call("write a manifest", self.fs.pipe_file, self.key_of(artifact_dir, "manifest.json"), manifest)
        except FileNotFoundError:
            raise Unavailable(
                f"The artifact store {self.uri} has no bucket {self.bucket!r}: create it, or correct "
                "c.ModelHubApp.artifact_uri."
            ) from None
        except BaseException:
            self._remove_objects(artifact_dir, quietly=True)
            raise
        try:
            for entry in staged.files:
                self.cache.adopt(staged.folder / "files" / entry["path"], entry["sha256"])
                self.cache.link(artifact_dir, entry)
            self.cache.mark_complete(artifact_dir, staged.files)
            self.cache.touch(artifact_dir)
            self._shrink()
        except OSError:
            pass  # the cache is filled again on first use
        shutil.rmtree(staged.folder, ignore_errors=True)
        return artifact_dir

    def remove(self, artifact_dir: str) -> None:
        """Remove a version's objects and this server's cached copy (other servers' copies age out)."""
        self.cache.remove_version(artifact_dir)
        self._remove_objects(artifact_dir)

    def _remove_objects(self, artifact_dir: str, quietly: bool = False) -> None:
        try:
            self.call("remove a version's files", self.fs.rm, self.key_of(artifact_dir), recursive=True)
        except FileNotFoundError:
            pass
        except Unavailable:
            if not quietly:
                raise

    def version_dirs(self) -> list[tuple[str, bool, float]]:
        """Every version folder in the bucket as ``(artifact_dir, has_manifest, last_modified)``:
        only folders named as this store names them (``<model>/<32 hex digits>/``; no model's
        name starts with a dot, as ``.endpoints/``, where collected files go, does)."""
        try:
            found = self.call("list versions", self.fs.find, self.base, detail=True)
        except FileNotFoundError:
            return []
        folders: dict[str, list] = {}
        start = len(self.base) + 1
        for key, info in found.items():
            parts = key[start:].split("/")
            if len(parts) < 3 or parts[0].startswith(".") or not is_version_folder_name(parts[1]):
                continue
            folder = folders.setdefault(f"{parts[0]}/{parts[1]}", [False, 0.0])
            folder[0] = folder[0] or parts[2:] == ["manifest.json"]
            modified = info.get("LastModified")
            folder[1] = max(folder[1], modified.timestamp() if modified is not None else 0.0)
        return [(d, has, modified) for d, (has, modified) in sorted(folders.items())]

    # -- reading (through the cache) -------------------------------------------------------

    def files_dir(self, artifact_dir: str, files: list[dict] | None = None) -> Path:
        """The cached folder of a version's files, filled and checked first if it is not whole."""
        self.cache.touch(artifact_dir)
        if not self.cache.is_complete(artifact_dir):
            entries = files if files is not None else self._manifest(artifact_dir)
            for entry in entries:
                self.verified_path(artifact_dir, entry, artifact_dir)
            self.cache.mark_complete(artifact_dir, entries)
        return self.cache.files_dir(artifact_dir)

    def file_path(self, artifact_dir: str, path: str) -> Path:
        target = self.cache.file_path(artifact_dir, path)
        if not target.is_file():
            raise NotFound(f"File {path!r} is not in this server's cache of the artifact store.")
        return target

    def verified_path(self, artifact_dir: str, entry: dict, label: str) -> Path:
        """A version's file in the cache, downloaded first if needed; its bytes match ``entry``
        (the manifest the registry holds), or ``Damaged`` says the copy in the bucket changed."""
        self.cache.touch(artifact_dir)
        target = self.cache.file_path(artifact_dir, entry["path"])
        if target.exists():
            try:
                return self._checked.check(target, entry, label)
            except Damaged:  # the cached copy was written to: fetch it again
                self.cache.forget(artifact_dir, entry)
        downloaded = not self.cache.blob_path(entry["sha256"]).exists()
        if downloaded:
            self._download(artifact_dir, entry, label)
        target = self.cache.link(artifact_dir, entry)
        if not downloaded:
            return self._checked.check(target, entry, label)
        self._checked.trust(target)  # checked as it was written
        self._fetched += entry["size"]
        if self._fetched >= self._shrink_every:  # once linked: a blob no version links would go first
            self._fetched = 0
            self._shrink()
        return target

    def _download(self, artifact_dir: str, entry: dict, label: str) -> None:
        partial = self.cache.partial_file()
        key = self.key_of(artifact_dir, "files", check_relative_path(entry["path"]))
        try:
            self.call("read a file", self.fs.get_file, key, str(partial))
        except FileNotFoundError:
            partial.unlink(missing_ok=True)
            raise NotFound(
                f"File {entry['path']!r} of {label} is missing from the artifact store {self.uri}."
            ) from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        size = partial.stat().st_size
        if self.cache.add_checked(partial, entry) is None:
            how = f"{size} bytes instead of {entry['size']}" if size != entry["size"] else "its sha256 differs"
            raise damaged(entry, label, how, where=f"the copy in {self.uri}")

    def _manifest(self, artifact_dir: str) -> list[dict]:
        try:
            raw = self.call("read a manifest", self.fs.cat_file, self.key_of(artifact_dir, "manifest.json"))
        except FileNotFoundError:
            raise NotFound(f"The manifest of {artifact_dir} is missing from the artifact store {self.uri}.") from None
        try:
            return json.loads(raw)["files"]
        except (ValueError, KeyError, TypeError):
            raise Damaged(f"The manifest of {artifact_dir} in {self.uri} is not readable.") from None

    def _shrink(self) -> None:
        removed = self.cache.shrink(self.log)
        if removed and self.log is not None:
            self.log(
                f"the cache of {self.uri} removed {len(removed)} versions used least recently: {', '.join(removed)}"
            )


def _unreachable(exc: BaseException) -> bool:
    """Whether an error (or one it came from) is about the connection, not the store's answer."""
    import botocore.exceptions as boto

    connection = (ConnectionError, TimeoutError, boto.EndpointConnectionError, boto.ConnectionError)
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, boto.ClientError):  # the store answered
            return False
        if isinstance(exc, connection) or type(exc).__module__.startswith("aiohttp"):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _cause(exc: BaseException) -> str:
    """The first line of an error, short; store errors name the endpoint and bucket, never keys."""
    text = (str(exc).strip().splitlines() or [""])[0] or type(exc).__name__
    return clip(text, 160)
