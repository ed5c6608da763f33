"""REST handlers of monitoring: a version's reference profile (``GET``/``PUT
models/{name}/versions/{version}/reference``), an endpoint's monitor (``GET
endpoints/{name}/monitor``), labels for its requests (``POST endpoints/{name}/labels``) and a
replay of its requests to a candidate (``POST endpoints/{name}/replay``, an operation). Thin:
parse, check permissions, call ``monitoring`` off the loop, reply. Their paths are in ``routes``.
"""

from __future__ import annotations

import orjson

from ..deploy.manager import check_label
from ..errors import InvalidInput
from ..monitoring.endpoint import WINDOW, EndpointMonitor
from ..monitoring.replay import KIND as REPLAY
from ..monitoring.replay import check as check_replay
from ..monitoring.service import References
from ..refs import parse_url_version
from . import schemas
from .base import ModelHubHandler, route

MAX_THRESHOLDS = 4096  # characters of the thresholds parameter (JSON)


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


class EndpointMonitorHandlerBase(ModelHubHandler):
    @property
    def monitors(self) -> EndpointMonitor:
        return EndpointMonitor(self.settings["modelhub_deployments"], self.registry)


class EndpointMonitorHandler(EndpointMonitorHandlerBase):
    @route
    async def get(self, name: str):
        """Drift, data quality, performance (with labels) and the deployments compared, over a
        window of the endpoint's collected traffic."""
        check_label(name)
        await self.require_endpoint(name, "read")
        against = self.query_text("against", "", limit=200) or None
        if against is not None and not against.lower().startswith("window:"):
            await self.require_ref(against, "read")
        deployment = self.query_text("deployment", "", limit=64) or None
        if deployment is not None:
            check_label(deployment, "deployment")
        report = await self.run(
            self.monitors.monitor,
            name,
            window=self.query_text("window", WINDOW, limit=32),
            against=against,
            deployment=deployment,
            thresholds=self._thresholds(),
        )
        self.reply(report.model_dump(mode="json"))

    def _thresholds(self) -> dict | None:
        text = self.query_text("thresholds", "", limit=MAX_THRESHOLDS)
        if not text:
            return None
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            raise InvalidInput(
                'Query parameter \'thresholds\' is a JSON object, e.g. {"numeric_threshold": 0.1, "features": '
                '{"age": {"statistic": "ks", "threshold": 0.1}}}.'
            )
        return value


class LabelsHandler(EndpointMonitorHandlerBase):
    @route
    async def post(self, name: str):
        """Labels for the endpoint's requests, joined with them on request id by its monitors."""
        check_label(name)
        await self.require_endpoint(name, "write", "send labels for the endpoint's requests")
        request = self.body(schemas.LabelsRequest)
        self.reply(await self.run(self.monitors.add_labels, name, request.request_ids, request.labels, request.rows))


class ReplayHandler(EndpointMonitorHandlerBase):
    @route
    async def post(self, name: str):
        """Replay the endpoint's collected requests to a candidate: an operation (202)."""
        check_label(name)
        await self.require_endpoint(name, "write", "replay its requests (a deployment is added for it)")
        request = self.body(schemas.ReplayRequest)
        if request.to is not None:
            await self.require_ref(request.to, "write", "deploy it for a replay")
        deployments = self.settings["modelhub_deployments"]
        inputs = await self.run(
            check_replay,
            deployments,
            self.registry,
            name,
            request.to,
            request.deployment,
            request.window,
            request.limit,
        )
        operation = await self.run(
            self.settings["modelhub_operations"].submit, REPLAY, name, inputs, user=self.user_name
        )
        self.accepted(operation)
