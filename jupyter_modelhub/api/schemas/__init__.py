"""Request and response bodies of the REST API, as pydantic models: one module per resource.

Requests are validated with these (unknown fields are refused, so a typo is an error, not a
silent no-op). Responses are the models the services build and the handlers serialise
(``registry.views``, ``operations.views``, ``deploy.views``, ``packaging.views``,
``batch.views``, schedules in ``operations.views``), re-exported by their resource's module. The rest document dicts built
elsewhere: Conversion (an operation's result), InvokeResult and EndpointMetrics
(``api.endpoint_calls``), ParityProbe (``parity``), Info (``api.registry``) and Error
(``api.base``). The OpenAPI document (``api.openapi``) is generated from them, and finds every
name here: ``schemas.X``.
"""

# ruff: noqa: F401  (every name here is a re-export)

from __future__ import annotations

from . import (
    batch,  # batch.SCHEMAS: the batch components, in the document's order
    governance,  # governance.SCHEMAS: webhooks and model cards
    monitoring,  # monitoring.SCHEMAS: the monitoring components, in the document's order
    schedules,  # schedules.SCHEMAS: the schedules' components, in the document's order
)
from .batch import (
    BatchEndpoint,
    BatchEndpointList,
    BatchEndpointRequest,
    EndpointJobRequest,
    Job,
    JobPage,
    JobRequest,
    MiniBatch,
)
from .common import (
    ALIAS_PATTERN,
    JSON_VALUE_SCHEMA,
    MAX_DESCRIPTION,
    MAX_FILE_TEXT,
    MAX_INT,
    MAX_NAME,
    MAX_PATH,
    NAME_PATTERN,
    NO_NUL,
    PATTERN_HINTS,
    REF_PATTERN,
    TAG_KEY_PATTERN,
    UPLOAD_ID_PATTERN,
    VERSION_PATTERN,
    Error,
    Flavor,
    Info,
    Int,
    JSONValue,
    Label,
    Percent,
    Ref,
    Strict,
    TagKey,
    TagValue,
    Text,
    text,
)
from .convert import (
    Conversion,
    ConvertRequest,
)
from .endpoints import (
    Collected,
    CollectedRecord,
    Collection,
    CollectRequest,
    DeploymentInfo,
    DeploymentMetrics,
    DeployRequest,
    EndpointInfo,
    EndpointList,
    EndpointMetrics,
    EntryScript,
    InvokeRequest,
    InvokeResult,
    Keys,
    Mirror,
    RegenerateKeyRequest,
    ServingRecord,
    Timeline,
    TrafficHistory,
    TrafficPoint,
    TrafficRequest,
)
from .governance import CardRequest, Delivery, DeliveryList, ModelCard, Webhook, WebhookList, WebhookRequest
from .monitoring import (
    EndpointMonitorReport,
    LabelsRequest,
    LabelsStored,
    MonitorReport,
    ReferenceProfile,
    ReferenceRequest,
    ReplayReport,
    ReplayRequest,
    Rows,
)
from .operations import (
    Operation,
    OperationError,
    OperationPage,
    Progress,
)
from .packaging import (
    EntryScriptPath,
    Environment,
    EnvironmentList,
    EnvironmentRequest,
    ImageList,
    ImagePush,
    ImageRecord,
    PackageRequest,
    PushRequest,
)
from .parity import (
    ParityProbe,
    ParityRequest,
)
from .registry import (
    Action,
    AliasChecks,
    AliasRequest,
    Deleted,
    EndpointState,
    EvaluationData,
    Event,
    Events,
    EvidenceEntry,
    EvidenceRequest,
    FileEntry,
    History,
    HistoryEntry,
    ModelDetail,
    ModelPage,
    ModelSummary,
    PermissionGrant,
    PermissionRequest,
    Permissions,
    Promotion,
    PromotionCheck,
    RegisterRequest,
    Signature,
    TensorSpec,
    UpdateVersionRequest,
    Upload,
    Version,
    VersionActions,
    VersionPage,
)
from .schedules import Schedule, ScheduleList, ScheduleRequest, ScheduleUpdate, TargetRequest
