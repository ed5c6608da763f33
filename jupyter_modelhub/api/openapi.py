"""The OpenAPI 3 document of the REST API, served at ``modelhub/api/openapi.json``.

Written as data next to the handlers rather than generated from them: the handlers stay plain
Tornado, and a test checks that every route and method here exists there and the reverse.
Bodies and responses come from the pydantic models in ``schemas``; parameters carry the same
patterns and bounds the handlers enforce, every operation lists the statuses it can answer
(including 401/403 from authentication and 503 while the database or the extension is down),
and links tie responses to the operations that take their ids (for clients, and for stateful
testing with schemathesis).
"""

from __future__ import annotations

from jupyter_server.utils import url_path_join

from .. import __version__
from ..flavors import FLAVORS
from . import schemas

# the tag filter grammar of registry/tagfilter.py: NAME, NAME=VALUE, NAME!=VALUE, VALUE bare or "quoted"
_SPACE = r"[ \t\n\r\f\v]"
_TERM = r'[A-Za-z0-9_.-]+((!?=)([^ \t\n\r\f\v"=\u0000][^ \t\n\r\f\v"\u0000]*|"[^"\u0000]*"))?'
_FILTER_PATTERN = rf"^{_SPACE}*({_TERM}({_SPACE}+{_TERM})*)?{_SPACE}*$"
_PAGING = [
    {
        "name": "page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_INT, "default": 1},
    },
    {
        "name": "per_page",
        "in": "query",
        "description": "at most c.ModelRegistry.max_per_page (500 by default)",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
    },
    {
        "name": "archived",
        "in": "query",
        "description": "include archived versions",
        "schema": {"type": "boolean", "default": False},
    },
]
_SEARCH = [
    {
        "name": "q",
        "in": "query",
        "description": "substring of the model name",
        "schema": {"type": "string", "maxLength": 256, "pattern": schemas.NO_NUL},
    },
    {
        "name": "filter",
        "in": "query",
        "schema": {"type": "string", "maxLength": 4096, "pattern": _FILTER_PATTERN},
        "description": "tag filter: up to 50 terms separated by spaces, each NAME=VALUE, NAME!=VALUE or NAME (has tag); "
        "all must hold",
    },
    {"name": "flavor", "in": "query", "schema": {"type": "string", "enum": list(FLAVORS)}},
]
_NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "description": "model name",
    "schema": {"type": "string", "pattern": schemas.NAME_PATTERN},
}
_VERSION = {
    "name": "version",
    "in": "path",
    "required": True,
    "description": "a version number, 'latest', or '@ALIAS'",
    "schema": {
        "type": "string",
        "pattern": f"^({schemas.VERSION_PATTERN}|latest|@{schemas.ALIAS_PATTERN.strip('^$')})$",
    },
}
_ALIAS = {
    "name": "alias",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": schemas.ALIAS_PATTERN},
}
_PATH = {
    "name": "path",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": schemas.NO_NUL},
    "description": "a file's path inside the version, as listed in its manifest",
}


def _ref(model) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model) -> dict:
    return {"content": {"application/json": {"schema": _ref(model)}}}


def _query(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "description": description, "schema": schema}


# a time of the history's filters: ISO 8601, or an age before now (timestamps.moment)
_MOMENT = {
    "anyOf": [
        {"type": "string", "format": "date-time", "maxLength": 64},
        {"type": "string", "pattern": "^[0-9]{1,6}[smhdw]$"},
    ]
}


_HISTORY_FILTERS = [
    _query(
        "action",
        "only these actions, comma-separated (e.g. alias.moved,traffic.changed)",
        {"type": "string", "maxLength": 512},
    ),
    _query("user", "only this user's changes", {"type": "string", "maxLength": 128}),
    _query("since", "from this time on: 2026-12-01T14:00:00Z (UTC unless a zone is given) or an age (1h, 7d)", _MOMENT),
    _query("until", "up to this time, as since", _MOMENT),
    _query("limit", "at most this many entries (newest first)", {"type": "integer", "minimum": 1, "maximum": 1000}),
]


def _op(summary: str, response=None, status: str = "200", params=(), body=None, errors=("400", "404")) -> dict:
    op: dict = {"summary": summary, "parameters": list(params), "responses": {}}
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
    op["responses"][status] = {"description": "success", **(_json(response) if response else {})}
    for code in errors:
        op["responses"][code] = {
            "description": {"400": "invalid input", "404": "not found", "409": "conflict"}[code],
            **_json(schemas.Error),
        }
    return op


