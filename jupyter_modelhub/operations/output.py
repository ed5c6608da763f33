"""A worker's output, bounded: what it and everything it starts print, into one log of known size.

A worker's stdout and stderr (and so those of the processes it starts: its kernel, its Dask
workers, the entry script running in them, uv) are one pipe, read by a thread of the worker
that writes the log: the first ``limit / 2`` bytes as they come, then only the last
``limit / 2`` kept in memory and written at the end after a line saying how much was cut. A
standby worker starts its processes before its operation exists: their output goes to the
standby log until the operation is handed over, then ``switch`` sends it to the operation's own.

Not here: what is logged (``worker``'s progress lines), following a log (the REST API).
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque

DEFAULT_LIMIT = 2 * 2**20  # bytes of a log: the first and the last MiB
CHUNK = 65536


class BoundedOutput:
    """Takes over fds 1 and 2 of this process; writes what they receive to a log file, bounded."""

    def __init__(self, log_fd: int, limit: int = DEFAULT_LIMIT):
        self.limit = max(limit, 2)
        self._lock = threading.Lock()
        self._target = os.dup(log_fd)
        self._head = self._cut = 0
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        read, write = os.pipe()
        self._read = read
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(write, 1)
        os.dup2(write, 2)
        os.close(write)
        self._thread = threading.Thread(target=self._pump, name="modelhub-output", daemon=True)
        self._thread.start()

    def switch(self, log_fd: int) -> None:
        """From now on write to ``log_fd`` (a copy is kept), bounded afresh: the old log is finished."""
        sys.stdout.flush()
        sys.stderr.flush()
        with self._lock:
            self._finish()
            os.close(self._target)
            self._target = os.dup(log_fd)
            self._head = self._cut = 0

    def settle(self) -> None:
        """Write the note and the tail now (the operation is about to be recorded as ended); any
        later output (clean-up) is bounded the same way and written at ``close``."""
        sys.stdout.flush()
        sys.stderr.flush()
        with self._lock:
            self._finish()

    def close(self, wait: float = 2.0) -> None:
        """Give fds 1 and 2 back to the log, read what is left in the pipe (until every writer has
        closed it, or ``wait`` seconds for one that lingers), and write the tail."""
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self._target, 1)
        os.dup2(self._target, 2)
        self._thread.join(wait)
        with self._lock:
            self._finish()

    def _pump(self) -> None:
        while True:
            try:
                data = os.read(self._read, CHUNK)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self._write(data)

    def _write(self, data: bytes) -> None:
        room = self.limit // 2 - self._head
        if room > 0:
            _write_all(self._target, data[:room])  # the head, as it comes (a follower sees it live)
            self._head += min(room, len(data))
            data = data[room:]
        if not data:
            return
        self._tail.append(data)
        self._tail_size += len(data)
        while self._tail_size - len(self._tail[0]) >= self.limit // 2:
            dropped = self._tail.popleft()
            self._tail_size -= len(dropped)
            self._cut += len(dropped)

    def _finish(self) -> None:
        """Write the note on what was cut and the kept tail (nothing if the head held it all)."""
        tail, self._tail, self._tail_size = b"".join(self._tail), deque(), 0
        excess = max(0, len(tail) - self.limit // 2)
        cut, tail = self._cut + excess, tail[excess:]
        if cut:
            newline = tail.find(b"\n")  # start the tail at a line
            if 0 <= newline < len(tail) - 1:
                cut, tail = cut + newline + 1, tail[newline + 1 :]
            _write_all(
                self._target,
                f"\n[... {cut} bytes of output cut: this log keeps the first and the last "
                f"{self.limit // 2} bytes ...]\n".encode(),
            )
        if tail:
            _write_all(self._target, tail)
        self._cut = 0


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]
