"""REST handlers of endpoints and deployments: deploy, list, traffic, keys, logs, timeline.

A deploy (``deploy.service``) that needs no environment build waits for the new deployment to
be ready (about a second) on the extension's threads and answers with the endpoint; one that
must build an environment or an image first is an operation, answered 202 at once.
"""

from __future__ import annotations

from ..errors import InvalidInput
from . import endpoint_calls, schemas
from .base import ModelHubHandler, route


class EndpointHandlerBase(ModelHubHandler):
    @property
    def deployments(self):
        return self.settings["modelhub_deployments"]

    @property
    def deploys(self):
        return self.settings["modelhub_deploys"]


class EndpointsHandler(EndpointHandlerBase):
    @route
    async def get(self):
        self.reply(await self.run(self.deployments.endpoints))


class EndpointHandler(EndpointHandlerBase):
    @route
    async def get(self, name: str):
        self.reply(await self.run(self.deployments.endpoint, name))

    @route
    async def delete(self, name: str):
        self.reply(await self.run(self.deployments.delete_endpoint, name, user=self.user_name))


class DeploymentsHandler(EndpointHandlerBase):
    @route
    async def post(self, name: str):
        """Deploy: 201 with a new endpoint, 200 with an updated one, 202 with the operation that builds first."""
        request = self.body(schemas.DeployRequest)
        result = await self.run(self.deploys.submit, name, request.model_dump(), user=self.user_name)
        self.accepted(result.operation) if result.operation else self.reply(result.endpoint, status=result.status)


class DeploymentHandler(EndpointHandlerBase):
    @route
    async def delete(self, name: str, deployment: str):
        self.reply(
            await self.run(
                self.deployments.delete_deployment,
                name,
                deployment,
                user=self.user_name,
                force=self.query_bool("force"),
            )
        )


class TrafficHandler(EndpointHandlerBase):
    @route
    async def put(self, name: str):
        request = self.body(schemas.TrafficRequest)
        if request.traffic is None and request.mirror is None:
            raise InvalidInput("Give 'traffic' (e.g. {\"blue\": 90, \"green\": 10}) and/or 'mirror'.")
        mirror = None if request.mirror is None else request.mirror.model_dump(exclude_none=True)
        self.reply(await self.run(self.deployments.set_traffic, name, request.traffic, mirror, user=self.user_name))


class KeysHandler(EndpointHandlerBase):
    @route
    async def get(self, name: str):
        self.reply(await self.run(self.deployments.keys, name))

    @route
    async def post(self, name: str):
        request = self.body(schemas.RegenerateKeyRequest)
        self.reply(await self.run(self.deployments.regenerate_key, name, request.which))


class LogsHandler(EndpointHandlerBase):
    """The deployment's log: the last lines, or with follow=true a stream of new lines."""

    @route
    async def get(self, name: str, deployment: str):
        await self.reply_log(
            lambda lines: self.deployments.tail(name, deployment, lines),
            lambda: self.deployments.log_file(name, deployment),
        )


class InvokeHandler(EndpointHandlerBase):
    """A request to the endpoint made by the server for a browser (the panel's "try it")."""

    @route
    async def post(self, name: str):
        request = self.body(schemas.InvokeRequest)
        endpoint = await self.run(self.deployments.get_endpoint, name)
        keys = await self.run(self.deployments.get_keys, name)
        self.reply(await endpoint_calls.invoke(endpoint, keys, request.body, request.path, request.deployment))


class MetricsHandler(EndpointHandlerBase):
    """The endpoint's request counts and latency histogram per deployment, read from it now."""

    @route
    async def get(self, name: str):
        endpoint = await self.run(self.deployments.get_endpoint, name)
        keys = await self.run(self.deployments.get_keys, name)
        self.reply(await endpoint_calls.metrics(endpoint, keys))


class TimelineHandler(EndpointHandlerBase):
    @route
    async def get(self):
        self.reply(
            await self.run(
                self.deployments.timeline,
                self.get_query_argument("endpoint", None),
                self.get_query_argument("model", None),
            )
        )
