"""Packaging: environments (locked with uv), wheelhouses fetched on the host, build contexts,
serving images built on a Docker engine with a report of what was reused and why; and the
virtual environments of process deployments (``venvs``)."""
