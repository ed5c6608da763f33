"""Request and response bodies of the REST API, as pydantic models.

Requests are validated with these (unknown fields are refused, so a typo is an error, not a
silent no-op). The registry's responses are the models of ``registry.views``, which the registry
builds and the handlers serialise; they are re-exported here so the OpenAPI document finds every
schema in one module. The other services' responses are still built as dicts; their models here
document them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema

from ..convert.onnx import MAX_OPSET, MIN_OPSET
from ..flavors import FLAVORS
from ..refs import ALIAS_RE, MAX_VERSION, NAME_RE, TAG_KEY_RE
from ..registry.views import (  # noqa: F401  (re-exported: the registry's response models)
    Action,
    Deleted,
    Event,
    Events,
    FileEntry,
    ModelDetail,
    ModelPage,
    ModelSummary,
    Upload,
    Version,
    VersionActions,
    VersionPage,
)

# The database's integer columns are 32-bit; bounds here make a larger number a 400 that names
# the field, and tell clients (and the OpenAPI document) what is accepted.
MAX_INT = 2**31 - 1
Percent = Field(ge=0, le=100)


def _whole_number(value):
    """JSON Schema counts 3.0 as an integer; strict validation would not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer in a request body: a JSON integer or a number with no fraction, never a string or bool.
Int = Annotated[int, BeforeValidator(_whole_number)]

# The grammars of refs.py as JSON Schema patterns, so a client (or a fuzzer) knows what a name is.
NAME_PATTERN = f"^{NAME_RE.pattern}$"
ALIAS_PATTERN = f"^{ALIAS_RE.pattern}$"
TAG_KEY_PATTERN = f"^{TAG_KEY_RE.pattern}$"
VERSION_PATTERN = "[1-9][0-9]{0,8}"  # what is documented; numbers up to 2147483647 are accepted
REF_PATTERN = f"^{NAME_RE.pattern}(:{VERSION_PATTERN}|@{ALIAS_RE.pattern})?$"
# Text stored in the database's text columns, where PostgreSQL cannot hold NUL.
NO_NUL = r"^[^\u0000]*$"  # the regex escape, not the character
UPLOAD_ID_PATTERN = "^[0-9A-Za-z]{32}$"
# what a value that does not match each pattern should have been, in the words of refs.py
PATTERN_HINTS = {
    NAME_PATTERN: "a model name (1-128 letters, digits, '.', '_' or '-', starting with a letter or digit)",
    ALIAS_PATTERN: "a name of 1-64 letters, digits, '_' or '-', starting with a letter",
    TAG_KEY_PATTERN: "a tag or property name (letters, digits, '.', '_' or '-')",
    REF_PATTERN: "a model reference: NAME, NAME:VERSION or NAME@ALIAS",
    NO_NUL: "text without NUL characters",
    UPLOAD_ID_PATTERN: "an upload id as returned by POST uploads",
}

# Every text field of a request has a length limit (issue 18: an unbounded field let one request
# hold the server); the limits are here, so the OpenAPI document (generated from these models)
# says what the server checks, and a longer value is a 400 naming the field and its limit.
MAX_DESCRIPTION = 10_000
MAX_NAME = 256  # tensor, file and image names, kernel ids
MAX_PATH = 4096  # a path on the server (Linux's PATH_MAX)
MAX_FILE_TEXT = 1_000_000  # the text of a file sent in a body: requirements, an entry script


def text(limit: int):
    """Text without NUL characters, of at most ``limit`` characters."""
    return Annotated[str, StringConstraints(pattern=NO_NUL, max_length=limit)]


Text = text(MAX_DESCRIPTION)
TagKey = Annotated[str, StringConstraints(pattern=TAG_KEY_PATTERN, max_length=128)]
TagValue = text(1024)
Ref = Annotated[str, StringConstraints(pattern=REF_PATTERN, max_length=200)]  # NAME (128) + ':' or '@' + ALIAS (64)
Label = Annotated[str, StringConstraints(pattern=ALIAS_PATTERN, max_length=64)]  # endpoint and deployment names
Flavor = Literal[FLAVORS]
# Any JSON value; request bodies refuse NUL characters anywhere (see api.base), which the
# JSONValue component (in openapi.py) spells out for clients.
# (pydantic cannot point at a schema it does not make; openapi.py swaps this marker for the $ref)
JSONValue = Annotated[Any, WithJsonSchema({"x-modelhub": "JSONValue"})]
JSON_VALUE_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": NO_NUL},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": {"$ref": "#/components/schemas/JSONValue"}},
        {
            "type": "object",
            "propertyNames": {"pattern": NO_NUL},
            "additionalProperties": {"$ref": "#/components/schemas/JSONValue"},
        },
    ]
}


