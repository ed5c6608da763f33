"""Request and response bodies of the REST API, as pydantic models.

Requests are validated with these (unknown fields are refused, so a typo is an error, not a
silent no-op). Responses are built by the services as dicts; the response models here exist to
document them in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TensorSpec(BaseModel):
    name: str
    dtype: str
    shape: list[int] = Field(default_factory=lambda: [-1])


class Signature(BaseModel):
    inputs: list[TensorSpec]
    outputs: list[TensorSpec] = Field(default_factory=list)


class RegisterRequest(Strict):
    """upload_id (from POST uploads) and the new version's metadata"""

    upload_id: str
    flavor: Optional[str] = Field(None, description="sklearn, onnx, mlflow or custom; detected when omitted")
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, Any] = Field(default_factory=dict)
    signature: Optional[Signature] = None
    input_example: Any = None
    source_notebook: Optional[str] = None
    derived_from: Optional[str] = Field(None, description="reference of the version this one derives from")
    new_version: bool = Field(False, description="register even if an identical version exists")


class UpdateVersionRequest(Strict):
    """the fields to change: description, tags (null removes a tag), properties (add-only), archived"""

    description: Optional[str] = None
    tags: Optional[dict[str, Optional[str]]] = None
    properties: Optional[dict[str, Any]] = None
    archived: Optional[bool] = None


class AliasRequest(Strict):
    """the version number the alias should point at"""

    version: int = Field(ge=1)


class FileEntry(BaseModel):
    path: str
    size: int
    sha256: Optional[str] = None


class Version(BaseModel):
    name: str
    version: int
    ref: str
    flavor: str
    description: str
    tags: dict[str, str]
    properties: dict[str, Any]
    signature: Optional[Signature]
    input_example: Any
    files: list[FileEntry]
    size: int
    created_time: str
    created_by: str
    source_notebook: Optional[str]
    derived_from: Optional[str]
    archived: bool
    aliases: list[str]
    existing: Optional[bool] = Field(None, description="on registration: true if an identical version was returned")


class ModelSummary(BaseModel):
    name: str
    description: str
    latest_version: Optional[int]
    version_count: int
    flavor: Optional[str]
    tags: dict[str, str]
    aliases: dict[str, int]
    created_time: str
    updated_time: str


class ModelDetail(ModelSummary):
    versions: list[Version]


class ModelPage(BaseModel):
    models: list[ModelSummary]
    total: int
    page: int
    per_page: int


class VersionPage(BaseModel):
    versions: list[Version]
    total: int
    page: int
    per_page: int


class Upload(BaseModel):
    upload_id: str
    files: list[FileEntry]
    size: int


class Event(BaseModel):
    id: int
    time: str
    kind: str
    model: str
    version: Optional[int]


class Events(BaseModel):
    events: list[Event]
    last_id: int


class Deleted(BaseModel):
    deleted: list[str]


class Info(BaseModel):
    version: str
    database: str
    root_dir: str


class Error(BaseModel):
    message: str
    reason: str
