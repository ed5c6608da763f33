"""HTTP/1.1 for the runtime: an asyncio Protocol around httptools' parser (uvicorn's, llhttp).

One :class:`Connection` per client socket. It parses requests as bytes arrive, hands each
complete one (a :class:`Request`) to the application, and writes the answers in the order the
requests came, whenever the application gives them: at once for a built-in scorer, later for a
batch or an entry script. What HTTP asks of a server is handled here, once, for every route:

- keep-alive (HTTP/1.1 by default, HTTP/1.0 only when the client asks), pipelining (requests
  parsed while earlier ones are answered; reading pauses beyond ``PIPELINE_DEPTH``), chunked
  request bodies, ``Expect: 100-continue`` (the interim answer is sent only to a request the
  application would read, and only once the answers before it are out);
- limits: headers over ``MAX_HEADER_BYTES`` get 431; a body over the size limit is flagged
  ``too_large`` for the application to answer 413, and beyond twice the limit (or before a
  100-continue) the 413 is immediate and the connection closes; a request line or header
  httptools cannot parse gets 400 and the connection closes;
- timeouts, checked by the application's once-a-second sweep (:meth:`Connection.sweep`), not
  a timer per request: a request not received whole within the timeout gets 408 and the
  connection closes; a keep-alive connection idle for the idle timeout is closed;
- a client that goes away: requests it is still owed are reported with
  ``application.disconnected`` (their answers are dropped).

Headers are kept as the raw pairs httptools gives (no dict, no decoding) and looked up by name
only when a route needs one. Answers are framed from preformatted status lines and header
templates; the Date header is formatted once a second.

Not here: routes, auth, protocols (``server.py``, ``handlers.py``, ``scoring.py``).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import deque
from email.utils import formatdate
from time import time as _time

import httptools

from .errors import ServingError, error_body, reason

MAX_HEADER_BYTES = 64 * 1024
PIPELINE_DEPTH = 16  # requests parsed ahead of their answers on one connection
JSON = b"application/json"
TEXT = b"text/plain"

_PREFIXES: dict[tuple[int, bytes], bytes] = {}
# The headers a Request notes as they come (the first one sent), by name as clients usually spell
# them; other spellings are looked up in lower case, when the name's length is one of theirs.
_NOTED = {
    name: attribute
    for lower, attribute in (
        (b"content-length", "length"),
        (b"expect", "expect"),
        (b"authorization", "authorization"),
        (b"content-encoding", "encoding"),
        (b"content-type", "content_type"),
    )
    for name in (lower, b"-".join(part.capitalize() for part in lower.split(b"-")))
}
_NOTED_SIZES = {len(name) for name in _NOTED}
_PATHS: dict[bytes, str] = {}  # request targets that are plain paths, decoded
_LENGTHS: dict[bytes, int] = {}  # Content-Length values, read
_METHODS = {method.encode(): method for method in ("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH")}


def _prefix(status: int, content_type: bytes) -> bytes:
    """The status line and Content-Type of an answer, formatted once per pair."""
    key = (status, content_type)
    prefix = _PREFIXES.get(key)
    if prefix is None:
        prefix = _PREFIXES[key] = (
            f"HTTP/1.1 {status} {reason(status)}\r\n".encode() + b"Content-Type: " + content_type + b"\r\n"
        )
    return prefix


_date = [-1, b""]  # the second, and its Date line
# The status line, Content-Type and Date of the usual answers, by (status, content type), for the
# second in _date: what the usual answer starts with, in one piece.
_HEADS: dict[tuple[int, bytes], bytes] = {}


def date_line() -> bytes:
    """``Date: ...\\r\\n``, formatted once a second rather than once an answer."""
    second = int(time.time())
    if second != _date[0]:
        _date[:] = second, f"Date: {formatdate(second, usegmt=True)}\r\n".encode()
        _HEADS.clear()
    return _date[1]


def _head(status: int, content_type: bytes) -> bytes:
    date = date_line()  # first: a new second empties _HEADS
    head = _HEADS[status, content_type] = (
        _PREFIXES.get((status, content_type)) or _prefix(status, content_type)
    ) + date
    return head


class Request:
    """One request as it arrives: method, path, raw headers, body; answered with :meth:`respond`."""

    __slots__ = (
        "connection",
        "method",
        "url",
        "path",
        "query",
        "headers",
        "body",
        "chunks",
        "size",
        "too_large",
        "keep_alive",
        "expects_continue",
        "continued",
        "complete",
        "answer",
        "answered",
        "closes",
        "started",
        "status",
        "route",
        "args",
        "batch",
        "task",
        "length",
        "expect",
        "authorization",
        "encoding",
        "content_type",
    )

    def __init__(self, connection: Connection, started: float):
        self.connection = connection
        self.method = ""
        self.url = b""
        self.path = ""
        self.query = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.chunks: list[bytes] = []
        self.size = 0
        self.too_large = False
        # Headers every request or scoring route reads, noted as they are parsed (the first one
        # sent): no look-up among the headers for them.
        self.length = b""
        self.expect = b""
        self.authorization = b""
        self.encoding = b""  # Content-Encoding
        self.content_type = b""
        self.keep_alive = True
        self.expects_continue = False
        self.continued = False
        self.complete = False  # the whole body is in (or will not be read)
        self.answer: bytes | None = None  # framed, waiting for the answers before it
        self.answered = False
        self.closes = False  # its answer closes the connection
        self.started = started
        self.status = 0
        self.route = None  # the application's, for its errors and its access log
        self.args: tuple = ()  # what the route took from the path
        self.batch = 0
        self.task = None  # what the application awaits for it, held (the loop keeps weak references)

    def header(self, name: bytes) -> str | None:
        """A header's value by lower-case name (the first one sent), decoded as Latin-1, or None."""
        attribute = _NOTED.get(name)
        if attribute is not None:
            value = getattr(self, attribute)
            if value:
                return value.decode("latin-1")
        for key, value in self.headers:
            if key.lower() == name:
                return value.decode("latin-1")
        return None

    @property
    def uri(self) -> str:
        return self.url.decode("latin-1")

    def respond(
        self,
        status: int,
        body: bytes,
        content_type: bytes = JSON,
        headers: dict | None = None,
        close: bool = False,
        raw_headers: bytes = b"",
    ) -> bool:
        """Answer; False when it was answered already or the client has gone. ``raw_headers``:
        more header lines, already formatted (``Name: value\\r\\n`` each), as a proxy passes them on."""
        if self.answered:
            return False
        self.answered = True
        self.status = status
        connection = self.connection
        if connection.shut:
            return False
        if (
            not (headers or close or connection.closing or connection.http10)
            and self.keep_alive
            and self.method != "HEAD"
        ):  # the usual answer: one template
            head = _HEADS.get((status, content_type)) if int(_time()) == _date[0] else None
            answer = b"%s%sContent-Length: %d\r\n\r\n%s" % (
                head or _head(status, content_type),
                raw_headers,
                len(body),
                body,
            )
            pending = connection.pending
            if len(pending) == 1 and pending[0] is self and not connection.paused:
                # The only request owed on its connection (no pipelining): nothing else to order.
                pending.clear()
                connection.transport.write(answer)
                connection.wrote = True
            else:
                self.answer = answer
                connection.write_answers()
            return True
        self.closes = closes = close or not self.keep_alive or (connection.closing and connection.pending[-1] is self)
        if close:
            connection.closing = True
        parts = [_prefix(status, content_type), date_line(), raw_headers]
        if headers:
            parts.extend(f"{name}: {value}\r\n".encode("latin-1") for name, value in headers.items())
        parts.append(b"Content-Length: %d\r\n" % len(body))
        if closes:
            parts.append(b"Connection: close\r\n\r\n")
        elif connection.http10:
            parts.append(b"Connection: keep-alive\r\n\r\n")
        else:
            parts.append(b"\r\n")
        if self.method != "HEAD":
            parts.append(body)
        self.answer = b"".join(parts)
        connection.write_answers()
        return True


