"""What the packaging routes answer: environments and image records, and lists of them, as
pydantic models.

The environment and image stores build these from their rows, the handlers serialise them
(``as_dict``), and the OpenAPI document is generated from them (``api.schemas`` re-exports them).

Not here: the request bodies (``api.schemas.packaging``), the rows and queries
(``environments``, ``images``).
"""

from __future__ import annotations

from pydantic import Field

from ..views import View


class Environment(View):
    name: str
    version: int
    ref: str
    hash: str
    python: str
    base_image: str
    requirements: list[str]
    lock: list[str]
    created_time: str
    created_by: str


class EnvironmentList(View):
    environments: list[Environment]


class ImagePush(View):
    """Where an image was pushed: the reference, the digest the registry answered for it (checked),
    and the digest-pinned reference to pull (what Kubernetes manifests use)."""

    reference: str = Field(description="REGISTRY/REPO:TAG as pushed")
    digest: str = Field(description="sha256:... of the manifest the registry holds under that tag")
    pinned: str = Field(description="REGISTRY/REPO@sha256:..., the reference that always means this image")
    pushed_time: str
    pushed_by: str


class ImageRecord(View):
    id: int
    tag: str
    image_id: str
    model: str
    version: int
    ref: str
    environment: str
    environment_hash: str
    size: int
    report: dict = Field(description="steps (reused or rebuilt, why, size), size, seconds")
    labels: dict
    built_time: str
    created_by: str
    pushes: list[ImagePush] = Field(default_factory=list, description="where it was pushed, newest first")


class ImageList(View):
    images: list[ImageRecord]
