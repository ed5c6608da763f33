"""The scan of pickle-based model files at registration: which modules and callables a file
would import if it were loaded, found without loading it.

A pickle reaches code only through its globals (``GLOBAL``, ``STACK_GLOBAL``, ``INST``, the
copyreg extension codes), which the unpickler resolves with ``find_class``. The scan runs
Python's own pure-Python unpickler (``pickle._Unpickler``, every protocol 0-5, memo and framing
included) with ``find_class`` answering a harmless placeholder class for each global and
recording it, so no callable of the file is ever imported or called, and reads the structure
the file describes. Byte and string payloads are read and dropped, not kept. joblib files are
followed as joblib writes them: compressed ones (zlib, gzip, bz2, xz, lzma) are decompressed as
a stream, the raw bytes of numeric arrays that follow a ``NumpyArrayWrapper`` are skipped, and
the nested pickle of an object array (where names, or a payload, can hide) is scanned too.
cloudpickle and plain pickles are pickles. Every scan is bounded: ``max_bytes`` read (after
decompression) and ``max_seconds``; a file that cannot be read to its end is reported
``complete: false`` with the reason, and what was found up to there.

Each global is compared with ``trusted_modules`` (``c.ModelHubApp.trusted_modules``): an entry
trusts a module and its submodules (``sklearn``) or one global (``builtins.dict``). The
``pickle_policy`` says what an untrusted import does: ``warn`` registers the version and lists
them (the ``pickle_scan`` property, shown in the answer and the version view), ``refuse`` refuses
the registration naming them. A scan that could not finish counts as untrusted.

skops files (``.skops``) are zip archives whose ``schema.json`` names the types the file would
construct; skops itself reads them without loading (``skops.io.get_untrusted_types``), and the
scan compares those with ``trusted_modules`` as it does a pickle's globals.

Not here: where the scan is called (``registry.service`` at registration), serving (``serving.scorers``).
"""

from __future__ import annotations

import _compat_pickle
import bz2
import gzip
import io
import lzma
import pickle
import struct
import time
import zlib
from pathlib import Path

from traitlets import Enum, Float, Integer, List, Unicode
from traitlets.config import Configurable

from ..errors import InvalidInput

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".cloudpickle", ".sav", ".dill")
SKOPS_SUFFIX = ".skops"
MAX_LISTED = 200  # globals listed per file

# What a scikit-learn model's pickle imports: scikit-learn, numpy and scipy (arrays, sparse
# matrices, dtypes), joblib's array wrapper, and the few standard-library callables that rebuild
# plain objects. builtins are named one by one: builtins.eval, exec, getattr, __import__ are not.
DEFAULT_TRUSTED = (
    "sklearn",
    "numpy",
    "scipy",
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "joblib.numpy_pickle.NDArrayWrapper",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.Counter",
    "collections.deque",
    "copyreg._reconstructor",
    "_codecs.encode",
    "datetime",
    "decimal.Decimal",
    "fractions.Fraction",
    "uuid.UUID",
    "functools.partial",
    "pandas",
    *(
        f"builtins.{name}"
        for name in (
            "object dict list set frozenset tuple int float complex bool str bytes bytearray slice range "
            "type NoneType Ellipsis NotImplemented"
        ).split()
    ),
)


class PickleSettings(Configurable):
    """What the registry trusts in pickle-based files; ``ModelHubApp`` has these traits
    (``c.ModelHubApp.trusted_modules``, ``c.ModelHubApp.pickle_policy``)."""

    trusted_modules = List(
        Unicode(),
        list(DEFAULT_TRUSTED),
        config=True,
        help="Modules (and their submodules, e.g. 'sklearn') or single globals (e.g. 'builtins.dict') that a "
        "registered pickle may import. Extend it rather than replace it: c.ModelHubApp.trusted_modules.append('xgboost').",
    )
    pickle_policy = Enum(
        ["warn", "refuse"],
        "warn",
        config=True,
        help="What registering a pickle-based file that imports anything outside trusted_modules does: 'warn' "
        "registers it and lists the imports (the version's pickle_scan property); 'refuse' refuses it (400).",
    )
    pickle_scan_max_bytes = Integer(
        4 * 1024**3, config=True, help="Bytes of one file (after decompression) a scan reads at most."
    )
    pickle_scan_max_seconds = Float(60.0, config=True, help="Seconds a scan of one version's files may take.")

    def pickle_settings(self) -> dict:
        return {
            "trusted": list(self.trusted_modules),
            "policy": self.pickle_policy,
            "max_bytes": self.pickle_scan_max_bytes,
            "max_seconds": self.pickle_scan_max_seconds,
        }