class _Refused(Exception):
    """Raised in a parser callback to stop parsing; the answer is already given."""


class Connection(asyncio.Protocol):
    """One client connection; ``application`` is told of requests (see :class:`Application`)."""

    LINGER = 2.0  # seconds a closed connection still reads (and drops) what the client sends

    def __init__(self, application, max_bytes: int, timeout: float, idle_timeout: float):
        self.application = application
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.idle_timeout = idle_timeout
        self.loop = asyncio.get_running_loop()
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.client = ""
        self.parsing: Request | None = None
        self.pending: deque[Request] = deque()  # requests whose headers are in, not yet answered on the wire
        self.header_bytes = 0  # of the request whose headers are arriving; -1 while a body arrives
        self.fed = 0  # bytes in the piece of data being parsed
        self.http10: bool | None = None  # known from the first request that keeps the connection
        self.closing = False  # no more requests are read: close once the answers owed are written
        self.shut = False  # closed (or closing after a last answer): nothing more is written
        self.lost = False
        self.paused = False
        self.writable = True
        self.last_active = time.monotonic()
        self.wrote = False  # answers written since the last sweep
        self.linger: asyncio.TimerHandle | None = None

    # -- asyncio ----------------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.client = peer[0] if isinstance(peer, tuple) else "local"
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:  # small answers go out at once, not after the peer's delayed ACK
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self.application.connected(self)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return  # what a closing connection still sends is not read
        self.last_active = time.monotonic()  # also when the requests in this data began to arrive
        self.fed = len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.closing = True  # no protocol switch here: answer what was asked, then close
            if not self.pending:
                self.shutdown()
            return
        except httptools.HttpParserCallbackError as exc:
            if not isinstance(exc.__cause__ or exc.__context__, _Refused):
                self.application.failed(exc.__cause__ or exc.__context__ or exc)
                self.refuse(500, "Internal server error; see the server's log.")
            return
        except httptools.HttpParserError as exc:
            detail = str(exc.args[0] if exc.args else exc)
            self.refuse(400, f"The request is not valid HTTP/1.1 ({detail}).")
            return
        if self.parsing is not None and self.header_bytes >= 0:  # its headers are not all in yet
            self.header_bytes += len(data)
            if self.header_bytes > MAX_HEADER_BYTES:
                self.refuse(431, f"The request's headers are larger than {MAX_HEADER_BYTES} bytes.")

    def eof_received(self):
        """The client closed its side: taken as gone (as uvicorn and nginx do), not as a half-close
        waiting for answers; what it is owed is reported as disconnected (499)."""
        self.closing = True
        return None  # asyncio closes the transport

    def connection_lost(self, exc) -> None:
        self.lost = self.shut = True
        if self.linger is not None:
            self.linger.cancel()
        owed, self.pending = self.pending, deque()
        for request in owed:
            if request.complete and not request.answered:
                request.answered = True
                request.status = 499
                if request.task is not None:
                    request.task.cancel()
                self.application.disconnected(request)
        self.parsing = None
        self.application.closed(self)

    def pause_writing(self) -> None:
        self.writable = False
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.writable = True
        if not self.paused and not self.shut:
            self.transport.resume_reading()

    # -- httptools callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.closing:
            raise _Refused  # nothing after a request that closes the connection is read
        self.parsing = Request(self, self.last_active)
        self.header_bytes = 0

    def on_url(self, url: bytes) -> None:
        self.parsing.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.parsing.headers.append((name, value))  # noted once all are in: one call less per header

    def on_headers_complete(self) -> None:
        request = self.parsing
        parser = self.parser
        # Headers over the limit (data_received checks between pieces of data, this within one):
        # only possible when the data that brought them is larger than the limit.
        if (
            self.header_bytes + self.fed > MAX_HEADER_BYTES
            and sum(len(name) + len(value) for name, value in request.headers) > MAX_HEADER_BYTES
        ):
            self.refuse(431, f"The request's headers are larger than {MAX_HEADER_BYTES} bytes.")
            raise _Refused
        self.header_bytes = -1
        for name, value in request.headers:
            attribute = _NOTED.get(name)
            if attribute is None and len(name) in _NOTED_SIZES:
                attribute = _NOTED.get(name.lower())
            if attribute is not None and not getattr(request, attribute):
                setattr(request, attribute, value)
        method = parser.get_method()
        request.method = _METHODS.get(method) or method.decode("ascii", "replace")
        if not parser.should_keep_alive():
            request.keep_alive = False
        elif self.http10 is None:  # HTTP/1.0 with keep-alive needs it said in each answer
            self.http10 = parser.get_http_version() == "1.0"
        url = request.url
        path = _PATHS.get(url)
        if path is not None:
            request.path = path
        # find, not `in`: bytes' `in` first tries its argument as an int, raising (and clearing) a TypeError
        elif url[:1] == b"/" and url.find(b"?") < 0 and url.find(b"#") < 0:
            request.path = path = url.decode("latin-1")
            if len(_PATHS) < 256:  # the paths a server is asked for are few; what clients send is not
                _PATHS[url] = path
        else:
            try:
                parsed = httptools.parse_url(url)
            except httptools.HttpParserInvalidURLError:
                request.path = ""
            else:
                request.path = (parsed.path or b"/").decode("latin-1")
                request.query = parsed.query or b""
        self.pending.append(request)
        self.application.headers_received(request)
        length = request.length
        if length:
            size = _LENGTHS.get(length)
            if size is None:
                size = int(length) if length.strip().isdigit() else 0
                if len(_LENGTHS) < 1024:  # the sizes of a deployment's usual requests; what clients send is not few
                    _LENGTHS[length] = size
            length = size
            if length > self.max_bytes:
                request.too_large = True
        else:
            length = 0
        if parser.should_upgrade() and (length or request.header(b"transfer-encoding")):
            # httptools hands what follows the headers of an Upgrade request to the new protocol,
            # body and all; there is no other protocol here, so such a body cannot be read.
            self.refuse(
                400,
                "Upgrade is not supported here, and a request asking for it cannot have a body: "
                "send it without the Upgrade header.",
            )
            raise _Refused
        if request.expect or request.too_large:
            self.expecting(request, length)

    def expecting(self, request: Request, length: int) -> None:
        """A request too large, or asking for ``100 Continue`` before it sends its body."""
        expects = bool(request.expect) and request.expect.lower() == b"100-continue"
        if request.too_large and (expects or length > 2 * self.max_bytes):
            self.answer_early(request)  # not read at all: answered now, and the connection closes
            raise _Refused
        if expects:
            request.expects_continue = True
            if self.pending[0] is request:
                self.send_continue(request)

    def on_body(self, body: bytes) -> None:
        request = self.parsing
        request.size = size = request.size + len(body)
        if size <= self.max_bytes and not request.too_large:
            request.chunks.append(body)
        elif size > self.max_bytes:
            if not request.too_large:
                request.too_large, request.chunks = True, []
            if size > 2 * self.max_bytes:
                self.answer_early(request)
                raise _Refused

    def on_message_complete(self) -> None:
        request, self.parsing = self.parsing, None
        self.header_bytes = 0
        request.complete = True
        chunks = request.chunks
        request.body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        request.chunks = ()  # read whole: nothing more comes
        if not request.keep_alive:
            self.closing = True  # its answer closes the connection; nothing after it is read
        if len(self.pending) > PIPELINE_DEPTH and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        self.application.request_received(request)

    # -- answering ----------------------------------------------------------------------------

    def answer_early(self, request: Request) -> None:
        """A request answered before its body is in (413): the rest of it is not read."""
        self.parsing = None
        self.closing = True
        request.complete = True
        request.chunks = []
        self.application.request_received(request)

    def send_continue(self, request: Request) -> None:
        if not request.continued and not request.answered and not self.closing:
            request.continued = True
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def write_answers(self) -> None:
        """Write the answers that are ready, in the order their requests came."""
        pending, transport = self.pending, self.transport
        while pending and pending[0].answer is not None:
            request = pending.popleft()
            transport.write(request.answer)
            request.answer = None
            if request.closes:
                self.closing = True
                self.shutdown()
                return
        if self.closing and not pending:
            self.shutdown()
            return
        if pending and pending[0].expects_continue and pending[0] is self.parsing:
            self.send_continue(pending[0])
        if self.paused and len(pending) <= PIPELINE_DEPTH // 2:
            self.paused = False
            if self.writable:
                transport.resume_reading()
        self.wrote = True  # the sweep counts the connection active from then (a clock read per answer saved)

    def shutdown(self) -> None:
        """Close after the last answer: send FIN, drop what the client still sends for a moment
        (so a client still sending a body reads its answer instead of a reset), then close."""
        if self.shut:
            return
        self.shut = True
        transport = self.transport
        if transport.can_write_eof():
            transport.write_eof()
            transport.resume_reading()
            self.linger = self.loop.call_later(self.LINGER, transport.close)
        else:
            transport.close()

    def refuse(self, status: int, message: str) -> None:
        """An answer to what could not be parsed (or came too slowly), after the answers owed; then close."""
        self.closing = True
        request = self.parsing
        self.parsing = None
        if request is None or request.answered or request not in self.pending:
            request = Request(self, time.monotonic())
            self.pending.append(request)
        request.complete = True
        request.chunks = []
        request.respond(status, error_body("azure", ServingError(status, message)), close=True)
        self.application.refused(request)

    def sweep(self, now: float) -> None:
        """Close what took too long: a request not received whole (408), an idle keep-alive connection."""
        if self.shut or self.closing:
            return
        if self.wrote:
            self.wrote, self.last_active = False, now
        request = self.parsing
        if request is not None and now - request.started > self.timeout:
            self.refuse(408, f"The request was not received whole within {self.timeout:g} s (--request-timeout).")
        elif request is None and not self.pending and now - self.last_active > self.idle_timeout:
            self.closing = True
            self.shutdown()

    def close_if_idle(self) -> None:
        """For a graceful stop: no more requests; close now if nothing is owed, else after the answers owed."""
        if self.shut:
            return
        self.closing = True
        if not any(request.complete for request in self.pending):
            self.shutdown()

    def abort(self) -> None:
        if not self.lost:
            self.transport.abort()


class Application:
    """What a :class:`Connection` calls; the runtime (``server.Runtime``) implements it."""

    def connected(self, connection: Connection) -> None: ...
    def closed(self, connection: Connection) -> None: ...
    def headers_received(self, request: Request) -> None: ...
    def request_received(self, request: Request) -> None: ...
    def disconnected(self, request: Request) -> None: ...
    def refused(self, request: Request) -> None: ...
    def failed(self, exc: BaseException) -> None: ...


def bind_sockets(port: int, host: str, reuse_port: bool = False, backlog: int = 1024) -> list[socket.socket]:
    """Listening sockets for ``host`` (one per address family it resolves to), on ``port``; port 0
    picks a free port, the same one for every family."""
    sockets = []
    infos = socket.getaddrinfo(host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    seen = set()
    for family, kind, proto, _, address in infos:
        if (family, address) in seen:
            continue
        seen.add((family, address))
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and sockets:
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.bind(address)
            sock.listen(backlog)
            sock.setblocking(False)
        except OSError:
            sock.close()
            for other in sockets:
                other.close()
            raise
        sockets.append(sock)
    return sockets
