"""ModelHubApp: the Jupyter server extension. Config traits, wiring of services, handler list.

Runs inside JupyterLab's server, or alone as ``jupyter modelhub serve`` for plain IPython,
papermill and scripts. Either way it tells the kernels it starts where it is (``MODELHUB_URL``)
and gives them a token of their own (``MODELHUB_TOKEN``), so ``connect()`` in a kernel needs no
set-up even when the server itself uses password or JupyterHub auth.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import PeriodicCallback
from traitlets import Bool, Integer, Type, Unicode, default

from . import __version__
from .api.handlers import handlers
from .convert import ModelConverter
from .deploy.manager import DeploymentManager
from .operations import OperationRunner
from .packaging.environments import EnvironmentStore
from .packaging.images import ImageStore
from .packaging.packager import Packager
from .registry import ModelRegistry
from .store.artifacts import ArtifactStore
from .store.database import Database


class ModelHubApp(ExtensionApp):
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
    registry_class = Type(
        default_value=ModelRegistry, klass=ModelRegistry, config=True, help="The registry service class."
    )
    operation_runner_class = Type(
        default_value=OperationRunner, klass=OperationRunner, config=True,
        help="The service that runs long work (conversions, builds, batch jobs) as operations.",
    )
    max_upload_size = Integer(
        20 * 1024**3, config=True, help="Largest upload accepted, in bytes (uploads stream to disk)."
    )
    worker_threads = Integer(8, config=True, help="Threads that run registry work off the event loop.")
    info_file = Unicode(
        "", config=True, help="Write this server's URL, token and pid here once it listens "
        "(used by `jupyter modelhub serve` so clients outside Jupyter can find it)."
    )
    export_env = Bool(
        True, config=True, help="Put MODELHUB_URL and MODELHUB_TOKEN in the environment of kernels."
    )

    @default("root_dir")
    def _default_root_dir(self) -> str:
        return os.path.join(jupyter_data_dir(), "modelhub")

    @default("db_url")
    def _default_db_url(self) -> str:
        return "sqlite:///" + str(Path(self.root_dir).resolve() / "registry.db")

    def initialize_settings(self) -> None:
        Path(self.root_dir).mkdir(parents=True, exist_ok=True)
        self.kernel_token = secrets.token_urlsafe(32)
        self.database = Database(self.db_url)
        self.artifacts = ArtifactStore(self.root_dir)
        self.artifacts.clean_leftovers()
        self.registry = self.registry_class(self.database, self.artifacts, parent=self)
        self.deployments = DeploymentManager(
            self.database, self.registry, self.root_dir, parent=self,
            script_roots=[self.serverapp.root_dir] if self.serverapp else [],
        )
        self.converter = ModelConverter(self.registry, parent=self)
        roots = [self.serverapp.root_dir] if self.serverapp else []
        self.packager = Packager(self.registry, EnvironmentStore(self.database, self.root_dir), ImageStore(self.database),
                                 self.root_dir, parent=self, roots=roots)
        self.registry.reference_checks.append(self.packager.images.references)
        self.operations = self.operation_runner_class(
            self.database, self.root_dir, worker_config=self._worker_config(), parent=self)
        self.operations.cleanups["deploy"] = self.deployments.environments.remove_partials
        self.operations.cleanups["build"] = self.packager.wheelhouse.remove_partials
        self.registry.reference_checks.append(self.operations.store.references)
        self.executor = ThreadPoolExecutor(self.worker_threads, thread_name_prefix="modelhub")
        self.settings.update(
            modelhub_converter=self.converter,
            modelhub_operations=self.operations,
            modelhub_packager=self.packager,
            modelhub_registry=self.registry,
            modelhub_deployments=self.deployments,
            modelhub_artifacts=self.artifacts,
            modelhub_executor=self.executor,
            modelhub_kernel_token=self.kernel_token,
            modelhub_max_upload_size=self.max_upload_size,
        )
        self.log.info("Model Hub registry at %s", self.database.engine.url.render_as_string(hide_password=True))

    def _worker_config(self) -> dict:
        """What operation workers are configured with: the settings of this server's services as
        they resolved here (config files, command line, defaults computed at start)."""
        config = {"ModelHubApp": {"registry_class": self.registry_class}}
        for service in (self.registry, self.converter, self.deployments, self.deployments.environments, self.packager):
            config[type(service).__name__] = {name: getattr(service, name) for name in service.trait_names(config=True)}
        return config

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())

    async def _start_jupyter_server_extension(self, serverapp) -> None:
        # The port is only final once the server has bound it, so the address is exported here.
        if self.export_env:
            os.environ["MODELHUB_URL"] = self.server_url(serverapp)
            os.environ["MODELHUB_TOKEN"] = self.kernel_token
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.executor, self.deployments.start)
        await loop.run_in_executor(self.executor, self.deployments.environments.remove_partials)
        await loop.run_in_executor(self.executor, self.packager.wheelhouse.remove_partials)
        await loop.run_in_executor(self.executor, self.operations.start)
        self._host_checks = PeriodicCallback(
            lambda: loop.run_in_executor(self.executor, self.deployments.check_hosts), 5000)
        self._host_checks.start()
        if self.info_file:
            info = {"url": self.server_url(serverapp), "token": self.kernel_token, "pid": os.getpid()}
            temporary = Path(self.info_file).with_suffix(".tmp")
            temporary.write_text(json.dumps(info))
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.info_file)

    @staticmethod
    def server_url(serverapp) -> str:
        """The server's own address as seen from this machine (kernels run beside it)."""
        scheme = "https" if serverapp.certfile else "http"
        host = serverapp.ip if serverapp.ip not in ("", "0.0.0.0", "::", "*", "localhost") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{serverapp.port}{serverapp.base_url}"

    async def stop_extension(self) -> None:
        if getattr(self, "_host_checks", None):
            self._host_checks.stop()
        await asyncio.get_running_loop().run_in_executor(self.executor, self.operations.stop)
        await asyncio.get_running_loop().run_in_executor(self.executor, self.deployments.shutdown)
        if self.info_file:
            Path(self.info_file).unlink(missing_ok=True)
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.database.dispose()
