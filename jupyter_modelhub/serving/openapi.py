"""The OpenAPI 3 document of the runtime's routes, served at ``GET /openapi.json``.

Written for one served model: its name is in the v2 paths and its signature in the examples.
Not here: the routes themselves (``server.py``).
"""

from __future__ import annotations

from .signature import Signature


def _json(schema: dict | None = None, description: str = "OK") -> dict:
    response: dict = {"description": description}
    if schema is not None:
        response["content"] = {"application/json": {"schema": schema}}
    return response


_NOT_READY = _json(description="Not ready: the model is loading, or the server stops")
_ERROR = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "reason": {"type": "string"}, "type": {"type": "string"}},
}
_V2_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
# A tensor's values are in "data", or, with the binary tensor data extension, are binary data after
# the JSON (its length in the Inference-Header-Content-Length header), their size in
# parameters.binary_data_size.
_TENSOR = {
    "type": "object",
    "required": ["name", "shape", "datatype"],
    "properties": {
        "name": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer"}},
        "datatype": {"type": "string"},
        "parameters": {"type": "object"},
        "data": {"type": "array", "items": {}},
    },
}
_METADATA_TENSOR = {
    "type": "object",
    "required": ["name", "datatype", "shape"],
    "properties": {
        "name": {"type": "string"},
        "datatype": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer"}},
    },
}


def document(name: str, version: str | None, signature: Signature | None, auth: bool) -> dict:
    """The OpenAPI document for a server scoring model ``name`` (``version``)."""
    errors = {
        "400": _json(_ERROR, "The request does not match the model's signature"),
        "413": _json(_ERROR, "The request body is larger than --max-request-bytes"),
        "500": _json(_ERROR, "The model or entry script raised an exception"),
        "503": _json(_ERROR, "The model is still loading"),
        "504": _json(_ERROR, "Scoring took longer than --request-timeout"),
    }
    if auth:
        errors["401"] = _json(_ERROR, "Missing or wrong 'Authorization: Bearer KEY' header")
    example = _example_row(signature)
    model = f"/v2/models/{name}"
    paths = {
        "/": {"get": {"summary": "Liveness (Azure ML)", "security": [], "responses": {"200": _json()}}},
        "/score": {
            "post": {
                "summary": 'Score (Azure ML): body {"data": ...}; an entry script receives the raw body',
                "requestBody": {
                    "content": {"application/json": {"schema": {"type": "object"}, "example": {"data": example}}}
                },
                "responses": {"200": _json({}), **errors},
            }
        },
        "/ping": {"get": {"summary": "Liveness (MLflow)", "security": [], "responses": {"200": _json()}}},
        "/invocations": {
            "post": {
                "summary": "Score (MLflow): dataframe_split, dataframe_records, instances or inputs",
                "requestBody": {
                    "content": {"application/json": {"schema": {"type": "object"}, "example": {"inputs": example}}}
                },
                "responses": {"200": _json({"type": "object", "properties": {"predictions": {}}}), **errors},
            }
        },
        "/v2": {
            "get": {
                "summary": "Server metadata (Open Inference Protocol)",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string"},
                                "version": {"type": "string"},
                                "extensions": {"type": "array", "items": {"type": "string"}},
                            },
                        }
                    )
                },
            }
        },
        "/v2/health/live": {"get": {"summary": "Server live", "security": [], "responses": {"200": _json()}}},
        "/v2/health/ready": {
            "get": {
                "summary": "Server ready: 200 once the model is loaded",
                "security": [],
                "responses": {"200": _json(), "503": _NOT_READY},
            }
        },
    }
    metadata = {
        "get": {
            "summary": "Model metadata",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["name", "platform"],
                        "properties": {
                            "name": {"type": "string"},
                            "versions": {"type": "array", "items": {"type": "string"}},
                            "platform": {"type": "string"},
                            "inputs": {"type": "array", "items": _METADATA_TENSOR},
                            "outputs": {"type": "array", "items": _METADATA_TENSOR},
                        },
                    }
                ),
                "404": _json(_V2_ERROR, "No such model or version"),
            },
        }
    }
    ready = {"get": {"summary": "Model ready", "security": [], "responses": {"200": _json(), "503": _NOT_READY}}}
    binary = {
        "schema": {
            "type": "string",
            "format": "binary",
            "description": "The JSON object, then the binary tensors' bytes in tensor order; "
            "the Inference-Header-Content-Length header gives the JSON's length",
        }
    }
    answer = _json(
        {
            "type": "object",
            "required": ["model_name", "outputs"],
            "properties": {
                "model_name": {"type": "string"},
                "model_version": {"type": "string"},
                "id": {"type": "string"},
                "outputs": {"type": "array", "items": _TENSOR},
            },
        }
    )
    answer["content"]["application/octet-stream"] = binary
    infer = {
        "post": {
            "summary": "Inference (Open Inference Protocol v2, with the binary tensor data extension)",
            "parameters": [
                {
                    "name": "Inference-Header-Content-Length",
                    "in": "header",
                    "required": False,
                    "description": "The length of the JSON part when binary tensor data follows it",
                    "schema": {"type": "integer", "minimum": 0},
                }
            ],
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["inputs"],
                            "properties": {
                                "id": {"type": "string"},
                                "parameters": {"type": "object"},
                                "inputs": {"type": "array", "items": _TENSOR},
                                "outputs": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["name"],
                                        "properties": {"name": {"type": "string"}, "parameters": {"type": "object"}},
                                    },
                                },
                            },
                        }
                    },
                    "application/octet-stream": binary,
                }
            },
            "responses": {"200": answer, **{code: _json(_V2_ERROR, r["description"]) for code, r in errors.items()}},
        }
    }
    prefixes = [model] + ([f"{model}/versions/{version}"] if version is not None else [])
    for prefix in prefixes:
        paths[prefix] = metadata
        paths[f"{prefix}/ready"] = ready
        paths[f"{prefix}/infer"] = infer
    paths["/metrics"] = {
        "get": {
            "summary": "Prometheus metrics (text format)",
            "responses": {"200": {"description": "OK", "content": {"text/plain": {}}}},
        }
    }
    paths["/openapi.json"] = {"get": {"summary": "This document", "responses": {"200": _json({"type": "object"})}}}
    doc = {
        "openapi": "3.0.3",
        "info": {
            "title": f"Scoring endpoint for model {name}" + (f" version {version}" if version else ""),
            "version": version or "1",
        },
        "paths": paths,
    }
    if auth:
        doc["components"] = {"securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}}
        doc["security"] = [{"key": []}]
    return doc


def _example_row(signature: Signature | None):
    if signature is None:
        return [[0.0]]
    if signature.columnar:
        return [{spec.name: 0 for spec in signature.inputs}]
    spec = signature.inputs[0]
    width = spec.shape[1] if spec.shape and len(spec.shape) == 2 and spec.shape[1] > 0 else 1
    return [[0.0] * width]
