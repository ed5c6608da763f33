"""The one kernel of a batch job: started by the job's worker, handed to papermill, stopped by pid.

The worker starts the kernel itself (rather than leaving it to papermill) so that the kernel
boots while papermill is still being imported, a standby worker can start it before its job
exists (with the notebook's imports already done), and the kernel is stopped at once when the
notebook is done instead of being asked to shut down and waited for.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

KERNEL = "python3"
WARM_UP = "import distributed, jupyter_modelhub.batch.job, jupyter_modelhub.batch.tables"  # the notebook's imports


def import_papermill():
    """papermill, imported without ``rfc3987_syntax``. papermill imports nbformat, which imports
    jsonschema, whose format checkers import ``rfc3987_syntax`` if it is installed (jupyter_events
    asks for it): it builds a Lark grammar for the "iri" format on import, three quarters of a
    second of a job's cold start on a core the Dask cluster and the kernel are starting on. The
    notebook schema nbformat checks has no "iri" format, and this worker process runs only its
    job, so the checker is left out (a ``None`` module is an ImportError, which jsonschema expects)."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)
    import papermill

    return papermill


def start_kernel(cwd: Path):
    """A started ``AsyncKernelManager`` (what papermill's client uses), not yet waited for."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    manager = AsyncKernelManager(kernel_name=KERNEL)
    run_sync(manager.start_kernel)(cwd=str(cwd))
    return manager


def warm_up(manager) -> None:
    """Wait until the kernel answers and run the notebook's imports in it, leaving no history."""
    from jupyter_core.utils import run_sync

    async def imports() -> None:
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            await client.execute_interactive(WARM_UP, silent=True, store_history=False, timeout=60)
        finally:
            client.stop_channels()

    run_sync(imports)()


def stop_kernel(folder: Path) -> None:
    """Stop the job's kernel if it still runs (its pid and connection file are in ``kernel.pid``)."""
    try:
        pid, _, connection = (folder / "kernel.pid").read_text().partition(" ")
        pid = int(pid)
    except (OSError, ValueError):
        return
    try:
        import psutil

        process = psutil.Process(pid)
        if not connection or connection not in process.cmdline():  # that kernel, not a pid reused since
            return
        for child in process.children(recursive=True):
            child.kill()
        if os.getpgid(pid) == pid:  # jupyter_client starts it leading a session: what it started ends too
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except Exception:  # already gone, or not ours to stop
        return
