"""IPython magics, one module per resource, all clients of the REST API.

``%load_ext jupyter_modelhub`` registers them; ``%config ModelHubMagics.url = ...`` (the base
class in ``base``) configures every one.
"""

from .base import ModelHubMagics
from .batch import BatchMagics
from .collection import CollectionMagics
from .convert import ConvertMagics
from .endpoints import EndpointMagics
from .governance import GovernanceMagics
from .monitoring import MonitoringMagics
from .operations import OperationMagics
from .packaging import PackagingMagics
from .registry import RegistryMagics
from .schedules import ScheduleMagics
from .webhooks import WebhookMagics

# The base has no magics of its own; registered too, so that `%config ModelHubMagics` lists its options.
MAGICS = (
    ModelHubMagics,
    RegistryMagics,
    ConvertMagics,
    EndpointMagics,
    PackagingMagics,
    OperationMagics,
    BatchMagics,
    GovernanceMagics,
    CollectionMagics,
    MonitoringMagics,
    WebhookMagics,
    ScheduleMagics,
)

__all__ = ["ModelHubMagics", "load_ipython_extension"]


def load_ipython_extension(ipython) -> None:
    for cls in MAGICS:
        ipython.register_magics(cls(shell=ipython, parent=ipython))
