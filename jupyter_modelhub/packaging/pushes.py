"""Pushing an image record's image to an OCI registry through the Docker SDK, and recording the
digest the registry answered once it is checked.

The engine does the push with its own credentials: the SDK sends what the Docker config file
holds for that registry (``docker login`` on the engine's host), and nothing here reads, stores
or prints them. The image is tagged ``REGISTRY/REPO:TAG`` for the push and the tag removed again
afterwards (unless it was there before), so the engine keeps only the tags the product gave.
The digest comes from the push stream's final ``aux`` message and is checked against what the
registry answers for the tag (``GET /distribution/{name}/json`` on the engine) before anything
is recorded: a push that fails at any point records nothing.

Not here: the reference grammar (``references``), the records (``images``).
"""

from __future__ import annotations

import time

from ..errors import Conflict, InvalidInput, ModelHubError, NotFound, Unavailable
from ..progress import Progress
from . import builder
from .contributions import IMAGE_PUSH
from .references import PushReference, check_digest, parse_push_reference, tag_of

MB = 1024 * 1024
DONE = ("Pushed", "Layer already exists")  # and "Mounted from REPO"
UNREACHABLE = (
    "connection refused",
    "no such host",
    "dial tcp",
    "i/o timeout",
    "timeout",
    "network is unreachable",
    "server misbehaving",
    "connection reset",
    "http response to https client",
    "tls:",
    "x509:",
)
REFUSED = ("unauthorized", "authentication required", "denied", "forbidden", "insufficient_scope")


class ImagePusher:
    """Pushes image records' images to registries (``%image N --push REGISTRY/REPO[:TAG]``)."""

    def __init__(self, images):
        self.images = images

    def check(self, image: int | str, reference: str) -> dict:
        """Validate a push before it becomes an operation (the reference's grammar, the record,
        an engine that has its image, a tag free to use); returns the operation's inputs."""
        record = self.images.get(image)
        target = parse_push_reference(reference, tag_of(record["tag"]))
        client = builder.engine()
        _engine_image(client, record)
        _check_tag_free(client, target, record["image_id"])
        return {"image": record["id"], "reference": target.tagged}

    def submit(self, operations, inputs: dict, user: str = "") -> dict:
        """Queue the push of checked ``inputs`` as an operation, or answer the push of the same
        image to the same reference that is already queued or running."""
        active = operations.list(
            kind=IMAGE_PUSH.name, status="queued,running", subject=inputs["reference"][:256], per_page=100
        )
        for operation in active["operations"]:
            try:
                stored = operations.store.inputs(operation["id"])
            except (OSError, ValueError):  # its inputs are gone: it is ending
                continue
            if (stored.get("image"), stored.get("reference")) == (inputs["image"], inputs["reference"]):
                return operation
        return operations.submit(IMAGE_PUSH.name, inputs["reference"], inputs, user=user)

    def push(self, image: int | str, reference: str, user: str = "", progress: Progress | None = None) -> dict:
        """Push the record's image to ``reference`` and record the checked digest; returns the record."""
        progress = progress or Progress()
        record = self.images.get(image)
        target = parse_push_reference(reference, tag_of(record["tag"]))
        client = builder.engine()
        _engine_image(client, record)
        digest = push(client, record["image_id"], target, progress)
        with progress.final():
            return self.images.record_push(record["id"], target.tagged, digest, user).as_dict()

    def after_build(self, record: dict, reference: str, user: str, progress: Progress) -> dict:
        """``%package --push``: push what was just built; a failed push says the image is there."""
        try:
            return self.push(record["id"], reference, user, progress)
        except ModelHubError as exc:
            exc.message = (
                f"Image {record['id']} ({record['tag']}) was built, but its push failed: {exc.message} "
                f"Push it again with %image {record['id']} --push {reference}"
            )
            raise


def push(client, image_id: str, target: PushReference, progress: Progress) -> str:
    """Tag ``image_id`` as the target, push it, check the digest; returns ``sha256:...``."""
    import docker

    _check_tag_free(client, target, image_id)
    tagged_before = target.tagged in (client.images.get(image_id).tags or [])
    progress.step(f"pushing to {target.tagged}", 0, None, unit="layers")
    try:
        client.api.tag(image_id, target.repository, target.tag)
        try:
            stream = client.api.push(target.repository, tag=target.tag, stream=True, decode=True)
            digest = _follow(stream, target, progress)
            _verify(client, target, digest)
        finally:
            if not tagged_before:
                _untag(client, target, image_id)
    except docker.errors.APIError as exc:
        raise _explain(exc.explanation or str(exc), target) from None
    except ModelHubError:
        raise
    except Exception as exc:  # a dropped connection to the engine, a stream cut short
        raise _explain(f"{type(exc).__name__}: {exc}", target) from None
    return digest


