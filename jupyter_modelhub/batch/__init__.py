"""Batch scoring: Azure-style batch endpoints and jobs, run as papermill notebooks on Dask.

- ``settings``: Azure's batch settings and the resolution of input files.
- ``jobs``: the service the REST API calls (check, start, describe); ``endpoints``: saved
  configurations.
- ``execution``: the job as its operation's worker runs it (plan, cluster, notebook);
  ``cluster`` and ``kernel``: the Dask cluster and the one kernel it starts, or ``standby``: the
  ones a worker started ahead of its job.
- ``job``: the scoring notebook's side (``scoring.ipynb`` calls it); ``minibatch`` and
  ``tables``: what runs on the Dask workers.
"""
