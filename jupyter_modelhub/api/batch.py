"""REST handlers of batch scoring: jobs and batch endpoints.

``POST jobs`` checks the whole job in the request (a job that cannot work is a 400 with
nothing started) and answers 202 with the job, ``Location: jobs/{id}``; the job is an operation
(``operations/{id}`` has its log, cancel works from either route). Batch endpoints are saved
configurations: ``POST batch-endpoints`` adds a version, ``POST batch-endpoints/{name}/jobs``
runs the newest one.
"""

from __future__ import annotations

from . import schemas
from .base import ModelHubHandler, route


class BatchHandlerBase(ModelHubHandler):
    @property
    def batch(self):
        return self.settings["modelhub_batch"]

    async def require_batch_endpoint(self, name: str, action: str) -> None:
        """``write`` on the model a batch endpoint scores with."""
        endpoint = await self.run(self.batch.endpoints.get, name)
        await self.require_ref(endpoint.model, "write", action)


class JobsHandler(BatchHandlerBase):
    @route
    async def get(self):
        """Batch jobs, newest first; status filters (comma-separated); those scoring with models the
        user may not read are left out of the page."""
        page = await self.run(
            self.batch.list,
            status=self.get_query_argument("status", "") or None,
            page=self.query_int("page", 1, minimum=1),
            per_page=self.query_int("per_page", 50, minimum=1, maximum=500),
        )
        page.jobs = await self.only_readable(page.jobs, lambda job: job.model)
        self.reply(page)

    @route
    async def post(self):
        request = self.body(schemas.JobRequest).model_dump()
        if request.get("model"):
            await self.require_ref(request["model"], "write", "score a batch job with it")
        self.accepted(await self.run(self.batch.submit, request, user=self.user_name), "jobs")


class JobHandler(BatchHandlerBase):
    @route
    async def get(self, job_id: str):
        job = await self.run(self.batch.get, self.parse_id("job id", job_id))
        await self.require_ref(job.model, "read")
        self.reply(job)


class JobCancelHandler(BatchHandlerBase):
    @route
    async def post(self, job_id: str):
        """Stop the job, its kernel and its workers; 409 if it already ended."""
        job = await self.run(self.batch.get, self.parse_id("job id", job_id))
        await self.require_ref(job.model, "write", "cancel a batch job scoring with it")
        self.reply(await self.run(self.batch.cancel, self.parse_id("job id", job_id), user=self.user_name))


class BatchEndpointsHandler(BatchHandlerBase):
    @route
    async def get(self):
        listing = await self.run(self.batch.endpoints.list)
        listing.batch_endpoints = await self.only_readable(listing.batch_endpoints, lambda e: e.model)
        self.reply(listing)

    @route
    async def post(self):
        """Save a batch endpoint (a new version if the name exists), checked like a job would be."""
        request = self.body(schemas.BatchEndpointRequest).model_dump()
        await self.require_ref(request["model"], "write", "save a batch endpoint with it")
        self.reply(await self.run(self.batch.save_endpoint, request, user=self.user_name), status=201)


class BatchEndpointHandler(BatchHandlerBase):
    @route
    async def get(self, name: str):
        self.reply(await self.run(self.batch.endpoints.get, name))

    @route
    async def delete(self, name: str):
        await self.require_batch_endpoint(name, "delete the batch endpoint")
        self.reply(await self.run(self.batch.endpoints.delete, name))


class BatchEndpointJobsHandler(BatchHandlerBase):
    @route
    async def post(self, name: str):
        """Run the batch endpoint's newest version over these inputs (202, the job)."""
        await self.require_batch_endpoint(name, "run a job of the batch endpoint")
        request = self.body(schemas.EndpointJobRequest).model_dump()
        self.accepted(await self.run(self.batch.submit, {**request, "endpoint": name}, user=self.user_name), "jobs")
