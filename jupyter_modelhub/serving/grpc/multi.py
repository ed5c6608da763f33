"""The gRPC calls of a multi-model runtime (``--repository``): every version it serves, by the
request's ``name``/``version`` (no version: the latest), as ``serving/multi.py`` serves them over
REST and with the same parts, so the two transports cannot drift apart:

- ModelReady, ModelMetadata, ModelInfer: ``Repository.find`` picks the version (an unknown name
  or version is NOT_FOUND with REST's 404 message), ``Repository.load`` loads it on first use
  within the memory budget, unloading the least recently used, and marks it used;
  ``Runtime.call_model`` calls it; the version's metrics count the request, loads included.
- The model repository extension, as Triton's gRPC service has it (tritonclient.grpc's
  ``get_model_repository_index``, ``load_model``, ``unload_model``): RepositoryIndex,
  RepositoryModelLoad (the model's latest version), RepositoryModelUnload (every loaded version).
  ``repository_name`` and load ``parameters`` are ignored: the versions are fixed at deploy time.

ServerLive, ServerReady and ServerMetadata are the single-model service's. Until the runtime has
read its repository (each flavor's libraries imported), ModelReady answers not ready and the
other calls UNAVAILABLE, as the model loading does on a single-model runtime.

Not here: which versions are loaded and why (``serving/repository.py``), tensors
(``tensors.py``), keys and error codes (``service.py``).
"""

from __future__ import annotations

from time import monotonic

from .. import protocols
from ..repository import Repository
from . import inference_pb2 as pb
from . import tensors
from .service import InferenceService, metadata_message


class RepositoryService(InferenceService):
    """The protocol's calls, answered from the versions of one worker's repository."""

    def calls(self) -> dict:
        return {
            **super().calls(),
            "RepositoryIndex": (self.repository_index, pb.RepositoryIndexRequest, pb.RepositoryIndexResponse, False),
            "RepositoryModelLoad": (
                self.repository_load,
                pb.RepositoryModelLoadRequest,
                pb.RepositoryModelLoadResponse,
                False,
            ),
            "RepositoryModelUnload": (
                self.repository_unload,
                pb.RepositoryModelUnloadRequest,
                pb.RepositoryModelUnloadResponse,
                False,
            ),
        }

    def repository(self) -> Repository:
        self.runtime.require_ready()
        return self.runtime.repository

    # -- one version -----------------------------------------------------------------------------

    async def model_ready(self, request, context) -> pb.ModelReadyResponse:
        runtime = self.runtime
        if runtime.repository is None:  # its flavors' libraries still importing
            return pb.ModelReadyResponse(ready=False)
        entry = runtime.repository.find(request.name, request.version or None)
        return pb.ModelReadyResponse(ready=runtime.ready and entry.scorer is not None)

    async def model_metadata(self, request, context) -> pb.ModelMetadataResponse:
        repository = self.repository()
        return metadata_message(repository.metadata(repository.find(request.name, request.version or None)))

    async def model_infer(self, request: pb.ModelInferRequest, context) -> pb.ModelInferResponse:
        started = monotonic()
        repository = self.repository()
        entry = repository.find(request.model_name, request.model_version or None)
        failed = True
        try:
            scorer = await repository.load(entry)
            inputs = tensors.decode(request, scorer.signature)
            wanted = tensors.wanted_outputs(request)
            protocols.check_outputs(wanted, scorer.output_names)
            outputs = self.runtime.call_model(inputs, scorer)
            response = tensors.encode(outputs, entry.name, entry.version, request.id, wanted)
            failed = False
            return response
        finally:
            repository.metrics.answered(entry.index, monotonic() - started, failed)

    # -- the repository extension ----------------------------------------------------------------

    async def repository_index(self, request, context) -> pb.RepositoryIndexResponse:
        rows = self.repository().index(request.ready)
        return pb.RepositoryIndexResponse(models=[pb.RepositoryIndexResponse.ModelIndex(**row) for row in rows])

    async def repository_load(self, request, context) -> pb.RepositoryModelLoadResponse:
        repository = self.repository()
        await repository.load(repository.find(request.model_name, None))
        return pb.RepositoryModelLoadResponse()

    async def repository_unload(self, request, context) -> pb.RepositoryModelUnloadResponse:
        self.repository().unload_model(request.model_name)
        return pb.RepositoryModelUnloadResponse()
