"""REST handlers of the registry (models, versions, files, aliases, uploads, events) and of the
API itself (info, the OpenAPI document, unknown routes). Thin: parse the request, call the
registry off the loop, reply. Their paths are in ``routes``.
"""

from __future__ import annotations

import os
import platform
from urllib.parse import quote

import orjson
from jupyter_server.utils import url_path_join
from tornado import ioloop, iostream, web

from .. import __version__
from ..errors import Forbidden, InvalidInput, NotFound
from ..refs import check_name, parse_url_version
from ..registry import views
from . import schemas
from .base import ModelHubHandler, route
from .openapi import openapi_document


class ModelsHandler(ModelHubHandler):
    @route
    async def get(self):
        """Search models: name substring, tag filter, flavor; newest first; paged; only those the user may read."""
        arguments = self.search_arguments()
        await self.reply_read(lambda _: self.registry.models(**arguments, readable=self.readable))


class VersionSearchHandler(ModelHubHandler):
    @route
    async def get(self):
        """Search versions of all models with the same conditions as the model search."""
        arguments = self.search_arguments()
        await self.reply_read(lambda _: self.registry.versions(**arguments, readable=self.readable))


class ModelHandler(ModelHubHandler):
    @route
    async def get(self, name: str):
        # the request's own checks after the permission's (in reply_read): a 403 comes first
        await self.reply_read(lambda _: self.registry.model(name, archived=self.query_bool("archived")), model=name)

    @route
    async def delete(self, name: str):
        await self.require(name, "manage", "delete it")
        self.reply(await self.run(self.registry.delete_model, name, user=self.user_name))


class VersionsHandler(ModelHubHandler):
    @route
    async def get(self, name: str):
        await self.reply_read(
            lambda generation: self.registry.versions(name, **self.search_arguments(), generation=generation),
            model=name,
        )

    @route
    async def post(self, name: str):
        try:
            await self.require(name, "write", "register a version of it", creating=True)
            request = self.body(schemas.RegisterRequest)
        except (InvalidInput, Forbidden):  # a refused registration uses its upload up, as the registry does
            await self.run(self.registry.use_up, self._upload_id_in_body(), self.user_name)
            raise
        fields = request.model_dump(exclude={"upload_id", "source_kernel"})
        fields["signature"] = request.signature.model_dump() if request.signature else None
        if request.source_kernel:
            fields["source_notebook"] = await self.kernel_notebook(request.source_kernel) or request.source_notebook
        version = await self.run(self.registry.register, name, request.upload_id, created_by=self.user_name, **fields)
        self.set_header(
            "Location", url_path_join(self.base_url, "modelhub/api/models", name, "versions", str(version["version"]))
        )
        self.reply(version, status=200 if version["existing"] else 201)

    async def kernel_notebook(self, kernel_id: str) -> str | None:
        """The current path of the notebook whose session runs this kernel: a kernel's own idea of
        it (JPY_SESSION_NAME) is the path it started with, which a rename makes stale."""
        sessions = self.settings.get("session_manager")
        if sessions is None:
            return None
        for session in await sessions.list_sessions():
            if (session.get("kernel") or {}).get("id") == kernel_id and session.get("path"):
                return os.path.join(self.settings.get("server_root_dir", ""), session["path"])
        return None

    def _upload_id_in_body(self) -> object:
        try:
            data = orjson.loads(self.request.body or b"null")
        except orjson.JSONDecodeError:
            return None
        return data.get("upload_id") if isinstance(data, dict) else None


class VersionHandler(ModelHubHandler):
    @route
    async def get(self, name: str, version: str):
        await self.reply_read(
            lambda generation: self.registry.version(parse_url_version(name, version), generation), model=name
        )

    @route
    async def patch(self, name: str, version: str):
        await self.require(name, "write", "change a version's tags, description or archived state")
        request = self.body(schemas.UpdateVersionRequest)
        result = await self.run(
            self.registry.update_version,
            parse_url_version(name, version),
            user=self.user_name,
            **request.model_dump(exclude_unset=True),
        )
        self.reply(result)

    @route
    async def delete(self, name: str, version: str):
        await self.require(name, "manage", "delete a version of it")
        self.reply(await self.run(self.registry.delete_version, parse_url_version(name, version), user=self.user_name))


class ConvertHandler(ModelHubHandler):
    """Starts a conversion to ONNX as an operation (202); a request that cannot work (bad options,
    unknown version, a flavor that cannot be converted) is refused at once instead."""

    @route
    async def post(self, name: str, version: str):
        await self.require(name, "write", "convert a version of it")
        request = self.body(schemas.ConvertRequest)
        options = request.model_dump()
        source, _, _ = await self.run(
            self.settings["modelhub_converter"].check,
            str(parse_url_version(name, version)),
            options["to"],
            options["dtype"],
            options["tolerance"],
            options["opset"],
        )
        operation = await self.run(
            self.settings["modelhub_operations"].submit,
            "convert",
            source["ref"],
            {"ref": source["ref"], **options},
            user=self.user_name,
        )
        self.accepted(operation)


class FileHandler(ModelHubHandler):
    """Streams one file of a version; its size and sha256 from the manifest are in the headers."""

    @route
    async def get(self, name: str, version: str, path: str):
        await self.require(name, "read")
        file_path, entry = await self.run(self.registry.file_path, parse_url_version(name, version), path)
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Length", str(entry["size"]))
        self.set_header("X-Modelhub-Sha256", entry["sha256"])
        self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(os.path.basename(path))}")
        with open(file_path, "rb") as source:
            while chunk := await self.run(source.read, 1 << 20):
                self.write(chunk)
                try:
                    await self.flush()
                except iostream.StreamClosedError:
                    return
        self.finish(set_content_type="application/octet-stream")


