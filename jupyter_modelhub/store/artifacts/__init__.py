"""Where versions' files are kept: the server's disk (``local``, the default) or an S3-compatible
bucket read through a bounded local cache (``s3``, ``cache``). ``open_artifact_store`` picks one
from ``c.ModelHubApp.artifact_uri``; both answer the same methods (``publish``, ``remove``,
``files_dir``, ``verified_path``...), so the registry and every service that reads files are the
same for both.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import InvalidInput
from .local import DEFAULT_MAX_FILES, DEFAULT_MAX_SIZE, ArtifactStore, StagedFiles, content_hash

__all__ = ["ArtifactStore", "StagedFiles", "content_hash", "is_remote_uri", "open_artifact_store"]


def is_remote_uri(uri: str) -> bool:
    return uri.startswith("s3://")


def open_artifact_store(
    root: str | Path,
    artifact_uri: str = "",
    *,
    storage_options: dict | None = None,
    cache_dir: str | Path | None = None,
    cache_max_bytes: int = 10 * 1024**3,
    max_size: int = DEFAULT_MAX_SIZE,
    max_files: int = DEFAULT_MAX_FILES,
) -> ArtifactStore:
    """The store ``artifact_uri`` names: empty or ``root/artifacts`` is the local folder as
    always; ``s3://BUCKET/PREFIX`` a bucket. Nothing is sent to a bucket here: a server starts
    while its store is away, and says so on first use."""
    if is_remote_uri(artifact_uri):
        from .s3 import S3ArtifactStore

        return S3ArtifactStore(
            root,
            artifact_uri,
            storage_options=storage_options,
            cache_dir=cache_dir,
            cache_max_bytes=cache_max_bytes,
            max_size=max_size,
            max_files=max_files,
        )
    if artifact_uri and "://" in artifact_uri:
        raise InvalidInput(
            f"Unsupported artifact_uri {artifact_uri!r}: use a local folder (the default, ROOT/artifacts) "
            "or s3://BUCKET/PREFIX for any S3-compatible store."
        )
    store = ArtifactStore(root, max_size=max_size, max_files=max_files)
    if artifact_uri and Path(artifact_uri).resolve() != store.artifacts:
        raise InvalidInput(
            f"artifact_uri {artifact_uri!r} is a local folder other than {store.artifacts}: local versions "
            "live under the root_dir; set c.ModelHubApp.root_dir instead, or use s3://BUCKET/PREFIX."
        )
    return store