PATHS = {
    "/info": {"get": _op("Server version, database and artifact root", schemas.Info, errors=())},
    "/openapi.json": {"get": _op("This document", errors=())},
    "/events": {
        "get": _op(
            "Changes after event AFTER; without it, only the current position (last_id)",
            schemas.Events,
            params=[
                {
                    "name": "after",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "maximum": schemas.MAX_INT},
                }
            ],
            errors=("400",),
        )
    },
    "/uploads": {
        "post": {
            "summary": "Upload a version's files as one tar stream (streamed to disk); register it next",
            "requestBody": {
                "required": True,
                "content": {"application/x-tar": {"schema": {"type": "string", "format": "binary"}}},
            },
            "responses": {
                "201": {"description": "received", **_json(schemas.Upload)},
                "400": {
                    "description": "not a tar archive, a link, a path escaping the folder or too long for "
                    "a file system, a file that is also a folder, empty",
                    **_json(schemas.Error),
                },
                "413": {
                    "description": "more bytes (sent or unpacked) or files than the server accepts",
                    **_json(schemas.Error),
                },
            },
        }
    },
    "/models": {
        "get": _op("Search models (newest first, paged)", schemas.ModelPage, params=_SEARCH + _PAGING, errors=("400",))
    },
    "/versions": {
        "get": _op(
            "Search versions of all models (newest first, paged)",
            schemas.VersionPage,
            params=_SEARCH + _PAGING,
            errors=("400",),
        )
    },
    "/models/{name}": {
        "get": _op("A model with its versions and aliases", schemas.ModelDetail, params=[_NAME] + _PAGING[2:]),
        "delete": _op(
            "Delete a model and all its versions, if nothing refers to them",
            schemas.Deleted,
            params=[_NAME],
            errors=("400", "404", "409"),
        ),
    },
    "/models/{name}/versions": {
        "get": _op(
            "Versions of a model (newest first, paged)", schemas.VersionPage, params=[_NAME] + _SEARCH[1:] + _PAGING
        ),
        "post": _op(
            "Register an upload as a new version (200 with existing=true if identical to one)",
            schemas.Version,
            status="201",
            params=[_NAME],
            body=schemas.RegisterRequest,
        ),
    },
    "/models/{name}/versions/{version}": {
        "get": _op("One version", schemas.Version, params=[_NAME, _VERSION]),
        "patch": _op(
            "Change description, tags, properties (add-only) or archived",
            schemas.Version,
            params=[_NAME, _VERSION],
            body=schemas.UpdateVersionRequest,
            errors=("400", "404", "409"),
        ),
        "delete": _op(
            "Delete a version and its files, if nothing refers to it",
            schemas.Deleted,
            params=[_NAME, _VERSION],
            errors=("400", "404", "409"),
        ),
    },
    "/models/{name}/versions/{version}/files/{path}": {
        "get": {
            "summary": "Download one file; X-Modelhub-Sha256 carries its manifest checksum",
            "parameters": [_NAME, _VERSION, _PATH],
            "responses": {
                "200": {
                    "description": "the file",
                    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                },
                "400": {"description": "invalid name, version or path", **_json(schemas.Error)},
                "404": {"description": "not found", **_json(schemas.Error)},
                "500": {
                    "description": "the stored file no longer matches its manifest (reason 'damaged'); "
                    "it is not served",
                    **_json(schemas.Error),
                },
            },
        }
    },
    "/models/{name}/aliases/{alias}": {
        "put": _op(
            "Point an alias at a version (create or move)",
            schemas.Version,
            params=[_NAME, _ALIAS],
            body=schemas.AliasRequest,
        ),
        "delete": {
            "summary": "Remove an alias",
            "parameters": [_NAME, _ALIAS],
            "responses": {
                "204": {"description": "removed"},
                "400": {"description": "invalid input", **_json(schemas.Error)},
                "404": {"description": "not found", **_json(schemas.Error)},
            },
        },
    },
}

PATHS["/models/{name}/history"] = {
    "get": _op(
        "Every change to the model, its versions, aliases, permissions and deployments, newest first",
        schemas.History,
        params=[_NAME, *_HISTORY_FILTERS],
    )
}
PATHS["/models/{name}/aliases/{alias}/rollback"] = {
    "post": _op(
        "Point the alias back at the version it pointed at before its last move (409 if none)",
        schemas.Version,
        params=[_NAME, _ALIAS],
        errors=("400", "404", "409"),
    )
}
PATHS["/models/{name}/versions/{version}/promotion"] = {
    "get": _op(
        "The version's promotion checks for every alias under promotion rules, and its evidence",
        schemas.Promotion,
        params=[_NAME, _VERSION],
    )
}
PATHS["/models/{name}/versions/{version}/evidence"] = {
    "post": _op(
        "Record an evaluation, a parity report or an approval of the version (an approval: not by its registrant)",
        schemas.Promotion,
        status="201",
        params=[_NAME, _VERSION],
        body=schemas.EvidenceRequest,
    )
}
PATHS["/models/{name}/permissions"] = {
    "get": _op(
        "Who may do what to the model: creator, grants, admins, default, and your own",
        schemas.Permissions,
        params=[_NAME],
    ),
    "put": _op(
        "Grant a permission on the model to a user, a group or everyone (needs manage); 'none' revokes",
        schemas.Permissions,
        params=[_NAME],
        body=schemas.PermissionRequest,
    ),
}
PATHS["/models/{name}/versions"]["post"]["responses"]["200"] = {
    "description": "an identical version exists: it is returned, with existing=true",
    **_json(schemas.Version),
}
PATHS["/models/{name}/versions"]["post"]["responses"]["413"] = {
    "description": "the upload unpacks to more than the server accepts",
    **_json(schemas.Error),
}
_ACCEPTED = {
    "description": "started: the operation, also at the URL in the Location header",
    **_json(schemas.Operation),
}
PATHS["/models/{name}/versions/{version}/convert"] = {
    "post": _op(
        "Start converting a scikit-learn version to ONNX, as an operation: checked for equivalence, timed, "
        "registered as a new version derived from it (the operation fails with a report when not equivalent)",
        schemas.Operation,
        status="202",
        params=[_NAME, _VERSION],
        body=schemas.ConvertRequest,
    )
}