def _absent_by_default(schema: dict) -> None:
    """A field that may be left out but not sent as null: its schema has no null default."""
    schema.pop("default", None)


class Strict(BaseModel):
    """A request body: unknown fields refused, and no coercion (0 is not false, "3" is not 3),
    so what is accepted is what the OpenAPI document says."""

    model_config = ConfigDict(extra="forbid", strict=True)


class TensorSpec(Strict):
    name: text(MAX_NAME)
    dtype: text(64)
    shape: list[Annotated[Int, Field(ge=-1, le=2**53)]] = Field(default_factory=lambda: [-1])


class Signature(Strict):
    inputs: list[TensorSpec]
    outputs: list[TensorSpec] = Field(default_factory=list)


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


class Info(BaseModel):
    version: str
    database: str
    root_dir: str


class Error(BaseModel):
    message: str
    reason: str


class EntryScript(Strict):
    name: text(MAX_NAME) = "score.py"
    source: text(MAX_FILE_TEXT)


class DeployRequest(Strict):
    """the model to serve and how: model, deployment, entry_script, instances, traffic, auth, ..."""

    model: Ref = Field(description="NAME, NAME:VERSION or NAME@ALIAS (an alias is resolved now and recorded)")
    deployment: Label = "blue"
    entry_script: Optional[EntryScript] = Field(None, description="an Azure-style score.py: init() and run(raw_data)")
    entry_script_path: Optional[text(MAX_PATH)] = Field(
        None, description="with reload: a file under the server's root to watch"
    )
    reload: bool = False
    environment: Optional[text(200)] = Field(
        None, description="NAME or NAME:VERSION of an environment (see /environments) to run in"
    )
    requirements: Optional[text(MAX_FILE_TEXT)] = Field(
        None,
        description="a requirements file's text: an environment MODEL-env is made of "
        "it (or reused by content) and the deployment runs in it",
    )
    instances: Optional[Int] = Field(
        None, ge=1, description="at most c.DeploymentManager.max_instances", json_schema_extra={"maximum": 8}
    )  # its default
    traffic: Optional[dict[Label, Annotated[Int, Percent]]] = None
    auth: Literal["key", "none"] = "key"
    port: Optional[Int] = Field(None, ge=1, le=65535)
    max_batch_size: Optional[Int] = Field(None, ge=1, le=MAX_INT)
    max_batch_wait_ms: Optional[float] = Field(None, ge=0, le=60_000)
    max_request_bytes: Optional[Int] = Field(None, ge=1, le=2**53)
    request_timeout: Optional[float] = Field(None, gt=0, le=86_400)
    allow_contract_change: bool = Field(
        False,
        description="deploy even if the model's inputs or outputs differ "
        "from what the endpoint answers now (else a 409)",
    )
    target: Literal["process", "docker", "kubernetes"] = Field(
        "process",
        description="process: a local process; docker: a container of the model's image (built or reused "
        "by content, as an operation); kubernetes: that image as manifests for a cluster",
    )
    cpu: Optional[float] = Field(None, gt=0, le=256, description="docker, kubernetes: CPU cores (a limit)")
    memory: Optional[text(32)] = Field(None, description="docker, kubernetes: memory, e.g. 512M or 2Gi")
    max_instances: Optional[int] = Field(None, ge=1, le=1000, description="kubernetes: an autoscaler up to this")
    gpu: bool = Field(False, description="docker: ask the engine for the GPUs; kubernetes: one nvidia.com/gpu")
    kserve: bool = Field(False, description="kubernetes: a KServe InferenceService (raw deployment) instead")
    kube_context: Optional[text(MAX_NAME)] = Field(None, description="kubernetes: apply with this kubeconfig context")
    namespace: Optional[text(63)] = Field(None, description="kubernetes: the namespace (default 'default')")
    image: Optional[text(MAX_NAME)] = Field(
        None,
        description="docker, kubernetes: deploy this image instead of packaging the model (it gets the model mounted)",
    )


