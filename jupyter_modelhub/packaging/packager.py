"""Packager: a registered model version in, a serving image (or a build context) out.

The steps of ``%package``: pick or derive the environment and lock it, fetch its wheelhouse on
the host, write the build context, build it on the Docker engine with the network off, record
the image with its build report, and with ``push`` push it to a registry (``pushes``). ``check``
validates a request before it becomes an operation, so that bad input is a 400 at once and
nothing is built.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from pathlib import Path

from traitlets import Integer, List, Unicode
from traitlets.config import LoggingConfigurable

from ..errors import InvalidInput
from ..progress import Progress
from ..views import Deleted
from ..words import size_text
from . import builder
from .context import (
    ContextInputs,
    check_context_folder,
    command,
    suggested_folder,
    write_context,
    write_environment_context,
    write_model_context,
)
from .contributions import IMAGE_BUILD
from .environments import EnvironmentStore, check_image_name
from .images import ImageStore
from .leftovers import BuildLeftovers
from .pushes import ImagePusher
from .references import parse_push_reference, tag_of
from .runtime import runtime_version
from .wheelhouse import Wheelhouse


class Packager(LoggingConfigurable):
    """Builds serving images of registered model versions."""

    base_image = Unicode(
        "python:3.11-slim",
        config=True,
        help="Base image of serving images (it needs python3 with venv). Pulled only if absent; an "
        "engine that cannot pull (offline, a proxy) needs one it has: --base-image or this.",
    )
    python = Unicode("3.11", config=True, help="Python version of the base image (wheels are fetched for it).")
    build_network = Unicode(
        "none",
        config=True,
        help="Network of image builds: 'none' (dependencies come from the wheelhouse), or a Docker network name.",
    )
    port = Integer(8080, config=True, help="Port the runtime listens on inside images.")
    roots = List(
        Unicode(),
        config=True,
        help="Folders that entry scripts may be read from and --context may write into (the server's root).",
    )

    def __init__(self, registry, environments: EnvironmentStore, images: ImageStore, root: Path, **kwargs):
        super().__init__(**kwargs)
        self.registry, self.environments, self.images = registry, environments, images
        self.wheelhouse = Wheelhouse(root)
        self.leftovers = BuildLeftovers(root)
        self.pusher = ImagePusher(images)
        self.staging = Path(root) / "staging"
        self._submitting = threading.Lock()  # one build per content: look for one and queue one as one step

    # -- checking ------------------------------------------------------------------------

    def check(
        self,
        model: str,
        *,
        environment: str | None = None,
        requirements: str | None = None,
        conda: str | None = None,
        entry_script: str | None = None,
        tag: str | None = None,
        base_image: str | None = None,
        context: str | None = None,
        push: str | None = None,
        **_ignored,
    ) -> dict:
        """Validate a package request (the version exists, names and paths are sound, an engine
        answers when one is needed); returns the version."""
        version = self.registry.get_version(model)
        self.registry.verify_files(version["ref"])  # a file changed on disk is refused by name, never packaged
        if environment and (requirements or conda):
            raise InvalidInput("Give either --env NAME or --requirements/--conda FILE, not both.")
        if environment:
            name, _, number = environment.partition(":")
            self.environments.get(name, int(number) if number.isdigit() else None)
        if requirements or conda:
            from .environments import requirement_lines

            requirement_lines(requirements, conda)
        if tag:
            check_image_name(tag, "image tag")
        if push:
            if context:
                raise InvalidInput("Give --push or --context, not both: --context only writes the build context.")
            parse_push_reference(push, tag_of(tag or self._default_tag(version)))
        if base_image:
            check_image_name(base_image, "base image")
        if entry_script:
            self._entry_script(entry_script)
        if context:
            self._context_folder(context, version)
        else:
            builder.engine()
        return version

    def prepare(self, request: dict, user: str = "") -> dict:
        """Check a package request and settle its environment now (locking is quick, and a package
        that does not exist is then a 400 before anything is built); returns the inputs of the
        build with the version and environment resolved."""
        version = self.check(**request)
        env = self._environment(
            version,
            request.get("environment"),
            request.get("requirements"),
            request.get("conda"),
            request.get("base_image"),
            user,
        )
        return {
            **request,
            "model": version["ref"],
            "environment": env["ref"],
            "requirements": None,
            "conda": None,
            "base_image": None,
        }

    # -- packaging -----------------------------------------------------------------------

    def package(
        self,
        model: str,
        *,
        environment: str | None = None,
        requirements: str | None = None,
        conda: str | None = None,
        entry_script: str | None = None,
        tag: str | None = None,
        base_image: str | None = None,
        context: str | None = None,
        no_cache: bool = False,
        push: str | None = None,
        user: str = "",
        progress: Progress | None = None,
    ) -> dict:
        """Build the image (or only write its context) and with ``push`` push it there; returns
        the image record, or ``{"context", "command"}`` with ``context``."""
        progress = progress or Progress()
        version = self.check(
            model,
            environment=environment,
            requirements=requirements,
            conda=conda,
            entry_script=entry_script,
            tag=tag,
            base_image=base_image,
            context=context,
            push=push,
        )
        progress.step("locking the environment", 0, 4)
        env = self._environment(version, environment, requirements, conda, base_image, user)
        progress.step("fetching the wheelhouse", 1, 4)
        wheels, reused = self.wheelhouse.ensure(env["hash"], "\n".join(env["lock"]) + "\n", env["python"], progress)
        inputs = ContextInputs(
            base_image=env["base_image"],
            wheelhouse=wheels,
            model_files=self._model_files(version),
            model_name=version["name"],
            model_version=version["version"],
            flavor=version["flavor"],
            signature=version.get("signature"),
            port=self.port,
            entry_script=self._entry_script(entry_script) if entry_script else None,
        )
        tag = tag or self._default_tag(version)
        labels = self._labels(version, env, inputs)
        if context:
            folder = write_context(self._context_folder(context), inputs)
            return {
                "context": str(folder),
                "tag": tag,
                "labels": labels,
                "command": f"docker build --network none -t {tag} {folder}",
                "run": f"docker run --rm -p 127.0.0.1:{self.port}:{self.port} {tag}",
                "environment": env["ref"],
                "wheelhouse_reused": reused,
            }
        progress.step("writing the build context", 2, 4)
        client = builder.engine()
        env_tag = f"modelhub-env:{env['hash'][:16]}"
        env_key = self.leftovers.key(f"environment {env['hash']}")
        model_key = self.leftovers.key(f"model {version['name']}")
        self._remove_leftovers(client)  # what earlier builds left, a cancelled one's included
        scratch = Path(tempfile.mkdtemp(prefix="build-", dir=self.staging))
        try:
            with self.leftovers.building([env_key, model_key]):
                env_built = None
                if no_cache or not builder.has_image(client, env_tag):
                    builder.ensure_base_image(client, env["base_image"], progress)
                    progress.step(f"building the environment image {env_tag}", 3, 4)
                    write_environment_context(scratch / "environment", env["base_image"], wheels)
                    env_built = builder.build(
                        client,
                        scratch / "environment",
                        env_tag,
                        {"org.modelhub.environment": env["hash"], "org.modelhub.base-image": env["base_image"]},
                        self.build_network,
                        progress,
                        no_cache,
                        build_key=env_key,
                    )
                write_model_context(scratch / "model", inputs, env_tag)
                previous = self.images.latest_for_model(version["name"])
                built = builder.build(
                    client, scratch / "model", tag, labels, self.build_network, progress, no_cache, build_key=model_key
                )
                with progress.final():
                    report = builder.report(
                        client, built, labels, previous["labels"] if previous else None, (env_tag, env_built)
                    )
                    report["wheelhouse_reused"] = reused
                    record = self.images.record(
                        tag=tag,
                        image_id=built["image_id"],
                        model=version["name"],
                        version=version["version"],
                        environment_id=self.environments.row_id(env["name"], env["version"]),
                        size=report["size"],
                        report=report,
                        labels=labels,
                        user=user,
                    )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            self._remove_leftovers(client)  # this build's first stage, or the steps of a failed or cancelled one
        return self.pusher.after_build(record, push, user, progress) if push else record

    @staticmethod
    def _default_tag(version: dict) -> str:
        return f"modelhub/{version['name'].lower()}:{version['version']}"

    def submit_image_build(self, operations, request: dict, user: str = "") -> dict:
        """Queue the build of a prepared request as an operation, or answer the build of the same
        content (version, environment, entry script, tag) that is already queued or running: two
        identical requests at once are one build and one image record."""
        content = self._content(request)
        with self._submitting:
            active = operations.list(
                kind=IMAGE_BUILD.name, status="queued,running", subject=request["model"], per_page=100
            )
            for operation in active["operations"]:
                try:
                    same = self._content(operations.store.inputs(operation["id"])) == content
                except (OSError, ValueError):  # its inputs are gone: it is ending
                    continue
                if same:
                    return operation
            return operations.submit(IMAGE_BUILD.name, request["model"], request, user=user)

    def _content(self, request: dict) -> tuple:
        version = self.registry.get_version(request["model"])
        tag = request.get("tag") or self._default_tag(version)
        script = str(request.get("entry_script") or "")
        return version["ref"], request.get("environment"), script, tag, request.get("push") or ""

    def remove_leftovers(self) -> None:
        """At server start: what builds left before the server stopped (a build cancelled as it
        stopped, whose engine went on after the cancel). Nothing to do without an engine."""
        try:
            client = builder.engine()
        except builder.EngineUnavailable:
            return
        self._remove_leftovers(client)

    def _remove_leftovers(self, client) -> None:
        try:
            removed = self.leftovers.remove(client, keep=self.images.image_ids())
        except Exception as exc:  # cleaning up never fails a build; the next one tries again
            self.log.warning("Model Hub: could not remove what earlier image builds left: %s", exc)
            return
        if removed:
            self.log.info("Model Hub: removed %d untagged images that image builds left", len(removed))

    def delete_image(self, image: int | str) -> Deleted:
        """Remove an image record and, unless another record uses it, its image from the engine;
        the answer says which happened, and why an engine image was kept."""
        record, others = self.images.delete(image)
        return Deleted(deleted=[f"image {record['id']} ({record['tag']}); {self._remove_from_engine(record, others)}"])

    def _remove_from_engine(self, record: dict, others: list[dict]) -> str:
        """Remove the record's image from the engine, only if this product built it (it carries
        the ``org.modelhub.model`` label the build gives), never forced; what is kept is said with
        its size and how to remove it."""
        tag, image_id = record["tag"], record["image_id"]
        size = size_text(record.get("size"))
        users = ", ".join(f"image {o['id']} ({o['tag']})" for o in others) + (" uses" if len(others) == 1 else " use")
        if any(o["tag"] == tag for o in others):
            return f"its engine image {tag} ({size}) is kept: {users} it"
        try:
            client = builder.engine()
        except builder.EngineUnavailable:
            return f"its engine image {tag} ({size}), if any, is kept: no Docker engine answers"
        import docker

        short = image_id.split(":")[-1][:12]
        if not builder.has_image(client, image_id):
            return f"its engine image {short} was already gone from the Docker engine"
        if "org.modelhub.model" not in (client.images.get(image_id).labels or {}):
            return (
                f"its engine image {short} ({size}) is kept: it does not carry the org.modelhub.model "
                f"label of the images Model Hub builds; docker rmi {short} removes it"
            )
        tagged = builder.has_image(client, tag) and client.images.get(tag).id == image_id
        try:
            if tagged:
                client.images.remove(tag)  # untags; the image goes with its last tag (never forced)
            elif not others:
                client.images.remove(image_id)  # a newer build took its tag
        except docker.errors.APIError as exc:
            why = (exc.explanation or str(exc)).strip()
            return (
                f"its engine image {short} ({size}) is kept: {why}. Stop what uses it (docker ps -a --filter "
                f"ancestor={short}), then run docker rmi {short}"
            )
        untagged = (
            f"{tag} untagged in the Docker engine; its image {short} ({size})"
            if tagged
            else f"its engine image {short} ({size})"
        )
        if others:
            return f"{untagged} is kept: {users} it"
        if builder.has_image(client, image_id):
            return f"{untagged} is kept: another tag or image builds on it (docker image ls --all shows them)"
        return f"{tag if tagged else short} ({size}) removed from the Docker engine"

    def image_for(
        self,
        model: str,
        *,
        environment: str | None = None,
        requirements: str | None = None,
        entry_script: str | dict | None = None,
        user: str = "",
        progress: Progress | None = None,
    ) -> tuple[dict, bool]:
        """An image of ``model`` made of the same content (version, environment, runtime, entry
        script) if the engine still has one, else a new build; (image record, reused)."""
        version = self.registry.get_version(model)
        env = self._environment(version, environment, requirements, None, None, user)
        script = self._entry_script(entry_script) if entry_script else None
        script_key = hashlib.sha256(script[1].encode()).hexdigest()[:16] if script else ""
        client = builder.engine()
        same = [
            image
            for image in self.images.list(version["name"])["images"]
            if image["ref"] == version["ref"]
            and image["environment_hash"] == env["hash"]
            and image["labels"].get("org.modelhub.runtime") == runtime_version()
            and image["labels"].get("org.modelhub.entry-script") == script_key
        ]
        # a pushed one first: a cluster can pull it (the Kubernetes target uses its digest)
        for image in sorted(same, key=lambda image: not image["pushes"]):
            if builder.has_image(client, image["tag"]):
                return image, True
        return self.package(
            version["ref"], environment=env["ref"], entry_script=entry_script, user=user, progress=progress
        ), False

    def _environment(self, version: dict, environment, requirements, conda, base_image, user) -> dict:
        base = base_image or self.base_image
        if environment:
            name, _, number = environment.partition(":")
            env = self.environments.get(name, int(number) if number.isdigit() else None)
            if base_image and base_image != env["base_image"]:
                raise InvalidInput(
                    f"Environment {env['ref']} is for base image {env['base_image']}, not "
                    f"{base_image}: create an environment for that base image."
                )
            return env
        if requirements or conda:
            return self.environments.create(
                f"{version['name']}-env",
                requirements=requirements,
                conda=conda,
                python=self.python,
                base_image=base,
                flavor=version["flavor"],
                reuse=True,
                user=user,
            )
        return self.environments.create(
            f"modelhub-{version['flavor']}",
            python=self.python,
            base_image=base,
            flavor=version["flavor"],
            reuse=True,
            user=user,
        )

    def _model_files(self, version: dict) -> list[tuple[Path, str]]:
        return [(self.registry.file_path(version["ref"], f["path"])[0], f["path"]) for f in version["files"]]

    def _labels(self, version: dict, env: dict, inputs: ContextInputs) -> dict:
        script = hashlib.sha256(inputs.entry_script[1].encode()).hexdigest()[:16] if inputs.entry_script else ""
        files = hashlib.sha256("\n".join(sorted(f"{f['path']} {f['sha256']}" for f in version["files"])).encode())
        return {
            "org.modelhub.model": version["ref"],
            "org.modelhub.environment": env["hash"],
            "org.modelhub.runtime": runtime_version(),
            "org.modelhub.entry-script": script,
            "org.modelhub.model-content": files.hexdigest()[:16],
            "org.modelhub.command": " ".join(command(inputs)),
        }

    def _user_path(self, path: str, what: str) -> Path:
        """A path the user gave, resolved (links too) and checked to be inside the server's folders."""
        resolved = Path(path).expanduser().resolve()
        roots = [Path(r).resolve() for r in self.roots]
        if not any(resolved == r or resolved.is_relative_to(r) for r in roots):
            raise InvalidInput(
                f"{what} {path} is outside the server's folders; use one under "
                + (", ".join(map(str, roots)) or "the server's root")
                + "."
            )
        return resolved

    def _context_folder(self, path: str, version: dict | None = None) -> Path:
        """The folder a context goes into, refused up front (before any locking or download)
        unless it is new, empty or a previous context of ours."""
        folder = self._user_path(path, "--context")
        if version is not None:
            check_context_folder(folder, suggested_folder(folder, version["name"], version["version"]))
        elif folder.exists() and not folder.is_dir():
            raise InvalidInput(f"--context {path} is a file; give a folder.")
        return folder

    def _entry_script(self, path: str | dict) -> tuple[str, str]:
        """(file name, source) of an entry script: a file under the server's folders, or one a
        client sent as ``{"name", "source"}`` (as %deploy does)."""
        if isinstance(path, dict):
            name = path.get("name") or "score.py"
            if "/" in name or "\\" in name or name.startswith(".") or not name.endswith(".py"):
                raise InvalidInput(f"Invalid entry script name {name!r}: expected a file name ending in .py.")
            return name, path.get("source", "")
        script = self._user_path(path, "Entry script")
        if not script.name.endswith(".py") or not script.is_file():
            raise InvalidInput(f"Entry script {path} is not a .py file that exists.")
        return script.name, script.read_text()
