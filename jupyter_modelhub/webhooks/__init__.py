"""Webhooks: the history's entries (``registry.history``) sent as signed JSON to the URLs users
register, by a worker in the server that reads the history as an outbox.

- ``service``: create, list, delete, test a webhook and read its delivery log (who may: below);
- ``dispatcher``: the worker that turns new entries into deliveries and sends them, with retries;
- ``secrets``: how a webhook's secret is kept (encrypted) and how a payload is signed.

Who may: any user may create a webhook; it belongs to them, and it is sent only the entries of
models its owner may read when the entry is delivered (so a webhook never tells its owner more
than ``%history`` would). A webhook may be limited to one model (``--model``), for which its
owner needs ``read``. Owners see, test and delete their own webhooks; admins all of them.

Not here: what the entries are (each service records its own), the REST handlers (``api.webhooks``).
"""

# The actions a webhook may ask for: the history's own (``registry.history``), ``job.finished``
# (batch jobs, when they end) and ``monitor.alert`` (monitors whose thresholds are crossed).
EVENTS = (
    "version.registered",
    "version.updated",
    "version.deleted",
    "model.deleted",
    "alias.moved",
    "alias.deleted",
    "permission.changed",
    "deployment.changed",
    "deployment.deleted",
    "traffic.changed",
    "keys.regenerated",
    "endpoint.deleted",
    "job.finished",
    "monitor.alert",
)