_LOG_PARAMETERS = [
    {"name": "tail", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 100_000, "default": 100}},
    {"name": "follow", "in": "query", "schema": {"type": "boolean", "default": False}},
    {
        "name": "timeout",
        "in": "query",
        "description": "with follow: seconds to stream at most",
        "schema": {"type": "number", "minimum": 0, "default": 3600},
    },
]
_EP = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": schemas.ALIAS_PATTERN},
    "description": "endpoint name",
}
_DEP = {
    "name": "deployment",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": schemas.ALIAS_PATTERN},
}
PATHS.update(
    {
        "/endpoints": {
            "get": _op("Endpoints with their deployments, states and traffic", schemas.EndpointList, errors=())
        },
        "/endpoints/{name}": {
            "get": _op("One endpoint", schemas.EndpointInfo, params=[_EP]),
            "delete": _op("Stop and delete an endpoint and its deployments", schemas.Deleted, params=[_EP]),
        },
        "/endpoints/{name}/deployments": {
            "post": _op(
                "Create or update a deployment (201 for a new endpoint); returns when it is ready or failed. One whose "
                "environment must be built first answers 202 with the operation that builds and deploys it",
                schemas.EndpointInfo,
                status="201",
                params=[_EP],
                body=schemas.DeployRequest,
                errors=("400", "404", "409"),
            )
        },
        "/endpoints/{name}/deployments/{deployment}": {
            "delete": _op(
                "Stop and remove a deployment: refused (409) while it receives traffic and other deployments exist (move "
                "its traffic first), and for the endpoint's last deployment unless force=true (DELETE endpoints/{name} "
                "removes the endpoint)",
                schemas.EndpointInfo,
                params=[
                    _EP,
                    _DEP,
                    {
                        "name": "force",
                        "in": "query",
                        "schema": {"type": "boolean", "default": False},
                        "description": "remove the endpoint's last deployment, keeping the endpoint",
                    },
                ],
                errors=("400", "404", "409"),
            )
        },
        "/endpoints/{name}/deployments/{deployment}/logs": {
            "get": {
                "summary": "The deployment's log: last lines (tail=N), or a stream of new lines with follow=true",
                "parameters": [_EP, _DEP, *_LOG_PARAMETERS],
                "responses": {
                    "200": {"description": "log text", "content": {"text/plain": {"schema": {"type": "string"}}}},
                    "400": {"description": "invalid input", **_json(schemas.Error)},
                    "404": {"description": "not found", **_json(schemas.Error)},
                },
            }
        },
        "/endpoints/{name}/traffic": {
            "put": _op(
                "Set traffic percentages and/or the mirror",
                schemas.EndpointInfo,
                params=[_EP],
                body=schemas.TrafficRequest,
            )
        },
        "/endpoints/{name}/traffic/rollback": {
            "post": _op(
                "Return the traffic and mirror to what they were before their last change (409 if never changed)",
                schemas.EndpointInfo,
                params=[_EP],
                errors=("400", "404", "409"),
            )
        },
        "/endpoints/{name}/history": {
            "get": _op(
                "Every change to the endpoint, newest first; with at=, what served it then (state) and the changes "
                "up to then",
                schemas.History,
                params=[
                    _EP,
                    *_HISTORY_FILTERS,
                    _query("at", "a time, as since: what served the endpoint then", _MOMENT),
                ],
            )
        },
        "/endpoints/{name}/keys": {
            "get": _op("The endpoint's keys", schemas.Keys, params=[_EP]),
            "post": _op(
                "Regenerate the primary or secondary key", schemas.Keys, params=[_EP], body=schemas.RegenerateKeyRequest
            ),
        },
        "/endpoints/{name}/collect": {
            "put": _op(
                "Payload collection on a live endpoint: switch it on (collect: [requests, responses]) or off "
                "(collect: []), or change its sample rate, retention or size limit; no deployment restarts",
                schemas.EndpointInfo,
                params=[_EP],
                body=schemas.CollectRequest,
                errors=("400", "404", "409"),
            )
        },
        "/endpoints/{name}/collected": {
            "get": _op(
                "The endpoint's collected requests and answers from since to until, oldest first (the newest limit)",
                schemas.Collected,
                params=[
                    _EP,
                    {
                        "name": "since",
                        "in": "query",
                        "description": "a duration ago (1h, 30m, 7d) or an ISO 8601 time",
                        "schema": {"type": "string", "maxLength": 39, "default": "1h", "pattern": schemas.NO_NUL},
                    },
                    {
                        "name": "until",
                        "in": "query",
                        "description": "a duration ago or an ISO 8601 time (default: now)",
                        "schema": {"type": "string", "maxLength": 39, "pattern": schemas.NO_NUL},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 100},
                    },
                ],
            )
        },
        "/endpoints/{name}/invoke": {
            "post": {
                **_op(
                    "Send a request to the endpoint from the server (with its key) and report the answer, its status, the "
                    "latency and the deployment that served it",
                    schemas.InvokeResult,
                    params=[_EP],
                    body=schemas.InvokeRequest,
                )
            }
        },
        "/endpoints/{name}/metrics": {
            "get": _op(
                "The endpoint's scoring requests, errors and latency histogram per deployment, read from it now",
                schemas.EndpointMetrics,
                params=[_EP],
            )
        },
        "/endpoints/{name}/metrics/history": {
            "get": _op(
                "The endpoint's scoring requests, errors and latency percentiles per deployment over a range, as the "
                "server recorded them (every c.DeploymentManager.metrics_interval seconds), in at most 120 points",
                schemas.TrafficHistory,
                params=[
                    _EP,
                    {
                        "name": "range",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["1h", "6h", "24h", "7d"], "default": "1h"},
                    },
                ],
            )
        },
        "/serving-timeline": {
            "get": _op(
                "Which version served on which endpoint, from when to when",
                schemas.Timeline,
                params=[
                    {"name": "endpoint", "in": "query", "schema": {"type": "string", "pattern": schemas.NO_NUL}},
                    {"name": "model", "in": "query", "schema": {"type": "string", "pattern": schemas.NO_NUL}},
                ],
                errors=(),
            )
        },
    }
)

