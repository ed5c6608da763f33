"""What the endpoints routes answer: an endpoint with its deployments, the list of them, its
keys and the serving timeline, as pydantic models.

The deployment manager builds these, the handlers serialise them (``as_dict``), and the OpenAPI
document is generated from them (``api.schemas`` re-exports them).

Not here: what the server measures by calling an endpoint (``api.endpoint_calls``: invoke and
metrics), the request bodies (``api.schemas.endpoints``).
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import Field, field_serializer, field_validator
from pydantic.json_schema import SkipJsonSchema

from ..registry.views import Signature
from ..views import View


class Optimization(View):
    """What ``optimize`` did for a deployment (``deploy.optimizing``)."""

    serves: str = Field(description="NAME:VERSION that answers: the ONNX form, or the original when it could not")
    optimized_from: Optional[str] = Field(
        description="the scikit-learn version the ONNX form serving was converted from"
    )
    proof: Optional[str] = Field(description="the version whose properties.equivalence is the equivalence proof")
    proof_url: Optional[str] = Field(description="that version's REST path, e.g. models/churn/versions/2")
    converted: bool = Field(description="whether this deploy made the conversion (else an existing one was used)")
    reason: str = Field(description="why the original serves (empty when the ONNX form serves)")
    speedup: Optional[float] = Field(description="single-row model call, original / ONNX, as the conversion measured")


class MultiModel(View):
    """what a multi-model deployment serves (deploy.multi)"""

    versions: list[str] = Field(description="NAME:VERSION of every version it may serve; each loads on first use")
    memory_budget: int = Field(description="bytes the loaded versions may take (per worker)")


class OnnxForm(View):
    """A proven ONNX form of the scikit-learn version a deployment serves, not in use."""

    version: str
    speedup: Optional[float] = Field(description="single-row model call, original / ONNX, as the conversion measured")
    proof_url: str


class DeploymentInfo(View):
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
    # Answered but not (yet) in the OpenAPI document, which must not change here: documenting
    # them is a change of the document (and of the panel's generated types) of its own.
    target: SkipJsonSchema[str]
    image: SkipJsonSchema[Optional[str]]
    container: SkipJsonSchema[Any] = Field(description="docker: the container serving it")
    # what serves, and with optimize why (deploy.optimizing)
    serves: str = Field(description="NAME:VERSION answering requests (with optimize, the ONNX form of the request)")
    optimized_from: Optional[str] = Field(
        None, description="with optimize: the scikit-learn version it was converted from"
    )
    optimization: Optional[Optimization] = Field(None, description="deployed with optimize: what serves and why")
    onnx_form: Optional[OnnxForm] = Field(
        None, description="a proven ONNX form of the scikit-learn version serving: deploy with optimize to serve it"
    )
    multi: Optional[MultiModel] = Field(
        None, description="deployed with multi: the versions it serves from one runtime, and their memory budget"
    )

    @field_validator("signature", mode="wrap")
    @classmethod
    def _as_stored(cls, value, handler):
        """The version's signature as stored (a request's, or one detected from its files), answered
        unchanged: documented as the request's Signature, not checked again against it."""
        return value

    @field_serializer("signature")
    def _stored(self, value):
        return value


class Collection(View):
    """An endpoint's payload collection (``deploy.collecting``): its settings, and what its host counted."""

    enabled: bool
    collect: list[str] = Field(description="what is recorded: requests, responses (empty: collection is off)")
    sample_rate: float = Field(description="the share of requests recorded, above 0 and at most 1")
    collect_retention: str = Field(description="collected files older than this are deleted, e.g. 7d")
    collect_max_bytes: int = Field(description="beyond this many bytes of collected files, the oldest are deleted")
    location: str = Field(description="the folder the host writes Parquet files to")
    stored_in: Optional[str] = Field(
        None,
        description="where committed files are moved from location, when the artifact store is a bucket "
        "(s3://BUCKET/PREFIX/.endpoints/NAME/collected/); none: they stay in location",
    )
    moved: int = Field(0, description="files moved to stored_in by this server since the endpoint was created")
    sampled: int = Field(description="records the host took since it started")
    written: int = Field(description="of those, written to a file (readable once the file is committed)")
    committed: int = Field(description="written to files that are complete and readable")
    dropped: int = Field(description="records dropped because the writer fell behind (the buffer was full)")
    failed: int = Field(description="records that could not be written (see last_error)")
    files: int = Field(description="collected files kept now (in location and stored_in)")
    bytes: int = Field(description="their size")
    last_error: str


class EndpointInfo(View):
    name: str
    url: str
    port: int
    grpc_url: Optional[str] = Field(
        None,
        description="host:port of the endpoint's Open Inference Protocol gRPC service (tritonclient.grpc, "
        "KServe's InferenceGRPCClient); none while its host is not running",
    )
    auth: str
    traffic: dict[str, int]
    mirror: dict
    state: str
    deployments: list[DeploymentInfo]
    collect: Optional[Collection] = Field(None, description="payload collection: settings and counts")
    created_time: str
    created_by: str


class EndpointList(View):
    endpoints: list[EndpointInfo]


class Keys(View):
    auth: str
    primary: str
    secondary: str


class ServingRecord(View):
    endpoint: str
    deployment: str
    ref: str
    started_time: str
    ended_time: Optional[str]


class Timeline(View):
    records: list[ServingRecord]


class TrafficPoint(View):
    """What a deployment answered in one step of a range (``deploy.series``)."""

    time: str = Field(description="the start of the step (UTC)")
    requests: int = Field(description="scoring requests answered in the step")
    errors: int = Field(description="of those, answered with a 4xx or 5xx status")
    p50_ms: Optional[float] = Field(description="median latency in the step, from the histogram (none: no requests)")
    p95_ms: Optional[float] = Field(description="95th percentile latency in the step (none: no requests)")
    p99_ms: Optional[float] = Field(description="99th percentile latency in the step (none: no requests)")


class TrafficHistory(View):
    """An endpoint's traffic over a range, per deployment, as the server recorded it."""

    endpoint: str
    range: str = Field(description="1h, 6h, 24h or 7d")
    step_s: int = Field(description="seconds per point (the range in at most 120 steps)")
    interval_s: float = Field(description="seconds between the server's reads of the endpoint's counters")
    deployments: dict[str, list[TrafficPoint]] = Field(
        description="per deployment, its points oldest first; a step the server did not watch (it was down) "
        "has no point"
    )
