"""Result objects with rich HTML reprs for the notebook and plain-text reprs everywhere else.

Each wraps the JSON the REST API returned and behaves like it (``v["version"]``, ``v.version``),
so ``v = %register ...`` gives the user data, not just a printout. One module per resource.
"""

from .base import Result
from .batch import BatchEndpointInfo, BatchEndpointList, Job, JobList
from .conversion import Conversion
from .endpoints import EndpointInfo, EndpointList
from .governance import History, Permissions
from .kubernetes import KubernetesManifests
from .monitoring import MonitorResult, ReferenceInfo
from .operations import Operation, OperationList
from .packaging import BuildContext, EnvironmentInfo, EnvironmentList, ImageInfo, ImageList, Parity
from .registry import Deleted, Downloaded, ModelInfo, ModelList, VersionInfo, VersionList
from .schedules import Schedule, ScheduleList

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
    "History",
    "ModelInfo",
    "ModelList",
    "MonitorResult",
    "ReferenceInfo",
    "Operation",
    "OperationList",
    "Permissions",
    "Result",
    "Schedule",
    "ScheduleList",
    "VersionInfo",
    "VersionList",
]
