"""REST handlers of monitoring: a version's reference profile (``GET``/``PUT
models/{name}/versions/{version}/reference``). Thin: parse, call ``monitoring.service`` off the
loop, reply. Their paths are in ``routes``.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..monitoring.service import References
from ..refs import parse_url_version
from . import schemas
from .base import ModelHubHandler, route


class ReferenceHandler(ModelHubHandler):
    @property
    def references(self) -> References:
        return References(self.registry)

    @route
    async def get(self, name: str, version: str):
        """The version's reference profile (404 when it has none)."""
        await self.require(name, "read")
        profile = await self.run(self.references.reference, parse_url_version(name, version))
        self.reply(profile.model_dump(mode="json"))  # every field: defaults (a column's kind) are data here

    @route
    async def put(self, name: str, version: str):
        """Profile the rows sent (JSON, or an upload) and keep the profile with the version."""
        await self.require(name, "write", "set a version's reference profile")
        request = self.body(schemas.ReferenceRequest)
        ref = parse_url_version(name, version)
        if (request.inputs is None) == (request.upload_id is None):
            if request.upload_id is not None:
                await self.run(self.registry.use_up, request.upload_id, self.user_name)
            raise InvalidInput("Send the rows to profile either as 'inputs' ({columns, data}) or as an 'upload_id'.")
        if request.upload_id is not None:
            if request.predictions is not None:
                await self.run(self.registry.use_up, request.upload_id, self.user_name)
                raise InvalidInput("With an upload, the predictions go in the upload too (predictions.parquet).")
            profile = await self.run(
                self.references.set_reference_from_upload, ref, request.upload_id, request.source, self.user_name
            )
        else:
            profile = await self.run(
                self.references.set_reference,
                ref,
                request.inputs.model_dump(),
                request.predictions.model_dump() if request.predictions else None,
                request.source,
                self.user_name,
            )
        self.reply(profile.model_dump(mode="json"))
