"""The six calls of ``inference.GRPCInferenceService`` on a worker's ``Runtime``.

The runtime is the data plane both transports share (the model, its signature, the key, the
batcher, metrics of model calls); this module only translates. A ``ServingError`` becomes the
gRPC status of its HTTP status (400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 404 NOT_FOUND, 503
UNAVAILABLE...) with the same message ``/v2`` answers; anything else is INTERNAL with a pointer
to the log, never a traceback. Liveness and readiness answer without the key, as over HTTP.

An entry script receives the request as ``/v2`` JSON (as over HTTP, with binary inputs inlined)
and, over gRPC, answers in the protocol's response shape (``{"outputs": [{"name", "datatype",
"shape", "data"}]}``), which is turned into the response message.

Not here: tensors to arrays and back (``tensors.py``), the server's lifetime (``transport.py``).
"""

from __future__ import annotations

import hmac
import logging

import grpc
import numpy as np
import orjson

from .. import binary_tensors, protocols
from ..errors import ServingError, bad_request
from ..scoring import rows
from ..signature import V2_DATATYPES
from . import SERVICE, tensors
from . import inference_pb2 as pb

log = logging.getLogger("jupyter_modelhub.serving")

STATUS_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    404: grpc.StatusCode.NOT_FOUND,
    405: grpc.StatusCode.UNIMPLEMENTED,
    408: grpc.StatusCode.DEADLINE_EXCEEDED,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    500: grpc.StatusCode.INTERNAL,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
    507: grpc.StatusCode.RESOURCE_EXHAUSTED,  # a version larger than a multi-model runtime's memory budget
}
UNAUTHENTICATED = "This endpoint needs the metadata 'authorization: Bearer KEY' with its key."


def status_code(status: int) -> grpc.StatusCode:
    return STATUS_CODES.get(status, grpc.StatusCode.INTERNAL if status >= 500 else grpc.StatusCode.INVALID_ARGUMENT)


