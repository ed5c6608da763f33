"""The registry's request bodies: registering a version, changing one, pointing an alias.

Its answers are the models of ``registry.views`` (the service builds them); they are re-exported
here so every schema of the registry is found in one module.

Not here: conversions (``convert``).
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field, StringConstraints

from ...refs import MAX_VERSION
from ...registry.permissions import PRINCIPAL_PATTERN
from ...registry.views import (  # noqa: F401  (re-exported: the registry's response models)
    Action,
    AliasChecks,
    Deleted,
    EndpointState,
    Event,
    Events,
    EvidenceEntry,
    FileEntry,
    History,
    HistoryEntry,
    ModelDetail,
    ModelPage,
    ModelSummary,
    PermissionGrant,
    Permissions,
    Promotion,
    PromotionCheck,
    Signature,
    TensorSpec,
    Upload,
    Version,
    VersionActions,
    VersionPage,
)
from .common import (
    MAX_NAME,
    MAX_PATH,
    UPLOAD_ID_PATTERN,
    Flavor,
    Int,
    JSONValue,
    Label,
    Ref,
    Strict,
    TagKey,
    TagValue,
    Text,
    text,
)


class RegisterRequest(Strict):
    """upload_id (from POST uploads) and the new version's metadata"""

    upload_id: Annotated[str, StringConstraints(pattern=UPLOAD_ID_PATTERN, max_length=32)]
    flavor: Optional[Flavor] = Field(None, description="detected when omitted")
    description: Text = ""
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    properties: dict[TagKey, JSONValue] = Field(default_factory=dict)
    signature: Optional[Signature] = None
    input_example: JSONValue = None
    source_notebook: Optional[text(MAX_PATH)] = None
    source_kernel: Optional[text(MAX_NAME)] = Field(
        None, description="the registering kernel's id: its notebook's current path is recorded as source_notebook"
    )
    derived_from: Optional[Ref] = Field(None, description="reference of the version this one derives from")
    new_version: bool = Field(False, description="register even if an identical version exists")


class UpdateVersionRequest(Strict):
    """the fields to change: description, tags (null removes a tag), properties (add-only), archived"""

    description: Optional[Text] = None
    tags: Optional[dict[TagKey, Optional[TagValue]]] = None
    properties: Optional[dict[TagKey, JSONValue]] = None
    archived: Optional[bool] = None


class AliasRequest(Strict):
    """the version number the alias should point at"""

    version: Int = Field(ge=1, le=MAX_VERSION)


class PermissionRequest(Strict):
    """give a user, a group or everyone a permission on the model ('none' takes a user's or group's away)"""

    principal: str = Field(
        pattern=PRINCIPAL_PATTERN,
        max_length=134,
        description="user:NAME, group:NAME or everyone (a bare NAME is a user); everyone replaces the server's "
        "default permission for this model, and everyone with none closes it to all it does not name",
    )
    permission: Literal["none", "read", "write", "manage", "default"] = Field(
        description="default: no grant of its own (a user or group keeps what the rest have; everyone: the server's default)"
    )


Metrics = Annotated[dict[TagKey, Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=1, max_length=64)]


class EvaluationData(Strict):
    name: text(512) = Field(description="the data evaluated on: a file's name, or a variable's")
    sha256: Optional[text(64)] = Field(None, description="of the rows evaluated on (what identifies the data)")
    rows: Int = Field(ge=1, le=2**53)
    target: text(256) = Field(description="the label column")


class EvidenceRequest(Strict):
    """evidence for a promotion: an evaluation (metrics, against), a parity report (passed, target) or an approval (alias)"""

    kind: Literal["evaluation", "parity", "approval"]
    alias: Optional[Label] = Field(None, description="approval: the alias it approves the version for")
    metrics: Optional[Metrics] = Field(None, description="evaluation: the version's metrics")
    against: Optional[Ref] = Field(None, description="evaluation: the version compared with (e.g. NAME@production)")
    against_metrics: Optional[Metrics] = Field(None, description="evaluation: that version's metrics, same data")
    data: Optional[EvaluationData] = None
    passed: Optional[bool] = Field(None, description="parity: the same answers")
    target: Optional[text(300)] = Field(None, description="parity: the image or endpoint compared with")
    summary: Optional[text(2000)] = None
