"""A version's reference profile, stored with the version: made from rows, read back.

Where it is kept: in the version's properties, under ``reference``, where conversion keeps its
equivalence and speed reports. A version's files are immutable and content-addressed (the same
files are the same version), so a profile made later cannot join them without changing what the
version is; properties are the version's metadata, travel with it in every answer and backup,
and need no table of their own. The profile is bounded (about 0.7 KB a feature).

Properties are otherwise add-only; a reference is the one that is replaced: the profile of a
small registration sample gives way to the training set's (``%reference churn:3 X_train``).
Each replacement is recorded in the events feed (``reference_set``), like every other change.

The rows come as JSON (``{"columns", "data"}``) in the request, or, for a training set too big
for JSON, as an upload (``POST uploads``, a tar holding ``inputs.parquet`` or ``inputs.csv`` and
optionally ``predictions.parquet``/``.csv``), as a registration's files do. Predictions come
from the client, which has the model: the server never loads a pickle.

Not here: the statistics (``profile``, ``drift``), the REST handlers (``api.monitoring``).
"""

from __future__ import annotations

import io
import tarfile

import pandas as pd
from sqlalchemy.orm import Session

from ..errors import InvalidInput, NotFound
from ..refs import ModelRef
from ..registry import events
from ..store.archives import DAMAGED_ARCHIVE, checked_members, open_tar
from ..store.orm import utcnow
from .profile import ReferenceProfile, profile_frames

PROPERTY = "reference"
READERS = {".parquet": pd.read_parquet, ".csv": pd.read_csv}
UPLOAD_PARTS = ("inputs", "predictions")


class References:
    """Reads and sets versions' reference profiles through the registry (its database and uploads)."""

    def __init__(self, registry):
        self.registry = registry

    def reference(self, ref: str | ModelRef) -> ReferenceProfile:
        version = self.registry.get_version(ref)
        stored = version["properties"].get(PROPERTY)
        if not stored:
            raise NotFound(
                f"Version {version['ref']} has no reference profile: make one from its training data with "
                f"%reference {version['ref']} X_train (or PUT .../reference)."
            )
        return ReferenceProfile.model_validate(stored)

    def set_reference(
        self, ref: str | ModelRef, inputs: object, predictions: object = None, source: str = "", user: str = ""
    ) -> ReferenceProfile:
        """Profile the rows against the version's signature and store the profile with it."""
        version = self.registry.get_version(ref)  # an unknown version is a 404 before any work
        profile = profile_frames(inputs, predictions, version.get("signature"), source=source)
        self._store(ref, profile, user)
        return profile

    def set_reference_from_upload(
        self, ref: str | ModelRef, upload_id: str, source: str = "", user: str = ""
    ) -> ReferenceProfile:
        """The same, from an uploaded tar of ``inputs`` (and ``predictions``) as Parquet or CSV.
        The upload is used up whatever the outcome."""
        try:
            self.registry.get_version(ref)
        except NotFound:
            self.registry.use_up(upload_id, user)
            raise
        path = self.registry.artifacts.claim_upload(upload_id, user)
        try:
            frames = self._read_upload(path)
        finally:
            path.unlink(missing_ok=True)
        return self.set_reference(ref, frames["inputs"], frames.get("predictions"), source, user)

    def _read_upload(self, path) -> dict[str, pd.DataFrame]:
        artifacts = self.registry.artifacts
        frames: dict[str, pd.DataFrame] = {}
        try:
            with open_tar(path) as tar:
                for member, name in checked_members(tar, artifacts.max_size, artifacts.max_files):
                    if member.isfile():
                        part, reader = _part(name)
                        frames[part] = _read(tar, member, name, reader)
        except DAMAGED_ARCHIVE as exc:
            raise InvalidInput(f"The upload is an incomplete or damaged tar archive ({exc}).") from None
        if "inputs" not in frames:
            raise InvalidInput("The upload has no inputs.parquet or inputs.csv: the rows to profile go there.")
        return frames

    def _store(self, ref: str | ModelRef, profile: ReferenceProfile, user: str) -> None:
        def change(session: Session) -> None:
            row = self.registry.resolve(session, ref)
            row.properties = {**row.properties, PROPERTY: profile.model_dump(mode="json")}
            row.model.updated_time = utcnow()
            events.record_event(session, "reference_set", row.model.name, row.version, user)

        self.registry.db.write(change)


def _part(name: str):
    stem, dot, suffix = name.rpartition(".")
    reader = READERS.get(f".{suffix.lower()}") if dot else None
    if stem not in UPLOAD_PARTS or reader is None:
        raise InvalidInput(
            f"Unexpected file {name!r} in the upload: it holds inputs.parquet (or .csv) and, optionally, "
            "predictions.parquet (or .csv)."
        )
    return stem, reader


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str, reader) -> pd.DataFrame:
    data = tar.extractfile(member).read()
    try:
        return reader(io.BytesIO(data))
    except Exception as exc:  # a file that is not what its name says: the reader's own words
        raise InvalidInput(f"{name} in the upload cannot be read: {type(exc).__name__}: {str(exc)[:200]}.") from None
