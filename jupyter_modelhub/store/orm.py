"""SQLAlchemy tables of the registry.

The schema is owned by the alembic migrations in ``store/migrations``; these classes must match
them (a test runs ``alembic check`` to prove it). Times are stored as naive UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Model(Base):
    """A registered model: a name that versions hang from."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    created_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    # who registered its first version: it manages the model (``registry.permissions``)
    created_by: Mapped[str] = mapped_column(String(128), default="", nullable=False)

    versions: Mapped[list[ModelVersion]] = relationship(back_populates="model", passive_deletes=True)
    aliases: Mapped[list[Alias]] = relationship(back_populates="model", passive_deletes=True)


class ModelVersion(Base):
    """An immutable set of files plus metadata; ``version`` is 1, 2, 3... per model."""

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("model_id", "version", name="uq_model_versions_model_version"),
        Index("ix_model_versions_model_content", "model_id", "content_hash"),
        Index("ix_model_versions_created", "created_time"),
        # covers "latest unarchived version of these models" in listings without reading rows
        Index("ix_model_versions_latest", "model_id", "archived", "version"),
        # "what derives from this version" is asked on every read of a version
        Index("ix_model_versions_derived_from", "derived_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    flavor: Mapped[str] = mapped_column(String(32), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    artifact_dir: Mapped[str] = mapped_column(String(512), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    files: Mapped[list] = mapped_column(JSON, nullable=False)
    signature: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    input_example: Mapped[object | None] = mapped_column(JSON, nullable=True)
    properties: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    created_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    source_notebook: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    derived_from: Mapped[str | None] = mapped_column(String(256), nullable=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    model: Mapped[Model] = relationship(back_populates="versions")
    tags: Mapped[list[Tag]] = relationship(back_populates="version", cascade="all, delete-orphan", passive_deletes=True)


class Tag(Base):
    """A mutable ``key=value`` label on a version; indexed for the tag filter."""

    __tablename__ = "tags"
    # covering index: a tag filter finds version ids from (key, value) without reading rows
    __table_args__ = (Index("ix_tags_key_value", "key", "value", "version_id"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(1024), nullable=False, default="")

    version: Mapped[ModelVersion] = relationship(back_populates="tags")


class Alias(Base):
    """``name@alias`` -> one version of that model. Moving it is one UPDATE."""

    __tablename__ = "aliases"

    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    updated_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    model: Mapped[Model] = relationship(back_populates="aliases")
    version: Mapped[ModelVersion] = relationship()


class Grant(Base):
    """A permission on one model (read, write or manage) given to ``user:NAME``, ``group:NAME``
    or ``everyone`` (which replaces the server's default permission for that model)."""

    __tablename__ = "grants"

    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    principal: Mapped[str] = mapped_column(String(192), primary_key=True)
    permission: Mapped[str] = mapped_column(String(16), nullable=False)
    granted_by: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    granted_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Evidence(Base):
    """What a version brings to a promotion (``registry.promotions``): an evaluation's metrics, a
    parity report, or an approval for an alias. Kept with the version (deleted with it)."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_version_kind", "version_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    alias: Mapped[str | None] = mapped_column(String(64), nullable=True)
    passed: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    user: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class HistoryEntry(Base):
    """One change, for the history: who (and from which client), when, what, and the old and new
    values. Append-only: nothing in the API edits or deletes a row, and deleting a model or an
    endpoint keeps its history (no foreign keys)."""

    __tablename__ = "history"
    __table_args__ = (
        Index("ix_history_model", "model", "id"),
        Index("ix_history_endpoint", "endpoint", "id"),
        {"sqlite_autoincrement": True},  # an entry's id is never handed out again
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    user: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    client: Mapped[str] = mapped_column(String(16), default="", nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    model: Mapped[str | None] = mapped_column(String(128), nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    endpoint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    subject: Mapped[str] = mapped_column(String(256), default="", nullable=False)
    old: Mapped[object | None] = mapped_column(JSON, nullable=True)
    new: Mapped[object | None] = mapped_column(JSON, nullable=True)


class Event(Base):
    """An append-only change log; clients poll it to refresh (the sidebar) and it doubles as audit."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    model: Mapped[str] = mapped_column(String(128), nullable=False)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    operation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Endpoint(Base):
    """A stable name and local URL in front of one or more deployments.

    ``traffic`` maps deployment names to percentages summing to 100; ``mirror`` is
    ``{"deployment": name, "percent": n}`` or empty. The endpoint's host process (router and
    supervisor of its deployments) is found again through ``host_pid`` after a server restart.
    """

    __tablename__ = "endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    port: Mapped[int] = mapped_column(Integer, nullable=False)
    host: Mapped[str] = mapped_column(String(64), default="127.0.0.1", nullable=False)
    auth_mode: Mapped[str] = mapped_column(String(16), default="key", nullable=False)
    primary_key: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    secondary_key: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    traffic: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    mirror: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    # payload collection settings (deploy.collecting); None: never switched on
    collect: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    host_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the Model Hub server that runs it (HOSTNAME:ROOT), when servers share the database; None
    # for endpoints made before it was recorded (by the one server there was)
    server: Mapped[str | None] = mapped_column(String(512), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="running", nullable=False)
    created_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), default="", nullable=False)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="endpoint", cascade="all, delete-orphan", passive_deletes=True
    )