_OP = {
    "name": "operation_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_INT},
}
_STATUS = "(queued|running|succeeded|failed|cancelled)"
_TEXT = {"description": "log text", "content": {"text/plain": {"schema": {"type": "string"}}}}
PATHS["/endpoints/{name}/deployments"]["post"]["responses"]["202"] = _ACCEPTED
PATHS["/endpoints/{name}/deployments"]["post"]["responses"]["200"] = {
    "description": "the endpoint existed: the deployment was added or updated, and is ready",
    **_json(schemas.EndpointInfo),
}
PATHS.update(
    {
        "/operations": {
            "get": _op(
                "Operations, newest first (paged)",
                schemas.OperationPage,
                errors=("400",),
                params=[
                    {
                        "name": "kind",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "enum": ["convert", "deploy", "image_build", "image_push", "batch", "replay", "monitor"],
                        },
                    },
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "pattern": f"^({_STATUS}(,{_STATUS})*)?$"},
                        "description": "queued, running, succeeded, failed or cancelled; several separated by commas; "
                        "empty for any",
                    },
                    {"name": "subject", "in": "query", "schema": {"type": "string", "pattern": schemas.NO_NUL}},
                    *_PAGING[:2],
                ],
            )
        },
        "/operations/{operation_id}": {
            "get": _op("One operation: status, progress, result or error", schemas.Operation, params=[_OP])
        },
        "/operations/{operation_id}/log": {
            "get": {
                "summary": "The operation's log: last lines (tail=N), or with follow=true a stream that ends with it",
                "parameters": [_OP, *_LOG_PARAMETERS],
                "responses": {
                    "200": _TEXT,
                    "400": {"description": "invalid input", **_json(schemas.Error)},
                    "404": {"description": "not found", **_json(schemas.Error)},
                },
            }
        },
        "/operations/{operation_id}/cancel": {
            "post": _op(
                "Stop the operation and everything it started; it ends cancelled, leaving no half-made result "
                "(409 if it already ended)",
                schemas.Operation,
                params=[_OP],
                errors=("400", "404", "409"),
            )
        },
    }
)