class Mirror(Strict):
    """copy a share of requests to a deployment that has no live traffic; {} removes the mirror"""

    # both, or neither
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"anyOf": [{"maxProperties": 0}, {"required": ["deployment", "percent"]}]},
    )

    deployment: Label = Field(None, json_schema_extra=_absent_by_default)
    percent: Int = Field(None, ge=1, le=50, json_schema_extra=_absent_by_default)


class TrafficRequest(Strict):
    """traffic percentages per deployment (summing to 100) and/or a mirror ({} removes it)"""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"minProperties": 1})

    # absent, not null: a request names what it changes
    traffic: dict[Label, Annotated[Int, Percent]] = Field(None, json_schema_extra=_absent_by_default)
    mirror: Mirror = Field(None, json_schema_extra=_absent_by_default)


class RegenerateKeyRequest(Strict):
    """which key to replace: primary or secondary"""

    which: Literal["primary", "secondary"] = "primary"


class DeploymentInfo(BaseModel):
    name: str
    model: str
    version: int
    ref: str
    requested: str
    flavor: str
    state: str
    reason: str
    restarts: int
    last_crash: Optional[str] = Field(None, description="when the deployment last crashed (UTC)")
    instances: int
    entry_script: Optional[str]
    reload: bool
    environment: Optional[str] = Field(
        None, description="NAME:VERSION of the environment it runs in (none: the server's Python)"
    )
    log_tail: str
    updated_time: str
    signature: Optional[Signature]
    input_example: Any


class EndpointInfo(BaseModel):
    name: str
    url: str
    port: int
    auth: str
    traffic: dict[str, int]
    mirror: dict
    state: str
    deployments: list[DeploymentInfo]
    created_time: str
    created_by: str


class EndpointList(BaseModel):
    endpoints: list[EndpointInfo]


class Keys(BaseModel):
    auth: str
    primary: str
    secondary: str


class InvokeRequest(Strict):
    """a request to send to the endpoint, as a client would (the panel's "try it")"""

    body: JSONValue = Field(description='the JSON body, e.g. {"data": [[...]]} or the version\'s input example')
    path: Literal["/score", "/invocations"] = "/score"


class InvokeResult(BaseModel):
    endpoint: str
    status: int = Field(description="the endpoint's HTTP status")
    answer: Any = Field(description="its JSON answer (or text)")
    latency_ms: float = Field(description="from sending to the whole answer, measured by the Jupyter server")
    deployment: Optional[str] = Field(description="the deployment that answered")


class DeploymentMetrics(BaseModel):
    up: bool = Field(description="whether the deployment answered the endpoint's scrape")
    requests: int = Field(description="scoring requests answered since it started")
    errors: int = Field(description="of those, answered with a 4xx or 5xx status")
    latency_count: int = Field(description="requests timed (all of them)")
    latency_sum: float = Field(description="seconds, summed over those requests")
    latency_buckets: list[list[float]] = Field(
        description="[upper bound in seconds, requests at most that long], "
        "cumulative, finite bounds only (latency_count is all)"
    )


class EndpointMetrics(BaseModel):
    """counters since each deployment started; compare two reads for rates and recent percentiles"""

    endpoint: str
    time: str
    deployments: dict[str, DeploymentMetrics]


class ServingRecord(BaseModel):
    endpoint: str
    deployment: str
    ref: str
    started_time: str
    ended_time: Optional[str]


class Timeline(BaseModel):
    records: list[ServingRecord]


class ConvertRequest(Strict):
    """the conversion: to (onnx), sample rows, opset, dtype, tolerance, force"""

    to: Literal["onnx"] = "onnx"
    sample: JSONValue = Field(None, description="extra rows to check equivalence on: a list of rows or {columns, data}")
    opset: Optional[Int] = Field(
        None, ge=MIN_OPSET, le=MAX_OPSET, description="default: the newest opset the server's skl2onnx has tested"
    )
    dtype: Optional[Literal["float32", "float64"]] = Field(None, description="float32 by default")
    tolerance: Optional[float] = Field(None, ge=0)
    force: bool = Field(False, description="register even if not equivalent (tagged equivalence=failed)")


