"""The base handler: authentication (including the kernels' token), errors as JSON, executors.

Every route of the extension derives from ``ModelHubHandler``. Errors of the services become
``{"message", "reason"}`` bodies with 400/404/409 here and nowhere else; anything unexpected is
logged with its traceback and answered with a 500 that carries no traceback.
"""

from __future__ import annotations

import asyncio
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

from ..errors import InvalidInput, ModelHubError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
AUTH_RESOURCE = "modelhub"


def route(method: Callable) -> Callable:
    """Authenticate and authorize a handler method: the one decorator every route uses."""
    return web.authenticated(authorized(method))


class ModelHubHandler(APIHandler):
    auth_resource = AUTH_RESOURCE
    _token_authenticated_by_kernel = False

    async def prepare(self, *args, **kwargs):
        self._accept_kernel_token()
        return await super().prepare(*args, **kwargs)

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
        """Who is recorded as having made a change.

        Jupyter's own token and password auth know no user names (they invent an anonymous id),
        and a single-user server acts for the account it runs as; so that account is recorded.
        Under JupyterHub, or any other identity provider, its user name is.
        """
        if self.identity_provider.__class__.__module__.startswith("jupyter_server.") or self._token_authenticated_by_kernel:
            return getpass.getuser()
        return getattr(self.current_user, "username", None) or ""

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking service work on the extension's thread pool, off the event loop."""
        executor = self.settings["modelhub_executor"]
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(executor, call)

    # -- requests and responses ------------------------------------------------------------

    def body(self, schema: type[M]) -> M:
        """Parse the JSON body into ``schema``; a bad body is a 400 naming the field."""
        try:
            data = orjson.loads(self.request.body or b"null")
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"The request body is not valid JSON: {exc}.") from None
        if not isinstance(data, dict):
            raise InvalidInput(f"The request body must be a JSON object ({schema.__doc__.strip()}).")
        try:
            return schema.model_validate(data)
        except ValidationError as exc:
            raise InvalidInput("Invalid request body: " + _describe(exc)) from None

    def query_int(self, name: str, default: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise InvalidInput(f"Query parameter {name!r} must be a whole number, not {raw!r}.") from None

    def query_float(self, name: str, default: float) -> float:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise InvalidInput(f"Query parameter {name!r} must be a number of 0 or more, not {raw!r}.")
        return value

    def query_bool(self, name: str, default: bool = False) -> bool:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("1", "true", "yes"):
            return True
        if raw.lower() in ("0", "false", "no"):
            return False
        raise InvalidInput(f"Query parameter {name!r} must be true or false, not {raw!r}.")

    def search_arguments(self) -> dict:
        """The query parameters shared by every listing: q, filter, flavor, archived, paging."""
        return {
            "q": self.get_query_argument("q", ""),
            "filter": self.get_query_argument("filter", ""),
            "flavor": self.get_query_argument("flavor", "") or None,
            "archived": self.query_bool("archived"),
            "page": self.query_int("page", 1),
            "per_page": self.query_int("per_page", 50),
        }

    def accepted(self, operation: dict) -> None:
        """Answer a request that started long work: 202, where to follow it, and the operation."""
        self.set_header("Location", url_path_join(self.base_url, "modelhub/api/operations", str(operation["id"])))
        self.reply(operation, status=202)

    async def follow_file(self, path: Path, limit: float, done: Callable[[], Awaitable[bool]] | None = None) -> None:
        """Stream what is appended to ``path`` (a log) for up to ``limit`` seconds, or until
        ``done()`` says the writer has finished. Files are read on the pool, not the event loop."""
        def size() -> int:
            return path.stat().st_size if path.exists() else 0

        def read(start: int, end: int) -> bytes:
            with open(path, "rb") as f:
                f.seek(start)
                return f.read(end - start)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        position = await self.run(size)
        try:
            await self.flush()
            while loop.time() < deadline:
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
                await asyncio.sleep(0.25)
        except iostream.StreamClosedError:
            return
        self.finish()

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(orjson.dumps(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ModelHubError):
            body = {"message": exc.message, "reason": exc.reason}
            if getattr(exc, "report", None) is not None:  # e.g. the equivalence report of a refused conversion
                body["report"] = exc.report
        elif isinstance(exc, web.HTTPError):
            body = {"message": exc.log_message or self._reason, "reason": self._reason}
        else:
            body = {"message": "Internal server error; the server log has the details.", "reason": "internal"}
        self.set_header("Content-Type", "application/json")
        self.finish(orjson.dumps(body))

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, ModelHubError):
            if self._finished:
                return
            self.log.info("%s %s -> %s: %s", self.request.method, self.request.path, e.status, e.message)
            self.send_error(e.status, exc_info=(type(e), e, e.__traceback__))
            return
        super()._handle_request_exception(e)


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts) + "."
