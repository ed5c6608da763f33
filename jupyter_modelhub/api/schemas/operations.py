"""Operations: long work (a conversion, a deploy that builds, an image build, a batch job) as
a row with a status, progress and a result.

The answers are the models of ``operations.views`` (the operation store builds them); they are
re-exported here so every schema of operations is found in one module.

Not here: what a batch job adds to its operation (``batch``).
"""

from __future__ import annotations

from ...operations.views import (  # noqa: F401  (re-exported: the operations' response models)
    Operation,
    OperationError,
    OperationPage,
    Progress,
)
