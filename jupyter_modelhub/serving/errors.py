"""The one error type of the scoring runtime: a status code and a message a client can act on.

Decoders, signature checks and handlers raise :class:`ServingError`; each protocol renders it in
its own error body (:func:`error_body`). Exceptions raised by model code are not ServingErrors:
they become 500 responses naming the exception type, and their traceback goes to the log.
"""

from __future__ import annotations

from http import HTTPStatus

import orjson

_MLFLOW_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    404: "RESOURCE_DOES_NOT_EXIST",
    405: "BAD_REQUEST",
    408: "DEADLINE_EXCEEDED",
    413: "REQUEST_LIMIT_EXCEEDED",
    415: "BAD_REQUEST",
    500: "INTERNAL_ERROR",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_REASONS = {status.value: status.phrase for status in HTTPStatus}
_REASONS[499] = "Client Closed Request"  # nginx's name, for a client that left before its answer


def reason(status: int) -> str:
    """The reason phrase of a status code."""
    return _REASONS.get(status, "Unknown")


class ServingError(Exception):
    """A request that cannot be answered, with the HTTP status to answer it with."""

    def __init__(self, status: int, message: str, error_type: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type


def bad_request(message: str) -> ServingError:
    return ServingError(400, message)


def error_body(style: str, error: ServingError) -> bytes:
    """The error body of a protocol: Azure-style routes ``{"message", "reason"}``, MLflow
    ``{"error_code", "message"}``, the Open Inference Protocol ``{"error"}``; plus ``"type"``
    when model code raised."""
    status, message = error.status, error.message
    if style == "v2":
        body = {"error": message}
    elif style == "mlflow":
        body = {"error_code": _MLFLOW_CODES.get(status, "INTERNAL_ERROR"), "message": message}
    else:
        body = {"message": message, "reason": _REASONS.get(status, "Error")}
    if error.error_type:
        body["type"] = error.error_type
    return orjson.dumps(body)
