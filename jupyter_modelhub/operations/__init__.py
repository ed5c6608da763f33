"""Long work as resources: conversions, deploys that build, image builds, batch jobs.

``OperationRunner`` (server side) queues and supervises; ``worker`` runs one operation in its
own process; ``kinds`` holds the work of each kind; ``store`` the rows both sides share.
"""

from .progress import Cancelled, Progress
from .runner import OperationRunner

__all__ = ["Cancelled", "OperationRunner", "Progress"]