class AliasHandler(ModelHubHandler):
    @route
    async def put(self, name: str, alias: str):
        await self.require(name, "write", "move an alias of it")
        request = self.body(schemas.AliasRequest)
        self.reply(await self.run(self.registry.set_alias, name, alias, request.version, user=self.user_name))

    @route
    async def delete(self, name: str, alias: str):
        await self.require(name, "write", "remove an alias of it")
        await self.run(self.registry.delete_alias, name, alias, user=self.user_name)
        self.set_status(204)
        self.finish()


class ModelHistoryHandler(ModelHubHandler):
    """Every change to the model, its versions, aliases and permissions, and its deployments: newest first."""

    @route
    async def get(self, name: str):
        check_name(name)
        await self.require(name, "read")
        self.reply(await self.run(self.registry.history, model=name, **self.history_filters()))


class AliasRollbackHandler(ModelHubHandler):
    @route
    async def post(self, name: str, alias: str):
        """Point the alias back at the version before its last move."""
        await self.require(name, "write", "move an alias of it")
        self.reply(await self.run(self.registry.rollback_alias, name, alias, user=self.user_name))


class PermissionsHandler(ModelHubHandler):
    """Who may do what to a model (GET: needs read), and granting (PUT: needs manage)."""

    @route
    async def get(self, name: str):
        self.reply(await self.run(self.permissions.permissions, self.actor, name))

    @route
    async def put(self, name: str):
        request = self.body(schemas.PermissionRequest)
        self.reply(await self.run(self.permissions.grant, self.actor, name, request.principal, request.permission))


@web.stream_request_body
class UploadsHandler(ModelHubHandler):
    """Receives a tar stream to disk chunk by chunk; a cut-off, stalled or refused upload is
    deleted, never kept. The upload belongs to the user who sent it."""

    _file = None
    _path = None
    _complete = False
    _watchdog = None

    async def prepare(self, *args, **kwargs):
        await super().prepare(*args, **kwargs)
        if self._finished or self.request.method != "POST":
            return
        if not self.current_user:  # refuse before a byte of the body is written to disk
            raise web.HTTPError(403)
        self.request.connection.set_max_body_size(self.settings["modelhub_max_upload_size"])
        self.upload_id, self._path = self.settings["modelhub_artifacts"].new_upload(owner=self.user_name)
        self._file = open(self._path, "wb")
        self._watch_for_stalls()

    def _watch_for_stalls(self) -> None:
        """Give up on an upload whose body stops arriving for ``upload_timeout`` seconds: the
        connection is closed and what arrived is deleted, so a stalled client holds nothing."""
        timeout = self.settings["modelhub_upload_timeout"]
        loop = ioloop.IOLoop.current()
        self._last_data = loop.time()

        def check() -> None:
            if self._complete or self._file is None:
                self._watchdog.stop()
            elif loop.time() - self._last_data > timeout:
                self._watchdog.stop()
                self.log.warning("upload %s stalled: no data for %g s; closing it", self.upload_id, timeout)
                self._discard_partial()
                self.request.connection.close()

        self._watchdog = ioloop.PeriodicCallback(check, max(100, min(timeout * 250, 5000)))
        self._watchdog.start()

    def data_received(self, chunk: bytes) -> None:
        if self._file is not None:
            self._file.write(chunk)
            self._last_data = ioloop.IOLoop.current().time()

    @route
    async def post(self):
        self._file.close()
        self._complete = True
        artifacts = self.settings["modelhub_artifacts"]
        try:
            files, size = await self.run(artifacts.inspect_upload, self._path)
        except BaseException:
            artifacts.discard_upload(self.upload_id)
            raise
        self.reply(views.Upload(upload_id=self.upload_id, files=files, size=size), status=201)

    def on_connection_close(self) -> None:
        self._discard_partial()
        super().on_connection_close()

    def on_finish(self) -> None:
        if self._watchdog is not None:
            self._watchdog.stop()
        if not self._complete:
            self._discard_partial()

    def _discard_partial(self) -> None:
        if self._file is not None and not self._complete:
            self._file.close()
            self.settings["modelhub_artifacts"].discard_upload(self.upload_id)
            self._file = None


class EventsHandler(ModelHubHandler):
    @route
    async def get(self):
        """Changes after ``after``; those of models the user may not read are left out."""
        changes = await self.run(self.registry.changes, self.query_int("after", None))
        if changes.events:
            shown = await self.run(self.permissions.readable_names, self.actor, {e.model for e in changes.events})
            changes.events = [e for e in changes.events if e.model in shown]
        self.reply(changes)


class InfoHandler(ModelHubHandler):
    @route
    async def get(self):
        self.reply(
            schemas.Info(
                version=__version__,
                database=self.registry.db.engine.url.render_as_string(hide_password=True),
                root_dir=str(self.registry.artifacts.root),
                artifact_uri=self.registry.artifacts.uri,
                python=platform.python_version(),
            )
        )


class OpenAPIHandler(ModelHubHandler):
    @route
    async def get(self):
        self.reply(openapi_document(self.base_url))


class UnknownRouteHandler(ModelHubHandler):
    """Any other path under modelhub/api/: a JSON 404 that says where the routes are listed,
    rather than the server's HTML page."""

    @route
    async def get(self, path: str):
        raise NotFound(f"There is no Model Hub route {_clip(path)!r}; modelhub/api/openapi.json lists them.")

    post = put = patch = delete = get


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
