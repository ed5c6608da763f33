"""What long work tells its operation while it runs: steps done, the current message, and the
point after which it must finish even if cancelled.

Services take a ``Progress`` (``ModelConverter.convert``, ``DeploymentManager.deploy``) and call
``step`` as they go; outside an operation (tests, direct calls) they get ``Progress()``, which
does nothing. The worker process passes its own subclass that writes to the database and log.

A leaf module beside ``errors``: every service imports it, and it imports nothing of the
package, so no service depends on ``operations`` to report progress.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO


class Cancelled(BaseException):
    """Raised inside a worker when its operation is cancelled. A BaseException, so that the
    services' ``except Exception`` clauses let it through to the worker."""


class Progress:
    """No-op progress: the interface the services call."""

    log: IO[bytes] | None = None  # where subprocess output (uv, docker) goes, if anywhere

    def step(self, message: str, done: int | None = None, total: int | None = None, unit: str = "steps") -> None:
        """Report that the work is now doing ``message`` (``done`` of ``total`` units)."""

    @contextmanager
    def final(self) -> Iterator[None]:
        """Work inside this block completes even if a cancel arrives (e.g. registering the
        result): a cancel then waits for it, and the operation ends as succeeded."""
        yield