class Deployment(Base):
    """A model version served under an endpoint (e.g. 'blue'), with its run settings."""

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("endpoint_id", "name", name="uq_deployments_endpoint_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    model_ref: Mapped[str] = mapped_column(String(256), nullable=False)  # as asked, e.g. churn@production
    settings: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    created_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    endpoint: Mapped[Endpoint] = relationship(back_populates="deployments")
    version: Mapped[ModelVersion] = relationship()


class ServingRecord(Base):
    """The timeline: which version served on which endpoint and deployment, from when to when."""

    __tablename__ = "serving_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    deployment: Mapped[str] = mapped_column(String(64), nullable=False)
    model: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    started_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    ended_time: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Operation(Base):
    """Long work as a resource: a conversion, a deploy that builds, later image builds and batch jobs.

    ``status`` goes queued -> running -> succeeded | failed | cancelled. The work runs in a
    worker process (``pid``, its own process group) that writes ``progress`` and the outcome
    here itself, so an operation is found again, and finishes, even if the server restarts.
    Its inputs and log are files under ``operations/<id>/``.
    """

    __tablename__ = "operations"
    # ids are what users name operations by: SQLite's AUTOINCREMENT never hands a deleted one out again
    __table_args__ = (Index("ix_operations_status_kind", "status", "kind"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    subject: Mapped[str] = mapped_column(String(256), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", nullable=False)
    progress: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    link: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    started_time: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    ended_time: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    server: Mapped[str | None] = mapped_column(String(512), nullable=True)  # who runs it (store.database.server_name)


class Environment(Base):
    """A software environment for serving: pip requirements locked with uv for one platform,
    Python version and base image. ``version`` is 1, 2, 3... per name; ``content_hash`` (of the
    lock, the Python version and the base image) makes the same content the same version."""

    __tablename__ = "environments"
    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_environments_name_version"),
        Index("ix_environments_name_hash", "name", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    requirements: Mapped[str] = mapped_column(Text, nullable=False)
    lock: Mapped[str] = mapped_column(Text, nullable=False)
    python: Mapped[str] = mapped_column(String(16), nullable=False)
    base_image: Mapped[str] = mapped_column(String(256), nullable=False)
    created_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), default="", nullable=False)


class Image(Base):
    """A serving image built for a model version: where it is in the engine, how it was built."""

    __tablename__ = "images"
    # ids are what users name images by (%image 3 --delete): never handed out again after a delete
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag: Mapped[str] = mapped_column(String(256), nullable=False, index=True)
    image_id: Mapped[str] = mapped_column(String(128), nullable=False)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    report: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    labels: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    built_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), default="", nullable=False)

    version: Mapped[ModelVersion] = relationship()
    environment: Mapped[Environment] = relationship()
    # the record's pushes go with it (a record deleted in the registry; what the registry holds stays)
    pushes: Mapped[list[ImagePush]] = relationship(
        back_populates="image", cascade="all, delete-orphan", order_by="ImagePush.id"
    )


class ImagePush(Base):
    """Where an image record was pushed: the reference, the digest the registry answered and
    checked, when and by whom. One row per reference: pushing there again updates it."""

    __tablename__ = "image_pushes"
    __table_args__ = (UniqueConstraint("image_record_id", "reference", name="uq_image_pushes_reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_record_id: Mapped[int] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), nullable=False, index=True
    )
    reference: Mapped[str] = mapped_column(String(400), nullable=False)
    digest: Mapped[str] = mapped_column(String(80), nullable=False)
    pushed_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    pushed_by: Mapped[str] = mapped_column(String(128), default="", nullable=False)

    image: Mapped[Image] = relationship(back_populates="pushes")


class BatchEndpoint(Base):
    """A named, reusable batch scoring configuration: a model version and Azure's batch settings.

    Saving it again adds a version; the newest version is the one ``%batch NAME`` runs, and its
    model version cannot be deleted while it exists.
    """

    __tablename__ = "batch_endpoints"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_batch_endpoint_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    settings: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), default="", nullable=False)

    model_version: Mapped[ModelVersion] = relationship()


