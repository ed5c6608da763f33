"""Many model versions in one runtime, under a memory budget (``--repository FILE``).

A multi-model deployment (``%deploy EP --multi``) starts one runtime that may serve any of a
list of registered versions. None is loaded at start: a version loads on its first request (or
on the repository extension's load, over REST or gRPC), and when loading it would take the loaded
versions past the budget, the least recently used ones are unloaded first. What a version costs
is measured, not guessed: the growth of the process's resident memory (``/proc/self/statm``)
while it loads, and before its first load the size of its files. A version whose cost alone is
over the budget is refused with a 507 that says the budget.

Loads run one at a time on the runtime's model thread, so the growth measured is the load's own
and the event loop keeps answering the loaded versions meanwhile; requests for a version that is
loading wait for that one load. Before the ready line, each flavor's libraries are imported by
loading one of its versions once and letting it go, so a first request pays for its own model,
not for importing scikit-learn or onnxruntime, and the budget counts models, not libraries.

With ``--workers N`` each worker keeps its own loaded versions under the budget.

Not here: the routes (``multi.py``; over gRPC, ``grpc/multi.py``), the per-version counters (``model_metrics.py``), loading
one model (``scorers.py``).
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import sys
from collections import OrderedDict
from pathlib import Path
from time import monotonic

import orjson

from . import scorers
from .errors import ServingError
from .model_metrics import ModelMetrics
from .signature import Signature

DEFAULT_BUDGET = 2**30
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(i?B?)\s*$", re.IGNORECASE)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def parse_size(text: str) -> int:
    """``1G``, ``512M``, ``1.5GiB``, ``500MB`` or a number of bytes; K, M, G and T alone and with
    ``iB`` are powers of 1024 (as Docker's ``--memory``), with ``B`` alone powers of 1000."""
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f"Invalid memory budget {text!r}: expected a size such as 512M, 1G or 1.5GiB.")
    number, unit, suffix = float(match.group(1)), match.group(2).upper(), match.group(3).lower()
    base = 1000 if suffix == "b" else 1024
    size = int(number * base ** "_KMGT".index(unit or "_"))
    if size < 2**20:
        raise ValueError(f"Memory budget {text!r} is less than 1 MiB: give at least 1M (e.g. 512M or 1G).")
    return size


