"""Result objects with rich HTML reprs for the notebook and plain-text reprs everywhere else.

Each wraps the JSON the REST API returned and behaves like it (``v["version"]``, ``v.version``),
so ``v = %register ...`` gives the user data, not just a printout. One module per resource.
"""

from .base import Result
from .batch import BatchEndpointInfo, BatchEndpointList, Job, JobList
from .conversion import Conversion
from .endpoints import EndpointInfo, EndpointList
from .governance import Evaluation, History, Permissions, Promotion
from .kubernetes import KubernetesManifests
from .monitoring import EndpointMonitorResult, LabelsStored, MonitorResult, ReferenceInfo, ReplayResult
from .operations import Operation, OperationList
from .packaging import BuildContext, EnvironmentInfo, EnvironmentList, ImageInfo, ImageList, Parity
from .registry import Deleted, Downloaded, ModelInfo, ModelList, VersionInfo, VersionList
from .schedules import Schedule, ScheduleList
from .webhooks import DeliveryList, ModelCard, WebhookInfo, WebhookList

__all__ = [
    "BatchEndpointInfo",
    "BatchEndpointList",
    "Job",
    "JobList",
    "Parity",
    "KubernetesManifests",
    "BuildContext",
    "EnvironmentInfo",
    "EnvironmentList",
    "ImageInfo",
    "ImageList",
    "Conversion",
    "Deleted",
    "Downloaded",
    "EndpointInfo",
    "EndpointList",
    "Evaluation",
    "History",
    "ModelInfo",
    "ModelList",
    "MonitorResult",
    "EndpointMonitorResult",
    "LabelsStored",
    "ReplayResult",
    "ReferenceInfo",
    "Operation",
    "OperationList",
    "Permissions",
    "Promotion",
    "Result",
    "Schedule",
    "ScheduleList",
    "VersionInfo",
    "VersionList",
    "WebhookInfo",
    "WebhookList",
    "DeliveryList",
    "ModelCard",
]
