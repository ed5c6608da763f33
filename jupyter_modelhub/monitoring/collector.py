"""Payload collection in the endpoint host: each sampled request, with its answer, as Parquet.

The host (``deploy/host.py``) calls :meth:`Collector.answered` once per answer it gives. On the
request path that is a coin toss (the sample rate), a tuple and a ``deque.append``: nothing is
encoded, compressed or written there. A writer thread drains the deque every
``FLUSH_INTERVAL`` seconds (a second: fewer, larger row groups cost the host less) into a row group of the Parquet file under way (pyarrow, zstd), and
rolls that file (closes it and renames it into place, so a reader never sees half a file) once it
holds ``roll_bytes`` or has been open ``roll_seconds``, when collection is switched off, and
when the host stops (SIGTERM). Rolled files are named for the times of their first and last
records, ``collected-20261207T101500Z-20261207T101600Z-1a2b3c4d.parquet``, so a reader of a
window opens only the files that overlap it.

Nothing is lost silently. The deque is bounded (``MAX_BUFFERED_RECORDS`` records,
``MAX_BUFFERED_BYTES`` of bodies); a record that finds it full is dropped and counted, and the
counts (sampled, written, dropped, failed writes) are in ``collect-status.json`` beside the
endpoint's ``status.json``, shown by ``GET endpoints/{name}``. A host killed with SIGKILL loses
the file under way (its records were counted as written, not committed); the next host removes
that unfinished file and says so in its log.

What is recorded: every POST the host answers (a scoring request of any protocol, any
outcome: 2xx, 4xx from the runtime, and the host's own 401, 404, 413, 502 and 503), with its
request id, time, deployment, model, version, status, latency and both bodies, each cut at
``BODY_LIMIT`` bytes with a flag saying so. A request refused for a wrong key (401) is
recorded without its body: an unauthenticated client's bytes are not kept. Reads (health,
metadata, metrics) are not recorded. A mirrored copy's answer is recorded too, when the answer
the client got was (``mirror`` true, the same request id, no request body: it is the other
record's), so the two deployments' answers can be compared on the same requests. Every answer, recorded or not, carries the request's
``x-request-id``: the client's, or a uuid4 made here and sent on to the deployment too.

Retention: after each roll, files older than the retention (by their last record's time) and
then the oldest beyond ``max_bytes`` are deleted, and only files whose names this module makes,
in its own folder.

Not here: reading collected files back (``collected``); settings and their checks
(``deploy.manager``).
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger("modelhub.host")

BODY_LIMIT = 256 * 1024  # bytes of a body kept; a longer one is cut there and flagged truncated
MAX_BUFFERED_RECORDS = 200_000  # waiting for the writer; beyond, records are dropped (and counted)
MAX_BUFFERED_BYTES = 256 * 2**20
FLUSH_INTERVAL = 1.0  # seconds between the writer's drains: larger row groups cost the host less (bench/monitoring.py)
ROLL_SECONDS = 60.0  # a file under way is committed at least this often (records become readable)
ROLL_BYTES = 64 * 2**20
RETAIN_EVERY = 60.0  # seconds between retention passes when no file rolls
MAX_REQUEST_ID = 128  # characters of a client's x-request-id kept; a longer one is replaced
STATUS_FILE = "collect-status.json"
FOLDER = "collected"

# The files this module writes, and the only ones retention ever deletes.
FILE_NAME = re.compile(r"^collected-(\d{8}T\d{6}Z)-(\d{8}T\d{6}Z)-([0-9a-f]{8})\.parquet$")
PART_NAME = re.compile(r"^\.collected-[0-9a-f]{8}\.parquet\.part$")
TIME_FORMAT = "%Y%m%dT%H%M%SZ"

# One record: the columns of a collected file, in order. `time` is when the request arrived.
COLUMNS = (
    "request_id",
    "time",
    "deployment",
    "model",
    "version",
    "status",
    "latency_ms",
    "path",
    "protocol",
    "request",
    "response",
    "request_truncated",
    "response_truncated",
    "content_type",
    "content_encoding",
    "header_length",
    "response_content_type",
    "response_encoding",
    "response_header_length",
    "mirror",
)


def schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("request_id", pa.string()),
            ("time", pa.timestamp("us", tz="UTC")),
            ("deployment", pa.string()),
            ("model", pa.string()),
            ("version", pa.int64()),
            ("status", pa.int16()),
            ("latency_ms", pa.float64()),
            ("path", pa.string()),
            ("protocol", pa.string()),
            ("request", pa.binary()),
            ("response", pa.binary()),
            ("request_truncated", pa.bool_()),
            ("response_truncated", pa.bool_()),
            # what decoding the bodies needs: Content-Type, Content-Encoding and the binary tensor
            # extension's Inference-Header-Content-Length, of the request and of the answer
            ("content_type", pa.string()),
            ("content_encoding", pa.string()),
            ("header_length", pa.int64()),
            ("response_content_type", pa.string()),
            ("response_encoding", pa.string()),
            ("response_header_length", pa.int64()),
            # a mirrored copy's answer (the mirror deployment's): the same request_id as the
            # answer the client got, so the two can be compared (monitoring.comparison)
            ("mirror", pa.bool_()),
        ]
    )


def file_times(name: str) -> tuple[float, float] | None:
    """The times (epoch seconds) of the first and last records of a collected file, from its
    name; None for a name this module does not write."""
    match = FILE_NAME.match(name)
    if match is None:
        return None
    first, last = (datetime.strptime(t, TIME_FORMAT).replace(tzinfo=timezone.utc) for t in match.groups()[:2])
    return first.timestamp(), last.timestamp() + 1  # names hold whole seconds: the last one rounds up


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime(TIME_FORMAT)


# -- request ids -----------------------------------------------------------------------------------

_bits = random.getrandbits
_UUID4 = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))


def new_request_id() -> str:
    """A uuid4 as 32 hex digits, from Python's own generator: a tenth of ``uuid.uuid4()``'s time
    (no system call per request). An id names a request; it is no secret."""
    return "%032x" % (_bits(128) & _UUID4_CLEAR | _UUID4)


def identify(request) -> bytes:
    """The request's id: its ``x-request-id`` header, or a uuid4 (hex) added to its headers (so the
    deployment gets it too). Kept in ``request.args``, which the host does not otherwise use."""
    headers = request.headers
    for index, (name, value) in enumerate(headers):
        if len(name) == 12 and name.lower() == b"x-request-id":
            if 0 < len(value) <= MAX_REQUEST_ID and value.isascii():
                break
            value = new_request_id().encode()  # too long to keep, or not text: replaced
            headers[index] = (name, value)
            break
    else:
        value = new_request_id().encode()
        headers.append((b"x-request-id", value))
    request.args = (value,)
    return value


def request_id(request) -> bytes:
    return request.args[0] if request.args else identify(request)


def grpc_request_id(metadata) -> str:
    """A gRPC call's id: its ``x-request-id`` metadata, or a uuid4 (hex)."""
    for key, value in metadata or ():
        if key == "x-request-id" and isinstance(value, str) and 0 < len(value) <= MAX_REQUEST_ID and value.isascii():
            return value
    return new_request_id()


