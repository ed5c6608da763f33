"""Endpoints and deployments: the service behind %deploy, %traffic, %logs and %undeploy.

An endpoint is a stable name and port; each of its deployments runs a registered model version.
This service keeps them in the database, writes each endpoint's desired state to
``endpoints/<name>/spec.json`` and starts or signals the endpoint's host process
(``deploy.host``), which does the running. Endpoints belong to the server, not to a kernel; a
restarted server adopts the hosts still alive and restarts the ones that should be.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from traitlets import Bool, Float, Integer, List, Unicode
from traitlets.config import LoggingConfigurable

from ..errors import Conflict, InvalidInput, NotFound
from ..flavors import BUILTIN_FLAVORS
from ..packaging.venvs import EnvironmentBuilder
from ..progress import Progress
from ..refs import RefError, check_alias
from ..registry import ModelRegistry, history
from ..registry.events import record_event
from ..store.database import Database, other_server, server_name
from ..store.orm import Deployment, Endpoint, ModelVersion, ServingRecord, utcnow
from ..timestamps import iso
from ..views import Deleted
from . import collecting, contract, optimizing, views
from . import multi as multi_model
from .collection import CollectedRequests
from .host import alive as _alive
from .host import primary, write_json
from .series import TrafficSeries

SETTINGS = ("instances", "max_batch_size", "max_batch_wait_ms", "max_request_bytes", "request_timeout")


def check_label(name: str, what: str = "endpoint") -> str:
    """Endpoint and deployment names have an alias's shape: letters, digits, '_' and '-'."""
    try:
        return check_alias(name)
    except RefError:
        raise InvalidInput(
            f"Invalid {what} name {name!r}: use 1-64 letters, digits, '_' or '-', starting with a letter."
        ) from None


def _optimized(record: dict | None, hint, version: ModelVersion) -> dict:
    """What serves a deployment, and what optimize did or could do (``deploy.optimizing``)."""
    fields = {"serves": f"{version.model.name}:{version.version}", "optimized_from": None}
    if record:
        fields.update(optimization=views.Optimization(**record), optimized_from=record.get("optimized_from"))
    if hint is not None:
        fields["onnx_form"] = hint
    return fields


APPLY_WAIT = 5.0  # seconds a change to a live endpoint waits for its host to read the new spec
AUTOMATIC_PORTS_FROM = 20000  # endpoints' automatic ports: from here up to the system's ephemeral range


