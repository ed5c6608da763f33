"""REST handlers of endpoints and deployments: deploy, list, traffic, keys, logs, timeline.

A deploy (``deploy.service``) that needs no environment build waits for the new deployment to
be ready (about a second) on the extension's threads and answers with the endpoint; one that
must build an environment or an image first is an operation, answered 202 at once.
"""

from __future__ import annotations

from ..deploy.manager import check_label
from ..deploy.series import check_range
from ..errors import InvalidInput
from . import endpoint_calls, schemas
from .base import ModelHubHandler, route

MAX_COLLECTED = 10_000  # records in one answer of GET endpoints/{name}/collected


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
        """Every endpoint the user may see: those serving only models the user may read."""
        listing = await self.run(self.deployments.endpoints)
        models = {d.model for e in listing.endpoints for d in e.deployments}
        readable = await self.run(self.permissions.readable_names, self.actor, models)
        listing.endpoints = [e for e in listing.endpoints if all(d.model in readable for d in e.deployments)]
        self.reply(listing)


class EndpointHandler(EndpointHandlerBase):
    @route
    async def get(self, name: str):
        await self.require_endpoint(name, "read")
        self.reply(await self.run(self.deployments.endpoint, name))

    @route
    async def delete(self, name: str):
        await self.require_endpoint(name, "write", "delete the endpoint")
        self.reply(await self.run(self.deployments.delete_endpoint, name, user=self.user_name))


class DeploymentsHandler(EndpointHandlerBase):
    @route
    async def post(self, name: str):
        """Deploy: 201 with a new endpoint, 200 with an updated one, 202 with the operation that builds first."""
        request = self.body(schemas.DeployRequest)
        if request.model is None and not request.models:
            raise InvalidInput(
                'multi needs the models to serve: \'models\', e.g. ["churn", "fraud:2"] (a NAME alone: all its '
                "versions)."
                if request.multi
                else "Give the model to deploy: 'model', NAME, NAME:VERSION or NAME@ALIAS."
            )
        for ref in [request.model] if request.model else []:
            await self.require_ref(ref, "write", "deploy it")
        for ref in request.models or []:  # with multi: each model it serves
            await self.require_ref(ref, "write", "deploy it")
        await self.require_endpoint(name, "write", "change what the endpoint serves")
        result = await self.run(self.deploys.submit, name, request.model_dump(), user=self.user_name)
        self.accepted(result.operation) if result.operation else self.reply(result.endpoint, status=result.status)


class DeploymentHandler(EndpointHandlerBase):
    @route
    async def delete(self, name: str, deployment: str):
        await self.require_endpoint(name, "write", "undeploy from the endpoint")
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
        await self.require_endpoint(name, "write", "change the endpoint's traffic")
        request = self.body(schemas.TrafficRequest)
        if request.traffic is None and request.mirror is None:
            raise InvalidInput("Give 'traffic' (e.g. {\"blue\": 90, \"green\": 10}) and/or 'mirror'.")
        mirror = None if request.mirror is None else request.mirror.model_dump(exclude_none=True)
        self.reply(await self.run(self.deployments.set_traffic, name, request.traffic, mirror, user=self.user_name))


class TrafficRollbackHandler(EndpointHandlerBase):
    @route
    async def post(self, name: str):
        """Return the traffic (and mirror) to what they were before their last change."""
        await self.require_endpoint(name, "write", "change the endpoint's traffic")
        self.reply(await self.run(self.deployments.rollback_traffic, name, user=self.user_name))


class EndpointHistoryHandler(EndpointHandlerBase):
    """Every change to the endpoint (deployments, traffic, keys), newest first; with ``at``, what
    served it then and the changes up to then."""

    @route
    async def get(self, name: str):
        check_label(name)
        await self.require_endpoint(name, "read")
        filters = self.history_filters()
        at = self.query_moment("at")
        if at is not None:
            filters["until"] = min(at, filters["until"]) if filters["until"] else at
        result = await self.run(self.registry.history, endpoint=name, **filters)
        if at is not None:
            result.state = await self.run(self.registry.endpoint_at, name, at)
        self.reply(result)


class CollectHandler(EndpointHandlerBase):
    """Payload collection on a live endpoint: on, off, or its settings changed (no restart)."""

    @route
    async def put(self, name: str):
        await self.require_endpoint(name, "write", "change what the endpoint collects")
        request = self.body(schemas.CollectRequest)
        change = request.model_dump(exclude_unset=True)
        self.reply(await self.run(self.deployments.set_collection, name, user=self.user_name, **change))


class CollectedHandler(EndpointHandlerBase):
    """The endpoint's collected requests and answers (bounded: the newest ``limit``)."""

    @route
    async def get(self, name: str):
        await self.require_endpoint(name, "read")
        since, until = self.get_query_argument("since", "1h"), self.get_query_argument("until", None)
        limit = self.query_int("limit", 100, minimum=1, maximum=MAX_COLLECTED)
        self.reply(await self.run(self.deployments.collection.records, name, since, until, limit))


class KeysHandler(EndpointHandlerBase):
    @route
    async def get(self, name: str):
        await self.require_endpoint(name, "write", "read the endpoint's keys")
        self.reply(await self.run(self.deployments.keys, name))

    @route
    async def post(self, name: str):
        await self.require_endpoint(name, "write", "change the endpoint's keys")
        request = self.body(schemas.RegenerateKeyRequest)
        self.reply(await self.run(self.deployments.regenerate_key, name, request.which))


class LogsHandler(EndpointHandlerBase):
    """The deployment's log: the last lines, or with follow=true a stream of new lines."""

    @route
    async def get(self, name: str, deployment: str):
        await self.require_endpoint(name, "read")
        await self.reply_log(
            lambda lines: self.deployments.tail(name, deployment, lines),
            lambda: self.deployments.log_file(name, deployment),
        )


class InvokeHandler(EndpointHandlerBase):
    """A request to the endpoint made by the server for a browser (the panel's "try it")."""

    @route
    async def post(self, name: str):
        await self.require_endpoint(name, "read", "score with the endpoint")
        request = self.body(schemas.InvokeRequest)
        endpoint = await self.run(self.deployments.get_endpoint, name)
        keys = await self.run(self.deployments.get_keys, name)
        self.reply(await endpoint_calls.invoke(endpoint, keys, request.body, request.path, request.deployment))


class MetricsHandler(EndpointHandlerBase):
    """The endpoint's request counts and latency histogram per deployment, read from it now."""

    @route
    async def get(self, name: str):
        await self.require_endpoint(name, "read")
        endpoint = await self.run(self.deployments.get_endpoint, name)
        keys = await self.run(self.deployments.get_keys, name)
        self.reply(await endpoint_calls.metrics(endpoint, keys))


class MetricsHistoryHandler(EndpointHandlerBase):
    """The endpoint's requests, errors and latency percentiles per deployment over a range, as the
    server recorded them (``deploy.series``): the page's charts, whenever it was opened."""

    @route
    async def get(self, name: str):
        check_label(name)
        range_ = self.get_query_argument("range", "1h")
        check_range(range_)  # a 400 before the permission check's 404 for a name no one may read
        await self.require_endpoint(name, "read")
        self.reply(await self.run(self.deployments.series.history, name, range_))


class TimelineHandler(EndpointHandlerBase):
    @route
    async def get(self):
        """What served where and when; records of models the user may not read are left out."""
        timeline = await self.run(
            self.deployments.timeline,
            self.get_query_argument("endpoint", None),
            self.get_query_argument("model", None),
        )
        timeline.records = await self.only_readable(timeline.records, lambda record: record.ref)
        self.reply(timeline)
