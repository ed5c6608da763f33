"""The endpoint host's client to its deployments: pooled keep-alive HTTP/1.1 connections on httptools.

A :class:`Pool` per deployment instance keeps the connections it opened to the scoring runtime's
loopback port and reuses them, one request at a time each; a request never pays for a TCP
handshake once the pool is warm. Bodies go through as bytes (already framed by the client's
request, with its Content-Encoding and binary tensor framing untouched) and answers come back
as status, raw headers and body bytes: nothing is decoded here.

A pooled connection the runtime closed while idle (its keep-alive timeout, a restart) is noticed
when it is reused; the request is then sent once more on a new connection, which is safe because
nothing of an answer had arrived (scoring has no side effects).

Not here: what is forwarded where (``host.py``).
"""

from __future__ import annotations

import asyncio
import logging

import httptools

log = logging.getLogger("modelhub.host")
IDLE_KEPT = 64  # idle connections kept per deployment


class UpstreamError(Exception):
    """The deployment did not answer: refused, closed the connection, or timed out."""


class _Connection(asyncio.Protocol):
    def __init__(self, pool: Pool):
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.callback = None  # of the request under way: callback(status, headers, body, error)
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.started = False  # some of the answer has arrived
        self.closed = False
        self.reused = False
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.started = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"its answer is not valid HTTP ({exc})"))
            self.transport.close()

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.pool.forget(self)
        self._fail(UpstreamError("it closed the connection" + (f" ({exc})" if exc else "")))

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        callback, self.callback = self.callback, None
        headers, self.headers = self.headers, []
        chunks, self.chunks = self.chunks, []
        status = self.parser.get_status_code()
        self.started = False
        if self.parser.should_keep_alive() and not self.closed:
            self.pool.release(self)  # idle before the callback, which may send the next request on it
        else:
            self.transport.close()
        if callback is not None:
            _call(callback, status, headers, chunks[0] if len(chunks) == 1 else b"".join(chunks), None)

    def _fail(self, error: Exception) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        callback, self.callback = self.callback, None
        if callback is not None:
            _call(callback, 0, [], b"", error)

    def send(self, head: bytes, body: bytes, callback) -> None:
        pool = self.pool
        self.callback = callback
        self.timer = pool.loop.call_later(pool.timeout, self._time_out)
        if len(body) < 65536:
            self.transport.write(head + body)
        else:  # not copied into one buffer
            self.transport.writelines((head, body))

    def _time_out(self) -> None:
        self.timer = None
        self._fail(UpstreamError(f"no answer within {self.pool.timeout:g} s"))
        self.transport.abort()


def _call(callback, status: int, headers: list, body: bytes, error: Exception | None) -> None:
    """Called from the protocol's own callbacks: an error of the callback's must not break the connection."""
    try:
        callback(status, headers, body, error)
    except Exception:
        log.exception("unexpected error handling a deployment's answer")


class Pool:
    """Keep-alive connections to one deployment instance on 127.0.0.1:``port``."""

    def __init__(self, port: int, head_end: bytes, timeout: float = 300.0):
        self.port = port
        self.head_end = head_end  # the last headers of every request (Host, the key) and the blank line
        self.timeout = timeout
        self.loop = asyncio.get_running_loop()
        self.idle: list[_Connection] = []
        self.open: set[_Connection] = set()

    async def _connect(self) -> _Connection:
        try:
            _, connection = await self.loop.create_connection(lambda: _Connection(self), "127.0.0.1", self.port)
        except OSError as exc:
            raise UpstreamError(f"cannot connect to 127.0.0.1:{self.port} ({exc.strerror or exc})") from None
        self.open.add(connection)
        return connection

    def release(self, connection: _Connection) -> None:
        if len(self.idle) < IDLE_KEPT:
            connection.reused = True
            self.idle.append(connection)
        else:
            connection.transport.close()

    def forget(self, connection: _Connection) -> None:
        self.open.discard(connection)
        if connection in self.idle:
            self.idle.remove(connection)

    def forward(self, head: bytes, body: bytes, callback) -> None:
        """Send a request (``head``: its request line and headers, but for ``head_end``);
        ``callback(status, headers, body, error)`` is called with the answer (raw headers, body
        bytes) or an :class:`UpstreamError`, straight from the connection's parser: no future, no
        turn of the event loop in between."""
        head += self.head_end
        if not self.idle:
            self._on_new_connection(head, body, callback)
            return
        connection = self.idle.pop()

        def answered(status: int, headers: list, payload: bytes, error: Exception | None) -> None:
            if error is not None and not connection.started:  # closed while it was idle: once more, anew
                self._on_new_connection(head, body, callback)
            else:
                callback(status, headers, payload, error)

        connection.send(head, body, answered)

    def request(self, head: bytes, body: bytes) -> asyncio.Future:
        """:meth:`forward`, as a future of ``(status, headers, body)``."""
        future = self.loop.create_future()

        def answered(status: int, headers: list, payload: bytes, error: Exception | None) -> None:
            if not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result((status, headers, payload))

        self.forward(head, body, answered)
        return future

    def _on_new_connection(self, head: bytes, body: bytes, callback) -> None:
        def connected(task: asyncio.Future) -> None:
            error = task.exception()
            if error is not None:
                _call(callback, 0, [], b"", error)
            else:
                task.result().send(head, body, callback)

        asyncio.ensure_future(self._connect()).add_done_callback(connected)

    def close(self) -> None:
        for connection in list(self.open):
            connection.transport.close()
        self.idle.clear()
