"""Long work as resources: conversions, deploys that build, image builds, batch jobs.

``OperationRunner`` (server side) queues and supervises; ``worker`` runs one operation in its
own process; ``kinds`` is the shape of an operation kind that each service package declares
(the composition root, ``jupyter_modelhub.services``, collects them); ``store`` the rows both
sides share. What long work reports while it runs is ``jupyter_modelhub.progress``.
"""

from .runner import OperationRunner

__all__ = ["OperationRunner"]