_ENV = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": schemas.NAME_PATTERN},
    "description": "environment name",
}
_IMAGE = {
    "name": "image",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "an image record's number, or its tag (e.g. modelhub/churn:2)",
}
PATHS.update(
    {
        "/environments": {
            "get": _op(
                "Environments, by name and newest version first",
                schemas.EnvironmentList,
                errors=("400",),
                params=[{"name": "name", "in": "query", "schema": {"type": "string"}}],
            ),
            "post": _op(
                "Lock an environment with uv for the image's platform (200 with the existing version when the "
                "content is known)",
                schemas.Environment,
                status="201",
                body=schemas.EnvironmentRequest,
            ),
        },
        "/environments/{name}": {
            "get": _op("The newest version of an environment", schemas.Environment, params=[_ENV])
        },
        "/environments/{name}/versions/{version}": {
            "get": _op(
                "One version of an environment",
                schemas.Environment,
                params=[
                    _ENV,
                    {
                        "name": "version",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": f"^({schemas.VERSION_PATTERN}|latest)$"},
                    },
                ],
            )
        },
        "/images": {
            "get": _op(
                "Image records, newest first",
                schemas.ImageList,
                errors=("400",),
                params=[{"name": "model", "in": "query", "schema": {"type": "string"}}],
            ),
            "post": {
                **_op(
                    "Build a serving image of a model version as an operation (202); with 'context', write the "
                    "build context instead and answer at once",
                    schemas.Operation,
                    status="202",
                    body=schemas.PackageRequest,
                    errors=("400", "404"),
                ),
            },
        },
        "/images/{image}": {
            "get": _op("One image record with its build report", schemas.ImageRecord, params=[_IMAGE], errors=("404",)),
            "delete": _op(
                "Remove an image record, and its engine image unless another record uses it (the answer says which)",
                schemas.Deleted,
                params=[_IMAGE],
                errors=("404",),
            ),
        },
        "/images/{image}/push": {
            "post": _op(
                "Push the image to REGISTRY/REPO[:TAG] with the Docker engine's credentials, as an operation (202); "
                "its result is the image record with the pushed reference and its digest",
                schemas.Operation,
                status="202",
                params=[_IMAGE],
                body=schemas.PushRequest,
                errors=("400", "404", "409"),
            )
        },
    }
)
PATHS["/parity"] = {
    "post": _op(
        "Send the version's input example to an endpoint, or to a throwaway container of an image, and report the "
        "answer with the Python and packages it runs (the kernel compares with its own run)",
        schemas.ParityProbe,
        body=schemas.ParityRequest,
        errors=("400", "404", "409"),
    )
}
PATHS["/models/{name}/versions/{version}/reference"] = {
    "get": _op(
        "The version's reference profile (404 when it has none)", schemas.ReferenceProfile, params=[_NAME, _VERSION]
    ),
    "put": _op(
        "Profile rows (JSON, or an upload of inputs.parquet/.csv and predictions) and keep the profile with the "
        "version, replacing its previous one",
        schemas.ReferenceProfile,
        params=[_NAME, _VERSION],
        body=schemas.ReferenceRequest,
    ),
}
PATHS["/endpoints/{name}/monitor"] = {
    "get": _op(
        "Drift per feature (in the signature's order) and of the predictions, data quality, performance where "
        "labels came back, and the deployments compared, over a window of the endpoint's collected traffic, "
        "against the reference of the version its primary deployment serves (or against=)",
        schemas.EndpointMonitorReport,
        params=[
            _EP,
            _query("window", "the traffic of that long ago until now, e.g. 30m, 1h, 7d", {
                "type": "string", "maxLength": 32, "default": "1h", "pattern": schemas.NO_NUL,
            }),
            _query(
                "against",
                "NAME:VERSION or NAME@ALIAS (that version's reference profile), or an earlier window of the same "
                "deployment's traffic: window:1d (that long before the window), window:2h-1h (from 2h ago to 1h ago)",
                {"type": "string", "maxLength": 200, "pattern": schemas.NO_NUL},
            ),
            _query("deployment", "the deployment whose answers to monitor (default: the most traffic)", {
                "type": "string", "pattern": schemas.ALIAS_PATTERN,
            }),
            _query("thresholds", "JSON: which statistic decides drift and where (MonitorReport.thresholds)", {
                "type": "string", "maxLength": 4096, "pattern": schemas.NO_NUL,
            }),
        ],
    )
}  # fmt: skip
PATHS["/endpoints/{name}/labels"] = {
    "post": _op(
        "Labels for the endpoint's requests by request id (the x-request-id it answered with), kept beside its "
        "collected requests; a label sent again for a request replaces the earlier one",
        schemas.LabelsStored,
        params=[_EP],
        body=schemas.LabelsRequest,
    )
}
PATHS["/endpoints/{name}/replay"] = {
    "post": _op(
        "Replay the endpoint's collected requests to a candidate (a version deployed for the replay, or a "
        "deployment): an operation whose result is a ReplayReport",
        schemas.Operation,
        status="202",
        params=[_EP],
        body=schemas.ReplayRequest,
        errors=("400", "404", "409"),
    )
}
PATHS["/models/{name}/versions/{version}/card"] = {
    "get": _op(
        "The version's model card (Hugging Face layout) made from what the registry knows; format=md or html "
        "answers the document itself",
        schemas.ModelCard,
        params=[
            _NAME,
            _VERSION,
            _query("format", "json (default), md or html", {"type": "string", "enum": ["json", "md", "html"]}),
        ],
    ),
    "put": _op(
        "Keep the written sections (intended use, out-of-scope use, limitations, recommendations) of an edited card",
        schemas.ModelCard,
        params=[_NAME, _VERSION],
        body=schemas.CardRequest,
    ),
}
PATHS["/models/{name}/versions/{version}/card"]["get"]["responses"]["200"]["content"].update(
    {"text/markdown": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}}
)
_WEBHOOK = {
    "name": "webhook_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_INT},
}
PATHS.update(
    {
        "/webhooks": {
            "get": _op("Your webhooks (an admin's: everyone's)", schemas.WebhookList, errors=()),
            "post": _op(
                "Send the history's entries (the events chosen) to a URL, signed; the answer holds the secret, "
                "the only time it is shown",
                schemas.Webhook,
                status="201",
                body=schemas.WebhookRequest,
            ),
        },
        "/webhooks/{webhook_id}": {
            "get": _op("One of your webhooks", schemas.Webhook, params=[_WEBHOOK]),
            "delete": _op(
                "Remove a webhook, its delivery log and the deliveries not made yet", schemas.Webhook, params=[_WEBHOOK]
            ),
        },
        "/webhooks/{webhook_id}/test": {
            "post": _op(
                "Send a test call now (event webhook.test, one attempt) and answer how it went",
                schemas.Delivery,
                params=[_WEBHOOK],
            )
        },
        "/webhooks/{webhook_id}/deliveries": {
            "get": _op(
                "The webhook's deliveries, newest first: status, attempts, last error, times",
                schemas.DeliveryList,
                params=[
                    _WEBHOOK,
                    _query(
                        "status",
                        "only deliveries in this state",
                        {"type": "string", "enum": ["pending", "sending", "delivered", "failed"]},
                    ),
                    _query("limit", "at most this many", {"type": "integer", "minimum": 1, "maximum": 1000}),
                ],
            )
        },
    }
)
PATHS["/images"]["post"]["responses"]["200"] = {
    "description": "with 'context': where the context was written and the docker build command"
}
PATHS["/environments"]["post"]["responses"]["200"] = {
    "description": "an environment of this content exists: it is returned",
    **_json(schemas.Environment),
}
PATHS["/images"]["post"]["responses"]["503"] = {"description": "no Docker engine answers", **_json(schemas.Error)}
PATHS["/images/{image}/push"]["post"]["responses"]["503"] = PATHS["/images"]["post"]["responses"]["503"]

