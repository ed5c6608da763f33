"""Where an image is pushed: ``REGISTRY/REPO[:TAG]``, checked against the Docker reference
grammar (the distribution project's ``reference`` package) before any work starts.

A push reference must name its registry (a host with a ``.`` or a port, or ``localhost``):
a bare ``team/churn`` would go to Docker Hub, a public registry, which is never what an
unqualified name in a notebook should mean. ``docker.io/team/churn`` says it on purpose.

Bounded and linear: the length is checked first, and each piece is matched by a regular
expression whose repetitions are separated by characters the repeated part cannot hold.

Not here: the push itself (``pushes``), the records (``images``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InvalidInput

MAX_NAME = 255  # the grammar's limit on REGISTRY/REPO
MAX_REFERENCE = MAX_NAME + 1 + 128

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_REGISTRY = re.compile(rf"^(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[a-fA-F0-9:]+\])(?::[0-9]{{1,5}})?$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$", re.ASCII)
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")

EXAMPLE = "e.g. registry.example.com/team/churn:2 or 127.0.0.1:5000/churn"


@dataclass(frozen=True)
class PushReference:
    """A parsed ``REGISTRY/REPO:TAG``: ``repository`` is the full name with its registry."""

    registry: str
    repository: str
    tag: str

    @property
    def tagged(self) -> str:
        return f"{self.repository}:{self.tag}"

    def pinned(self, digest: str) -> str:
        """The digest-pinned reference, ``REGISTRY/REPO@sha256:...`` (what a cluster should pull)."""
        return f"{self.repository}@{digest}"


def parse_push_reference(text: object, default_tag: str) -> PushReference:
    """``REGISTRY/REPO[:TAG]`` checked and split; without a tag, ``default_tag`` (the image's own)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"Give where to push: REGISTRY/REPO[:TAG], {EXAMPLE}.")
    if len(text) > MAX_REFERENCE:
        raise InvalidInput(f"Invalid push reference: {len(text)} characters, at most {MAX_REFERENCE}.")
    shown = repr(text)
    if "@" in text:
        raise InvalidInput(
            f"Invalid push reference {shown}: a push names a tag, not a digest (the digest is what the registry "
            f"answers); drop the @... part, {EXAMPLE}."
        )
    registry, slash, rest = text.partition("/")
    if not slash or not _looks_like_registry(registry):
        raise InvalidInput(
            f"Invalid push reference {shown}: name the registry first, REGISTRY/REPO[:TAG], {EXAMPLE} "
            "(docker.io/USER/REPO for Docker Hub)."
        )
    if not _REGISTRY.match(registry):
        raise InvalidInput(f"Invalid push reference {shown}: {registry!r} is not a registry host[:port].")
    path, colon, tag = rest.rpartition(":") if ":" in rest else (rest, "", "")
    if colon and not _TAG.match(tag):
        raise InvalidInput(
            f"Invalid push reference {shown}: tag {tag!r} must be letters, digits, '_', '.' or '-' (at most 128, "
            "not starting with '.' or '-')."
        )
    for component in path.split("/"):
        if not _COMPONENT.match(component):
            raise InvalidInput(
                f"Invalid push reference {shown}: repository part {component!r} must be lowercase letters and "
                f"digits, separated by '.', '_', '__' or '-', {EXAMPLE}."
            )
    repository = f"{registry}/{path}"
    if len(repository) > MAX_NAME:
        raise InvalidInput(f"Invalid push reference {shown}: REGISTRY/REPO is over {MAX_NAME} characters.")
    return PushReference(registry=registry, repository=repository, tag=tag or default_tag)


def _looks_like_registry(first: str) -> bool:
    """Docker's own rule for whether a name's first part is a registry host."""
    return "." in first or ":" in first or first == "localhost" or first != first.lower()


def tag_of(image: str) -> str:
    """The tag part of a local image name (``modelhub/churn:2`` -> ``2``), ``latest`` when none."""
    last = image.rsplit("/", 1)[-1]
    return last.rpartition(":")[2] if ":" in last else "latest"


def check_digest(digest: object) -> str:
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise InvalidInput(f"The registry answered an invalid digest {digest!r}.")
    return digest
