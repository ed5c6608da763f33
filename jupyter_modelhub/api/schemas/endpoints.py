"""Online endpoints: the deploy, traffic, key and invoke bodies, and what the endpoints answer.

An endpoint with its deployments, its keys and the serving timeline are the models of
``deploy.views`` (the deployment manager builds them), re-exported here; what the server
measures by calling an endpoint (invoke, metrics) is built by ``api.endpoint_calls`` and
documented here.

Not here: batch endpoints (``batch``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ...deploy.views import (  # noqa: F401  (re-exported: the endpoints' response models)
    Collection,
    DeploymentInfo,
    EndpointInfo,
    EndpointList,
    Keys,
    ServingRecord,
    Timeline,
    TrafficHistory,
    TrafficPoint,
)
from .common import (
    MAX_FILE_TEXT,
    MAX_INT,
    MAX_NAME,
    MAX_PATH,
    Int,
    JSONValue,
    Label,
    Percent,
    Ref,
    Strict,
    text,
)


def _absent_by_default(schema: dict) -> None:
    """A field that may be left out but not sent as null: its schema has no null default."""
    schema.pop("default", None)


CollectWhat = Annotated[list[Literal["requests", "responses"]], Field(max_length=2)]
SampleRate = Annotated[float, Field(gt=0, le=1)]
Duration = Annotated[str, StringConstraints(pattern=r"^\s*[0-9]+(\.[0-9]+)?\s*[A-Za-z]{1,3}\s*$", max_length=32)]
Size = Union[Annotated[Int, Field(ge=1024**2, le=2**53)], text(32)]


class CollectRequest(Strict):
    """payload collection on a live endpoint: switch it on or off, or change its settings"""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"minProperties": 1})

    collect: CollectWhat = Field(
        None,
        description='what to record: ["requests", "responses"] switches collection on, [] off',
        json_schema_extra=_absent_by_default,
    )
    sample_rate: SampleRate = Field(None, json_schema_extra=_absent_by_default)
    collect_retention: Duration = Field(None, description="e.g. 7d, 12h, 90m", json_schema_extra=_absent_by_default)
    collect_max_bytes: Size = Field(None, description="e.g. 1GB, 500MiB", json_schema_extra=_absent_by_default)


class CollectedRecord(BaseModel):
    request_id: str
    time: str = Field(description="when the request arrived (UTC)")
    deployment: Optional[str] = Field(description="the deployment that answered (none: the endpoint answered itself)")
    model: Optional[str]
    version: Optional[int]
    status: int
    latency_ms: float
    path: str
    protocol: str = Field(description="http or grpc")
    request: Optional[str] = Field(description="the request body: text, or base64 when request_base64")
    response: Optional[str] = Field(description="the answer's body: text, or base64 when response_base64")
    request_base64: bool
    response_base64: bool
    request_truncated: bool = Field(description="the body was longer than the collection limit and was cut there")
    response_truncated: bool
    mirror: bool = Field(
        False, description="the mirror deployment's answer to a copy of the request of the same request_id"
    )


class Collected(BaseModel):
    """collected requests and answers, oldest first"""

    endpoint: str
    records: list[CollectedRecord]
    more: bool = Field(description="more records matched than limit: narrow since/until or raise limit")


class EntryScript(Strict):
    name: text(MAX_NAME) = "score.py"
    source: text(MAX_FILE_TEXT)


class DeployRequest(Strict):
    """the model to serve and how: model, deployment, entry_script, instances, traffic, auth, ..."""

    model: Optional[Ref] = Field(
        None,
        description="NAME, NAME:VERSION or NAME@ALIAS (an alias is resolved now and recorded); required unless "
        "multi gives models",
    )
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
    optimize: bool = Field(
        False,
        description="a scikit-learn version: serve its ONNX form (an existing conversion whose equivalence "
        "proof passed, or one made now, as an operation); the original serves, with the reason, when the "
        "proof fails. Refused for flavors other than sklearn and onnx, and with an entry script",
    )
    multi: bool = Field(
        False,
        description="serve many versions from one runtime: model and models, each NAME:VERSION, NAME@ALIAS or a "
        "bare NAME (all its versions now); each loads on its first request and the least recently used unload to "
        "stay within memory_budget; served at /v2/models/{name}[/versions/{v}]/infer and /v2/repository/...",
    )
    models: Optional[Annotated[list[Ref], Field(max_length=1000)]] = Field(
        None, description="with multi: the models or versions to serve"
    )
    memory_budget: Optional[text(32)] = Field(
        None, description="with multi: memory the loaded versions may take, e.g. 512M or 1G (default 1G)"
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
    collect: Optional[CollectWhat] = Field(
        None,
        description="payload collection: record these for every sampled request (the endpoint's setting; "
        "[] switches it off; absent leaves it as it is)",
    )
    sample_rate: Optional[SampleRate] = Field(None, description="payload collection: the share of requests recorded")
    collect_retention: Optional[Duration] = Field(
        None, description="payload collection: delete collected files older than this (default 7d)"
    )
    collect_max_bytes: Optional[Size] = Field(
        None, description="payload collection: delete the oldest collected files beyond this size (default 1GB)"
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


class InvokeRequest(Strict):
    """a request to send to the endpoint, as a client would (the panel's "try it")"""

    body: JSONValue = Field(description='the JSON body, e.g. {"data": [[...]]} or the version\'s input example')
    path: Literal["/score", "/invocations"] = "/score"
    deployment: Optional[Label] = Field(
        None, description="send it to this deployment (the azureml-model-deployment header), whatever its traffic"
    )


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
