"""The composition root: every service built from configuration, in one place, for the server
(``app.ModelHubApp``) and the operation worker (``operations.worker``) alike.

Each service's class is a ``Type`` trait (``c.ModelHubApp.registry_class``, ``deployments_class``,
``converter_class``, ``packager_class``, ``batch_class``, ``operation_runner_class``), so
operators and tests swap one without patching, and a worker builds the same classes as its
server. Each service package declares what it adds to the whole in its ``contributions``
module (``jupyter_modelhub.contributions``): its operation kinds and its reference checks. The
root collects them and gives each service what it needs when it builds it: the registry its
reference checks, the runner every kind's clean-up, the worker every kind's work. No service
reaches into another to wire itself in.

Services are built on first use: the server asks for all of them at start (``build_all``), a
worker only for those its operation's kind uses (a batch worker never imports the converter).

Not here: what the services do; the server's start, periodic work and stop (``app``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import select
from traitlets import Dict, Enum, Integer, List, Type, Unicode, import_item
from traitlets.config import Configurable

from .batch.contributions import CONTRIBUTION as BATCH
from .contributions import Contribution, OperationKind, ScheduleTarget
from .convert.contributions import CONTRIBUTION as CONVERT
from .deploy.contributions import CONTRIBUTION as DEPLOY
from .monitoring.contributions import CONTRIBUTION as MONITORING
from .operations.contributions import CONTRIBUTION as OPERATIONS
from .packaging.contributions import CONTRIBUTION as PACKAGING
from .store.artifacts import ArtifactStore, open_artifact_store
from .store.database import Database
from .store.orm import Deployment, ModelVersion

CONTRIBUTIONS: tuple[Contribution, ...] = (CONVERT, PACKAGING, DEPLOY, BATCH, MONITORING, OPERATIONS)
KINDS: dict[str, OperationKind] = {kind.name: kind for c in CONTRIBUTIONS for kind in c.kinds}

# service -> the ModelHubApp trait that names its class (user-visible: c.ModelHubApp.<trait>)
CLASS_TRAITS = {
    "registry": "registry_class",
    "deployments": "deployments_class",
    "converter": "converter_class",
    "packager": "packager_class",
    "batch": "batch_class",
    "operations": "operation_runner_class",
}
CLASSES_SECTION = "ModelHubApp"  # the config section a worker finds its server's classes in
# the ModelHubApp traits that say where versions' files are (a worker opens the same store)
STORAGE_TRAITS = ("artifact_uri", "storage_options", "cache_dir", "cache_max_bytes")


class ServiceClasses(Configurable):
    """The class of each service; ``ModelHubApp`` has these traits (``c.ModelHubApp.registry_class``)."""

    registry_class = Type(
        "jupyter_modelhub.registry.ModelRegistry",
        klass="jupyter_modelhub.registry.ModelRegistry",
        config=True,
        help="The registry service class.",
    )
    deployments_class = Type(
        "jupyter_modelhub.deploy.manager.DeploymentManager",
        klass="jupyter_modelhub.deploy.manager.DeploymentManager",
        config=True,
        help="The service of endpoints and deployments.",
    )
    converter_class = Type(
        "jupyter_modelhub.convert.ModelConverter",
        klass="jupyter_modelhub.convert.ModelConverter",
        config=True,
        help="The service that converts versions to ONNX (it runs in operation workers).",
    )
    packager_class = Type(
        "jupyter_modelhub.packaging.packager.Packager",
        klass="jupyter_modelhub.packaging.packager.Packager",
        config=True,
        help="The service of environments and serving images.",
    )
    batch_class = Type(
        "jupyter_modelhub.batch.jobs.BatchService",
        klass="jupyter_modelhub.batch.jobs.BatchService",
        config=True,
        help="The service of batch jobs and batch endpoints.",
    )
    operation_runner_class = Type(
        "jupyter_modelhub.operations.OperationRunner",
        klass="jupyter_modelhub.operations.OperationRunner",
        config=True,
        help="The service that runs long work (conversions, builds, batch jobs) as operations.",
    )

    def service_classes(self) -> dict[str, type]:
        return {service: getattr(self, trait) for service, trait in CLASS_TRAITS.items()}


class StorageSettings(Configurable):
    """Where versions' files are; ``ModelHubApp`` has these traits (``c.ModelHubApp.artifact_uri``).
    The defaults under ``root_dir`` are the app's (``ModelHubApp``)."""

    artifact_uri = Unicode(
        config=True,
        help="Where versions' files are kept: ROOT_DIR/artifacts by default, or s3://BUCKET/PREFIX for any "
        "S3-compatible store (needs jupyter_modelhub[s3]; credentials from the AWS environment variables, "
        "~/.aws, or storage_options). With a shared db_url, servers with no shared disk are one registry.",
    )
    storage_options = Dict(
        config=True,
        help="Options of the s3fs file system of an s3:// artifact_uri, e.g. {'endpoint_url': "
        "'http://minio:9000'}, {'key': ..., 'secret': ...}, {'default_block_size': 8 * 2**20} (the "
        "multipart part size). Never shown by the server.",
    )
    cache_dir = Unicode(
        config=True, help="This server's local cache of the files of an s3:// store (default ROOT_DIR/cache)."
    )
    cache_max_bytes = Integer(
        10 * 1024**3,
        config=True,
        help="Size the cache is kept to, evicting the versions used least recently (never those endpoints "
        "deploy, nor those used in the last 10 minutes).",
    )

    def storage_settings(self) -> dict:
        return {name: getattr(self, name) for name in STORAGE_TRAITS}