_JOB = {
    "name": "job_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_INT},
}
_BATCH_ENDPOINT = {
    "name": "name",
    "in": "path",
    "required": True,
    "description": "batch endpoint name",
    "schema": {"type": "string", "pattern": schemas.NAME_PATTERN},
}
_JOB_STARTED = {"description": "started: the job, also at the URL in the Location header", **_json(schemas.Job)}
PATHS.update(
    {
        "/jobs": {
            "get": _op(
                "Batch jobs, newest first (paged)",
                schemas.JobPage,
                errors=("400",),
                params=[
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "pattern": f"^({_STATUS}(,{_STATUS})*)?$"},
                    },
                    *_PAGING[:2],
                ],
            ),
            "post": _op(
                "Score files with a model or a batch endpoint as a batch job (202): checked first, so a job that "
                "cannot work is a 400 with nothing started",
                schemas.Job,
                status="202",
                body=schemas.JobRequest,
            ),
        },
        "/jobs/{job_id}": {
            "get": _op(
                "One batch job: progress, the per-mini-batch table, the output and the executed notebook",
                schemas.Job,
                params=[_JOB],
            )
        },
        "/jobs/{job_id}/cancel": {
            "post": _op(
                "Stop the job, its kernel and its Dask workers (409 if it already ended)",
                schemas.Job,
                params=[_JOB],
                errors=("400", "404", "409"),
            )
        },
        "/batch-endpoints": {
            "get": _op("Batch endpoints (their newest versions)", schemas.BatchEndpointList, errors=()),
            "post": _op(
                "Save a batch endpoint: a new version when the name exists",
                schemas.BatchEndpoint,
                status="201",
                body=schemas.BatchEndpointRequest,
            ),
        },
        "/batch-endpoints/{name}": {
            "get": _op(
                "A batch endpoint's newest version and its history", schemas.BatchEndpoint, params=[_BATCH_ENDPOINT]
            ),
            "delete": _op("Delete a batch endpoint (every version)", schemas.Deleted, params=[_BATCH_ENDPOINT]),
        },
        "/batch-endpoints/{name}/jobs": {
            "post": _op(
                "Run the batch endpoint's newest version over these inputs (202, the job)",
                schemas.Job,
                status="202",
                params=[_BATCH_ENDPOINT],
                body=schemas.EndpointJobRequest,
            )
        },
    }
)
PATHS["/jobs"]["post"]["responses"]["202"] = PATHS["/batch-endpoints/{name}/jobs"]["post"]["responses"]["202"] = (
    _JOB_STARTED
)

_SCHEDULE = {
    "name": "key",
    "in": "path",
    "required": True,
    "description": "the schedule's name, or its id",
    "schema": {"type": "string", "pattern": schemas.NAME_PATTERN},
}
PATHS["/schedules"] = {
    "get": _op("Schedules (of the models you may read), by name", schemas.ScheduleList, errors=()),
    "post": _op(
        "Save a schedule: a cron expression in a time zone that starts an operation (a batch job) at its times; "
        "a bad cron expression, an unknown zone or a target that cannot run is a 400",
        schemas.Schedule,
        status="201",
        body=schemas.ScheduleRequest,
        errors=("400", "404", "409"),
    ),
}
PATHS["/schedules/{key}"] = {
    "get": _op(
        "A schedule: its next and last runs, the operation its last run started, missed runs",
        schemas.Schedule,
        params=[_SCHEDULE],
    ),
    "patch": _op(
        "Change a schedule's cron, zone, target or missed policy; enabled false pauses it, true resumes it",
        schemas.Schedule,
        params=[_SCHEDULE],
        body=schemas.ScheduleUpdate,
    ),
    "delete": _op("Delete a schedule (the operations it started stay)", schemas.Deleted, params=[_SCHEDULE]),
}

