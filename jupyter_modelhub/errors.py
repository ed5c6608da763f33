"""Typed errors raised by the services.

Services raise these; the REST layer maps them to 400/404/409 JSON bodies in one place
(``api.base``), and the client turns those bodies back into the same classes, so a magic shows
the server's sentence unchanged. No other exception type is meant to reach a user.
"""

from __future__ import annotations


class ModelHubError(Exception):
    """Base class: ``message`` is a full sentence for the user, ``reason`` a stable code."""

    status = 400
    reason = "invalid"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(ModelHubError):
    """The request is malformed: a bad name, filter, path, body or file."""

    status = 400
    reason = "invalid"


class NotFound(ModelHubError):
    """A model, version, alias or upload that does not exist."""

    status = 404
    reason = "not_found"


class Forbidden(ModelHubError):
    """A known user who may not do this: the message names the permission missing and who can grant it."""

    status = 403
    reason = "forbidden"


class Conflict(ModelHubError):
    """The request contradicts the current state, e.g. deleting a version an alias points at."""

    status = 409
    reason = "conflict"


class TooLarge(ModelHubError):
    """An upload that is, or unpacks to, more bytes or files than the server accepts."""

    status = 413
    reason = "too_large"


class Damaged(ModelHubError):
    """A stored file that no longer matches its manifest: the server's copy changed after
    registration. It is a fault of the server's storage, hence a 5xx, never served."""

    status = 500
    reason = "damaged"


class Unavailable(ModelHubError):
    """The service cannot work right now (its database is unreachable, or the extension could not
    start); the message says why. Retrying later may succeed."""

    status = 503
    reason = "unavailable"


class OperationFailed(ModelHubError):
    """Long work that ended without a result: it crashed, was cancelled, or the server restarted."""

    status = 500
    reason = "failed"


ERRORS_BY_REASON = {
    cls.reason: cls for cls in (InvalidInput, NotFound, Forbidden, Conflict, TooLarge, Damaged, Unavailable)
}


def error_from_body(body: dict, default: type[ModelHubError] = OperationFailed) -> ModelHubError:
    """The typed error a ``{"message", "reason", "report"?}`` body stands for (an operation's
    error, or an error response's body)."""
    error = ERRORS_BY_REASON.get(body.get("reason", ""), default)(body.get("message", "The operation failed."))
    error.reason = body.get("reason") or error.reason
    error.report = body.get("report")
    return error
