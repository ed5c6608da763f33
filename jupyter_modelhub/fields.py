"""What request bodies are made of: the strict base, text without NUL within a length limit,
whole numbers, and those limits.

Outside ``api/`` because one shape is both: a version's signature is sent in a request
(``RegisterRequest``), stored with the version and answered by the endpoints, so its model
(``registry.views.Signature``) is built of these where every service can reach it.
``api.schemas.common`` re-exports them beside the patterns and types of the other bodies.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

# Text stored in the database's text columns, where PostgreSQL cannot hold NUL.
NO_NUL = r"^[^\u0000]*$"  # the regex escape, not the character

# Every text field of a request has a length limit (issue 18: an unbounded field let one request
# hold the server); the limits are here, so the OpenAPI document (generated from these models)
# says what the server checks, and a longer value is a 400 naming the field and its limit.
MAX_DESCRIPTION = 10_000
MAX_NAME = 256  # tensor, file and image names, kernel ids
MAX_PATH = 4096  # a path on the server (Linux's PATH_MAX)
MAX_FILE_TEXT = 1_000_000  # the text of a file sent in a body: requirements, an entry script


def _whole_number(value):
    """JSON Schema counts 3.0 as an integer; strict validation would not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer in a request body: a JSON integer or a number with no fraction, never a string or bool.
Int = Annotated[int, BeforeValidator(_whole_number)]


def text(limit: int):
    """Text without NUL characters, of at most ``limit`` characters."""
    return Annotated[str, StringConstraints(pattern=NO_NUL, max_length=limit)]


class Strict(BaseModel):
    """A request body: unknown fields refused, and no coercion (0 is not false, "3" is not 3),
    so what is accepted is what the OpenAPI document says."""

    model_config = ConfigDict(extra="forbid", strict=True)
