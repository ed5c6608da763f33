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

    @field_validator("signature", mode="wrap")
    @classmethod
    def _as_stored(cls, value, handler):
        """The version's signature as stored (a request's, or one detected from its files), answered
        unchanged: documented as the request's Signature, not checked again against it."""
        return value

    @field_serializer("signature")
    def _stored(self, value):
        return value


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