class Conversion(BaseModel):
    version: Version
    equivalence: dict
    speed: dict
    conversion: dict


class Progress(BaseModel):
    done: Optional[int] = None
    total: Optional[int] = Field(None, description="null while the amount of work is unknown")
    unit: str = ""
    message: str = ""
    updated_time: Optional[str] = Field(None, description="when the worker last reported (UTC, milliseconds)")


class OperationError(BaseModel):
    message: str
    reason: str = Field(
        description="invalid, not_found, conflict (as the synchronous routes), failed, cancelled "
        "or restarted; a refused conversion also carries its report"
    )
    report: Optional[dict] = None


class Operation(BaseModel):
    """Long work: a conversion, a deploy that builds an environment (later image builds, batch jobs)."""

    id: int
    kind: str = Field(description="convert, deploy, build or batch")
    subject: str = Field(description="the model version, endpoint or image it concerns")
    status: str = Field(description="queued -> running -> succeeded | failed | cancelled")
    active: bool = Field(description="true while queued or running")
    progress: Progress
    queue_position: Optional[int] = Field(description="place among queued operations of its kind (from 1)")
    created_time: str
    started_time: Optional[str]
    ended_time: Optional[str]
    created_by: str
    result: Optional[dict] = Field(description="convert: the Conversion; deploy: the EndpointInfo")
    link: Optional[dict] = Field(
        description='what the result is: {"type": "version", "ref": ...} or {"type": "endpoint", "name": ...}'
    )
    error: Optional[OperationError]


class OperationPage(BaseModel):
    operations: list[Operation]
    total: int
    page: int
    per_page: int


class EnvironmentRequest(Strict):
    """an environment: name, requirements (pip lines) and/or conda (a conda YAML's text), python, base_image"""

    # requirements and conda: the bounds packaging/environments.py checks again wherever requirements enter
    name: str = Field(max_length=128)
    requirements: Optional[str] = Field(
        None, max_length=1_000_000, description="a requirements file's text: NAME or NAME==VERSION lines"
    )
    conda: Optional[str] = Field(
        None, max_length=100_000, description="a conda environment file's text; its pip section is used"
    )
    python: Optional[str] = Field(None, max_length=16, description="the image's Python version, e.g. 3.11")
    base_image: Optional[str] = Field(None, max_length=256)


class EntryScriptPath(Strict):
    path: text(MAX_PATH) = Field(description="absolute path of an Azure-style score.py under the server's root")


class PackageRequest(Strict):
    """what to package: model, and optionally environment, requirements, conda, entry_script, tag, base_image, context"""

    model: str = Field(max_length=300, description="NAME, NAME:VERSION or NAME@ALIAS")
    environment: Optional[str] = Field(None, max_length=200, description="NAME or NAME:VERSION of an environment")
    requirements: Optional[str] = Field(
        None, max_length=1_000_000, description="a requirements file's text (an environment is made of it)"
    )
    conda: Optional[str] = Field(None, max_length=100_000)
    entry_script: Optional[str] = Field(
        None, max_length=4096, description="absolute path of an entry script under the server's root"
    )
    tag: Optional[str] = Field(None, max_length=256, description="image tag, default modelhub/NAME:VERSION")
    base_image: Optional[str] = Field(None, max_length=256)
    context: Optional[str] = Field(
        None,
        max_length=4096,
        description="write the build context into this folder (under the server's root) instead of building",
    )
    no_cache: bool = Field(False, description="rebuild every layer, reusing nothing from the engine's cache")


class Environment(BaseModel):
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


class EnvironmentList(BaseModel):
    environments: list[Environment]


class ImageRecord(BaseModel):
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


class ImageList(BaseModel):
    images: list[ImageRecord]


class ParityRequest(Strict):
    """target: an endpoint name, or an image's number or tag"""

    target: text(MAX_NAME)


class ParityProbe(BaseModel):
    target: str
    kind: str = Field(description="endpoint or image")
    ref: str
    flavor: str
    request: dict = Field(description="what was sent to /score: the version's input example")
    status: int
    answer: Any
    python: str
    packages: dict[str, str]
    entry_script: Optional[dict] = None
