"""What an uploaded tar may hold, checked member by member before its data is read.

Used at upload (so a bad archive is refused at once, naming the path) and again while a
registration extracts it. Refused: absolute paths and '..', links, anything but files and
folders, names a file system cannot hold (a component over 255 bytes, a path over 1024, control
characters, invalid UTF-8), a name that is both a file and a folder, a file twice, and more than
``max_size`` bytes or ``max_files`` entries once unpacked: the sizes in the headers are what
unpacking writes, so a 10 KB compressed or sparse tar that would expand to gigabytes is refused
before anything is written. ``./`` prefixes (``tar -C dir .``) are accepted.

Not here: where uploads are kept and extracted to (``artifacts``).
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from ..errors import InvalidInput, NotFound, TooLarge

MAX_NAME_BYTES = 255  # one path component: the limit of common file systems
MAX_PATH_BYTES = 1024
# what reading a damaged archive raises: tarfile's own errors, and a broken gzip stream's
DAMAGED_ARCHIVE = (tarfile.TarError, EOFError, zlib.error)


def clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def check_relative_path(path: str) -> str:
    """Normalise a path inside a version; refuse anything that could leave the folder, or that a
    file system or a JSON manifest cannot hold."""
    if not path or "\\" in path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise InvalidInput(
            f"Invalid file path {clip(path)!r}: use a relative path with '/' separators and no control characters."
        )
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"Invalid file path {clip(path)!r}: it is not valid UTF-8; rename the file.") from None
    pure = PurePosixPath(path)
    if pure.is_absolute() or any(part in ("..", "") for part in pure.parts):
        raise InvalidInput(
            f"Invalid file path {path!r}: paths must stay inside the model's folder (no absolute paths, no '..')."
        )
    parts = [p for p in pure.parts if p != "."]
    if not parts:
        raise InvalidInput(f"Invalid file path {path!r}: it names the folder itself, not a file.")
    long_part = next((p for p in parts if len(p.encode()) > MAX_NAME_BYTES), None)
    if long_part is not None:
        raise InvalidInput(
            f"Invalid file path {clip(path)!r}: the name {clip(long_part)!r} is {len(long_part.encode())} bytes "
            f"long; file systems hold at most {MAX_NAME_BYTES}. Rename it."
        )
    if len(encoded) > MAX_PATH_BYTES:
        raise InvalidInput(
            f"Invalid file path {clip(path)!r}: it is {len(encoded)} bytes long; the limit is {MAX_PATH_BYTES}."
        )
    return "/".join(parts)


def _is_folder_itself(name: str) -> bool:
    """'.' and './' are what ``tar -C dir .`` writes for the folder being archived."""
    return all(part in ("", ".") for part in name.split("/"))


def open_tar(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:*")
    except (tarfile.TarError, EOFError) as exc:
        raise InvalidInput(
            f"The upload is not a readable tar archive ({exc}); send the files as one tar stream."
        ) from None
    except FileNotFoundError:
        raise NotFound("The upload's file is gone (it expired while waiting); upload the files again.") from None


def checked_members(tar: tarfile.TarFile, max_size: int, max_files: int) -> Iterator[tuple[tarfile.TarInfo, str]]:
    """Yield each member with its normalised path, refusing the archive at the first member
    that breaks a rule (see the module's docstring), before its data is read."""
    files: set[str] = set()
    folders: set[str] = set()
    count = total = 0
    for member in tar:
        if member.isdir() and _is_folder_itself(member.name):
            continue
        count += 1
        if count > max_files:
            raise TooLarge(
                f"The upload has more than {max_files} files and folders "
                "(c.ModelHubApp.max_files_per_version); register fewer files, e.g. as one archive file."
            )
        name = check_member(member)
        parents = {"/".join(name.split("/")[:i]) for i in range(1, name.count("/") + 1)}
        clash = next((p for p in sorted(parents) if p in files), None)
        if clash is not None:
            raise InvalidInput(
                f"{clip(clash)!r} is both a file and a folder in the upload (it holds {clip(name)!r}); "
                "rename one of them."
            )
        if member.isdir():
            if name in files:
                raise InvalidInput(f"{clip(name)!r} is both a file and a folder in the upload; rename one of them.")
            folders.add(name)
        else:
            if name in files:
                raise InvalidInput(f"File {clip(name)!r} appears twice in the upload.")
            if name in folders:
                raise InvalidInput(f"{clip(name)!r} is both a file and a folder in the upload; rename one of them.")
            files.add(name)
            total += member.size
            if total > max_size:
                raise too_large(max_size)
        folders.update(parents)
        yield member, name


def too_large(max_size: int) -> TooLarge:
    return TooLarge(
        f"The upload unpacks to more than {max_size} bytes (c.ModelHubApp.max_upload_size counts the "
        "bytes of the files once unpacked); register fewer or smaller files, or raise the limit."
    )


def check_member(member: tarfile.TarInfo) -> str:
    if member.issym() or member.islnk():
        raise InvalidInput(
            f"Link {member.name!r} in the upload: links are refused because they can point "
            "outside the model's folder; register the file it points at instead."
        )
    if not (member.isfile() or member.isdir()):
        raise InvalidInput(f"{member.name!r} in the upload is not a regular file or folder.")
    return check_relative_path(member.name)