_COMPONENTS = [
    schemas.ParityRequest,
    schemas.ParityProbe,
    schemas.Environment,
    schemas.EnvironmentList,
    schemas.EnvironmentRequest,
    schemas.ImagePush,
    schemas.ImageRecord,
    schemas.ImageList,
    schemas.PackageRequest,
    schemas.PushRequest,
    schemas.Operation,
    schemas.OperationPage,
    schemas.Conversion,
    schemas.ConvertRequest,
    schemas.EndpointList,
    schemas.EndpointInfo,
    schemas.DeployRequest,
    schemas.TrafficRequest,
    schemas.RegenerateKeyRequest,
    schemas.Keys,
    schemas.Timeline,
    schemas.InvokeRequest,
    schemas.InvokeResult,
    schemas.CollectRequest,
    schemas.Collected,
    schemas.EndpointMetrics,
    schemas.TrafficHistory,
    schemas.Info,
    schemas.Events,
    schemas.Upload,
    schemas.ModelPage,
    schemas.VersionPage,
    schemas.ModelDetail,
    schemas.Version,
    schemas.Deleted,
    schemas.RegisterRequest,
    schemas.UpdateVersionRequest,
    schemas.AliasRequest,
    schemas.Permissions,
    schemas.PermissionRequest,
    schemas.History,
    schemas.Promotion,
    schemas.EvidenceRequest,
    schemas.Error,
    *schemas.batch.SCHEMAS,
    *schemas.monitoring.SCHEMAS,
    *schemas.governance.SCHEMAS,
    *schemas.schedules.SCHEMAS,
]


# Answers every route can give: from authentication, and while the service is unavailable.
_COMMON_RESPONSES = {
    "400": {"description": "invalid input (every route refuses NUL characters in its URL)", **_json(schemas.Error)},
    "401": {"description": "no valid credentials (WWW-Authenticate says how)", **_json(schemas.Error)},
    "403": {"description": "not allowed, or a browser request without its XSRF token", **_json(schemas.Error)},
    "503": {
        "description": "the registry database cannot be reached, or the extension could not start "
        "(the message says why; retry later)",
        **_json(schemas.Error),
    },
}


def _link(target: str, method: str, description: str, **parameters: str) -> dict:
    return {
        "operationRef": "#/paths/" + target.replace("~", "~0").replace("/", "~1") + "/" + method,
        "description": description,
        "parameters": parameters,
    }


def _version_links(name: str, version: str) -> dict:
    one = "/models/{name}/versions/{version}"
    return {
        "GetVersion": _link(one, "get", "the version", name=name, version=version),
        "UpdateVersion": _link(one, "patch", "change it", name=name, version=version),
        "DeleteVersion": _link(one, "delete", "delete it", name=name, version=version),
        "ConvertVersion": _link(one + "/convert", "post", "convert it", name=name, version=version),
        "SetAlias": _link("/models/{name}/aliases/{alias}", "put", "an alias of its model", name=name),
    }


