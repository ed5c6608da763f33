"""The base handler: authentication (including the kernels' token), errors as JSON, executors.

Every route of the extension derives from ``ModelHubHandler``. Errors of the services become
``{"message", "reason"}`` bodies with 400/404/409/413/503 here and nowhere else; anything
unexpected is logged with its traceback and answered with a 500 that carries no traceback.
Request parsing that every route shares (whole numbers, booleans, NUL characters, JSON bodies)
lives here too, so a malformed request is a 400 whichever route it reaches.

When the extension could not start (``modelhub_failure`` in the settings) its routes stay
registered and answer 503 with the reason, so clients see why instead of a 404.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import getpass
import hmac
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from jupyter_server.auth.decorator import authorized
from jupyter_server.auth.identity import User
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from pydantic import BaseModel, ValidationError
from tornado import iostream, web

from ..errors import InvalidInput, ModelHubError, Unavailable
from ..refs import parse_ref
from ..registry import history
from ..registry.permissions import Actor, ModelPermissions
from ..store.database import unavailable_error
from ..timestamps import moment, naive
from .schemas import PATTERN_HINTS

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
AUTH_RESOURCE = "modelhub"
# Ids, counts and page numbers are 32-bit integer columns in the database.
MAX_INT = 2**31 - 1
TEXT = "text/plain; charset=utf-8"
# what a client may say it is (X-Modelhub-Client), recorded in the history
CLIENTS = ("kernel", "panel", "cli", "api")


def route(method: Callable) -> Callable:
    """Authenticate and authorize a handler method: the one decorator every route uses."""
    return web.authenticated(authorized(method))


class ModelHubHandler(APIHandler):
    auth_resource = AUTH_RESOURCE
    _token_authenticated_by_kernel = False

    async def prepare(self, *args, **kwargs):
        self._accept_kernel_token()
        try:
            result = await super().prepare(*args, **kwargs)
        except web.HTTPError as exc:
            if exc.status_code == 403 and not self.current_user:
                raise self._unauthenticated() from None
            raise
        if self._finished:
            return result
        if not self.current_user:
            raise self._unauthenticated()  # before anything else: nothing is told to a stranger
        failure = self.settings.get("modelhub_failure")
        if failure:
            raise Unavailable(failure)
        self._refuse_nul_characters()
        return result

    def _unauthenticated(self) -> web.HTTPError:
        """No user behind the request (no credentials, or ones that are not valid) is a 401 that
        says how to authenticate, as HTTP has it; 403 stays for a known user who may not do it."""
        return web.HTTPError(
            401,
            "Authentication required: send 'Authorization: token <the server's or the kernel's token>', "
            "or the login cookie with its XSRF header.",
            reason="Unauthorized",
        )

    def parse_id(self, name: str, text: str) -> int:
        """A path segment that is a database id: ASCII digits, 1 to MAX_INT."""
        if not (text.isascii() and text.isdigit() and len(text) <= 10 and 1 <= int(text) <= MAX_INT):
            raise InvalidInput(f"Invalid {name} {_clip(text)!r}: expected a whole number from 1 to {MAX_INT}.")
        return int(text)

    def _refuse_nul_characters(self) -> None:
        """NUL cannot be stored (PostgreSQL refuses it in text) nor be part of a name or path."""
        for name, value in self.path_kwargs.items():
            if "\0" in value:
                raise InvalidInput(f"The {name} in the URL contains a NUL character; remove it.")
        for name, values in self.request.query_arguments.items():
            if "\0" in name or any(b"\0" in v for v in values):
                raise InvalidInput(f"Query parameter {name!r} contains a NUL character; remove it.")

    def _accept_kernel_token(self) -> None:
        """Let kernels started by this server in with the token it exported to them.

        The identity provider treats a handler whose user is already set as authenticated, and a
        token-authenticated request needs no XSRF cookie, exactly as for the server's own token.
        """
        expected = self.settings.get("modelhub_kernel_token")
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if expected and scheme.lower() == "token" and hmac.compare_digest(token.strip(), expected):
            self._jupyter_current_user = User(username=getpass.getuser(), name="kernel")
            self._token_authenticated = True
            self._token_authenticated_by_kernel = True

    # -- services --------------------------------------------------------------------------

    @property
    def registry(self):
        return self.settings["modelhub_registry"]

    @property
    def user_name(self) -> str:
        """Who is recorded as having made a change, and whose permissions are checked.

        Jupyter's own token and password auth know no user names (they invent an anonymous id),
        and a single-user server acts for one user (``c.ModelHubApp.server_user``: its account, or
        $JUPYTERHUB_USER); so do its kernels and the CLI, with the token it exported to them.
        Under JupyterHub, or any other identity provider, the provider's user name is used.
        """
        if (
            self.identity_provider.__class__.__module__.startswith("jupyter_server.")
            or self._token_authenticated_by_kernel
        ):
            return self.settings.get("modelhub_server_user") or getpass.getuser()
        return getattr(self.current_user, "username", None) or ""

    @property
    def actor(self) -> Actor:
        """The user (with its groups) and the client behind this request, for permission checks
        and the history. Groups are the identity provider's: a ``groups`` attribute of its user,
        or JupyterHub's user model. The server's own user (its kernels, the CLI with its token)
        has ``c.ModelHubApp.server_user_groups`` and the groups the provider last gave it here."""
        name, user = self.user_name, self.current_user
        groups = getattr(user, "groups", None)
        if groups is None:
            groups = (getattr(user, "hub_user", None) or {}).get("groups")
        server_user = self.settings.get("modelhub_server_user")
        known = self.settings.setdefault("modelhub_server_user_groups", set())
        if groups and name == server_user and not self._token_authenticated_by_kernel:
            known.update(groups)  # its kernels and CLI act for it, with the groups it was last seen with
        elif name == server_user:
            groups = known
        client = self.request.headers.get("X-Modelhub-Client", "")
        if client not in CLIENTS:
            client = "kernel" if self._token_authenticated_by_kernel else "api"
        return Actor(name, frozenset(str(g) for g in groups or ()), client)

    @property
    def permissions(self) -> ModelPermissions:
        return self.settings["modelhub_permissions"]

    def readable(self, model_id):
        """The SQL condition that keeps the models this user may read (for listings)."""
        return self.permissions.readable(self.actor, model_id)

    async def require(self, model: str, needed: str, action: str = "", creating: bool = False) -> None:
        """Refuse with a 403 unless the user has ``needed`` (read, write, manage) on ``model``."""
        await self.run(self.permissions.require, self.actor, model, needed, action, creating)

    async def only_readable(self, items: list, ref_of: Callable[[Any], str]) -> list:
        """The items of a listing whose model (``ref_of(item)``: a reference such as churn:3, or
        an endpoint's or image's name, which is kept) the user may read."""
        names = {_model_name(ref_of(item)) for item in items}
        if not names:
            return items
        shown = await self.run(self.permissions.readable_names, self.actor, names)
        return [item for item in items if _model_name(ref_of(item)) in shown]

    async def require_ref(self, ref: object, needed: str, action: str = "") -> None:
        """``require`` on the model of a reference (NAME, NAME:VERSION, NAME@ALIAS) sent in a
        body; a malformed one is left to the service, which says what is wrong with it."""
        try:
            name = parse_ref(str(ref)).name
        except InvalidInput:
            return
        await self.require(name, needed, action)

    async def require_endpoint(self, endpoint: str, needed: str, action: str = "") -> None:
        """Refuse with a 403 unless the user has ``needed`` on every model ``endpoint`` serves."""
        await self.run(self.permissions.require_endpoint, self.actor, endpoint, needed, action)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking service work on the extension's thread pool, off the event loop, as this
        request's user and client (``history.acting_for``).

        While the server stops, the pool is shut and takes no more work, and work still waiting
        for a thread is cancelled: both are a 503 (try again once the server is back), not a 500."""
        executor = self.settings["modelhub_executor"]
        call = functools.partial(fn, *args, **kwargs)
        context = contextvars.copy_context()  # the changes it makes are this user's, from this client
        actor = self.actor
        context.run(history.acting_for, actor.name, actor.client)
        try:
            future = asyncio.get_running_loop().run_in_executor(executor, context.run, call)
        except RuntimeError:  # "cannot schedule new futures after shutdown": raised on submit, never by fn
            raise Unavailable(STOPPING) from None
        try:
            return await future
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # this request itself is being cancelled
                raise
            raise Unavailable(STOPPING) from None  # the pool's shutdown cancelled the queued work

    # -- requests and responses ------------------------------------------------------------

    def body(self, schema: type[M]) -> M:
        """Parse the JSON body into ``schema``; a bad body is a 400 naming the field."""
        try:
            data = orjson.loads(self.request.body or b"null")
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"The request body is not valid JSON: {exc}.") from None
        if not isinstance(data, dict):
            raise InvalidInput(f"The request body must be a JSON object ({schema.__doc__.strip()}).")
        _check_json_text(data)
        try:
            return schema.model_validate(data)
        except ValidationError as exc:
            raise InvalidInput("Invalid request body: " + _describe(exc)) from None

    def query_int(self, name: str, default: int, minimum: int = 0, maximum: int = MAX_INT) -> int:
        """A whole number in ASCII digits within [minimum, maximum]; int() alone would take
        '١' (Arabic-Indic one) and numbers the database cannot hold."""
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        text = raw.strip()
        digits = text[1:] if text[:1] == "-" else text
        if not digits.isascii() or not digits.isdigit() or len(digits) > 12 or not minimum <= int(text) <= maximum:
            raise InvalidInput(
                f"Query parameter {name!r} must be a whole number from {minimum} to {maximum}, not {_clip(raw)!r}."
            )
        return int(text)

    def query_float(self, name: str, default: float) -> float:
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise InvalidInput(f"Query parameter {name!r} must be a number of 0 or more, not {_clip(raw)!r}.")
        return value

    def query_bool(self, name: str, default: bool = False) -> bool:
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        if raw.lower() in ("1", "true", "yes"):
            return True
        if raw.lower() in ("0", "false", "no"):
            return False
        raise InvalidInput(f"Query parameter {name!r} must be true or false, not {_clip(raw)!r}.")

    def query_text(self, name: str, default: str = "", limit: int = 1024) -> str:
        """A query parameter exactly as sent (Tornado's own getters turn control characters into
        spaces and strip the ends, which would make a tag filter mean something else)."""
        values = self.request.query_arguments.get(name)
        if not values:
            return default
        try:
            raw = values[-1].decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"Query parameter {name!r} is not valid UTF-8.") from None
        if len(raw) > limit:
            raise InvalidInput(
                f"Query parameter {name!r} is {len(raw)} characters long; the limit is {limit}. Shorten it."
            )
        return raw

    def search_arguments(self) -> dict:
        """The query parameters shared by every listing: q, filter, flavor, archived, paging."""
        return {
            "q": self.query_text("q", "", limit=256),
            "filter": self.query_text("filter", "", limit=MAX_FILTER_LENGTH),
            "flavor": self.query_text("flavor", "", limit=64) or None,
            "archived": self.query_bool("archived"),
            "page": self.query_int("page", 1, minimum=1),
            "per_page": self.query_int("per_page", 50, minimum=1),
        }

    def history_filters(self) -> dict:
        """The query parameters of a history: action (comma-separated), user, since, until, limit."""
        filters = {
            "action": self.query_text("action", "", limit=512) or None,
            "user": self.query_text("user", "", limit=128) or None,
            "limit": self.query_int("limit", 100, minimum=1, maximum=1000),
        }
        for name in ("since", "until"):
            filters[name] = self.query_moment(name)
        return filters

    def query_moment(self, name: str):
        """A time parameter (ISO 8601 or an age such as 1h, ``timestamps.moment``) as naive UTC; None when absent."""
        if name not in self.request.query_arguments:
            return None
        text = self.query_text(name, "", limit=64)
        if not text.strip():  # present but empty: not "no bound", a mistake
            raise InvalidInput(f"Empty {name}: give an age such as 1h or 7d, or a time such as 2026-12-01T14:00.")
        return naive(moment(text, name))

    def accepted(self, operation: dict, resource: str = "operations") -> None:
        """Answer a request that started long work: 202, where to follow it (``operations/{id}``, or
        ``jobs/{id}`` for a batch job), and the operation."""
        self.set_header("Location", url_path_join(self.base_url, "modelhub/api", resource, str(operation["id"])))
        self.reply(operation, status=202)

    def on_connection_close(self) -> None:
        """The client went away: a log follower stops now rather than at its timeout."""
        if self._client_gone is not None:
            self._client_gone.set()
        super().on_connection_close()

    _client_gone: asyncio.Event | None = None

    async def follow_file(self, path: Path, limit: float, done: Callable[[], Awaitable[bool]] | None = None) -> None:
        """Stream what is appended to ``path`` (a log) for up to ``limit`` seconds, until
        ``done()`` says the writer has finished, or until the client disconnects (a quiet log
        is never written to, so only the close tells). Files are read on the pool, not the
        event loop. The followers streaming now are in the ``modelhub_log_followers`` setting."""

        def size() -> int:
            return path.stat().st_size if path.exists() else 0

        def read(start: int, end: int) -> bytes:
            with open(path, "rb") as f:
                f.seek(start)
                return f.read(end - start)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        position = await self.run(size)
        followers = self.settings.setdefault("modelhub_log_followers", set())
        followers.add(self)
        self._client_gone = asyncio.Event()
        try:
            await self.flush()
            while loop.time() < deadline and not self._gone():
                finished = done is not None and await done()  # before reading: nothing written after is lost
                end = await self.run(size)
                if end < position:  # rotated
                    position = 0
                if end > position:
                    self.write(await self.run(read, position, end))
                    position = end
                    await self.flush()
                if finished:
                    break
                try:  # the next look at the file, or at once when the client goes
                    await asyncio.wait_for(self._client_gone.wait(), FOLLOW_INTERVAL)
                except asyncio.TimeoutError:
                    pass
        except iostream.StreamClosedError:
            return
        finally:
            followers.discard(self)
        if not self._gone():
            self.finish(set_content_type=TEXT)

    def _gone(self) -> bool:
        stream = getattr(self.request.connection, "stream", None)
        return self._client_gone.is_set() or (stream is not None and stream.closed())

    async def reply_log(
        self,
        tail: Callable[[int], str],
        log_file: Callable[[], Path],
        done: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """The one log reply (an operation's, a deployment's): the last ``tail`` lines as text, or
        with ``follow=true`` those lines and then what is appended (``follow_file``)."""
        lines = self.query_int("tail", 100, minimum=0, maximum=100_000)  # 0: only what comes next
        follow = self.query_bool("follow")
        limit = self.query_float("timeout", 3600)
        text = await self.run(tail, lines)
        text += "\n" if text else ""
        if not follow:
            self.reply_text(text)
            return
        path = await self.run(log_file)
        self.set_header("Content-Type", TEXT)
        self.write(text)
        await self.follow_file(path, limit, done=done)

    def reply_text(self, text: str) -> None:
        """Answer plain text (APIHandler.finish would label it JSON)."""
        self.finish(text, set_content_type=TEXT)

    async def reply_read(self, read: Callable[[int], Any], model: str | None = None) -> None:
        """Answer a registry read (``read(generation)``, run on the pool with the registry's
        generation just read; with ``model``, once the user may read that model, checked in the
        same hop). The response is remembered (``api.read_cache``) and sent again to the same user
        for the same path and query until the generation moves (any change, a permission's too)."""
        actor = self.actor
        key = (self.request.path, self.request.query, actor.name, actor.groups)
        self.set_header("Content-Type", "application/json")
        self.finish(await self.run(self._read, key, read, actor, model))

    def _read(self, key: tuple, read: Callable[[int], Any], actor: Actor, model: str | None) -> bytes:
        cache = self.settings.get("modelhub_read_cache")
        remembered = cache is not None and cache.max_bytes > 0
        generation = self.registry.db.generation()  # before reading: store.generation
        body = cache.get(key, generation) if remembered else None
        if body is None:
            if model is not None:
                self.permissions.require(actor, model, "read", generation=generation)
            body = _json(read(generation))
            if remembered:
                cache.put(key, generation, body)
        return body

    def reply(self, data: Any, status: int = 200) -> None:
        """Answer JSON: a response model (fields never set stay absent, see ``registry.views``)
        or JSON-ready data."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(_json(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ModelHubError):
            body = {"message": self._without_server_paths(exc.message), "reason": exc.reason}
            if getattr(exc, "report", None) is not None:  # e.g. the equivalence report of a refused conversion
                body["report"] = exc.report
        elif isinstance(exc, web.HTTPError):
            body = {"message": exc.log_message or self._reason, "reason": self._reason}
        else:
            body = {"message": "Internal server error; the server log has the details.", "reason": "internal"}
        if status_code == 401:
            self.set_header("WWW-Authenticate", 'token realm="jupyter_modelhub"')
        if status_code == 405:  # RFC 9110: a 405 lists the methods the resource has
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        self.set_header("Content-Type", "application/json")
        self.finish(orjson.dumps(body))

    @classmethod
    def allowed_methods(cls) -> list[str]:
        return [
            m
            for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
            if getattr(cls, m.lower()) is not getattr(web.RequestHandler, m.lower())
        ]

    def _without_server_paths(self, message: str) -> str:
        """Error bodies name files relative to the Model Hub folder, never by the server's absolute
        paths (they tell a caller about the machine and are of no use to them)."""
        registry = self.settings.get("modelhub_registry")
        root = str(registry.artifacts.root) if registry is not None else self.settings.get("modelhub_root", "")
        return message.replace(root + "/", "").replace(root, "the Model Hub folder") if root else message

    def _handle_request_exception(self, e: BaseException) -> None:
        unavailable = unavailable_error(e)
        if unavailable is not None:
            self.log.warning("%s %s -> 503: %s", self.request.method, self.request.path, unavailable.message)
            e = unavailable
        if isinstance(e, ModelHubError):
            if self._finished:
                return
            self.log.info("%s %s -> %s: %s", self.request.method, self.request.path, e.status, e.message)
            self.send_error(e.status, exc_info=(type(e), e, e.__traceback__))
            return
        super()._handle_request_exception(e)


STOPPING = "The Model Hub is stopping (its Jupyter server is shutting down); retry once the server is back."
MAX_FILTER_LENGTH = 4096
FOLLOW_INTERVAL = 0.25  # seconds between looks at a followed log


def _model_name(ref: object) -> str:
    """The model a reference names, or the text itself when it is no reference (an endpoint's name)."""
    try:
        return parse_ref(str(ref)).name
    except InvalidInput:
        return str(ref)


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


MAX_JSON_DEPTH = 64


def _check_json_text(data: Any) -> None:
    """Refuse NUL characters (PostgreSQL cannot store them) and nesting deeper than
    MAX_JSON_DEPTH (responses are encoded with orjson, which stops at 255 levels), naming where."""
    pending = [(data, "body", 0)]
    while pending:
        value, where, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidInput(f"Invalid request body: {where} is nested more than {MAX_JSON_DEPTH} levels deep.")
        if isinstance(value, str):
            if "\0" in value:
                raise InvalidInput(f"Invalid request body: {where} contains a NUL character; remove it.")
        elif isinstance(value, dict):
            for key, item in value.items():
                path = key if where == "body" else f"{where}.{key}"
                if "\0" in key:
                    raise InvalidInput(f"Invalid request body: a key in {where} contains a NUL character; remove it.")
                pending.append((item, path, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, f"{where}.{i}", depth + 1) for i, item in enumerate(value))


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        hint = PATTERN_HINTS.get((error.get("ctx") or {}).get("pattern"))
        if error["type"] == "string_pattern_mismatch" and hint:
            parts.append(f"{where}: {_clip(str(error['input']))!r} is not {hint}")
        else:
            parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts) + "."


def _json(data: Any) -> bytes:
    """A response model (fields never set stay absent, see ``registry.views``) or JSON-ready data as JSON."""
    if isinstance(data, BaseModel):
        data = data.model_dump(exclude_unset=True)
    return orjson.dumps(data)