class GovernanceSettings(Configurable):
    """Who may do what to models, and what a promotion needs; ``ModelHubApp`` has these traits
    (``c.ModelHubApp.admins``). The rules are ``registry.permissions``' and ``registry.promotions``'."""

    admins = List(
        Unicode(),
        config=True,
        help="User names that manage every model (read, write, delete, change permissions).",
    )
    default_permission = Enum(
        ["none", "read", "write", "manage"],
        "write",
        config=True,
        help="What a user has on a model nobody granted them anything on: 'write' (the default) keeps a "
        "single user's server as it was; 'read' lets everyone see models and only creators, grantees and "
        "admins change them; 'none' hides models from all but those. Creating a model needs 'write' here.",
    )

    promotion_rules = Dict(
        config=True,
        help="Per alias, the checks a version must pass before the alias may point at it, e.g. {'production': "
        "{'equivalence': True, 'parity': True, 'evaluation': {'accuracy': -0.01}, 'approval': True}}: a converted "
        "version's equivalence report passed; a parity report found the same answers; an evaluation against the "
        "version the alias points at now within these changes (-0.01: at most 0.01 worse; error metrics such as "
        "rmse: lower is better); an approval by someone other than the registrant.",
    )

    def permission_settings(self) -> dict:
        return {"admins": list(self.admins), "default_permission": self.default_permission}


def build_services(
    database: Database,
    root: Path | str,
    *,
    classes: Mapping[str, type | str] | None = None,
    parent: Configurable | None = None,
    config: Any = None,
    roots: list[str] | None = None,
    artifacts: ArtifactStore | None = None,
    storage: Mapping[str, Any] | None = None,
    permissions: Mapping[str, Any] | None = None,
    promotion_rules: Mapping[str, Any] | None = None,
    governance: Mapping[str, Any] | None = None,
) -> Services:
    """Every service of one server or worker, built on first use.

    ``classes`` maps a service to its class (or its import path, as a worker receives it);
    missing ones are the defaults. Services are configured by ``parent`` (the server's app) or
    ``config`` (what a worker received). ``roots`` are the folders users' paths may be in (the
    server's root); a worker gets them through the services' config instead. ``storage``
    (``StorageSettings``) says where versions' files are; a worker finds it in ``config``.
    ``governance`` holds the pickle scan's settings (``registry.pickle_scan.PickleSettings``)
    and the webhooks' key (``webhook_key``).
    """
    if storage is None and config is not None:
        section = config.get(CLASSES_SECTION, {})
        storage = {name: section[name] for name in STORAGE_TRAITS if name in section}
    return Services(
        database,
        Path(root),
        classes or {},
        {"parent": parent} if parent is not None else {"config": config},
        roots,
        artifacts,
        dict(storage or {}),
        dict(permissions or {}),
        dict(promotion_rules or {}),
        dict(governance or {}),
    )