_MODEL_LINKS = {
    "GetModel": _link("/models/{name}", "get", "the first model", name="$response.body#/models/0/name"),
    "ListVersions": _link("/models/{name}/versions", "get", "its versions", name="$response.body#/models/0/name"),
    "DeleteModel": _link("/models/{name}", "delete", "delete it", name="$response.body#/models/0/name"),
}
# (path, method, status) -> links from that response
LINKS = {
    ("/uploads", "post", "201"): {
        "Register": {
            **_link("/models/{name}/versions", "post", "register the upload"),
            "requestBody": {"upload_id": "$response.body#/upload_id"},
        }
    },
    ("/models", "get", "200"): _MODEL_LINKS,
    ("/versions", "get", "200"): _version_links(
        "$response.body#/versions/0/name", "$response.body#/versions/0/version"
    ),
    ("/models/{name}/versions", "get", "200"): _version_links(
        "$request.path.name", "$response.body#/versions/0/version"
    ),
    ("/models/{name}/versions", "post", "201"): _version_links("$request.path.name", "$response.body#/version"),
    ("/models/{name}/versions/{version}", "get", "200"): {
        "GetFile": _link(
            "/models/{name}/versions/{version}/files/{path}",
            "get",
            "its first file",
            name="$request.path.name",
            version="$request.path.version",
            path="$response.body#/files/0/path",
        )
    },
    ("/models/{name}/aliases/{alias}", "put", "200"): {
        "DeleteAlias": _link(
            "/models/{name}/aliases/{alias}",
            "delete",
            "remove the alias",
            name="$request.path.name",
            alias="$request.path.alias",
        )
    },
    ("/endpoints", "get", "200"): {
        "GetEndpoint": _link("/endpoints/{name}", "get", "the first endpoint", name="$response.body#/endpoints/0/name"),
        "GetKeys": _link("/endpoints/{name}/keys", "get", "its keys", name="$response.body#/endpoints/0/name"),
    },
    ("/operations", "get", "200"): {
        "GetOperation": _link(
            "/operations/{operation_id}", "get", "the newest operation", operation_id="$response.body#/operations/0/id"
        ),
        "GetOperationLog": _link(
            "/operations/{operation_id}/log", "get", "its log", operation_id="$response.body#/operations/0/id"
        ),
    },
    ("/models/{name}/versions/{version}/convert", "post", "202"): {
        "GetOperation": _link("/operations/{operation_id}", "get", "the conversion", operation_id="$response.body#/id"),
        "CancelOperation": _link(
            "/operations/{operation_id}/cancel", "post", "cancel it", operation_id="$response.body#/id"
        ),
    },
    ("/jobs", "get", "200"): {
        "GetJob": _link("/jobs/{job_id}", "get", "the newest job", job_id="$response.body#/jobs/0/id"),
        "CancelJob": _link("/jobs/{job_id}/cancel", "post", "cancel it", job_id="$response.body#/jobs/0/id"),
    },
    ("/jobs", "post", "202"): {
        "GetJob": _link("/jobs/{job_id}", "get", "the job", job_id="$response.body#/id"),
        "CancelJob": _link("/jobs/{job_id}/cancel", "post", "cancel it", job_id="$response.body#/id"),
    },
    ("/batch-endpoints", "get", "200"): {
        "GetBatchEndpoint": _link(
            "/batch-endpoints/{name}", "get", "the first batch endpoint", name="$response.body#/batch_endpoints/0/name"
        ),
        "DeleteBatchEndpoint": _link(
            "/batch-endpoints/{name}", "delete", "delete it", name="$response.body#/batch_endpoints/0/name"
        ),
    },
    ("/schedules", "get", "200"): {
        "GetSchedule": _link("/schedules/{key}", "get", "the first schedule", key="$response.body#/schedules/0/name"),
    },
    ("/schedules", "post", "201"): {
        "GetSchedule": _link("/schedules/{key}", "get", "the schedule", key="$response.body#/name"),
        "ChangeSchedule": _link("/schedules/{key}", "patch", "pause, resume or change it", key="$response.body#/name"),
        "DeleteSchedule": _link("/schedules/{key}", "delete", "delete it", key="$response.body#/name"),
    },
    ("/batch-endpoints", "post", "201"): {
        "GetBatchEndpoint": _link("/batch-endpoints/{name}", "get", "the batch endpoint", name="$response.body#/name"),
        "RunBatchEndpoint": _link("/batch-endpoints/{name}/jobs", "post", "run it", name="$response.body#/name"),
    },
}


def _complete(paths: dict) -> dict:
    """Every operation with the common answers and its links (a copy: PATHS stays as written)."""
    out = {}
    for path, operations in paths.items():
        out[path] = {}
        for method, operation in operations.items():
            responses = {**operation["responses"]}
            for code, response in _COMMON_RESPONSES.items():
                responses.setdefault(code, response)
            for (link_path, link_method, status), links in LINKS.items():
                if (link_path, link_method) == (path, method) and status in responses:
                    responses[status] = {**responses[status], "links": links}
            out[path][method] = {**operation, "responses": responses}
    return out


# pydantic's names of bounds it leaves untranslated on an optional number with a validator
# (``Optional[Int]``), and their JSON Schema names: the server checks them, so the document says them
_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _finished_schema(schema):
    """Three things pydantic cannot write. A dict with constrained keys becomes
    ``patternProperties`` with other keys left allowed, but pydantic refuses them, so the document
    says so. A JSON value (``schemas.JSONValue``), or a response's stored signature
    (``registry.views.StoredSignature``), is a $ref to a schema it does not make there. And the
    bounds of an optional whole number come out under pydantic's own names (ge, le)."""
    if isinstance(schema, dict):
        if schema.get("type") in ("integer", "number"):
            for ours, theirs in _BOUNDS.items():
                if ours in schema:
                    schema[theirs] = schema.pop(ours)
        if "patternProperties" in schema:
            schema.setdefault("additionalProperties", False)
        marked = schema.pop("x-modelhub", None)  # JSONValue, or a request schema a response names
        if marked:
            schema["$ref"] = f"#/components/schemas/{marked}"
        for value in schema.values():
            _finished_schema(value)
    elif isinstance(schema, list):
        for value in schema:
            _finished_schema(value)
    return schema


def openapi_document(base_url: str = "/") -> dict:
    components: dict = {}
    for model in _COMPONENTS:
        schema = _finished_schema(model.model_json_schema(ref_template="#/components/schemas/{model}"))
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    components["JSONValue"] = schemas.JSON_VALUE_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jupyter_modelhub",
            "version": __version__,
            "description": "Model registry REST API. Authenticate with the Jupyter server's token "
            "(Authorization: token ...) or its login cookie plus XSRF header.",
        },
        "servers": [{"url": url_path_join(base_url, "modelhub/api")}],
        "components": {
            "schemas": components,
            "securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "Authorization"}},
        },
        "security": [{"token": []}],
        "paths": _complete(PATHS),
    }