class ScanStopped(Exception):
    """The scan went past its byte or time budget."""


def trusted(global_name: str, trusted_modules: list[str] | tuple[str, ...]) -> bool:
    module = global_name.rsplit(".", 1)[0] if "." in global_name else global_name
    return any(global_name == t or module == t or module.startswith(t + ".") for t in trusted_modules)


class Scanner:
    """Scans a version's files; ``scan`` returns the ``pickle_scan`` property, or None when the
    version has no pickle-based file."""

    def __init__(
        self,
        trusted: list[str] | tuple[str, ...] = DEFAULT_TRUSTED,
        policy: str = "warn",
        max_bytes: int = 4 * 1024**3,
        max_seconds: float = 60.0,
    ):
        if policy not in ("warn", "refuse"):
            raise ValueError(f"pickle_policy must be warn or refuse, not {policy!r}")
        self.trusted, self.policy, self.max_bytes, self.max_seconds = tuple(trusted), policy, max_bytes, max_seconds

    def scan(self, files_dir: Path, paths: list[str]) -> dict | None:
        chosen = [p for p in paths if p.lower().endswith((*PICKLE_SUFFIXES, SKOPS_SUFFIX))]
        if not chosen:
            return None
        deadline = time.monotonic() + self.max_seconds
        files = [self._scan_file(files_dir / p, p, deadline) for p in chosen]
        untrusted = sorted({g for f in files for g in f["untrusted"]})
        incomplete = [f["path"] for f in files if not f["complete"]]
        return {
            "files": files,
            "untrusted": untrusted,
            "complete": not incomplete,
            "policy": self.policy,
            "safe": not untrusted and not incomplete,
        }

    def check(self, scan: dict | None) -> None:
        """Under the ``refuse`` policy, refuse a scan with untrusted imports (or one that could not finish)."""
        if scan is None or self.policy != "refuse" or scan["safe"]:
            return
        parts = []
        if scan["untrusted"]:
            shown = ", ".join(scan["untrusted"][:10]) + (" ..." if len(scan["untrusted"]) > 10 else "")
            parts.append(f"it imports {shown}, outside c.ModelHubApp.trusted_modules")
        for f in scan["files"]:
            if not f["complete"]:
                parts.append(f"{f['path']} could not be scanned to its end ({f['error']})")
        raise InvalidInput(
            "Refused by c.ModelHubApp.pickle_policy = 'refuse': "
            + "; ".join(parts)
            + ". Nothing was registered. Save the model with skops (--format skops), or ask the server's operator "
            "to trust those modules if they are yours."
        )

    def _scan_file(self, path: Path, relative: str, deadline: float) -> dict:
        found: list[str] = []
        error = ""
        kind = "skops" if relative.lower().endswith(SKOPS_SUFFIX) else "pickle"
        try:
            if kind == "skops":
                found = skops_types(path)
            else:
                with path.open("rb") as raw:
                    stream, kind = _opened(raw)
                    with stream:
                        budget = _Budget(stream, self.max_bytes, deadline)
                        found = _globals(budget)
        except ScanStopped as exc:
            error = str(exc)
        except Exception as exc:  # a malformed file: what it imports up to there is still reported
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
            found = getattr(exc, "found", found)
        untrusted = [g for g in found if not trusted(g, self.trusted)]
        return {
            "path": relative,
            "format": kind,
            "imports": found[:MAX_LISTED],
            "untrusted": untrusted[:MAX_LISTED],
            "complete": not error,
            "error": error,
        }


def skops_types(path: Path) -> list[str]:
    """The types a skops file would construct that skops does not trust by default."""
    try:
        from skops.io import get_untrusted_types
    except ImportError:
        raise RuntimeError("skops is not installed on the server: pip install skops") from None
    return sorted(get_untrusted_types(file=path))