def classes_in(config: Mapping) -> dict[str, str]:
    """The service classes a worker's config names (import paths), as ``Services.worker_config`` wrote them."""
    section = config.get(CLASSES_SECTION, {})
    return {service: section[trait] for service, trait in CLASS_TRAITS.items() if section.get(trait)}


class Services:
    """The services of one process. ``warm`` and ``after_outcome`` are a worker's: what its
    standby warm-up prepared, and clean-up that can wait until the outcome is recorded."""

    def __init__(
        self,
        database: Database,
        root: Path,
        classes: Mapping[str, type | str],
        configure: dict,
        roots: list[str] | None,
        artifacts: ArtifactStore | None,
        storage: dict,
        permissions: dict | None = None,
        promotion_rules: dict | None = None,
        governance: dict | None = None,
    ):
        self.db, self.root, self._configure, self._roots = database, root, configure, roots
        self._storage = storage
        self._permissions = permissions or {}
        self._promotion_rules = promotion_rules or {}
        self._governance = governance or {}
        defaults = ServiceClasses.class_traits()
        self._classes = {
            service: classes.get(service) or defaults[trait].default_value for service, trait in CLASS_TRAITS.items()
        }
        self._artifacts = artifacts
        self.kinds = KINDS
        self.warm = None
        self.after_outcome: list[Callable[[], None]] = []

    def _class(self, service: str) -> type:
        cls = self._classes[service]
        return import_item(cls) if isinstance(cls, str) else cls

    def _roots_for(self, name: str) -> dict:
        return {} if self._roots is None else {name: list(self._roots)}

    def build_all(self) -> Services:
        for service in (*CLASS_TRAITS, "deploys", "permissions", "promotions", "webhooks", "schedules", "scheduler"):
            getattr(self, service)
        return self

    @cached_property
    def artifacts(self) -> ArtifactStore:
        store = self._artifacts or open_artifact_store(self.root, **self._storage)
        if store.is_remote:
            store.cache.in_use = self._deployed_artifact_dirs
        return store

    def _deployed_artifact_dirs(self) -> set[str]:
        """The versions endpoints deploy (any server's, with a shared database): the cache keeps them."""
        with self.db.read() as session:
            query = select(ModelVersion.artifact_dir).join(Deployment, Deployment.version_id == ModelVersion.id)
            return set(session.scalars(query))

    @cached_property
    def registry(self):
        registry = self._class("registry")(self.db, self.artifacts, **self._configure)
        registry.references.extend(self._bound(index) for c in CONTRIBUTIONS for index in c.references)
        if self._promotion_rules:  # built when first needed: the promotions service needs this registry
            registry.alias_guards.append(lambda *args: self.promotions.guard(*args))
        from .registry.pickle_scan import Scanner

        scan = self._governance.get("pickle_scan")
        registry.pickle_scanner = Scanner(**scan) if scan else Scanner()
        return registry

    @cached_property
    def webhooks(self):
        """Webhooks and their delivery worker (the server starts and stops it)."""
        from .webhooks.dispatcher import WebhookDispatcher
        from .webhooks.secrets import SecretBox
        from .webhooks.service import WebhookService

        box = SecretBox(self.root, self._governance.get("webhook_key", ""))
        dispatcher = WebhookDispatcher(self.db, self.permissions, box, **self._configure)
        return WebhookService(self.db, self.permissions, box, dispatcher)

    @cached_property
    def permissions(self):
        """Who may do what to models (checked by the REST handlers; workers need none)."""
        from .registry.permissions import ModelPermissions

        return ModelPermissions(self.db, **self._permissions)

    @cached_property
    def promotions(self):
        """The promotion rules and the versions' evidence (``registry.promotions``)."""
        from .registry.promotions import Promotions

        return Promotions(self.db, self.registry, self._promotion_rules)

    def _bound(self, index) -> Callable:
        return lambda session: index(self, session)

    @cached_property
    def environments(self):
        """The virtual environments of process deployments and batch jobs (``--env``)."""
        from .packaging.venvs import EnvironmentBuilder

        return EnvironmentBuilder(self.root, self.db, **self._configure)

    @cached_property
    def deployments(self):
        deployments = self._class("deployments")(
            self.db,
            self.registry,
            self.root,
            environments=self.environments,
            **self._roots_for("script_roots"),
            **self._configure,
        )
        if self.artifacts.is_remote:  # collected files go to the bucket too (monitoring.bucket)
            from .monitoring.bucket import CollectedBucket

            deployments.collection.bucket = CollectedBucket(self.artifacts)
        return deployments

    @cached_property
    def deploys(self):
        """What a deploy request does, for every target (``deploy.service``)."""
        from .deploy.service import DeployService

        return DeployService(
            self.deployments,
            self.packager,
            self.registry,
            submit=lambda *args, **kwargs: self.operations.submit(*args, **kwargs),
            convert=lambda *args, **kwargs: self.converter.convert(*args, **kwargs),
        )

    @cached_property
    def converter(self):
        return self._class("converter")(self.registry, **self._configure)

    @cached_property
    def packager(self):
        from .packaging.environments import EnvironmentStore
        from .packaging.images import ImageStore

        return self._class("packager")(
            self.registry,
            EnvironmentStore(self.db, self.root),
            ImageStore(self.db),
            self.root,
            **self._roots_for("roots"),
            **self._configure,
        )

    @cached_property
    def operations(self):
        cleanups = {kind.name: self._cleanup(kind) for kind in KINDS.values() if kind.cleanup is not None}
        return self._class("operations")(
            self.db,
            self.root,
            worker_config=self.worker_config(),
            cleanups=cleanups,
            kinds=tuple(KINDS),
            **self._configure,
        )

    def _cleanup(self, kind: OperationKind) -> Callable[[int], None]:
        return lambda operation_id: kind.cleanup(self, operation_id)

    @cached_property
    def batch(self):
        from .batch.endpoints import BatchEndpointStore

        return self._class("batch")(
            self.registry,
            BatchEndpointStore(self.db, self.registry),
            self.operations,
            self.root,
            roots=self._roots or [],
            environments=self.environments.store,
            storage_options=self._storage.get("storage_options"),
        )

    @cached_property
    def schedules(self):
        """Schedules (``operations.schedules``), with what each may start bound to these services."""
        from .operations.schedules import ScheduleStore
        from .registry import history

        targets = {t.kind: self._bound_target(t) for c in CONTRIBUTIONS for t in c.schedule_targets}
        return ScheduleStore(self.db, targets, record=history.record)

    def _bound_target(self, target: ScheduleTarget):
        from .operations.schedules import Target

        return Target(
            check=lambda inputs: target.check(self, inputs),
            start=lambda inputs, user: target.start(self, inputs, user),
            guard=lambda inputs: target.guard(self, inputs),
            shown=target.shown,
        )

    @cached_property
    def scheduler(self):
        """What fires due schedules; the server calls it periodically (``app``), workers never."""
        from .operations.scheduler import Scheduler

        return Scheduler(self.schedules, **self._configure)

    def worker_config(self) -> dict:
        """What operation workers are configured with: the service classes and the settings of
        these services as they resolved here (config files, command line, defaults computed at start)."""
        config: dict = {CLASSES_SECTION: {trait: self._class(service) for service, trait in CLASS_TRAITS.items()}}
        # storage_options may hold a key: worker.json is the owner's only (as the db_url it holds)
        config[CLASSES_SECTION].update(self._storage)
        for service in (self.registry, self.converter, self.deployments, self.environments, self.packager):
            config[type(service).__name__] = {name: getattr(service, name) for name in service.trait_names(config=True)}
        return config