def _follow(stream, target: PushReference, progress: Progress) -> str:
    """Read the push stream: per-layer states into the log, layers done and bytes sent into the
    progress (at most about once a second for bytes alone), the digest from the final ``aux``."""
    layers: dict[str, str] = {}
    sent: dict[str, int] = {}
    digest = None
    shown, last = None, 0.0
    log = progress.log
    for chunk in stream:
        if "error" in chunk or "errorDetail" in chunk:
            raise _explain(chunk.get("errorDetail", {}).get("message") or chunk.get("error") or "", target)
        aux = chunk.get("aux") or {}
        if "Digest" in aux:
            digest = aux["Digest"]
        layer, status = chunk.get("id"), chunk.get("status") or ""
        if layer and status:
            state = "done" if status in DONE or status.startswith("Mounted from") else status
            if state == "Pushing":
                sent[layer] = (chunk.get("progressDetail") or {}).get("current") or sent.get(layer, 0)
            previous = layers.get(layer)
            if log is not None and previous != state and (state != "Pushing" or previous is None):
                log.write(f"{layer}: {status}\n".encode())  # a line per state, not per byte
                log.flush()
            layers[layer] = state
        done = sum(1 for s in layers.values() if s == "done")
        message = f"pushing to {target.tagged}: {sum(sent.values()) / MB:.1f} MB sent"  # after "3/7 layers: "
        now = time.monotonic()
        if (done, len(layers)) != shown or now - last >= 1.0:
            progress.step(message, done, len(layers) or None, unit="layers")
            shown, last = (done, len(layers)), now
    if digest is None:
        raise _explain("the registry did not answer a digest (the push stream ended early)", target)
    check_digest(digest)
    if log is not None:
        log.write(f"pushed {target.tagged}: {target.pinned(digest)}\n".encode())
        log.flush()
    return digest


def _verify(client, target: PushReference, digest: str) -> None:
    """The registry answers ``digest`` for the tag just pushed (through the engine, with its
    credentials): what is recorded is what a pull gets."""
    answered = (client.api.inspect_distribution(target.tagged).get("Descriptor") or {}).get("digest")
    if answered != digest:
        raise InvalidInput(
            f"The registry holds {answered} under {target.tagged}, not the pushed {digest}: something else pushed "
            "there at the same time. Push again, or to a tag of its own."
        )


def _untag(client, target: PushReference, image_id: str) -> None:
    """Remove the push's tag again, only while the image keeps another (never the image itself)."""
    try:
        tags = client.images.get(image_id).tags or []
        if target.tagged in tags and len(tags) > 1:
            client.api.remove_image(target.tagged, noprune=True)
    except Exception:  # an extra tag left behind is harmless; the push's outcome stands
        pass


def _engine_image(client, record: dict) -> None:
    if not builder.has_image(client, record["image_id"]):
        raise NotFound(
            f"Image {record['id']} ({record['tag']}) is no longer in the Docker engine: build it again with "
            f"%package {record['ref']}, then push that one."
        )


def _check_tag_free(client, target: PushReference, image_id: str) -> None:
    """Never move a tag the engine gives another image: that tag is the user's, not ours."""
    try:
        other = client.images.get(target.tagged).id
    except Exception:  # docker.errors.ImageNotFound: free
        return
    if other != image_id:
        raise Conflict(
            f"{target.tagged} already names another image in the Docker engine ({other.split(':')[-1][:12]}); "
            "push to another tag, or remove that tag first (docker rmi)."
        )


def _explain(message: str, target: PushReference) -> ModelHubError:
    """One line that says what went wrong and what to do, from the engine's message."""
    text = " ".join(str(message).split())[:500].rstrip(".")
    lower = text.lower()
    if any(word in lower for word in REFUSED):
        return InvalidInput(
            f"The registry {target.registry} refused the push of {target.tagged}: {text}. Log the Docker engine's "
            f"host in with an account that may push there (docker login {target.registry})."
        )
    if any(word in lower for word in UNREACHABLE):
        return Unavailable(
            f"The registry {target.registry} cannot be reached from the Docker engine: {text}. Check the address "
            "and that the registry runs."
        )
    return InvalidInput(f"The push of {target.tagged} failed: {text}.")