# -- the collector ---------------------------------------------------------------------------------


class Collector:
    """One endpoint's collection: the bounded buffer the host appends to, and its writer thread."""

    def __init__(self, folder: Path):
        self.folder = folder  # the endpoint's
        self.enabled = False
        self.requests = self.responses = True
        self.rate = 1.0
        self.retention_s = 7 * 86400.0
        self.max_bytes = 10**9
        self.roll_seconds, self.roll_bytes = ROLL_SECONDS, ROLL_BYTES
        self.location = folder / FOLDER
        self.buffer: deque = deque()
        # Each counter is written by one thread only (no lock on the request path): the host's
        # loop counts what it queues, the writer what it takes.
        self.queued = self.queued_bytes = self.dropped = 0
        self.taken = self.taken_bytes = 0
        self.written = self.committed = self.failed = 0
        self.files = 0
        self.stored_bytes = 0
        self.last_error = ""
        self.roll_asked = False
        # commits asked for by the server before it reads (SIGUSR1), and the last one done
        self.commits_asked = self.commits_done = 0
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self.writer = None  # pyarrow.parquet.ParquetWriter of the file under way
        self.part: Path | None = None
        self.first = self.last = 0.0  # times of the first and last records in the file under way
        self.pending = 0  # records in the file under way
        self.opened = 0.0
        self.last_retention = 0.0
        self.published: dict = {}

    # -- settings (the host's loop) ------------------------------------------------------------------

    def configure(self, settings: dict | None) -> None:
        """Apply the spec's ``collect`` settings (None or disabled: off); on SIGHUP too."""
        settings = settings or {}
        enabled = bool(settings.get("enabled")) and bool(settings.get("requests") or settings.get("responses"))
        if enabled:
            self.requests = bool(settings.get("requests", True))
            self.responses = bool(settings.get("responses", True))
            self.rate = float(settings.get("sample_rate", 1.0))
            self.retention_s = float(settings.get("retention_s", self.retention_s))
            self.max_bytes = int(settings.get("max_bytes", self.max_bytes))
            self.roll_seconds = float(settings.get("roll_seconds", ROLL_SECONDS))
            self.roll_bytes = int(settings.get("roll_bytes", ROLL_BYTES))
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="modelhub-collector", daemon=True)
                self.thread.start()
        elif self.enabled:
            self.roll_asked = True  # what was collected becomes readable now
        self.enabled = enabled

    # -- the request path (the host's loop) ------------------------------------------------------

    def answered(
        self, request, status: int, body: bytes, deployment: str | None, served: tuple, headers: list | None
    ) -> None:
        """Record an answer if it is sampled: ``served`` is the (model, version) that answered (Nones when
        none did), ``headers`` are the deployment's answer's, when it answered."""
        if not self.enabled or request.method != "POST" or (self.rate < 1.0 and random.random() >= self.rate):
            return
        if not self._room():
            return
        latency = time.monotonic() - request.started
        sent = request.body if self.requests and status != 401 else None
        cut_in = sent is not None and len(sent) > BODY_LIMIT
        if cut_in:
            sent = sent[:BODY_LIMIT]
        got = body if self.responses else None
        cut_out = got is not None and len(got) > BODY_LIMIT
        if cut_out:
            got = got[:BODY_LIMIT]
        content_type, encoding, length = _answer_headers(headers)
        size = (len(sent) if sent else 0) + (len(got) if got else 0) + 200
        self._queue(
            (
                request_id(request).decode("ascii"),
                time.time() - latency,
                deployment,
                *served,
                status,
                latency * 1000.0,
                request.path,
                "http",
                sent,
                got,
                cut_in or request.too_large,
                cut_out,
                request.content_type.decode("latin-1") if request.content_type else None,
                request.encoding.decode("latin-1") if request.encoding else None,
                _int(request.header(b"inference-header-content-length")) if self.requests else None,
                content_type,
                encoding,
                length,
                False,
            ),
            size,
        )
        request.args = (request.args[0], True) if request.args else request.args  # sampled: its mirror copy too

    def mirrored(
        self,
        request,
        started: float,
        status: int,
        body: bytes | None,
        deployment: str,
        served: tuple,
        headers: list | None,
    ) -> None:
        """Record the mirror deployment's answer to a copy of ``request`` (``mirror`` true), when
        the answer the client got was recorded: the pair shares a request id, so agreement between
        the two deployments is counted on the same requests. Its request body is the recorded one."""
        if not self.enabled or len(request.args) < 2 or not request.args[1]:
            return
        if not self._room():
            return
        got = body if self.responses else None
        cut_out = got is not None and len(got) > BODY_LIMIT
        content_type, encoding, length = _answer_headers(headers)
        latency = time.monotonic() - started
        self._queue(
            (
                request.args[0].decode("ascii"),
                time.time() - latency,
                deployment,
                *served,
                status,
                latency * 1000.0,
                request.path,
                "http",
                None,  # the same body as the recorded request's: not kept twice
                got[:BODY_LIMIT] if cut_out else got,
                False,
                cut_out,
                None,
                None,
                None,
                content_type,
                encoding,
                length,
                True,
            ),
            (len(got) if got else 0) + 200,
        )

    def call_answered(
        self,
        method: str,
        rid: str,
        started: float,
        status: int,
        sent: bytes | None,
        got: bytes | None,
        deployment: str | None,
        served: tuple,
    ) -> None:
        """Record a gRPC call (``protocol`` grpc): the request and answer messages as bytes, the
        status as the HTTP status the gRPC code stands for."""
        if not self.enabled or method != "ModelInfer" or (self.rate < 1.0 and random.random() >= self.rate):
            return
        if not self._room():
            return
        latency = time.monotonic() - started
        sent = sent if self.requests and status != 401 else None
        got = got if self.responses else None
        cut_in, cut_out = bool(sent and len(sent) > BODY_LIMIT), bool(got and len(got) > BODY_LIMIT)
        self._queue(
            (
                rid,
                time.time() - latency,
                deployment,
                *served,
                status,
                latency * 1000.0,
                "/inference.GRPCInferenceService/ModelInfer",
                "grpc",
                sent[:BODY_LIMIT] if cut_in else sent,
                got[:BODY_LIMIT] if cut_out else got,
                cut_in,
                cut_out,
                "application/grpc+proto",
                None,
                None,
                "application/grpc+proto",
                None,
                None,
                False,
            ),
            (len(sent) if sent else 0) + (len(got) if got else 0) + 200,
        )

    def _queue(self, record: tuple, size: int) -> None:
        """Hand one record (``COLUMNS``' order) to the writer, counting it and its bytes."""
        self.buffer.append(record)
        self.queued += 1
        self.queued_bytes += size

    def _room(self) -> bool:
        """Whether the buffer takes one more record; when it is full the record is dropped, and counted."""
        if (
            self.queued - self.taken >= MAX_BUFFERED_RECORDS
            or self.queued_bytes - self.taken_bytes >= MAX_BUFFERED_BYTES
        ):
            self.dropped += 1
            return False
        return True

    def commit_soon(self) -> None:
        """Commit what was collected so far at the writer's next round (at most a second): the
        server asks (SIGUSR1 to the host) before it reads the files, so a monitor, a replay or
        %collected sees the requests just answered. The host's loop only counts the request."""
        self.commits_asked += 1
        if self.thread is None and self.enabled is False:
            self.commits_done = self.commits_asked

    # -- lifetime ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Write what is buffered, commit the file under way, and stop the writer (at SIGTERM)."""
        if self.thread is not None:
            self.stopping.set()
            self.thread.join(60)

    # -- the writer thread -------------------------------------------------------------------------

    def _run(self) -> None:
        self.location.mkdir(parents=True, exist_ok=True)
        self._remove_unfinished()
        self._retain()
        while True:
            stopping = self.stopping.wait(FLUSH_INTERVAL)
            asked = self.commits_asked
            try:
                self._drain()
                now = time.time()
                if self.writer is not None and (
                    stopping
                    or self.roll_asked
                    or asked != self.commits_done
                    or now - self.opened >= self.roll_seconds
                    or (self.part is not None and self.part.stat().st_size >= self.roll_bytes)
                ):
                    self._roll()
                self.roll_asked = False
                self.commits_done = asked
                if now - self.last_retention >= RETAIN_EVERY:
                    self._retain()
            except Exception as exc:  # a full disk, a removed folder: said, and tried again
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("payload collection: writing failed")
            self._publish()
            if stopping:
                return

    def _drain(self) -> None:
        count = len(self.buffer)
        if not count:
            return
        popleft = self.buffer.popleft
        batch = [popleft() for _ in range(count)]
        self.taken += count
        self.taken_bytes += sum((len(r[9]) if r[9] else 0) + (len(r[10]) if r[10] else 0) + 200 for r in batch)
        try:
            table = _table(batch)
            if self.writer is None:
                self._open()
            self.writer.write_table(table)
        except Exception:
            self.failed += count
            raise
        self.written += count
        times = [record[1] for record in batch]
        self.first = min(self.first, min(times)) if self.first else min(times)
        self.last = max(self.last, max(times))
        self.pending += count

    def _open(self) -> None:
        import pyarrow.parquet as pq

        self.part = self.location / f".collected-{os.urandom(4).hex()}.parquet.part"
        self.writer = pq.ParquetWriter(self.part, schema(), compression="zstd")
        self.opened = time.time()
        self.first = self.last = 0.0
        self.pending = 0

    def _roll(self) -> None:
        """Commit the file under way: complete it, then rename it into place (atomic)."""
        writer, self.writer = self.writer, None
        writer.close()
        name = f"collected-{_stamp(self.first)}-{_stamp(self.last)}-{os.urandom(4).hex()}.parquet"
        os.replace(self.part, self.location / name)
        self.part = None
        self.committed += self.pending
        self.pending = 0
        self._retain()

    def _remove_unfinished(self) -> None:
        """Files a host killed mid-way left: unfinished (no footer), unreadable; said and removed."""
        for entry in os.scandir(self.location):
            if PART_NAME.match(entry.name):
                log.warning("payload collection: removing %s, left unfinished by a host that was killed", entry.name)
                os.unlink(entry.path)

    def _retain(self) -> None:
        """Delete collected files older than the retention, then the oldest beyond max_bytes."""
        self.last_retention = now = time.time()
        files = []
        for entry in os.scandir(self.location):
            times = file_times(entry.name)
            if times is not None and entry.is_file(follow_symlinks=False):
                files.append((times[1], entry.stat().st_size, entry.path))
        files.sort()
        total = sum(size for _, size, _ in files)
        kept = 0
        for last, size, path in files:
            if last < now - self.retention_s or total > self.max_bytes:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
                total -= size
            else:
                kept += 1
        self.files, self.stored_bytes = kept, total

    def stats(self) -> dict:
        return {
            "sampled": self.queued,
            "written": self.written,
            "committed": self.committed,
            "dropped": self.dropped,
            "failed": self.failed,
            "buffered": self.queued - self.taken,
            "files": self.files,
            "bytes": self.stored_bytes,
            "last_error": self.last_error,
            "commits": self.commits_done,
            "updated": time.time(),
        }

    def _publish(self) -> None:
        stats = self.stats()
        if {k: v for k, v in stats.items() if k != "updated"} == {
            k: v for k, v in self.published.items() if k != "updated"
        }:
            return
        self.published = stats
        path = self.folder / STATUS_FILE
        temporary = path.with_name(f".{STATUS_FILE}.tmp")
        temporary.write_text(json.dumps(stats))
        os.replace(temporary, path)


def _answer_headers(headers: list | None) -> tuple[str | None, str | None, int | None]:
    """The content type, encoding and binary-tensor header length of a deployment's answer."""
    content_type = encoding = length = None
    for name, value in headers or ():
        lower = name.lower()
        if lower == b"content-type":
            content_type = value.decode("latin-1")
        elif lower == b"content-encoding":
            encoding = value.decode("latin-1")
        elif lower == b"inference-header-content-length":
            length = _int(value)
    return content_type, encoding, length


def _int(value) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _table(batch: list[tuple]):
    """The records as an Arrow table of the collected schema."""
    import numpy as np
    import pyarrow as pa

    columns = list(zip(*batch))
    fields = schema()
    arrays = []
    for index, field in enumerate(fields):
        values = columns[index]
        if field.name == "time":
            micros = (np.asarray(values, dtype=np.float64) * 1e6).round().astype(np.int64)
            arrays.append(pa.array(micros, type=pa.int64()).cast(field.type))
        else:
            arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=fields)
