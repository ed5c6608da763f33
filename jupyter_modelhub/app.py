"""ModelHubApp: the Jupyter server extension. Config traits, the services' start and stop, handler list.

The services are built by the composition root (``services.build_services``), as operation
workers build theirs.

Runs inside JupyterLab's server, or alone as ``jupyter modelhub serve`` for plain IPython,
papermill and scripts. Either way it tells the kernels it starts where it is (``MODELHUB_URL``)
and gives them a token of their own (``MODELHUB_TOKEN``), so ``connect()`` in a kernel needs no
set-up even when the server itself uses password or JupyterHub auth.

If the services cannot start (a database that refuses the connection, a failed migration), the
server runs on, the failure is logged as critical, and every route of the extension answers 503
with the reason, so the panel and the magics say why instead of showing 404s. When the reason is
a database that cannot be reached, the start is tried again every few seconds, so the extension
comes up once the database does. Shutdown never waits on the database: each step is bounded and
a failing one is logged and skipped.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import PeriodicCallback
from traitlets import Bool, Float, Integer, List, Unicode, default

from . import __version__
from .api.read_cache import ReadCache
from .api.routes import handlers
from .errors import ModelHubError
from .parity import ParityProbe
from .registry.pickle_scan import PickleSettings
from .services import GovernanceSettings, ServiceClasses, StorageSettings, build_services
from .store.artifacts import open_artifact_store
from .store.database import Database, unavailable_error

# A query string with a long tag filter must reach the handler, which refuses it with a 400 that
# says why; past Tornado's default (64 KiB of request line and headers) it would close the
# connection without a word.
MAX_HEADER_SIZE = 1024 * 1024
SHUTDOWN_STEP_TIMEOUT = 30
START_RETRY_SECONDS = 5


class ModelHubApp(ExtensionApp, ServiceClasses, StorageSettings, GovernanceSettings, PickleSettings):
    """The extension. The class of each service is a trait of it (``c.ModelHubApp.registry_class``
    ...: ``services.ServiceClasses``), and so is where versions' files are
    (``c.ModelHubApp.artifact_uri``...: ``services.StorageSettings``); ``services.build_services``
    builds them."""

    name = "jupyter_modelhub"
    description = "Model registry and deployment for Jupyter."
    version = __version__
    load_other_extensions = True

    root_dir = Unicode(config=True, help="Folder for the registry database, artifacts and logs.")
    db_url = Unicode(
        config=True,
        help="SQLAlchemy URL of the registry database; SQLite under root_dir by default. "
        "Point it at PostgreSQL (postgresql+psycopg://...) to share a registry.",
    )
    max_upload_size = Integer(
        20 * 1024**3,
        config=True,
        help="Largest upload accepted, in bytes, both as sent and once unpacked (uploads stream to disk).",
    )
    max_files_per_version = Integer(10_000, config=True, help="Most files and folders one version may hold.")
    upload_ttl = Float(
        3600,
        config=True,
        help="Seconds an upload waits to be registered before it is deleted (checked at start and periodically).",
    )
    upload_timeout = Float(
        120,
        config=True,
        help="Seconds an upload may go without receiving data before it is abandoned.",
    )
    worker_threads = Integer(8, config=True, help="Threads that run registry work off the event loop.")
    read_cache_max_bytes = Integer(
        64 * 1024**2,
        config=True,
        help="Bytes of registry responses (versions, models, listings) kept to answer the same read again "
        "until anything in the registry changes, on any server sharing it; 0 turns it off.",
    )
    info_file = Unicode(
        "",
        config=True,
        help="Write this server's URL, token and pid here once it listens "
        "(used by `jupyter modelhub serve` so clients outside Jupyter can find it).",
    )
    export_env = Bool(True, config=True, help="Put MODELHUB_URL and MODELHUB_TOKEN in the environment of kernels.")
    server_user = Unicode(
        config=True,
        help="Whom this server acts for when its kernels, the CLI (with the token it exports), or jupyter_server's "
        "own token or password authenticate a request: the user recorded and checked for them. Default: "
        "$JUPYTERHUB_USER under JupyterHub, else the account the server runs as.",
    )

    @default("root_dir")
    def _default_root_dir(self) -> str:
        return os.path.join(jupyter_data_dir(), "modelhub")

    server_user_groups = List(
        Unicode(),
        config=True,
        help="The groups of server_user, for its kernels and the CLI (the identity provider's groups of that "
        "user are added once it has made a request, e.g. from JupyterLab under JupyterHub).",
    )

    webhook_key = Unicode(
        config=True,
        help="The Fernet key webhook secrets are encrypted with in the database (default: $MODELHUB_WEBHOOK_KEY, "
        "else ROOT_DIR/webhook.key, made at first start, readable by its owner only). Servers sharing a registry "
        "deliver the webhooks made on any server with the same key.",
    )

    @default("server_user")
    def _default_server_user(self) -> str:
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()

    @default("db_url")
    def _default_db_url(self) -> str:
        return "sqlite:///" + str(Path(self.root_dir).resolve() / "registry.db")

    @default("artifact_uri")
    def _default_artifact_uri(self) -> str:
        return str(Path(self.root_dir).resolve() / "artifacts")

    @default("cache_dir")
    def _default_cache_dir(self) -> str:
        return str(Path(self.root_dir).resolve() / "cache")

    def initialize_settings(self) -> None:
        self.kernel_token = secrets.token_urlsafe(32)
        self.failure = ""
        self.settings.update(modelhub_kernel_token=self.kernel_token)
        try:
            self._start_services()
        except Exception as exc:
            self._failed(exc)
            self.log.critical("%s", self.failure, exc_info=True)
            return
        self.log.info("Model Hub registry at %s, versions' files in %s", self.database.where, self.artifacts.uri)

    def _failed(self, exc: Exception) -> None:
        self.failure = self._failure_message(exc)
        self.retry_start = unavailable_error(exc) is not None
        self.settings["modelhub_failure"] = self.failure

    def _start_services(self) -> None:
        root = Path(self.root_dir)
        if not root.exists():
            root.mkdir(mode=0o700, parents=True)  # endpoint keys and models live here
        self.artifacts = open_artifact_store(
            self.root_dir,
            **self.storage_settings(),
            max_size=self.max_upload_size,
            max_files=self.max_files_per_version,
        )
        if self.artifacts.is_remote:
            self.artifacts.log = lambda message: self.log.info("Model Hub: %s", message)
        self._remove_expired_uploads()
        self.database = Database(self.db_url)
        roots = [self.serverapp.root_dir] if self.serverapp else []
        self.services = build_services(
            self.database,
            self.root_dir,
            classes=self.service_classes(),
            parent=self,
            roots=roots,
            artifacts=self.artifacts,
            storage=self.storage_settings(),
            permissions=self.permission_settings(),
            promotion_rules=self.promotion_rules,
            governance={"pickle_scan": self.pickle_settings(), "webhook_key": self.webhook_key},
        ).build_all()
        self.registry, self.deployments = self.services.registry, self.services.deployments
        self.converter, self.packager = self.services.converter, self.services.packager
        self.operations, self.batch = self.services.operations, self.services.batch
        # before the first request: an operation that died with the old server is never shown running
        self.operations.start()
        self.executor = ThreadPoolExecutor(self.worker_threads, thread_name_prefix="modelhub")
        self.settings.update(
            modelhub_batch=self.batch,
            modelhub_converter=self.converter,
            modelhub_operations=self.operations,
            modelhub_packager=self.packager,
            modelhub_parity=ParityProbe(self.registry, self.deployments, self.packager.images),
            modelhub_registry=self.registry,
            modelhub_deployments=self.deployments,
            modelhub_deploys=self.services.deploys,
            modelhub_permissions=self.services.permissions,
            modelhub_promotions=self.services.promotions,
            modelhub_webhooks=self.services.webhooks,
            modelhub_schedules=self.services.schedules,
            modelhub_server_user=self.server_user,
            modelhub_server_user_groups=set(self.server_user_groups),
            modelhub_artifacts=self.artifacts,
            modelhub_executor=self.executor,
            modelhub_read_cache=ReadCache(self.read_cache_max_bytes),
            modelhub_max_upload_size=self.max_upload_size,
            modelhub_upload_timeout=self.upload_timeout,
            modelhub_log_followers=set(),  # the requests streaming a log now (see ModelHubHandler.follow_file)
        )

    def _failure_message(self, exc: Exception) -> str:
        unavailable = unavailable_error(exc)
        if unavailable is not None:
            return (
                f"The Model Hub extension could not start: {unavailable.message} It tries again every "
                f"{START_RETRY_SECONDS} s."
            )
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return (
            f"The Model Hub extension could not start: {cause} ({type(exc).__name__}). "
            "Fix the cause and restart the Jupyter server; its log has the details."
        )

    def _remove_expired_uploads(self) -> None:
        removed = self.artifacts.remove_expired(self.upload_ttl)
        if removed:
            self.log.info(
                "Model Hub: removed %d uploads and staging folders older than %g s", len(removed), self.upload_ttl
            )

    def _remove_orphans(self) -> None:
        removed = self.registry.remove_orphans(self.upload_ttl)
        if removed:
            self.log.info(
                "Model Hub: removed %d unfinished version folders from %s: %s",
                len(removed),
                self.artifacts.uri,
                ", ".join(removed),
            )

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())

    async def _start_jupyter_server_extension(self, serverapp) -> None:
        http_server = getattr(serverapp, "http_server", None)
        if http_server is not None and http_server.conn_params.max_header_size < MAX_HEADER_SIZE:
            http_server.conn_params.max_header_size = MAX_HEADER_SIZE
        if self.failure and self.retry_start:
            self.log.critical("Model Hub routes answer 503 until the database can be reached: %s", self.failure)
            self._retries = PeriodicCallback(lambda: self._try_start_again(serverapp), START_RETRY_SECONDS * 1000)
            self._retries.start()
            return
        if self.failure:
            self.log.critical("Model Hub routes answer 503 until the server restarts: %s", self.failure)
            return
        await self._run(serverapp)

    async def _try_start_again(self, serverapp) -> None:
        """One more start of the services, off the event loop; on success the routes answer again."""
        if getattr(self, "_starting", False):
            return
        self._starting = True
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._start_services)
        except Exception as exc:
            self._failed(exc)
            serverapp.web_app.settings["modelhub_failure"] = self.failure
            self.log.warning("%s", self.failure)
            return
        finally:
            self._starting = False
        self._retries.stop()
        self.failure = ""
        # the handlers read the web application's settings, which took a copy of these at load
        self.settings.pop("modelhub_failure", None)
        serverapp.web_app.settings.update(self.settings)
        serverapp.web_app.settings.pop("modelhub_failure", None)
        self.log.info("Model Hub started after all; registry at %s", self.database.where)
        await self._run(serverapp)

    async def _run(self, serverapp) -> None:
        """What starts once the services exist: endpoints, cleanups, periodic checks, the info file."""
        # The port is only final once the server has bound it, so the address is exported here.
        if self.export_env:
            os.environ["MODELHUB_URL"] = self.server_url(serverapp)
            os.environ["MODELHUB_TOKEN"] = self.kernel_token
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.executor, self.deployments.start)
        await loop.run_in_executor(self.executor, self.deployments.environments.remove_partials)
        await loop.run_in_executor(self.executor, self.packager.wheelhouse.remove_partials)
        self._in_background("removing what image builds left", self.packager.remove_leftovers)
        self._periodic = [
            PeriodicCallback(
                lambda: self._in_background("checking endpoint hosts", self.deployments.check_hosts), 5000
            ),
            PeriodicCallback(
                lambda: self._in_background("expiring uploads", self._remove_expired_uploads),
                max(1.0, min(self.upload_ttl / 2, 600)) * 1000,
            ),
            PeriodicCallback(
                lambda: self._in_background("removing unfinished version folders", self._remove_orphans),
                max(1.0, min(self.upload_ttl / 2, 600)) * 1000,
            ),
        ]
        if self.artifacts.is_remote:
            collection = self.deployments.collection
            self._periodic.append(
                PeriodicCallback(
                    lambda: self._in_background("moving collected requests to the bucket", collection.move),
                    max(0.1, self.deployments.collect_move_seconds) * 1000,
                )
            )
        series = self.deployments.series  # the endpoints' counters over time (the page's charts)
        self._periodic.append(
            PeriodicCallback(
                lambda: self._in_background("reading endpoints' counters", series.sample),
                max(0.1, self.deployments.metrics_interval) * 1000,
            )
        )
        scheduler = self.services.scheduler  # due schedules fire on every server; the database picks one
        self._periodic.append(
            PeriodicCallback(
                lambda: self._in_background("firing schedules", scheduler.fire_due),
                max(0.1, scheduler.check_interval) * 1000,
            )
        )
        self._in_background("firing schedules", scheduler.fire_due)  # at once: times missed while down
        self._in_background("removing unfinished version folders", self._remove_orphans)
        self.services.webhooks.dispatcher.start()
        for callback in self._periodic:
            callback.start()
        if self.info_file:
            info = {"url": self.server_url(serverapp), "token": self.kernel_token, "pid": os.getpid()}
            temporary = Path(self.info_file).with_suffix(".tmp")
            temporary.write_text(json.dumps(info))
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.info_file)

    def _in_background(self, what: str, work) -> None:
        """Run periodic work on the pool; a failure (e.g. the database is away) is one line in the
        log, and the next round tries again."""

        def run() -> None:
            try:
                work()
            except Exception as exc:
                unavailable = exc if isinstance(exc, ModelHubError) else unavailable_error(exc)
                self.log.warning(
                    "Model Hub: %s failed: %s",
                    what,
                    unavailable.message if unavailable else exc,
                    exc_info=unavailable is None,
                )

        self.executor.submit(run)

    @staticmethod
    def server_url(serverapp) -> str:
        """The server's own address as seen from this machine (kernels run beside it)."""
        scheme = "https" if serverapp.certfile else "http"
        host = serverapp.ip if serverapp.ip not in ("", "0.0.0.0", "::", "*", "localhost") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{serverapp.port}{serverapp.base_url}"

    async def stop_extension(self) -> None:
        """Stop the services, each step bounded in time; one that fails (the database may be
        gone) is logged and the next runs, so the server always exits."""
        for callback in [*getattr(self, "_periodic", []), getattr(self, "_retries", None)]:
            if callback is not None:
                callback.stop()
        if self.failure:
            return
        for what, step in (
            ("stopping webhook deliveries", self.services.webhooks.dispatcher.stop),
            ("stopping operations", self.operations.stop),
            ("stopping endpoints", self.deployments.shutdown),
        ):
            try:
                await asyncio.wait_for(
                    asyncio.get_running_loop().run_in_executor(self.executor, step), SHUTDOWN_STEP_TIMEOUT
                )
            except Exception as exc:
                unavailable = unavailable_error(exc)
                self.log.warning(
                    "Model Hub shutdown: %s failed (%s); going on",
                    what,
                    unavailable.message if unavailable else repr(exc),
                )
        if self.info_file:
            Path(self.info_file).unlink(missing_ok=True)
        self.executor.shutdown(wait=False, cancel_futures=True)
        try:
            self.database.dispose()
        except Exception as exc:
            self.log.warning("Model Hub shutdown: closing the database connections failed (%r)", exc)
