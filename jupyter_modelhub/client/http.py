"""ModelHubClient: one method per REST operation, returning display-ready result objects.

Errors from the server come back as the same typed errors the services raised (``NotFound``,
``Conflict``, ``InvalidInput``) carrying the server's sentence, so callers can catch them and
magics can show them as one line.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import requests

from .. import display
from ..errors import Conflict, Forbidden, InvalidInput, ModelHubError, NotFound, error_from_body
from ..refs import ModelRef, parse_ref
from . import invoking, packing, parity, pickling
from .batch import BatchMethods
from .governance import GovernanceMethods
from .monitoring import MonitoringMethods
from .schedules import ScheduleMethods
from .webhooks import WebhookMethods

CANCEL_WAIT = 60.0  # seconds a cancel waits for the worker to stop (the server's grace period is 10 s)


class ServerError(ModelHubError):
    """The server could not be reached or answered with something other than the API's JSON."""

    reason = "server"


class Unreachable(ServerError):
    """No connection to the server at all (not running, wrong URL): worth retrying, unlike a refusal."""

    reason = "unreachable"


class ModelHubClient(BatchMethods, GovernanceMethods, MonitoringMethods, ScheduleMethods, WebhookMethods):
    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0, client: str | None = None):
        """``client`` is what the server records this client as in the history (``kernel``,
        ``cli``, ``api``): by default ``kernel`` inside a Jupyter kernel, else ``api``."""
        self.url = url.rstrip("/") + "/"
        self.api = self.url + "modelhub/api/"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["X-Modelhub-Client"] = client or ("kernel" if "ipykernel" in sys.modules else "api")
        if token:
            self.session.headers["Authorization"] = f"token {token}"

    def __repr__(self) -> str:
        return f"<ModelHubClient {self.url}>"

    # -- registry --------------------------------------------------------------------------

    def register(
        self,
        name: str,
        source: object,
        *,
        sample: object = None,
        flavor: str | None = None,
        description: str = "",
        tags: dict | None = None,
        properties: dict | None = None,
        new_version: bool = False,
        derived_from: str | None = None,
        source_notebook: str | None = None,
        source_kernel: str | None = None,
        format: str | None = None,
    ) -> display.VersionInfo:
        """Register a fitted scikit-learn object, or one or more files/folders, as a new version.

        ``source`` is an estimator, a path, or a list of paths; each path keeps its name (a folder
        ``model/`` gives ``model/...``, as in Azure ML). ``sample`` (inputs such as ``X_test[:5]``)
        records the signature and an input example, and with at least ``monitoring.MIN_ROWS`` rows
        the version's reference profile (with the model's predictions). ``source_kernel`` is the id of the kernel
        registering: the server records its notebook's current path (``source_notebook`` otherwise).
        ``format`` says how an estimator is saved: ``joblib`` (default) or ``skops`` (no pickle).
        """
        temp = None
        signature = example = None
        properties = dict(properties or {})
        try:
            if packing.is_sklearn_model(source):
                temp, serialization = packing.save_model(source, format)
                if serialization["format"] != "joblib":
                    pickling.check_loadable(serialization, source, self.info().get("python"))
                    properties.setdefault("serialization", serialization)
                paths, flavor = [temp / serialization.get("file", pickling.MODEL_FILE)], flavor or "sklearn"
            elif isinstance(source, (str, os.PathLike)):
                paths = [source]
            elif isinstance(source, (list, tuple)) and all(isinstance(p, (str, os.PathLike)) for p in source):
                paths = list(source)
            else:
                raise InvalidInput(
                    f"Cannot register a {type(source).__name__}: pass a fitted scikit-learn estimator or "
                    "pipeline, or the path of a model file or folder (.onnx, .joblib, an MLflow folder, ...)."
                )
            if sample is not None:
                signature, example = packing.describe_sample(sample, source if temp else None)
            upload = self.upload(paths)
            body = {
                "upload_id": upload["upload_id"],
                "flavor": flavor,
                "description": description,
                "tags": tags or {},
                "properties": properties,
                "signature": signature,
                "input_example": example,
                "new_version": new_version,
                "derived_from": derived_from,
                "source_notebook": source_notebook,
                "source_kernel": source_kernel,
            }
            version = display.VersionInfo(self._call("POST", f"models/{_segment(name)}/versions", json=body))
            return (
                self._reference_from_sample(version, sample, source if temp else None)
                if sample is not None
                else version
            )
        finally:
            if temp is not None:
                shutil.rmtree(temp, ignore_errors=True)

    def upload(self, paths: list) -> dict:
        """Stream files as one tar to the server; returns the upload id and what it received."""
        entries = packing.collect_files(paths)
        return self._call(
            "POST", "uploads", data=packing.tar_body(entries), headers={"Content-Type": "application/x-tar"}
        )

    def models(
        self,
        filter: str = "",
        q: str = "",
        flavor: str | None = None,
        archived: bool = False,
        page: int = 1,
        per_page: int = 50,
    ) -> display.ModelList:
        params = {
            "filter": filter,
            "q": q,
            "flavor": flavor or "",
            "archived": str(archived).lower(),
            "page": page,
            "per_page": per_page,
        }
        return display.ModelList(self._call("GET", "models", params=params))

    def versions(
        self,
        name: str | None = None,
        filter: str = "",
        q: str = "",
        flavor: str | None = None,
        archived: bool = False,
        page: int = 1,
        per_page: int = 50,
    ) -> display.VersionList:
        params = {
            "filter": filter,
            "flavor": flavor or "",
            "archived": str(archived).lower(),
            "page": page,
            "per_page": per_page,
        }
        if name is None:
            params["q"] = q
            return display.VersionList(self._call("GET", "versions", params=params))
        return display.VersionList(self._call("GET", f"models/{_segment(name)}/versions", params=params))

    def model(self, name: str, archived: bool = True) -> display.ModelInfo:
        return display.ModelInfo(
            self._call("GET", f"models/{_segment(name)}", params={"archived": str(archived).lower()})
        )

    def version(self, ref: str) -> display.VersionInfo:
        return display.VersionInfo(self._call("GET", self._version_path(ref)))

    def update(
        self,
        ref: str,
        *,
        description: str | None = None,
        tags: dict | None = None,
        properties: dict | None = None,
        archived: bool | None = None,
    ) -> display.VersionInfo:
        body = {
            k: v
            for k, v in {
                "description": description,
                "tags": tags,
                "properties": properties,
                "archived": archived,
            }.items()
            if v is not None
        }
        return display.VersionInfo(self._call("PATCH", self._version_path(ref), json=body))

    def tag(self, ref: str, tags: dict[str, str | None]) -> display.VersionInfo:
        """Set tags (a None value removes that tag)."""
        return self.update(ref, tags=tags)

    def archive(self, ref: str) -> display.VersionInfo:
        return self.update(ref, archived=True)

    def restore(self, ref: str) -> display.VersionInfo:
        return self.update(ref, archived=False)

    def set_alias(self, name: str, alias: str, version: int) -> display.VersionInfo:
        return display.VersionInfo(
            self._call("PUT", f"models/{_segment(name)}/aliases/{_segment(alias)}", json={"version": version})
        )

    def delete_alias(self, name: str, alias: str) -> None:
        self._call("DELETE", f"models/{_segment(name)}/aliases/{_segment(alias)}")

    def delete(self, ref: str) -> display.Deleted:
        """Delete one version (``churn:3``, ``churn@alias``)."""
        return display.Deleted(self._call("DELETE", self._version_path(ref)))

    def delete_model(self, name: str) -> display.Deleted:
        return display.Deleted(self._call("DELETE", f"models/{_segment(name)}"))

    def download(self, ref: str, to: str | os.PathLike = ".", path: str | None = None) -> display.Downloaded:
        """Download a version's files (or one of them) into ``to``, checking each against the manifest."""
        version = self.version(ref)
        files = version["files"]
        if path is not None:
            files = [f for f in files if f["path"] == path]
            if not files:
                raise InvalidInput(
                    f"{version['ref']} has no file {path!r}; it has: " + ", ".join(f["path"] for f in version["files"])
                )
        root = Path(to).expanduser().resolve()
        written = []
        for entry in files:
            target = (root / entry["path"]).resolve()
            if not target.is_relative_to(root):
                raise InvalidInput(f"Refusing to write {entry['path']!r} outside {root}.")
            target.parent.mkdir(parents=True, exist_ok=True)
            self._fetch_file(version["ref"], entry, target)
            written.append(str(target))
        return display.Downloaded({"ref": version["ref"], "to": str(root), "files": written})

    def _fetch_file(self, ref: str, entry: dict, target: Path) -> None:
        """Stream one file to ``target`` through a ``.part`` file that is renamed only once its
        sha256 matches the manifest; a refusal, a cut-off or a mismatch leaves nothing."""
        partial = target.with_name(target.name + ".part")
        digest = hashlib.sha256()
        response = self._send("GET", f"{self._version_path(ref)}/files/{quote(entry['path'])}", stream=True)
        try:
            with open(partial, "wb") as out:
                for chunk in response.iter_content(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
        except requests.RequestException as exc:
            partial.unlink(missing_ok=True)
            raise ServerError(
                f"Downloading {entry['path']} of {ref} was cut short ({exc.__class__.__name__}); "
                "nothing was written. Try again."
            ) from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            response.close()
        if digest.hexdigest() != entry["sha256"]:
            partial.unlink(missing_ok=True)
            raise ServerError(
                f"{entry['path']} of {ref} failed its integrity check (sha256 differs from the manifest); "
                "nothing was written. The stored file may be damaged."
            )
        os.replace(partial, target)

    # -- endpoints -------------------------------------------------------------------------

    def deploy(
        self,
        endpoint: str,
        model: str | None = None,
        *,
        deployment: str = "blue",
        entry_script: str | os.PathLike | None = None,
        reload: bool = False,
        instances: int | None = None,
        traffic: dict | None = None,
        auth: str = "key",
        port: int | None = None,
        env: str | None = None,
        requirements: str | os.PathLike | None = None,
        wait: bool = True,
        progress=None,
        allow_contract_change: bool = False,
        **settings,
    ) -> display.EndpointInfo | display.Operation:
        """Deploy ``model`` (NAME, NAME:V or NAME@ALIAS) as ``endpoint``/``deployment``; returns once ready.

        ``env`` names an environment (NAME or NAME:VERSION, see ``environments()``);
        ``requirements`` is a requirements file an environment is made of (or reused by content).
        The deployment then runs in a virtual environment of it (built once with uv, then reused).
        Building it is an operation: with ``wait=False`` that operation is returned at once;
        ``progress`` sees it while waiting.
        A version whose inputs or outputs differ from what the endpoint answers now is refused
        (``Conflict``, with the differences) unless ``allow_contract_change``.

        ``multi=True`` serves many versions from one runtime: ``model`` and ``models`` (a list; a
        bare NAME is all its versions), each loaded on its first request, the least recently used
        unloaded to stay within ``memory_budget`` (e.g. ``"1G"``, the default).
        """
        body = {
            "model": model,
            "deployment": deployment,
            "reload": reload,
            "instances": instances,
            "traffic": traffic,
            "auth": auth,
            "port": port,
            **settings,
        }
        if allow_contract_change:
            body["allow_contract_change"] = True
        if env is not None:
            if isinstance(env, os.PathLike) or Path(str(env)).expanduser().is_file():
                raise InvalidInput(
                    f"--env takes an environment NAME[:VERSION]; {str(env)!r} is a file: give it as "
                    "--requirements FILE (requirements=...) to make an environment of it."
                )
            body["environment"] = env
        if requirements is not None:
            body["requirements"] = _read_text(requirements, "Requirements file")
        if entry_script is not None:
            path = Path(entry_script).expanduser()
            if not path.is_file():
                raise InvalidInput(f"Entry script {str(entry_script)!r} does not exist (relative to {os.getcwd()}).")
            body["entry_script"] = {"name": path.name, "source": path.read_text()}
            if reload:
                body["entry_script_path"] = str(path.resolve())
        response = self._send(
            "POST", f"endpoints/{_segment(endpoint)}/deployments", json=body, timeout=max(self.timeout, 300)
        )
        if response.status_code != 202:
            return self._endpoint_info(response.json())
        operation = display.Operation(response.json(), client=self)  # it builds an environment or image first
        if not wait:
            return operation
        return self.deployed(self.wait_for(operation["id"], progress=progress))

    def deployed(self, operation: display.Operation) -> display.EndpointInfo | display.KubernetesManifests:
        """What a finished deploy operation made: the endpoint, or the Kubernetes manifests."""
        result = operation.outcome()
        if result.get("target") == "kubernetes":
            return display.KubernetesManifests(result)
        return self._endpoint_info(result)

    def endpoints(self) -> display.EndpointList:
        return display.EndpointList(self._call("GET", "endpoints"))

    def endpoint(self, name: str) -> display.EndpointInfo:
        return self._endpoint_info(self._call("GET", f"endpoints/{_segment(name)}"))

    def _endpoint_info(self, data: dict) -> display.EndpointInfo:
        key = None
        if data["auth"] == "key":
            try:
                key = self.keys(data["name"])["primary"]
            except Forbidden:  # the keys are for those who may change the endpoint; reading it needs none
                pass
        return display.EndpointInfo(data, client=self, key=key)

    def keys(self, name: str) -> dict:
        return self._call("GET", f"endpoints/{_segment(name)}/keys")

    def collect(self, name: str, collect: list[str] | None = None, **settings) -> display.EndpointInfo:
        """Payload collection on a live endpoint: ``collect=["requests", "responses"]`` switches it on,
        ``[]`` off; ``sample_rate``, ``collect_retention``, ``collect_max_bytes`` change its settings."""
        body = {k: v for k, v in {"collect": collect, **settings}.items() if v is not None}
        return self._endpoint_info(self._call("PUT", f"endpoints/{_segment(name)}/collect", json=body))

    def collected(self, name: str, since="1h", until=None, limit: int = 1000):
        """The endpoint's collected requests and answers from ``since`` (``1h``, ``30m``, ``7d`` ago, or
        an ISO time) to ``until``, oldest first, the newest ``limit`` of them, as a DataFrame: request_id,
        time (UTC), deployment, model, version, status, latency_ms, request, response (bytes), ..."""
        from ..monitoring.collected import from_records

        params = {k: v for k, v in {"since": since, "until": until, "limit": limit}.items() if v is not None}
        answer = self._call("GET", f"endpoints/{_segment(name)}/collected", params=params)
        frame = from_records(answer["records"])
        frame.attrs["more"] = answer["more"]
        return frame

    def regenerate_key(self, name: str, which: str = "primary") -> dict:
        return self._call("POST", f"endpoints/{_segment(name)}/keys", json={"which": which})

    def set_traffic(self, name: str, traffic: dict | None = None, mirror: dict | None = None) -> display.EndpointInfo:
        body = {k: v for k, v in {"traffic": traffic, "mirror": mirror}.items() if v is not None}
        return self._endpoint_info(self._call("PUT", f"endpoints/{_segment(name)}/traffic", json=body))

    def undeploy(self, name: str, deployment: str | None = None, force: bool = False):
        """Delete one deployment, or the whole endpoint when ``deployment`` is None. The endpoint's
        last deployment is removed only with ``force`` (the endpoint stays, answering nothing)."""
        if deployment is None:
            if force:
                raise InvalidInput(
                    "--force applies with --deployment (the endpoint's last deployment); without "
                    "--deployment the whole endpoint is removed."
                )
            return display.Deleted(self._call("DELETE", f"endpoints/{_segment(name)}"))
        return self._endpoint_info(
            self._call(
                "DELETE",
                f"endpoints/{_segment(name)}/deployments/{_segment(deployment)}",
                params={"force": "true"} if force else None,
            )
        )

    def logs(self, name: str, deployment: str = "blue", tail: int = 100) -> str:
        response = self._send(
            "GET", f"endpoints/{_segment(name)}/deployments/{_segment(deployment)}/logs", params={"tail": tail}
        )
        return response.text

    def follow_logs(self, name: str, deployment: str = "blue", tail: int = 20, timeout: float = 3600):
        """Yield log lines as they are written (the last ``tail`` first) until ``timeout`` seconds."""
        response = self._send(
            "GET",
            f"endpoints/{_segment(name)}/deployments/{_segment(deployment)}/logs",
            params={"tail": tail, "follow": "true", "timeout": timeout},
            stream=True,
            timeout=timeout + 30,
        )
        try:
            yield from response.iter_lines(decode_unicode=True)
        finally:
            response.close()

    def timeline(self, endpoint: str | None = None, model: str | None = None) -> dict:
        return self._call(
            "GET", "serving-timeline", params={k: v for k, v in {"endpoint": endpoint, "model": model}.items() if v}
        )

    def invoke(
        self,
        name: str,
        data,
        protocol: str = "azure",
        deployment: str | None = None,
        endpoint: display.EndpointInfo | None = None,
    ):
        """Score ``data`` on an endpoint, the way any HTTP client would; returns the decoded answer.

        ``endpoint`` is the endpoint's description when the caller has it (a handle's
        ``predict``), which saves looking it up on every call; when that endpoint does not answer
        as described (gone, or deployed again with another port or key), it is looked up again.
        """
        cached = endpoint is not None
        endpoint = endpoint or self.endpoint(name)
        try:
            response = self._score(endpoint, data, protocol, deployment)
        except requests.ConnectionError:
            response = None
        if cached and (response is None or response.status_code == 401):
            current = self._current_endpoint(name, endpoint)
            if current["url"] != endpoint["url"] or current.key != endpoint.key:
                endpoint.update(current)
                endpoint.key = current.key
                return self.invoke(name, data, protocol, deployment, endpoint=endpoint)
            endpoint = current
        if response is None:
            raise ServerError(f"Endpoint {name!r} at {endpoint['url']} does not answer (state: {endpoint['state']}).")
        try:
            answer = response.json()
        except ValueError:
            answer = response.text
        if response.status_code >= 400:
            message = answer.get("message") or answer.get("error") if isinstance(answer, dict) else answer
            raise InvalidInput(f"Endpoint {name!r} answered {response.status_code}: {message}")
        return answer

    def _score(self, endpoint: display.EndpointInfo, data, protocol: str, deployment: str | None) -> requests.Response:
        live = (
            next((d for d in endpoint["deployments"] if d["name"] == deployment), None)
            if deployment
            else endpoint.live_deployment()
        )
        if live is None:
            raise InvalidInput(f"Endpoint {endpoint['name']!r} has no deployment {deployment!r}.")
        path, body = invoking.request_for(data, protocol, live["model"], live["version"])
        headers = {"Content-Type": "application/json"}
        if endpoint.key:
            headers["Authorization"] = f"Bearer {endpoint.key}"
        if deployment:
            headers["azureml-model-deployment"] = deployment
        return requests.post(endpoint["url"] + path, data=body, headers=headers, timeout=self.timeout)

    def _current_endpoint(self, name: str, described: display.EndpointInfo) -> display.EndpointInfo:
        """The endpoint as it is now; a handle of one that was deleted says so."""
        try:
            return self.endpoint(name)
        except NotFound:
            raise NotFound(
                f"Endpoint {name!r} no longer exists: it was deleted (%undeploy) after this handle was "
                f"made for {described['url']}. Deploy it again with %deploy {name} MODEL."
            ) from None

    def convert(
        self,
        ref: str,
        to: str = "onnx",
        *,
        sample=None,
        opset: int | None = None,
        dtype: str | None = None,
        tolerance: float | None = None,
        force: bool = False,
        wait: bool = True,
        progress=None,
    ) -> display.Conversion | display.Operation:
        """Convert a registered scikit-learn version to ONNX, proven equivalent and timed on the server.

        ``sample`` (rows such as ``X_test[:200]``) adds rows to the equivalence check. Over the
        tolerance nothing is registered and the error carries the report (``error.report``).
        The conversion is an operation: ``wait=False`` returns it at once.
        """
        body = {
            "to": to,
            "opset": opset,
            "dtype": dtype,
            "tolerance": tolerance,
            "force": force,
            "sample": packing.rows_for_json(sample) if sample is not None else None,
        }
        operation = display.Operation(self._call("POST", f"{self._version_path(ref)}/convert", json=body), client=self)
        if not wait:
            return operation
        return display.Conversion(self.wait_for(operation["id"], progress=progress).outcome())

    # -- packaging -------------------------------------------------------------------------

    def package(
        self,
        model: str,
        *,
        environment: str | None = None,
        requirements: str | os.PathLike | None = None,
        conda: str | os.PathLike | None = None,
        entry_script: str | os.PathLike | None = None,
        tag: str | None = None,
        base_image: str | None = None,
        context: str | os.PathLike | None = None,
        no_cache: bool = False,
        push: str | None = None,
        wait: bool = True,
        progress=None,
    ) -> display.ImageInfo | display.BuildContext | display.Operation:
        """Build a serving image of ``model`` (an operation: ``wait=False`` returns it at once).

        ``environment`` names an environment (``%env create``); ``requirements``/``conda`` are
        files to make one of; without either the environment is derived from the model.
        ``context`` writes the build context into that folder instead of building. ``push``
        (``REGISTRY/REPO[:TAG]``) pushes the built image there, in the same operation.
        """
        body = {
            "model": model,
            "environment": environment,
            "tag": tag,
            "base_image": base_image,
            "requirements": _read_text(requirements, "Requirements file"),
            "conda": _read_text(conda, "Conda file"),
            "entry_script": str(Path(entry_script).expanduser().resolve()) if entry_script else None,
            "context": str(Path(context).expanduser().resolve()) if context else None,
            "no_cache": no_cache,
            "push": push,
        }
        response = self._send("POST", "images", json=body)
        if response.status_code != 202:
            return display.BuildContext(response.json())
        operation = display.Operation(response.json(), client=self)
        if not wait:
            return operation
        return display.ImageInfo(self.wait_for(operation["id"], progress=progress).outcome())

    def images(self, model: str | None = None) -> display.ImageList:
        return display.ImageList(self._call("GET", "images", params={"model": model} if model else {}))

    def image(self, image: int | str) -> display.ImageInfo:
        return display.ImageInfo(self._call("GET", f"images/{quote(str(image), safe='/:')}"))

    def delete_image(self, image: int | str) -> display.Deleted:
        return display.Deleted(self._call("DELETE", f"images/{quote(str(image), safe='/:')}"))

    def push_image(
        self, image: int | str, reference: str, *, wait: bool = True, progress=None
    ) -> display.ImageInfo | display.Operation:
        """Push an image (its number or tag) to ``REGISTRY/REPO[:TAG]`` with the Docker engine's
        credentials (an operation: ``wait=False`` returns it at once); the image record then
        lists the pushed reference with its digest."""
        path = f"images/{quote(str(image), safe='/:')}/push"
        operation = display.Operation(self._call("POST", path, json={"reference": reference}), client=self)
        if not wait:
            return operation
        return display.ImageInfo(self.wait_for(operation["id"], progress=progress).outcome())

    def create_environment(
        self,
        name: str,
        *,
        requirements: str | os.PathLike | None = None,
        conda: str | os.PathLike | None = None,
        python: str | None = None,
        base_image: str | None = None,
    ) -> display.EnvironmentInfo:
        body = {
            "name": name,
            "requirements": _read_text(requirements, "Requirements file"),
            "conda": _read_text(conda, "Conda file"),
            "python": python,
            "base_image": base_image,
        }
        return display.EnvironmentInfo(self._call("POST", "environments", json=body))

    def environments(self, name: str | None = None) -> display.EnvironmentList:
        return display.EnvironmentList(self._call("GET", "environments", params={"name": name} if name else {}))

    def environment(self, ref: str) -> display.EnvironmentInfo:
        name, _, version = str(ref).partition(":")
        path = f"environments/{_segment(name)}" + (f"/versions/{_segment(version)}" if version else "")
        return display.EnvironmentInfo(self._call("GET", path))

    def parity(self, target: str, tolerance: float = 1e-6) -> display.Parity:
        """Kernel against container (or endpoint): the version's input example answered by both
        with the same scoring code, the differences, and the Python and packages of each side."""
        probe = self._call("POST", "parity", json={"target": target}, timeout=max(self.timeout, 180))
        error = None
        with tempfile.TemporaryDirectory(prefix="modelhub-parity-") as folder:
            self.download(probe["ref"], to=folder)
            try:
                local = parity.local_answer(Path(folder), probe)
            except Exception as exc:  # the kernel cannot load or run it: that is a finding too
                local, error = None, f"{type(exc).__name__}: {exc}"
        remote_ok = probe["status"] == 200
        diffs = parity.differences(local, probe["answer"], tolerance) if error is None and remote_ok else []
        result = display.Parity(
            {
                **probe,
                "kernel_answer": local,
                "kernel_error": error,
                "tolerance": tolerance,
                "differences": diffs,
                "same": error is None and remote_ok and not diffs,
                "versions": parity.version_rows(parity.kernel_environment(), probe),
            }
        )
        self.record_parity(probe["ref"], {**result, "target": target})
        return result

    # -- operations ------------------------------------------------------------------------

    def operation(self, operation_id: int) -> display.Operation:
        return display.Operation(self._call("GET", f"operations/{int(operation_id)}"), client=self)

    def operations(
        self,
        kind: str | None = None,
        status: str | None = None,
        subject: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> display.OperationList:
        params = {k: v for k, v in {"kind": kind, "status": status, "subject": subject}.items() if v}
        return display.OperationList(
            self._call("GET", "operations", params={**params, "page": page, "per_page": per_page})
        )

    def wait_for(
        self, operation_id: int, timeout: float | None = None, progress=None, interval: float = 0.25
    ) -> display.Operation:
        """Poll until the operation ends; ``timeout=None`` waits as long as it takes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            operation = self.operation(operation_id)
            if progress is not None:
                progress(operation)
            if not operation["active"]:
                return operation
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Operation {operation_id} is still {operation['status']} after {timeout:g} s; "
                    "it goes on: wait again, or cancel it."
                )
            time.sleep(interval)

    def cancel_operation(self, operation_id: int) -> display.Operation:
        """Cancel it and wait (up to CANCEL_WAIT) until its worker stopped: the server answers a
        cancel at once, while the worker cleans up."""
        state = self._call("POST", f"operations/{int(operation_id)}/cancel", json={})
        return display.Operation(self._stopped(state), client=self)

    def _stopped(self, state: dict) -> dict:
        """The operation once it has ended, or as it is after CANCEL_WAIT seconds."""
        try:
            return dict(self.wait_for(state["id"], timeout=CANCEL_WAIT)) if state["active"] else state
        except TimeoutError:
            return dict(self.operation(state["id"]))

    def operation_log(self, operation_id: int, tail: int = 100) -> str:
        return self._send("GET", f"operations/{int(operation_id)}/log", params={"tail": tail}).text

    def follow_operation_log(self, operation_id: int, tail: int = 20, timeout: float = 3600):
        """Yield the log's lines as they are written, until the operation ends."""
        response = self._send(
            "GET",
            f"operations/{int(operation_id)}/log",
            stream=True,
            timeout=timeout + 30,
            params={"tail": tail, "follow": "true", "timeout": timeout},
        )
        try:
            yield from response.iter_lines(decode_unicode=True)
        finally:
            response.close()

    def events(self, after: int | None = None) -> dict:
        return self._call("GET", "events", params={} if after is None else {"after": after})

    def info(self) -> dict:
        return self._call("GET", "info")

    # -- plumbing --------------------------------------------------------------------------

    def _version_path(self, ref: str | ModelRef) -> str:
        if isinstance(ref, str):
            ref = parse_ref(ref)  # a RefError is an InvalidInput
        return f"models/{_segment(ref.name)}/versions/{_segment(ref.url_version)}"

    def _send(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            kwargs.setdefault("timeout", self.timeout)
            response = self.session.request(method, self.api + path, **kwargs)
        except requests.ConnectionError as exc:
            raise Unreachable(
                f"Cannot reach the Model Hub server at {self.url}: {exc.__class__.__name__}. Is it running?"
            ) from None
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    def _call(self, method: str, path: str, **kwargs):
        response = self._send(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


def _read_text(path: str | os.PathLike | None, what: str) -> str | None:
    """The text of a file the user named (relative to the current folder), or None."""
    if path is None:
        return None
    file = Path(path).expanduser()
    if not file.is_file():
        raise InvalidInput(f"{what} {str(path)!r} does not exist (relative to {os.getcwd()}).")
    return file.read_text()


def _segment(text: str) -> str:
    return quote(str(text), safe="@")


def _error_from(response: requests.Response) -> ModelHubError:
    try:
        body = response.json()
        body["message"]
    except (ValueError, KeyError, TypeError):
        body = {"message": f"HTTP {response.status_code} from {response.url}", "reason": ""}
    if response.status_code == 403 and body.get("reason") == Forbidden.reason:  # a permission, not the token
        return Forbidden(body["message"])
    if response.status_code in (401, 403):
        return ServerError(
            f"The Model Hub server refused the request ({response.status_code}): check the token. {body['message']}"
        )
    default = {400: InvalidInput, 404: NotFound, 409: Conflict}.get(response.status_code, ServerError)
    return error_from_body(body, default)
