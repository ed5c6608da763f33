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


class ImageList(View):
    images: list[ImageRecord]
