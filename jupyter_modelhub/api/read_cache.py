"""Registry reads answered again from memory while nothing has changed.

A panel polls the same listings, a deploy and a notebook read the same versions: most reads of a
registry repeat one another between two changes. Each response is remembered (as the bytes sent)
with the registry's generation read before it was computed (``store.generation``), under the
request's path and query and the user who asked (whose permissions it reflects). It is sent
again while the generation is the same; once any change commits, on any server of the registry,
the generation moves and everything remembered is dropped.

Bounded by bytes, least recently used first out; ``c.ModelHubApp.read_cache_max_bytes`` = 0 turns
it off. Thread-safe: the pool's threads read and fill it.

Not here: which reads may be remembered (the handlers that call ``ModelHubHandler.reply_read``),
what moves the generation (``store.generation``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class ReadCache:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._generation = -1
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, generation: int) -> bytes | None:
        with self._lock:
            self._move_to(generation)
            if generation != self._generation:
                return None
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
            return body

    def put(self, key: Hashable, generation: int, body: bytes) -> None:
        """Remember ``body``, computed after ``generation`` was read; a body of an older generation
        than the newest seen (a slow reader overtaken by a change) is not kept."""
        if len(body) > self.max_bytes // 8:  # one listing must not push out everything else
            return
        with self._lock:
            self._move_to(generation)
            if generation != self._generation:
                return
            old = self._entries.pop(key, None)
            self._bytes += len(body) - (len(old) if old is not None else 0)
            self._entries[key] = body
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted)

    def _move_to(self, generation: int) -> None:
        if generation > self._generation:  # the registry changed: all that is remembered is stale
            self._entries.clear()
            self._bytes = 0
            self._generation = generation