# -- reading ---------------------------------------------------------------------------------


def _opened(raw) -> tuple[io.BufferedIOBase, str]:
    """The file as a stream of pickle bytes, decompressed as joblib compressed it."""
    head = raw.read(8)
    raw.seek(0)
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw), "joblib (gzip)"
    if head.startswith(b"BZ"):
        return bz2.BZ2File(raw), "joblib (bz2)"
    if head.startswith(b"\xfd7zXZ"):
        return lzma.LZMAFile(raw, format=lzma.FORMAT_XZ), "joblib (xz)"
    if head.startswith(b"\x5d\x00"):
        return lzma.LZMAFile(raw, format=lzma.FORMAT_ALONE), "joblib (lzma)"
    if head.startswith(b"\x78"):
        return io.BufferedReader(_ZlibStream(raw)), "joblib (zlib)"
    if head.startswith(b"\x04\x22\x4d\x18"):
        raise RuntimeError("an lz4-compressed joblib file cannot be scanned here")
    if head.startswith(b"ZF"):
        raise RuntimeError("a joblib file older than 0.9.3 cannot be scanned")
    return io.BufferedReader(raw), "pickle"


class _ZlibStream(io.RawIOBase):
    """joblib's zlib files: one raw zlib stream, decompressed as it is read."""

    def __init__(self, raw):
        self.raw, self.z, self.pending = raw, zlib.decompressobj(), b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.pending:
            chunk = self.raw.read(1 << 16)
            if not chunk:
                self.pending = self.z.flush()
                if not self.pending:
                    return 0
                break
            self.pending = self.z.decompress(chunk, 1 << 20)
            while not self.pending and self.z.unconsumed_tail:
                self.pending = self.z.decompress(self.z.unconsumed_tail, 1 << 20)
        n = min(len(buffer), len(self.pending))
        buffer[:n], self.pending = self.pending[:n], self.pending[n:]
        if not self.pending and self.z.unconsumed_tail:
            self.pending = self.z.decompress(self.z.unconsumed_tail, 1 << 20)
        return n


class _Budget:
    """A stream that stops the scan past ``limit`` bytes or its deadline."""

    def __init__(self, stream, limit: int, deadline: float):
        self.stream, self.limit, self.deadline, self.used = stream, limit, deadline, 0

    def _count(self, data: bytes) -> bytes:
        self.used += len(data)
        if self.used > self.limit:
            raise ScanStopped(f"stopped after {self.limit} bytes (c.ModelHubApp.pickle_scan_max_bytes)")
        if time.monotonic() > self.deadline:
            raise ScanStopped("stopped at the time limit (c.ModelHubApp.pickle_scan_max_seconds)")
        return data

    def read(self, n: int = -1) -> bytes:
        return self._count(self.stream.read(n))

    def readline(self) -> bytes:
        return self._count(self.stream.readline(1 << 20))

    def skip(self, n: int) -> None:
        while n > 0:
            chunk = self.read(min(n, 1 << 20))
            if not chunk:
                raise EOFError("the file ends inside an array's data")
            n -= len(chunk)


# -- the unpickler that imports nothing ------------------------------------------------------------


class _Placeholder:
    """What every global of a scanned pickle becomes: accepts any construction and state."""

    _global = ""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        self._args, self._state, self._items = args, None, []

    def __call__(self, *args, **kwargs):
        return _placeholder("(result of a call)")()

    def __setstate__(self, state):
        self._state = state

    def __setitem__(self, key, value):
        self._items.append((key, value))

    def append(self, value):
        self._items.append(value)

    def extend(self, values):
        self._items.extend(values)

    def add(self, value):
        self._items.append(value)


def _placeholder(name: str) -> type:
    return type("Placeholder", (_Placeholder,), {"_global": name})


def _read_and_drop(unpickler, length: int) -> None:
    while length > 0:
        chunk = unpickler.read(min(length, 1 << 20))
        if not chunk:
            raise EOFError("the pickle ends inside a byte string")
        length -= len(chunk)


