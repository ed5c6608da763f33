"""Every route of the REST API, in one list: a path below ``<base_url>modelhub/api/`` and the
handler that answers it. The OpenAPI document (``openapi.py``) describes the same paths, and a
test checks that the two agree.

Not here: the handlers (one module per resource) and what they answer (``schemas``).
"""

from __future__ import annotations

from . import batch, cards, endpoints, monitoring, operations, packaging, promotions, registry, schedules, webhooks


def segment(name: str) -> str:
    """One path segment, passed to the handler as the keyword ``name``."""
    return rf"(?P<{name}>[^/]+)"


MODEL, VERSION, ENDPOINT, DEPLOYMENT = segment("name"), segment("version"), segment("name"), segment("deployment")
OPERATION, JOB, WEBHOOK = segment("operation_id"), segment("job_id"), segment("webhook_id")

ROUTES = [
    ("info", registry.InfoHandler),
    ("openapi.json", registry.OpenAPIHandler),
    ("events", registry.EventsHandler),
    ("uploads", registry.UploadsHandler),
    ("models", registry.ModelsHandler),
    ("versions", registry.VersionSearchHandler),
    (f"models/{MODEL}", registry.ModelHandler),
    (f"models/{MODEL}/versions", registry.VersionsHandler),
    (f"models/{MODEL}/versions/{VERSION}", registry.VersionHandler),
    (f"models/{MODEL}/versions/{VERSION}/files/(?P<path>.+)", registry.FileHandler),
    (f"models/{MODEL}/versions/{VERSION}/convert", registry.ConvertHandler),
    (f"models/{MODEL}/versions/{VERSION}/reference", monitoring.ReferenceHandler),
    (f"models/{MODEL}/versions/{VERSION}/card", cards.CardHandler),
    (f"models/{MODEL}/aliases/{segment('alias')}", registry.AliasHandler),
    (f"models/{MODEL}/aliases/{segment('alias')}/rollback", registry.AliasRollbackHandler),
    (f"models/{MODEL}/permissions", registry.PermissionsHandler),
    (f"models/{MODEL}/history", registry.ModelHistoryHandler),
    (f"models/{MODEL}/versions/{VERSION}/promotion", promotions.PromotionHandler),
    (f"models/{MODEL}/versions/{VERSION}/evidence", promotions.EvidenceHandler),
    ("endpoints", endpoints.EndpointsHandler),
    ("serving-timeline", endpoints.TimelineHandler),
    (f"endpoints/{ENDPOINT}", endpoints.EndpointHandler),
    (f"endpoints/{ENDPOINT}/deployments", endpoints.DeploymentsHandler),
    (f"endpoints/{ENDPOINT}/deployments/{DEPLOYMENT}", endpoints.DeploymentHandler),
    (f"endpoints/{ENDPOINT}/deployments/{DEPLOYMENT}/logs", endpoints.LogsHandler),
    (f"endpoints/{ENDPOINT}/traffic", endpoints.TrafficHandler),
    (f"endpoints/{ENDPOINT}/traffic/rollback", endpoints.TrafficRollbackHandler),
    (f"endpoints/{ENDPOINT}/history", endpoints.EndpointHistoryHandler),
    (f"endpoints/{ENDPOINT}/keys", endpoints.KeysHandler),
    (f"endpoints/{ENDPOINT}/collect", endpoints.CollectHandler),
    (f"endpoints/{ENDPOINT}/collected", endpoints.CollectedHandler),
    (f"endpoints/{ENDPOINT}/monitor", monitoring.EndpointMonitorHandler),
    (f"endpoints/{ENDPOINT}/labels", monitoring.LabelsHandler),
    (f"endpoints/{ENDPOINT}/replay", monitoring.ReplayHandler),
    (f"endpoints/{ENDPOINT}/invoke", endpoints.InvokeHandler),
    (f"endpoints/{ENDPOINT}/metrics", endpoints.MetricsHandler),
    (f"endpoints/{ENDPOINT}/metrics/history", endpoints.MetricsHistoryHandler),
    ("operations", operations.OperationsHandler),
    (f"operations/{OPERATION}", operations.OperationHandler),
    (f"operations/{OPERATION}/log", operations.OperationLogHandler),
    (f"operations/{OPERATION}/cancel", operations.CancelHandler),
    ("environments", packaging.EnvironmentsHandler),
    (f"environments/{segment('name')}", packaging.EnvironmentHandler),
    (f"environments/{segment('name')}/versions/{segment('version')}", packaging.EnvironmentHandler),
    ("images", packaging.ImagesHandler),
    ("images/(?P<image>.+)/push", packaging.ImagePushHandler),  # before images/{image}: tags hold '/'
    ("images/(?P<image>.+)", packaging.ImageHandler),
    ("parity", packaging.ParityHandler),
    ("jobs", batch.JobsHandler),
    (f"jobs/{JOB}", batch.JobHandler),
    (f"jobs/{JOB}/cancel", batch.JobCancelHandler),
    ("webhooks", webhooks.WebhooksHandler),
    (f"webhooks/{WEBHOOK}", webhooks.WebhookHandler),
    (f"webhooks/{WEBHOOK}/test", webhooks.WebhookTestHandler),
    (f"webhooks/{WEBHOOK}/deliveries", webhooks.WebhookDeliveriesHandler),
    ("batch-endpoints", batch.BatchEndpointsHandler),
    (f"batch-endpoints/{segment('name')}", batch.BatchEndpointHandler),
    (f"batch-endpoints/{segment('name')}/jobs", batch.BatchEndpointJobsHandler),
    ("schedules", schedules.SchedulesHandler),
    (f"schedules/{segment('key')}", schedules.ScheduleHandler),
]


def handlers() -> list[tuple[str, type]]:
    """The server extension's handler list: every route, then a JSON 404 for any other path."""
    return [(rf"/modelhub/api/{path}/?", handler) for path, handler in ROUTES] + [
        (r"/modelhub/api/(?P<path>.*)", registry.UnknownRouteHandler)
    ]