def describe_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def resident_bytes() -> int:
    """This process's resident memory (0 where ``/proc`` is not)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def read(path: Path) -> tuple[list[dict], int | None]:
    """The versions a repository file lists, checked, and its budget (None: not given).

    ``{"models": [{"name", "version", "model_dir", "flavor", "signature"}], "memory_budget": BYTES}``
    """
    try:
        doc = orjson.loads(Path(path).read_bytes())
        models = doc["models"]
        if not isinstance(models, list) or not models:
            raise ValueError("its 'models' list is empty")
        entries = []
        for item in models:
            entry = {
                "name": str(item["name"]),
                "version": str(item["version"]),
                "model_dir": Path(item["model_dir"]),
                "flavor": item.get("flavor"),
                "signature": Signature.from_json(item["signature"]) if item.get("signature") else None,
            }
            if not entry["model_dir"].is_dir():
                raise ValueError(f"the folder of {entry['name']}:{entry['version']}, {entry['model_dir']}, is missing")
            entries.append(entry)
        budget = doc.get("memory_budget")
        return entries, (parse_size(budget) if isinstance(budget, str) else budget)
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"cannot read the repository file {path}: {exc}") from None


def _version_key(version: str):
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


class Entry:
    """One version the runtime may serve, and its state: UNAVAILABLE (with why), LOADING or READY."""

    __slots__ = (
        "index",
        "name",
        "version",
        "model_dir",
        "flavor",
        "signature",
        "scorer",
        "loading",
        "cost",
        "size",
        "reason",
    )

    def __init__(self, index: int, name: str, version: str, model_dir: Path, flavor: str | None, signature):
        self.index, self.name, self.version = index, name, version
        self.model_dir, self.flavor, self.signature = model_dir, flavor, signature
        self.scorer: scorers.BuiltinScorer | None = None
        self.loading: asyncio.Future | None = None
        self.size = _files_size(model_dir)
        self.cost = self.size  # bytes it takes loaded: its files' size until measured (never less)
        self.reason = "not loaded yet: it loads on its first request"

    @property
    def state(self) -> str:
        return "READY" if self.scorer is not None else "LOADING" if self.loading is not None else "UNAVAILABLE"

    @property
    def platform(self) -> str:
        if self.scorer is not None:
            return self.scorer.platform
        return {"onnx": "onnx_onnxv1", "sklearn": "sklearn", "mlflow": "mlflow_pyfunc"}.get(
            self.flavor or "", "unknown"
        )


def _files_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


class Repository:
    """The versions of one worker, which of them are loaded, and the budget they share."""

    def __init__(self, entries: list[dict], budget: int | None, threads: int, executor, metrics: ModelMetrics):
        self.budget = budget or DEFAULT_BUDGET
        self.threads, self.executor, self.metrics = threads, executor, metrics
        self.entries = [Entry(i, **e) for i, e in enumerate(entries)]
        self.by_name: dict[str, dict[str, Entry]] = {}
        for entry in self.entries:
            self.by_name.setdefault(entry.name, {})[entry.version] = entry
        self.latest = {name: max(versions, key=_version_key) for name, versions in self.by_name.items()}
        self.loaded: OrderedDict[int, Entry] = OrderedDict()  # least recently used first
        self.baseline = 0
        metrics.labels = [(e.name, e.version) for e in self.entries]

    # -- finding ---------------------------------------------------------------------------------

    def find(self, name: str, version: str | None) -> Entry:
        """The entry for a request's model and version (None: the latest), or a 404 naming what is served."""
        versions = self.by_name.get(name)
        if versions is None:
            names = sorted(self.by_name)
            shown = ", ".join(map(repr, names[:20])) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
            raise ServingError(
                404, f"Unknown model {name!r}: this endpoint serves {shown} (POST /v2/repository/index lists them)."
            )
        if version is None:
            return versions[self.latest[name]]
        entry = versions.get(version)
        if entry is None:
            have = sorted(versions, key=_version_key)
            raise ServingError(
                404, f"Model {name!r} has no version {version!r} here: this endpoint serves version {', '.join(have)}."
            )
        return entry

    def versions(self, name: str) -> list[str]:
        return sorted(self.by_name[name], key=_version_key)

    def metadata(self, entry: Entry) -> dict:
        """The Open Inference Protocol's model metadata of a version (REST's body; gRPC's message
        leaves out ``state``): its signature, or the loaded model's when none was registered."""
        signature = entry.signature if entry.signature is not None or entry.scorer is None else entry.scorer.signature
        return {
            "name": entry.name,
            "versions": self.versions(entry.name),
            "platform": entry.platform,
            **(signature.metadata() if signature else {"inputs": [], "outputs": []}),
            "state": entry.state,
        }

    def index(self, ready_only: bool = False) -> list[dict]:
        """The Open Inference Protocol repository index: every version, its state and why."""
        rows = []
        for name in sorted(self.by_name):
            for version in self.versions(name):
                entry = self.by_name[name][version]
                state = entry.state
                if ready_only and state != "READY":
                    continue
                row = {"name": name, "version": version, "state": state}
                row["reason"] = "" if state != "UNAVAILABLE" else entry.reason
                rows.append(row)
        return rows

    # -- loading and unloading -------------------------------------------------------------------

    async def warm_up(self) -> None:
        """Import each flavor's libraries (a version of it loaded once, then let go), then take the
        resident memory with nothing loaded as the baseline."""
        loop = asyncio.get_running_loop()
        seen = set()
        for entry in self.entries:
            if entry.flavor not in seen:
                seen.add(entry.flavor)
                try:
                    await loop.run_in_executor(self.executor, self._load, entry)
                except Exception as exc:  # its own request will say so; the others still serve
                    entry.reason = f"failed to load: {type(exc).__name__}: {exc}"
                    seen.discard(entry.flavor)
        gc.collect()
        self.baseline = resident_bytes()

    def use(self, entry: Entry) -> None:
        """Mark a loaded version as the most recently used."""
        self.loaded.move_to_end(entry.index)

    async def load(self, entry: Entry) -> scorers.BuiltinScorer:
        """The version's scorer, loading it (after making room) if it is not loaded."""
        if entry.scorer is not None:
            self.use(entry)
            return entry.scorer
        if entry.loading is None:
            entry.loading = asyncio.ensure_future(self._load_within_budget(entry))
        future = entry.loading
        return await asyncio.shield(future)

    async def _load_within_budget(self, entry: Entry) -> scorers.BuiltinScorer:
        try:
            self._check_fits(entry)
            self._make_room(entry.cost, keep=entry)
            loop = asyncio.get_running_loop()
            started = monotonic()
            try:
                scorer, grown = await loop.run_in_executor(self.executor, self._load, entry)
            except Exception as exc:
                entry.reason = f"failed to load: {type(exc).__name__}: {exc}"
                raise ServingError(
                    500,
                    f"Model {entry.name!r} version {entry.version!r} could not be loaded: {type(exc).__name__}: {exc}",
                ) from None
            entry.cost = max(grown, entry.size, 1)
            entry.scorer = scorer
            self.loaded[entry.index] = entry
            self.metrics.loaded(entry.index, entry.cost, monotonic() - started)
            if entry.cost > self.budget:
                self.unload(entry, "")
                self._check_fits(entry)
            self._make_room(0, keep=entry)
            return scorer
        finally:
            entry.loading = None

    def _load(self, entry: Entry):
        """On the model thread: load, and measure how much the process grew while it did. A load
        that imported modules (the first tree of a process, say) is measured again, the first
        copy still held so the second cannot reuse its memory: the model's cost, not its library's."""
        modules, before = len(sys.modules), resident_bytes()
        scorer = scorers.load(entry.model_dir, entry.flavor, None, entry.signature, self.threads)
        grown = resident_bytes() - before
        if len(sys.modules) != modules:
            before = resident_bytes()
            first, scorer = scorer, scorers.load(entry.model_dir, entry.flavor, None, entry.signature, self.threads)
            grown = resident_bytes() - before
            del first
        return scorer, max(grown, 0)

    def _check_fits(self, entry: Entry) -> None:
        if entry.cost > self.budget:
            entry.reason = (
                f"needs {describe_size(entry.cost)}, more than the memory budget of {describe_size(self.budget)}"
            )
            raise ServingError(
                507,
                f"Model {entry.name!r} version {entry.version!r} needs {describe_size(entry.cost)} loaded, more than "
                f"this endpoint's whole memory budget of {describe_size(self.budget)}: deploy it with a larger "
                "--memory-budget, or on an endpoint of its own.",
            )

    def _make_room(self, needed: int, keep: Entry) -> None:
        """Unload the least recently used versions until ``needed`` more bytes fit in the budget."""
        used = sum(e.cost for e in self.loaded.values())
        for entry in list(self.loaded.values()):
            if used + needed <= self.budget:
                break
            if entry is keep:
                continue
            used -= entry.cost
            self.unload(
                entry,
                f"unloaded: least recently used, to keep loaded versions within the memory budget of "
                f"{describe_size(self.budget)}; it loads again on its next request",
            )

    def unload(self, entry: Entry, reason: str) -> bool:
        """Let a version go (requests answering with it keep their reference); False if it was not loaded."""
        if entry.scorer is None:
            return False
        entry.scorer = None
        entry.reason = reason or entry.reason
        self.loaded.pop(entry.index, None)
        self.metrics.unloaded(entry.index)
        return True

    def unload_model(self, name: str) -> None:
        """Unload every loaded version of a model (the repository extension's unload); a 404 for a
        model not served."""
        self.find(name, None)
        for version in self.versions(name):
            self.unload(self.by_name[name][version], "unloaded by request (repository unload)")

    def used(self) -> int:
        return sum(e.cost for e in self.loaded.values())

    def render_metrics(self) -> str:
        return self.metrics.render(self.budget, resident_bytes())

    def describe(self) -> str:
        return f"{len(self.entries)} versions of {len(self.by_name)} models, memory budget {describe_size(self.budget)}"