class _Scan(pickle._Unpickler):
    """``pickle._Unpickler`` (Python's own, every protocol) with globals recorded, never imported."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, budget: _Budget, found: list[str]):
        super().__init__(budget, encoding="bytes")
        self.budget, self.found, self.seen = budget, found, set(found)

    def find_class(self, module, name):
        if isinstance(module, bytes):
            module = module.decode("utf-8", "replace")
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        if self.proto < 3 and isinstance(module, str) and isinstance(name, str):  # Python 2 names, as pickle maps them
            module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        full = f"{module}.{name}" if isinstance(module, str) and isinstance(name, str) else "(a computed name)"
        if full not in self.seen:
            self.seen.add(full)
            self.found.append(full)
        return _placeholder(full)

    def persistent_load(self, pid):
        return _placeholder("(persistent id)")()

    # Byte and string payloads are read and dropped: a scan's memory is the file's structure.
    def _drop(self, size_format: str, size_bytes: int, value) -> None:
        (length,) = struct.unpack(size_format, self.read(size_bytes))
        _read_and_drop(self, length)
        self.append(value)

    def load_binbytes(self):
        self._drop("<I", 4, b"")

    def load_binbytes8(self):
        self._drop("<Q", 8, b"")

    def load_bytearray8(self):
        self._drop("<Q", 8, bytearray())

    def load_binunicode8(self):
        self._drop("<Q", 8, "")

    dispatch[pickle.BINBYTES[0]] = load_binbytes
    dispatch[pickle.BINBYTES8[0]] = load_binbytes8
    dispatch[pickle.BYTEARRAY8[0]] = load_bytearray8
    dispatch[pickle.BINUNICODE8[0]] = load_binunicode8

    def load_build(self):
        super().load_build()
        wrapper = self.stack[-1] if self.stack else None
        if isinstance(wrapper, _Placeholder) and wrapper._global == "joblib.numpy_pickle.NumpyArrayWrapper":
            self._after_wrapper(wrapper._state if isinstance(wrapper._state, dict) else {})

    dispatch[pickle.BUILD[0]] = load_build

    def _after_wrapper(self, state: dict) -> None:
        """joblib writes an array's data right after its wrapper: a nested pickle for an object
        array, else (an alignment byte and padding, then) the raw bytes, which are skipped."""
        state = {k.decode() if isinstance(k, bytes) else k: v for k, v in state.items()}
        dtype = state.get("dtype")
        code, elsize = _dtype_of(dtype)
        if code is None:
            raise RuntimeError("a joblib array of a dtype this scan cannot size (structured?)")
        if code.startswith("O"):
            _Scan(self.budget, self.found).load()  # joblib reads it with a fresh unpickler, so does the scan
            return
        count = 1
        for n in state.get("shape") or ():
            count *= int(n)
        if state.get("numpy_array_alignment_bytes") is not None:
            (padding,) = self.budget.read(1) or b"\0"
            self.budget.skip(padding)
        self.budget.skip(count * elsize)


def _dtype_of(dtype) -> tuple[str | None, int]:
    """(type code, bytes per item) of a numpy dtype as pickled (``numpy.dtype(code, ...)`` and its
    state); a structured dtype is ``V`` unless a field holds objects (``O``)."""
    import numpy

    if not isinstance(dtype, _Placeholder) or not dtype._args:
        return None, 0
    code = dtype._args[0]
    code = code.decode() if isinstance(code, bytes) else str(code)
    state = dtype._state if isinstance(dtype._state, tuple) else ()
    elsize = state[5] if len(state) > 5 and isinstance(state[5], int) and state[5] > 0 else 0
    if len(state) > 4 and state[3] is not None:  # named fields: (dtype, offset[, title]) each
        fields = state[4] if isinstance(state[4], dict) else {}
        codes = [_dtype_of(f[0])[0] if isinstance(f, tuple) and f else None for f in fields.values()]
        if any(c is None for c in codes) or not elsize:
            return None, 0
        return ("O" if any(c.startswith("O") for c in codes) else "V"), elsize
    if code.startswith("O"):
        return code, 0
    try:
        return code, elsize or numpy.dtype(code).itemsize
    except TypeError:
        return None, 0


def _globals(budget: _Budget) -> list[str]:
    """Every global of the pickle stream(s) in ``budget``, in the order first met."""
    found: list[str] = []
    try:
        _Scan(budget, found).load()
    except (ScanStopped, Exception) as exc:
        exc.found = found
        raise
    return found