class InferenceService:
    """The protocol's calls, answered from one worker's ``Runtime``."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.auth = f"Bearer {runtime.options.auth_key}" if runtime.options.auth_key else None

    def calls(self) -> dict:
        """Each method on the wire: (its answer, request type, response type, whether it needs no key)."""
        return {
            "ServerLive": (self.server_live, pb.ServerLiveRequest, pb.ServerLiveResponse, True),
            "ServerReady": (self.server_ready, pb.ServerReadyRequest, pb.ServerReadyResponse, True),
            "ModelReady": (self.model_ready, pb.ModelReadyRequest, pb.ModelReadyResponse, True),
            "ServerMetadata": (self.metadata, pb.ServerMetadataRequest, pb.ServerMetadataResponse, False),
            "ModelMetadata": (self.model_metadata, pb.ModelMetadataRequest, pb.ModelMetadataResponse, False),
            "ModelInfer": (self.model_infer, pb.ModelInferRequest, pb.ModelInferResponse, False),
        }

    def handler(self) -> grpc.GenericRpcHandler:
        def method(call, request_type, response_type, public: bool):
            async def serve(request, context):
                try:
                    if not public:
                        self.check_key(context)
                    return await call(request, context)
                except ServingError as error:
                    await context.abort(status_code(error.status), error.message)
                except Exception:
                    log.exception("unexpected error answering gRPC %s", call.__name__)
                    await context.abort(grpc.StatusCode.INTERNAL, "Internal server error; see the server's log.")

            return grpc.unary_unary_rpc_method_handler(
                serve,
                request_deserializer=request_type.FromString,
                response_serializer=response_type.SerializeToString,
            )

        return grpc.method_handlers_generic_handler(
            SERVICE, {name: method(*spec) for name, spec in self.calls().items()}
        )

    def check_key(self, context) -> None:
        if self.auth is None:
            return
        for key, value in context.invocation_metadata() or ():
            if key == "authorization":
                if hmac.compare_digest(value.encode(), self.auth.encode()):
                    return
                break
        raise ServingError(401, UNAUTHENTICATED)

    # -- health and metadata ---------------------------------------------------------------------

    async def server_live(self, request, context) -> pb.ServerLiveResponse:
        return pb.ServerLiveResponse(live=True)

    async def server_ready(self, request, context) -> pb.ServerReadyResponse:
        return pb.ServerReadyResponse(ready=self.runtime.ready)

    async def model_ready(self, request, context) -> pb.ModelReadyResponse:
        self.runtime.check_model(request.name, request.version or None)
        return pb.ModelReadyResponse(ready=self.runtime.ready)

    async def metadata(self, request, context) -> pb.ServerMetadataResponse:
        # read each time: a multi-model runtime adds its extension once its repository is read
        info = orjson.loads(self.runtime.server_metadata)
        return pb.ServerMetadataResponse(name=info["name"], version=info["version"], extensions=info["extensions"])

    async def model_metadata(self, request, context) -> pb.ModelMetadataResponse:
        runtime = self.runtime
        runtime.check_model(request.name, request.version or None)
        runtime.require_ready()
        return metadata_message(runtime.model_metadata())

    # -- inference -------------------------------------------------------------------------------

    async def model_infer(self, request: pb.ModelInferRequest, context) -> pb.ModelInferResponse:
        runtime = self.runtime
        runtime.require_ready()
        runtime.check_model(request.model_name, request.model_version or None)
        if runtime.script is not None:
            return await self.run_script(request)
        inputs = tensors.decode(request, runtime.signature)
        wanted = tensors.wanted_outputs(request)
        protocols.check_outputs(wanted, runtime.scorer.output_names)
        outputs = await self.score(inputs)
        return tensors.encode(outputs, request.model_name, runtime.version, request.id, wanted)

    async def score(self, inputs: dict) -> dict:
        """The model's outputs: now, or with the batch being formed (as over HTTP)."""
        runtime = self.runtime
        batcher = runtime.batcher
        if batcher is None or batcher.alone_now():
            return runtime.call_model(inputs)
        future = runtime.loop.create_future()

        def answer(outputs, batch: int, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(runtime.model_failure(error))
            else:
                future.set_result(outputs)

        batcher.submit(inputs, rows(inputs), answer, lambda: not future.done())
        return await future

    async def run_script(self, request: pb.ModelInferRequest) -> pb.ModelInferResponse:
        """An entry script's run() with the request as ``/v2`` JSON; its answer in the protocol's shape."""
        body = protocols.dumps(script_request(request))
        result = orjson.loads(await self.runtime.run_script(body))
        return script_response(result, request.model_name, self.runtime.version, request.id)


def metadata_message(metadata: dict) -> pb.ModelMetadataResponse:
    def tensors_of(specs):
        return [pb.ModelMetadataResponse.TensorMetadata(**spec) for spec in specs]

    return pb.ModelMetadataResponse(
        name=metadata["name"],
        versions=metadata.get("versions", []),
        platform=metadata.get("platform", ""),
        inputs=tensors_of(metadata.get("inputs", [])),
        outputs=tensors_of(metadata.get("outputs", [])),
    )


def script_request(request: pb.ModelInferRequest) -> dict:
    """A request as the ``/v2`` JSON an entry script reads (``run(raw_data)`` gets text)."""
    raws = request.raw_input_contents
    inputs = []
    for position, tensor in enumerate(request.inputs):
        name, datatype, shape = tensor.name, tensor.datatype, list(tensor.shape)
        if datatype not in V2_DATATYPES:
            raise bad_request(
                f"Input {name!r} has unknown datatype {datatype!r}; expected one of {list(V2_DATATYPES)}."
            )
        if raws:
            if position >= len(raws):
                raise bad_request("Send one raw_input_contents entry per input, in the order of the inputs.")
            values = binary_tensors.decode(name, datatype, shape, memoryview(raws[position])).tolist()
            if any(isinstance(value, bytes) for value in values):
                raise bad_request(
                    f"Input {name!r}: a BYTES element is not UTF-8 text; the entry script receives the "
                    "request as JSON, where BYTES elements are strings."
                )
        else:
            values = tensors._typed(tensor)
        inputs.append({"name": name, "datatype": datatype, "shape": shape, "data": values})
    doc = {"inputs": inputs}
    if request.id:
        doc["id"] = request.id
    if request.outputs:
        doc["outputs"] = [{"name": output.name} for output in request.outputs]
    return doc


def script_response(result, model_name: str, version: str | None, request_id: str) -> pb.ModelInferResponse:
    """run()'s answer, which over gRPC is the protocol's response: ``{"outputs": [{"name",
    "datatype", "shape", "data"}, ...]}`` (with binary data, as ``/v2`` lays it out, refused)."""
    shape_hint = (
        'over gRPC, run() returns an inference response {"outputs": [{"name", "datatype", "shape", '
        '"data"}, ...]}; over HTTP (POST /score) it may return any JSON'
    )
    if not isinstance(result, dict) or not isinstance(result.get("outputs"), list):
        kind = type(result).__name__ if not isinstance(result, dict) else f"an object with keys {sorted(result)[:5]}"
        raise ServingError(500, f"run() returned {kind}: {shape_hint}.", "ResponseShape")
    outputs = {}
    for item in result["outputs"]:
        try:
            datatype = item["datatype"]
            array = np.asarray(item["data"], dtype=V2_DATATYPES[datatype]).reshape(item["shape"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ServingError(
                500, f"run() returned an output that is not a tensor ({exc}): {shape_hint}.", "ResponseShape"
            ) from None
        outputs[item["name"]] = array
    return tensors.encode(outputs, model_name, version, request_id, None)