class Webhook(Base):
    """A receiver of the history's entries (``webhooks``): a URL, the actions it wants, its owner
    (it gets only what its owner, with the groups it had when it made it, may read), an optional
    model it is limited to, and how far it has read the history (``cursor``: the last entry id
    looked at; ``holes``: ids below it not yet committed when it looked, on databases that hand
    out ids before commit). The secret is kept encrypted with the key of the servers that
    deliver it (``key_id`` names that key)."""

    __tablename__ = "webhooks"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    events: Mapped[list] = mapped_column(JSON, nullable=False)
    model: Mapped[str | None] = mapped_column(String(128), nullable=True)
    owner: Mapped[str] = mapped_column(String(128), nullable=False)
    owner_groups: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    secret: Mapped[str] = mapped_column(Text, nullable=False)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    description: Mapped[str] = mapped_column(String(512), default="", nullable=False)
    created_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    cursor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    holes: Mapped[list] = mapped_column(JSON, default=list, nullable=False)


class WebhookDelivery(Base):
    """One history entry (or a test call) to send to one webhook: its payload, its state
    (``pending``, ``sending``, ``delivered``, ``failed``), attempts, the next try and the last
    error. (webhook, entry) is unique, so two servers reading the history make one delivery."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "entry_id", name="uq_webhook_deliveries_entry"),
        Index("ix_webhook_deliveries_due", "status", "next_time"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False)
    entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    event: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="", nullable=False)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    last_time: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    delivered_time: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ModelCard(Base):
    """The sections of a version's model card that people write (intended use, limitations...),
    kept across regenerations of the card; the rest of the card is made from the registry."""

    __tablename__ = "model_cards"

    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True)
    sections: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    updated_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Schedule(Base):
    """A cron expression in a time zone that starts an operation at its times (``operations.schedules``).

    ``kind`` and ``inputs`` say what it starts (a batch endpoint's job, later a saved monitor);
    ``next_run_at`` is the time it fires next (None while paused). Servers sharing the database
    claim a due time with one conditional UPDATE on ``next_run_at``, so each time runs once.
    ``host`` is the machine whose files the inputs name (None: any server may run it).
    """

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_due", "enabled", "next_run_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    cron: Mapped[str] = mapped_column(String(128), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    inputs: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    subject: Mapped[str] = mapped_column(String(256), default="", nullable=False)
    model: Mapped[str | None] = mapped_column(String(256), nullable=True)  # whose permissions guard it
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    missed_policy: Mapped[str] = mapped_column(String(16), default="skip", nullable=False)
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_operation: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    missed: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_missed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    updated_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class TrafficSample(Base):
    """One read of a deployment's counters by the server that runs its endpoint (``deploy.series``).

    The counters are cumulative, as the deployment's runtime reports them since it started, so a
    missed read loses no requests; rates and percentiles over any interval are differences of
    two rows (a restarted deployment counts from zero again: a drop is a restart, not a negative
    rate). Rows are keyed by the endpoint's name, not its id, so they outlive a deployment's
    replacement; the reader keeps only those after the endpoint's creation, and the sampler
    deletes those older than its retention.

    Each row also keeps what was answered since the deployment's row before (``*_added``,
    ``restarted`` when a counter went down), worked out when it is written, and its time in
    milliseconds since the epoch (not a DateTime like the other tables' times): the reader sums
    a week of rows into steps in SQL with a GROUP BY and an integer division, the same on SQLite
    and PostgreSQL, instead of reading them all.
    """

    __tablename__ = "traffic_samples"
    __table_args__ = (Index("ix_traffic_samples_endpoint_at", "endpoint", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    endpoint: Mapped[str] = mapped_column(String(64), nullable=False)
    deployment: Mapped[str] = mapped_column(String(64), nullable=False)
    requests: Mapped[int] = mapped_column(BigInteger, nullable=False)
    errors: Mapped[int] = mapped_column(BigInteger, nullable=False)
    latency_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    latency_sum: Mapped[float] = mapped_column(Float, nullable=False)
    # [[upper bound in seconds, requests at most that long], ...], cumulative, finite bounds only
    latency_buckets: Mapped[list] = mapped_column(JSON, nullable=False)
    requests_added: Mapped[int] = mapped_column(BigInteger, nullable=False)
    errors_added: Mapped[int] = mapped_column(BigInteger, nullable=False)
    timed_added: Mapped[int] = mapped_column(BigInteger, nullable=False)
    restarted: Mapped[bool] = mapped_column(Boolean, nullable=False)


class RegistryGeneration(Base):
    """One row whose number goes up with every committed change to what the registry's reads
    show (``store.generation``): a server that remembers a response with the number it read
    before computing it may answer with it again while the number has not moved, whichever
    server or worker made the change."""

    __tablename__ = "registry_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)