def _automatic_port(host: str) -> int:
    """A free port for a new endpoint, below the range the system hands out for outgoing
    connections and ``bind(0)``: the host binds it a moment later, and a port from that range
    could be taken in between by any connection the machine opens."""
    try:
        ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768
    if ephemeral - AUTOMATIC_PORTS_FROM >= 1000:
        for port in secrets.SystemRandom().sample(range(AUTOMATIC_PORTS_FROM, ephemeral), 64):
            if _port_free(host, port):
                return port
    with socket.socket() as s:  # a crowded or unusual range: let the system choose
        s.bind((host, 0))
        return s.getsockname()[1]


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class DeploymentManager(LoggingConfigurable):
    """Creates, updates, routes and removes local online endpoints."""

    bind_host = Unicode("127.0.0.1", config=True, help="Address endpoints listen on.")
    start_timeout = Float(120.0, config=True, help="Seconds a deployment may take to become ready.")
    stop_on_shutdown = Bool(True, config=True, help="Stop every endpoint when the server stops (they restart with it).")
    script_roots = List(Unicode(), config=True, help="Folders entry scripts may be read from with --reload.")
    max_instances = Integer(8, config=True, help="Largest instance count of one deployment.")
    backoff_reset = Float(
        60.0, config=True, help="Seconds a restarted deployment must serve before its restart backoff starts over."
    )
    collect_roll_seconds = Float(
        60.0, config=True, help="Payload collection: seconds before a file under way is committed (and readable)."
    )
    collect_roll_bytes = Integer(
        64 * 2**20, config=True, help="Payload collection: bytes of a file before it is committed."
    )
    collect_move_seconds = Float(
        30.0,
        config=True,
        help="Payload collection with an artifact store in a bucket: seconds between moves of committed files "
        "there (a read moves them first anyway).",
    )
    metrics_interval = Float(
        10.0, config=True, help="Seconds between the server's reads of its endpoints' counters (the charts over time)."
    )
    metrics_retention = Unicode(
        "7d", config=True, help="How long the endpoints' counters read over time are kept (e.g. 7d, 24h)."
    )

    def __init__(
        self,
        database: Database,
        registry: ModelRegistry,
        root: Path,
        environments: EnvironmentBuilder | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.db, self.registry = database, registry
        self.folder = Path(root).resolve() / "endpoints"
        # who runs an endpoint, among servers that share the database (not a root)
        self.server = server_name(root)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._children: dict[str, subprocess.Popen] = {}
        self._guard = threading.Lock()
        self._applying: dict[str, threading.Lock] = {}  # endpoint -> held while its spec is written and its host told
        self.environments = environments or EnvironmentBuilder(Path(root).resolve(), database, parent=self)
        self.collection = CollectedRequests(self)  # what endpoints collected, read back
        self.series = TrafficSeries(self)  # their counters over time
        self.metrics_retention_seconds = collecting.duration(self.metrics_retention, "metrics_retention")

    # -- deploying -------------------------------------------------------------------------

    def deploy(self, endpoint: str, model: str, **options) -> dict:
        """Create or update ``endpoint``'s deployment to serve ``model`` (``create_or_update``); the endpoint."""
        return self.create_or_update(endpoint, model, **options)[0]

    def create_or_update(
        self,
        endpoint: str,
        model: str,
        *,
        deployment: str = "blue",
        entry_script: dict | None = None,
        entry_script_path: str | None = None,
        reload: bool = False,
        traffic: dict | None = None,
        auth: str = "key",
        port: int | None = None,
        environment: str | None = None,
        requirements: str | None = None,
        user: str = "",
        progress: Progress | None = None,
        allow_contract_change: bool = False,
        container: dict | None = None,
        requested: str | None = None,
        optimization: dict | None = None,
        collect: dict | None = None,
        multi: dict | None = None,
        **settings,
    ) -> tuple[dict, bool]:
        """Create or update ``endpoint``'s deployment to serve ``model``; waits until it is ready.
        Returns the endpoint and whether this call created it (decided in the transaction that
        writes it: of two concurrent deploys of a new endpoint, one creates it, the other updates).
        ``requested`` is the reference the user gave (``churn@production``) when ``model`` is the
        version it was resolved to.

        ``environment`` names a registered environment (NAME[:VERSION]); ``requirements`` (a
        requirements file's text) makes or reuses one by content; the deployment then runs in that
        environment's venv and records which environment it uses. Without either it uses the
        server's Python. Locking or building an environment is long work: the REST API runs such a deploy as an operation
        (``needs_build`` tells which), and ``progress`` hears about the build. A version whose
        contract differs from the endpoint's is refused unless ``allow_contract_change``.
        """
        progress = progress or Progress()
        settings = self._check_request(endpoint, deployment, auth, settings)
        self._check_contract(endpoint, deployment, model, allow_contract_change)
        self.registry.verify_files(model)  # a file changed on disk is refused by name, never served
        version = self.registry.get_version(model)
        if container:  # the image carries its environment: nothing to build here
            settings["container"] = container
        else:
            if requirements:
                progress.step("locking the environment with uv", 0, 4)
            env = self.environments.resolve(
                version["name"], version["flavor"], environment=environment, requirements=requirements, user=user
            )
            settings["python"] = self.environments.python_for(env, progress)
            if env:
                settings["environment"] = env["ref"]
        progress.step(f"starting {endpoint}/{deployment}", 3, 4)
        with progress.final():  # from here the endpoint changes: finish rather than leave it half-made
            script = self._place_script(endpoint, deployment, entry_script, entry_script_path, reload)
            if optimization:  # deploy.optimizing: what serves and why, kept with the deployment
                settings["optimization"] = optimization
            if multi:  # deploy.multi: the versions this one runtime serves, and their budget
                settings["multi"] = multi
            return self._deploy(
                endpoint,
                model,
                requested or model,
                deployment,
                script,
                reload,
                traffic,
                auth,
                port,
                user,
                settings,
                collect,
            )

    def needs_build(
        self,
        endpoint: str,
        model: str,
        *,
        deployment: str = "blue",
        auth: str = "key",
        environment: str | None = None,
        requirements: str | None = None,
        allow_contract_change: bool = False,
        **settings,
    ) -> bool:
        """Check a deploy request as ``deploy`` would (a bad one is a 400 or 409 now, not a failed
        operation: an unknown environment is a 404, a bad requirement a 400); True if it must lock
        or build an environment first."""
        self._check_request(endpoint, deployment, auth, {k: v for k, v in settings.items() if k in SETTINGS})
        self._check_contract(endpoint, deployment, model, allow_contract_change)
        version = self.registry.get_version(model)
        return self.environments.needs_build(
            self.environments.resolve(
                version["name"], version["flavor"], environment=environment, requirements=requirements, create=False
            )
        )

    def _check_contract(self, endpoint: str, deployment: str, model: str, allow: bool) -> None:
        """Refuse (409) a version whose inputs or outputs differ from what the endpoint's clients get
        now, from its primary deployment (``contract``)."""
        if allow:
            return
        with self.db.read() as session:
            row = session.scalar(select(Endpoint).where(Endpoint.name == endpoint))
            deployments = {d.name: d for d in row.deployments} if row is not None else {}
            live = deployments.get(primary(row.traffic, deployments)) if deployments else None
            if live is None:
                return
            new = self.registry.resolve(session, model)
            problem = contract.refusal(
                endpoint,
                deployment,
                f"{new.model.name}:{new.version}",
                new.signature,
                live.name,
                f"{live.version.model.name}:{live.version.version}",
                live.version.signature,
            )
        if problem:
            raise Conflict(problem)

    def check_request(self, endpoint: str, deployment: str = "blue", auth: str = "key", **settings) -> None:
        """What a deploy request can be checked for without the database: names, auth, settings (400s)."""
        self._check_request(endpoint, deployment, auth, {k: v for k, v in settings.items() if k in SETTINGS})

    def _check_request(self, endpoint: str, deployment: str, auth: str, settings: dict) -> dict:
        check_label(endpoint)
        check_label(deployment, "deployment")
        if auth not in ("key", "none"):
            raise InvalidInput(f"Invalid auth {auth!r}: expected 'key' or 'none'.")
        return self._check_settings(settings)

    def _deploy(
        self,
        endpoint: str,
        model: str,
        requested: str,
        deployment: str,
        script: str | None,
        reload: bool,
        traffic: dict | None,
        auth: str,
        port: int | None,
        user: str,
        settings: dict,
        collect: dict | None = None,
    ) -> tuple[dict, bool]:
        def write(session: Session) -> tuple[int, bool]:
            version = self.registry.resolve(session, model)
            row = session.scalar(select(Endpoint).where(Endpoint.name == endpoint))
            created = row is None  # a concurrent deploy that created it first makes this attempt retry as an update
            if row is None:
                row = Endpoint(
                    name=endpoint,
                    port=self._choose_port(port),
                    host=self.bind_host,
                    auth_mode=auth,
                    primary_key=secrets.token_urlsafe(24),
                    secondary_key=secrets.token_urlsafe(24),
                    traffic={},
                    mirror={},
                    server=self.server,
                    created_by=user,
                )
                session.add(row)
                session.flush()
            else:
                self._check_runs_here(row)
            if port is not None and not created and port != row.port:
                raise Conflict(f"Endpoint {endpoint!r} already listens on port {row.port}; delete it to change ports.")
            existing = next((d for d in row.deployments if d.name == deployment), None)
            before = _served(existing, row.traffic) if existing is not None else None
            generation = (existing.settings.get("generation", 0) if existing else 0) + 1
            spec = {**settings, "generation": generation, "entry_script": script, "reload": reload}
            changed = existing is None or existing.version_id != version.id
            if existing is None:
                session.add(
                    Deployment(endpoint=row, name=deployment, version_id=version.id, model_ref=requested, settings=spec)
                )
            else:
                if changed:
                    self._end_record(session, endpoint, deployment)
                existing.version_id, existing.model_ref, existing.settings = version.id, requested, spec
                existing.updated_time = utcnow()
            if changed:
                session.add(
                    ServingRecord(
                        endpoint=endpoint, deployment=deployment, model=version.model.name, version=version.version
                    )
                )
            names = {d.name for d in row.deployments} | {deployment}
            row.traffic = (
                self._check_traffic(traffic, names) if traffic else (row.traffic if row.traffic else {deployment: 100})
            )
            row.state = "running"
            if collect is not None:  # the request's collection fields (collection_change), merged
                row.collect = collecting.merge(row.collect, **collect)
            record_event(session, "deployed", version.model.name, version.version, user)
            after = {"model": version.model.name, "version": version.version, "ref": requested, "traffic": row.traffic}
            history.record(
                session,
                "deployment.changed",
                f"{endpoint}/{deployment}",
                model=version.model.name,
                version=version.version,
                endpoint=endpoint,
                old=before,
                new=after,
                user=user,
            )
            session.flush()
            return generation, created

        generation, created = self.db.write(write)
        self._apply(endpoint)
        status = self._wait(endpoint, deployment, generation)
        if status.get("state") == "failed":
            detail = status.get("reason", "")
            tail = status.get("log_tail", "")
            raise InvalidInput(
                f"Deployment {endpoint}/{deployment} failed to start: {detail}."
                + (f"\nLast log lines:\n{tail}" if tail else "")
                + f"\nFull log: %logs {endpoint} --deployment {deployment}"
            )
        return self.get_endpoint(endpoint), created

    def _check_settings(self, settings: dict) -> dict:
        unknown = set(settings) - set(SETTINGS) - {"python", "environment"}
        if unknown:
            raise InvalidInput(f"Unknown deployment settings: {', '.join(sorted(unknown))}.")
        instances = settings.get("instances") or 1
        if not isinstance(instances, int) or not 1 <= instances <= self.max_instances:
            raise InvalidInput(f"Invalid instance count {instances!r}: expected 1 to {self.max_instances}.")
        return {**{k: v for k, v in settings.items() if v is not None}, "instances": instances}

    def _place_script(
        self, endpoint: str, deployment: str, script: dict | None, path: str | None, reload: bool
    ) -> str | None:
        """The entry script the deployment runs: a copy of the uploaded source, or with --reload
        the user's own file (inside an allowed folder), watched for changes."""
        if reload:
            if not path:
                raise InvalidInput("--reload needs the entry script's path (--entry-script FILE).")
            resolved = Path(path).resolve()
            roots = [Path(r).resolve() for r in self.script_roots]
            if not any(resolved.is_relative_to(r) for r in roots):
                raise InvalidInput(
                    f"Entry script {path} is outside the server's folders "
                    f"({', '.join(map(str, roots))}); --reload can only watch files there."
                )
            if not resolved.is_file():
                raise InvalidInput(f"Entry script {path} does not exist.")
            return str(resolved)
        if script is None:
            return None
        name = script.get("name") or "score.py"
        if "/" in name or name.startswith(".") or not name.endswith(".py"):
            raise InvalidInput(f"Invalid entry script name {name!r}: expected a file name ending in .py.")
        folder = self.folder / endpoint / "scripts" / f"{deployment}-{secrets.token_hex(4)}"
        folder.mkdir(parents=True)
        (folder / name).write_text(script.get("source", ""))
        return str(folder / name)

    def _choose_port(self, port: int | None) -> int:
        if port is None:
            return _automatic_port(self.bind_host)
        if not 1024 <= port <= 65535:
            raise InvalidInput(f"Invalid port {port}: expected 1024 to 65535.")
        if not _port_free(self.bind_host, port):
            raise Conflict(f"Port {port} is already in use on {self.bind_host}; choose another or omit --port.")
        return port

    # -- applying desired state ------------------------------------------------------------

    def _spec(self, session: Session, row: Endpoint) -> dict:
        deployments = {}
        for d in row.deployments:
            version: ModelVersion = d.version
            folder = self.folder / row.name
            signature_file = None
            if version.signature:
                signature_file = folder / f"{d.name}-signature.json"
                write_json(signature_file, version.signature)
            builtin = version.flavor in BUILTIN_FLAVORS and not d.settings.get("entry_script")
            args = ["--flavor", version.flavor] if builtin else []
            serves = None
            if d.settings.get("multi"):  # many versions: the runtime reads them from a file
                serves, args = self._repository(session, folder / f"{d.name}-repository.json", d.settings["multi"])
            for key in SETTINGS[1:]:
                if d.settings.get(key) is not None:
                    args += [f"--{key.replace('_', '-')}", str(d.settings[key])]
            deployments[d.name] = {
                "generation": d.settings["generation"],
                "model": version.model.name,
                "version": version.version,
                "model_dir": str(self.registry.artifacts.files_dir(version.artifact_dir)),
                "entry_script": d.settings.get("entry_script"),
                "reload": d.settings.get("reload", False),
                "instances": d.settings.get("instances", 1),
                "signature_file": str(signature_file) if signature_file else None,
                "python": d.settings.get("python") or sys.executable,
                "args": args,
                "container": d.settings.get("container"),
                "cwd": str(Path(d.settings["entry_script"]).parent) if d.settings.get("entry_script") else None,
            }
            if serves is not None:
                deployments[d.name]["serves"] = serves
        keys = [row.primary_key, row.secondary_key] if row.auth_mode == "key" else []
        return {
            "endpoint": row.name,
            "host": row.host,
            "port": row.port,
            "auth": {"mode": row.auth_mode, "keys": keys},
            "traffic": row.traffic,
            "mirror": row.mirror,
            "deployments": deployments,
            "backoff_reset_s": self.backoff_reset,
            "collect": collecting.spec(
                row.collect, self.folder / row.name, self.collect_roll_seconds, self.collect_roll_bytes
            ),
        }

    def _repository(self, session: Session, path: Path, multi: dict) -> tuple[dict, list[str]]:
        """Write a multi-model deployment's repository file; what it serves (model -> versions, for
        the host's routing) and the runtime's arguments."""
        versions, serves = [], {}
        for ref in multi["versions"]:
            version = self.registry.resolve(session, ref)
            versions.append(
                {
                    "name": version.model.name,
                    "version": str(version.version),
                    "model_dir": str(self.registry.artifacts.files_dir(version.artifact_dir)),
                    "flavor": version.flavor,
                    "signature": version.signature or None,
                }
            )
            serves.setdefault(version.model.name, []).append(str(version.version))
        multi_model.write_repository(path, versions, multi["memory_budget"])
        return serves, ["--repository", str(path), "--memory-budget", str(multi["memory_budget"])]

    def _wait_applied(self, name: str, revision: int) -> None:
        """Wait (at most ``APPLY_WAIT`` seconds) until the endpoint's host has read the spec just
        written, or a later one (its status file names the revision in force): a traffic split or
        collection setting is in force when the call that changed it returns, so the next request
        follows it. A host from before revisions (its status has none) is not waited for."""
        deadline = time.monotonic() + APPLY_WAIT
        while time.monotonic() < deadline:
            status = self._status(name)
            if status and (status.get("revision", revision) or 0) >= revision:
                return
            time.sleep(0.01)

    def _apply(self, name: str) -> None:
        """Write the endpoint's spec and make its host act on it (starting the host if needed).

        One at a time per endpoint: two concurrent deploys would otherwise both find no host
        and both start one on the endpoint's port."""
        with self._guard:
            lock = self._applying.setdefault(name, threading.Lock())
        with lock:
            revision = self._apply_now(name)
        if revision is not None:  # waited for outside the lock: another change may go on meanwhile
            self._wait_applied(name, revision)

    def _apply_now(self, name: str) -> int | None:
        """The revision a live host was told to read, or None when a host was started."""
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        with self.db.read() as session:
            row = self._endpoint(session, name)
            spec = self._spec(session, row)
            pid = row.host_pid
        # the system's monotonic clock: later changes have larger revisions, across server restarts
        spec["revision"] = revision = time.monotonic_ns()
        write_json(folder / "spec.json", spec)
        if _alive(pid, folder):
            os.kill(pid, signal.SIGHUP)
            return revision
        (folder / "status.json").unlink(missing_ok=True)
        (folder / "logs").mkdir(exist_ok=True)
        with open(folder / "logs" / "host.out", "ab") as out:
            child = subprocess.Popen(
                [sys.executable, "-m", "jupyter_modelhub.deploy.host", str(folder)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._children[name] = child

        def record(session: Session) -> None:
            self._endpoint(session, name).host_pid = child.pid

        self.db.write(record)
        return None

    def _status(self, name: str) -> dict:
        try:
            return json.loads((self.folder / name / "status.json").read_text())
        except (OSError, ValueError):
            return {}

    def _wait(self, name: str, deployment: str, generation: int) -> dict:
        deadline = time.monotonic() + self.start_timeout
        folder = self.folder / name
        while time.monotonic() < deadline:
            status = self._status(name)
            if status.get("error"):
                raise Conflict(f"Endpoint {name!r} could not start: {status['error']}.")
            state = status.get("deployments", {}).get(deployment, {})
            # a later generation (a concurrent deploy of the same deployment) supersedes this one:
            # the host goes straight to the newest spec, so this generation may never start
            if state.get("generation", 0) >= generation and state.get("state") in ("healthy", "failed"):
                return state
            with self.db.read() as session:
                pid = self._endpoint(session, name).host_pid
            if not _alive(pid, folder) and status:
                raise Conflict(f"The host process of endpoint {name!r} exited; see {folder / 'logs' / 'host.log'}.")
            time.sleep(0.03)
        raise Conflict(
            f"Deployment {name}/{deployment} was not ready after {self.start_timeout:.0f} s; "
            f"see %logs {name} --deployment {deployment}."
        )

    def _stop_host(self, name: str, pid: int | None) -> None:
        folder = self.folder / name
        if _alive(pid, folder):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while _alive(pid, folder) and time.monotonic() < deadline:
                child = self._children.get(name)
                if child is not None and child.poll() is not None:
                    break
                time.sleep(0.02)
            if _alive(pid, folder):
                os.kill(pid, signal.SIGKILL)
        child = self._children.pop(name, None)
        if child is not None:
            child.wait(5)

    # -- reading ---------------------------------------------------------------------------

    def _endpoint_here(self, session: Session, name: str) -> Endpoint:
        """The endpoint to change: only the server that runs its processes may change it."""
        row = self._endpoint(session, name)
        self._check_runs_here(row)
        return row

    def _check_runs_here(self, row: Endpoint) -> None:
        elsewhere = other_server(row.server, self.server)
        if elsewhere:
            raise Conflict(
                f"Endpoint {row.name!r} runs on another Model Hub server that shares this registry's database "
                f"({elsewhere}): change or undeploy it from that server."
            )

    def _endpoint(self, session: Session, name: str) -> Endpoint:
        check_label(name)
        row = session.scalar(select(Endpoint).where(Endpoint.name == name))
        if row is None:
            known = session.scalars(select(Endpoint.name).order_by(Endpoint.name)).all()
            raise NotFound(
                f"No endpoint named {name!r}"
                + (f" (endpoints: {', '.join(known)})." if known else "; create one with %deploy NAME MODEL.")
            )
        return row

    def exists(self, name: str) -> bool:
        with self.db.read() as session:
            return session.scalar(select(Endpoint.id).where(Endpoint.name == name)) is not None

    def endpoint(self, name: str) -> views.EndpointInfo:
        """The endpoint with its deployments, their states as its host reports them now."""
        with self.db.read() as session:
            return self._describe(session, self._endpoint(session, name))

    def get_endpoint(self, name: str) -> dict:
        return self.endpoint(name).as_dict()

    def endpoints(self) -> views.EndpointList:
        """Every endpoint, newest first."""
        with self.db.read() as session:
            rows = session.scalars(select(Endpoint).order_by(Endpoint.created_time.desc())).all()
            return views.EndpointList(endpoints=[self._describe(session, row) for row in rows])

    def list_endpoints(self) -> dict:
        return self.endpoints().as_dict()

    def _describe(self, session: Session, row: Endpoint) -> views.EndpointInfo:
        status = self._status(row.name) if _alive(row.host_pid, self.folder / row.name) else {}
        live = status.get("deployments", {})
        hints = optimizing.hints(session, row.deployments)
        deployments = []
        for d in sorted(row.deployments, key=lambda d: d.name):
            state = live.get(d.name, {})
            deployments.append(
                views.DeploymentInfo(
                    name=d.name,
                    model=d.version.model.name,
                    version=d.version.version,
                    ref=f"{d.version.model.name}:{d.version.version}",
                    requested=d.model_ref,
                    flavor=d.version.flavor,
                    state=state.get("state", "stopped"),
                    reason=state.get("reason", "" if state else "the endpoint's host is not running"),
                    restarts=state.get("restarts", 0),
                    last_crash=iso(state.get("last_crash") or None),
                    instances=d.settings.get("instances", 1),
                    entry_script=d.settings.get("entry_script"),
                    reload=d.settings.get("reload", False),
                    log_tail=state.get("log_tail", ""),
                    updated_time=iso(d.updated_time),
                    signature=d.version.signature,
                    input_example=d.version.input_example,
                    target="docker" if d.settings.get("container") else "process",
                    environment=d.settings.get("environment"),
                    image=(d.settings.get("container") or {}).get("image"),
                    container=state.get("pid") if d.settings.get("container") else None,
                    **_optimized(d.settings.get("optimization"), hints.get(d.name), d.version),
                    multi=d.settings.get("multi"),
                )
            )
        states = {d.state for d in deployments}
        overall = (
            "healthy"
            if states == {"healthy"}
            else "failed"
            if "failed" in states
            else "stopped"
            if states <= {"stopped"}
            else "updating"
        )
        return views.EndpointInfo(
            name=row.name,
            url=f"http://{row.host}:{row.port}",
            port=row.port,
            grpc_url=f"{row.host}:{status['grpc_port']}" if status.get("grpc_port") else None,
            auth=row.auth_mode,
            traffic=row.traffic,
            mirror=row.mirror,
            state=overall,
            deployments=deployments,
            collect=collecting.describe(row.collect, self.folder / row.name, self.collection.location(row.name)),
            created_time=iso(row.created_time),
            created_by=row.created_by,
        )

    def python_of(self, name: str, deployment: str) -> str:
        """The interpreter a deployment runs with (the server's, or its environment's)."""
        with self.db.read() as session:
            row = self._endpoint(session, name)
            target = next((d for d in row.deployments if d.name == deployment), None)
            if target is None:
                raise NotFound(f"Endpoint {name!r} has no deployment {deployment!r}.")
            return target.settings.get("python") or sys.executable

    def keys(self, name: str) -> views.Keys:
        with self.db.read() as session:
            row = self._endpoint(session, name)
            return views.Keys(auth=row.auth_mode, primary=row.primary_key, secondary=row.secondary_key)

    def get_keys(self, name: str) -> dict:
        return self.keys(name).as_dict()

    def log_file(self, name: str, deployment: str) -> Path:
        with self.db.read() as session:
            row = self._endpoint(session, name)
            if deployment not in {d.name for d in row.deployments}:
                raise NotFound(
                    f"Endpoint {name!r} has no deployment {deployment!r} "
                    f"(it has: {', '.join(d.name for d in row.deployments) or 'none'})."
                )
        return self.folder / name / "logs" / f"{deployment}.log"

    def tail(self, name: str, deployment: str, lines: int = 100) -> str:
        path = self.log_file(name, deployment)
        if lines <= 0 or not path.exists():
            return ""
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - max(lines, 1) * 400))
            return "\n".join(f.read().decode(errors="replace").splitlines()[-lines:])

    def timeline(self, endpoint: str | None = None, model: str | None = None) -> views.Timeline:
        """What served when: one record per deployment of a version, newest first (the last 500)."""
        with self.db.read() as session:
            stmt = select(ServingRecord).order_by(ServingRecord.started_time.desc(), ServingRecord.id.desc())
            if endpoint:
                stmt = stmt.where(ServingRecord.endpoint == endpoint)
            if model:
                stmt = stmt.where(ServingRecord.model == model)
            return views.Timeline(
                records=[
                    views.ServingRecord(
                        endpoint=r.endpoint,
                        deployment=r.deployment,
                        ref=f"{r.model}:{r.version}",
                        started_time=iso(r.started_time),
                        ended_time=iso(r.ended_time),
                    )
                    for r in session.scalars(stmt.limit(500))
                ]
            )

    # -- changing --------------------------------------------------------------------------

    def set_traffic(
        self, name: str, traffic: dict | None = None, mirror: dict | None = None, user: str = ""
    ) -> views.EndpointInfo:
        def write(session: Session) -> None:
            row = self._endpoint_here(session, name)
            names = {d.name for d in row.deployments}
            before = {"traffic": dict(row.traffic), "mirror": dict(row.mirror)}
            if traffic is not None:
                row.traffic = self._check_traffic(traffic, names)
            if mirror is not None:
                row.mirror = self._check_mirror(mirror, names, row.traffic)
            after = {"traffic": dict(row.traffic), "mirror": dict(row.mirror)}
            if after != before:
                history.record(session, "traffic.changed", name, endpoint=name, old=before, new=after, user=user)

        self.db.write(write)
        self._apply(name)
        return self.endpoint(name)

    def rollback_traffic(self, name: str, user: str = "") -> views.EndpointInfo:
        """Return the endpoint's traffic (and mirror) to what they were before their last change,
        recorded like any change (a second rollback undoes the first)."""
        with self.db.read() as session:
            self._endpoint(session, name)
            last = history.last_change(session, "traffic.changed", name)
        if last is None:
            raise Conflict(f"Endpoint {name!r}'s traffic has never been changed: there is nothing to roll back.")
        old = last.old or {}
        try:
            return self.set_traffic(name, old.get("traffic") or None, old.get("mirror", {}), user=user)
        except InvalidInput as exc:
            raise Conflict(
                f"Endpoint {name!r}'s traffic before its last change ({old.get('traffic')}) cannot be restored: "
                f"{exc.message}"
            ) from None

    def set_collection(self, name: str, user: str = "", **change) -> views.EndpointInfo:
        """Switch payload collection on or off, or change its settings, on a live endpoint: its
        host reads the new spec (SIGHUP), as for traffic; no deployment restarts."""
        if collecting.merge({"enabled": True}, **change) is None:
            raise InvalidInput(
                'Give collect (["requests", "responses"] to switch collection on, [] to switch it off) '
                "and/or sample_rate, collect_retention, collect_max_bytes."
            )

        def write(session: Session) -> None:
            row = self._endpoint_here(session, name)
            row.collect = collecting.merge(row.collect, **change)

        self.db.write(write)
        self._apply(name)
        return self.endpoint(name)

    @staticmethod
    def _check_traffic(traffic: dict, names: set[str]) -> dict:
        unknown = set(traffic) - names
        if unknown:
            raise InvalidInput(
                f"Traffic names unknown deployments {', '.join(sorted(unknown))} "
                f"(deployments: {', '.join(sorted(names))})."
            )
        if any(not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 100 for v in traffic.values()):
            raise InvalidInput("Traffic percentages must be whole numbers from 0 to 100, e.g. blue=90,green=10.")
        if sum(traffic.values()) != 100:
            raise InvalidInput(f"Traffic must add up to 100, not {sum(traffic.values())} ({traffic}).")
        return {n: traffic.get(n, 0) for n in sorted(names)}

    @staticmethod
    def _check_mirror(mirror: dict, names: set[str], traffic: dict) -> dict:
        if not mirror:
            return {}
        target, percent = mirror.get("deployment"), mirror.get("percent")
        if target not in names:
            raise InvalidInput(
                f"Mirror deployment {target!r} does not exist (deployments: {', '.join(sorted(names))})."
            )
        if not isinstance(percent, int) or not 1 <= percent <= 50:
            raise InvalidInput(f"Mirror percentage must be a whole number from 1 to 50, not {percent!r}.")
        if traffic.get(target, 0):
            raise InvalidInput(
                f"Deployment {target!r} receives live traffic; only a deployment with 0% can be mirrored to."
            )
        return {"deployment": target, "percent": percent}

    def regenerate_key(self, name: str, which: str = "primary") -> views.Keys:
        if which not in ("primary", "secondary"):
            raise InvalidInput(f"Invalid key {which!r}: expected 'primary' or 'secondary'.")

        def write(session: Session) -> None:
            setattr(self._endpoint_here(session, name), f"{which}_key", secrets.token_urlsafe(24))
            history.record(session, "keys.regenerated", name, endpoint=name, new={"key": which})  # never the key

        self.db.write(write)
        self._apply(name)
        return self.keys(name)

    def delete_deployment(self, name: str, deployment: str, user: str = "", force: bool = False) -> views.EndpointInfo:
        """Remove one deployment. One that receives traffic while others exist is refused (move
        its traffic first); the endpoint's last one only with ``force``, since the endpoint then
        answers nothing (it keeps its name, port and keys for the next deploy)."""

        def write(session: Session) -> None:
            row = self._endpoint_here(session, name)
            target = next((d for d in row.deployments if d.name == deployment), None)
            if target is None:
                raise NotFound(f"Endpoint {name!r} has no deployment {deployment!r}.")
            if len(row.deployments) == 1 and not force:
                share = row.traffic.get(deployment, 0)
                raise Conflict(
                    f"Deployment {deployment!r} is endpoint {name!r}'s last deployment"
                    + (f" and receives {share}% of its traffic" if share else "")
                    + f": without it the endpoint answers nothing. To remove the endpoint, %undeploy {name} "
                    f"(REST: DELETE endpoints/{name}); to keep the endpoint (its URL and keys) with no "
                    f"deployment, %undeploy {name} --deployment {deployment} --force (REST: ?force=true)."
                )
            if row.traffic.get(deployment) and len(row.deployments) > 1:
                others = [d.name for d in row.deployments if d.name != deployment]
                raise Conflict(
                    f"Deployment {deployment!r} receives {row.traffic[deployment]}% of {name!r}'s "
                    f"traffic; move it first, e.g. %traffic {name} {others[0]}=100."
                )
            before = _served(target, row.traffic)
            if row.mirror.get("deployment") == deployment:
                row.mirror = {}
            row.traffic = {n: p for n, p in row.traffic.items() if n != deployment}
            self._end_record(session, name, deployment)
            row.deployments.remove(target)
            history.record(
                session,
                "deployment.deleted",
                f"{name}/{deployment}",
                model=before["model"],
                version=before["version"],
                endpoint=name,
                old=before,
                new={"traffic": row.traffic},
                user=user,
            )

        self.db.write(write)
        self._apply(name)
        return self.endpoint(name)

    def delete_endpoint(self, name: str, user: str = "") -> Deleted:
        with self.db.read() as session:
            pid = self._endpoint_here(session, name).host_pid
        self._stop_host(name, pid)

        def write(session: Session) -> None:
            row = self._endpoint(session, name)
            old = {"deployments": {d.name: _served(d, row.traffic) for d in row.deployments}, "traffic": row.traffic}
            for d in row.deployments:
                self._end_record(session, name, d.name)
            history.record(session, "endpoint.deleted", name, endpoint=name, old=old, user=user)
            session.delete(row)

        self.db.write(write)
        self.collection.remove(name)
        shutil.rmtree(self.folder / name, ignore_errors=True)
        return Deleted(deleted=[name])

    @staticmethod
    def _end_record(session: Session, endpoint: str, deployment: str) -> None:
        for record in session.scalars(
            select(ServingRecord).where(
                ServingRecord.endpoint == endpoint,
                ServingRecord.deployment == deployment,
                ServingRecord.ended_time.is_(None),
            )
        ):
            record.ended_time = utcnow()

    # -- server lifetime -------------------------------------------------------------------

    def start(self) -> None:
        """At server start: adopt live hosts, restart the ones that should be running."""
        self._revive(at_start=True)

    def check_hosts(self) -> None:
        """Every few seconds: restart the host of an endpoint that should run but died (e.g. killed)."""
        for name, child in list(self._children.items()):
            if child.poll() is not None:
                self._children.pop(name, None)
        self._revive(at_start=False)

    def _revive(self, at_start: bool) -> None:
        with self.db.read() as session:
            rows = [(r.name, r.host_pid, r.state, r.server) for r in session.scalars(select(Endpoint))]
        for name, pid, state, server in rows:
            if other_server(server, self.server) or not (self.folder / name / "spec.json").exists():
                continue  # another server's endpoint (servers sharing a database, not a root): it runs it
            if _alive(pid, self.folder / name):
                if at_start:
                    self.log.info("Model Hub: adopted endpoint %s (host pid %s)", name, pid)
                continue
            if state != "running":
                continue
            error = self._status(name).get("error")
            if error:  # e.g. its port was taken: restarting would fail the same way, every time
                self.log.error("Model Hub: endpoint %s cannot run (%s); not restarting it", name, error)
                self._set_state(name, "failed")
                continue
            self.log.info("Model Hub: restarting endpoint %s", name)
            try:
                self._apply(name)
            except Exception as exc:  # one broken endpoint must not stop the server
                self.log.error("Model Hub: endpoint %s could not restart: %s", name, exc)

    def _set_state(self, name: str, state: str) -> None:
        def write(session: Session) -> None:
            self._endpoint(session, name).state = state

        self.db.write(write)

    def shutdown(self) -> None:
        if not self.stop_on_shutdown:
            return
        with self.db.read() as session:
            rows = [(r.name, r.host_pid) for r in session.scalars(select(Endpoint))]
        for name, pid in rows:
            self._stop_host(name, pid)


def _served(deployment: Deployment, traffic: dict) -> dict:
    """What a deployment serves, for the history (what a rollback returns to)."""
    version = deployment.version
    return {
        "model": version.model.name,
        "version": version.version,
        "ref": deployment.model_ref,
        "share": traffic.get(deployment.name, 0),
    }
