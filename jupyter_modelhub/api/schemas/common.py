"""What every request body shares: the strict base, the text and number types with the bounds the
server checks (from ``jupyter_modelhub.fields``), the grammars of names as JSON Schema patterns,
and the answers that belong to no resource (Error, Info).

Not here: the bodies and answers of one resource (a module each beside this one).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, WithJsonSchema

from ...fields import (  # noqa: F401  (re-exported: the pieces of every body)
    MAX_DESCRIPTION,
    MAX_FILE_TEXT,
    MAX_NAME,
    MAX_PATH,
    NO_NUL,
    Int,
    Strict,
    text,
)
from ...flavors import FLAVORS
from ...refs import ALIAS_RE, NAME_RE, TAG_KEY_RE
from ...registry.permissions import PRINCIPAL_PATTERN

# The database's integer columns are 32-bit; bounds here make a larger number a 400 that names
# the field, and tell clients (and the OpenAPI document) what is accepted.
MAX_INT = 2**31 - 1
Percent = Field(ge=0, le=100)

# The grammars of refs.py as JSON Schema patterns, so a client (or a fuzzer) knows what a name is.
NAME_PATTERN = f"^{NAME_RE.pattern}$"
ALIAS_PATTERN = f"^{ALIAS_RE.pattern}$"
TAG_KEY_PATTERN = f"^{TAG_KEY_RE.pattern}$"
VERSION_PATTERN = "[1-9][0-9]{0,8}"  # what is documented; numbers up to 2147483647 are accepted
REF_PATTERN = f"^{NAME_RE.pattern}(:{VERSION_PATTERN}|@{ALIAS_RE.pattern})?$"
UPLOAD_ID_PATTERN = "^[0-9A-Za-z]{32}$"
# what a value that does not match each pattern should have been, in the words of refs.py

PATTERN_HINTS = {
    NAME_PATTERN: "a model name (1-128 letters, digits, '.', '_' or '-', starting with a letter or digit)",
    ALIAS_PATTERN: "a name of 1-64 letters, digits, '_' or '-', starting with a letter",
    TAG_KEY_PATTERN: "a tag or property name (letters, digits, '.', '_' or '-')",
    REF_PATTERN: "a model reference: NAME, NAME:VERSION or NAME@ALIAS",
    NO_NUL: "text without NUL characters",
    UPLOAD_ID_PATTERN: "an upload id as returned by POST uploads",
    PRINCIPAL_PATTERN: "user:NAME, group:NAME or everyone",
}

Text = text(MAX_DESCRIPTION)
TagKey = Annotated[str, StringConstraints(pattern=TAG_KEY_PATTERN, max_length=128)]
TagValue = text(1024)
Ref = Annotated[str, StringConstraints(pattern=REF_PATTERN, max_length=200)]  # NAME (128) + ':' or '@' + ALIAS (64)
Label = Annotated[str, StringConstraints(pattern=ALIAS_PATTERN, max_length=64)]  # endpoint and deployment names
Flavor = Literal[FLAVORS]
# Any JSON value; request bodies refuse NUL characters anywhere (see api.base), which the
# JSONValue component (in openapi.py) spells out for clients.
# (pydantic cannot point at a schema it does not make; openapi.py swaps this marker for the $ref)
JSONValue = Annotated[Any, WithJsonSchema({"x-modelhub": "JSONValue"})]
JSON_VALUE_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": NO_NUL},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": {"$ref": "#/components/schemas/JSONValue"}},
        {
            "type": "object",
            "propertyNames": {"pattern": NO_NUL},
            "additionalProperties": {"$ref": "#/components/schemas/JSONValue"},
        },
    ]
}


class Info(BaseModel):
    """What a client checks about the server: its version, and where it keeps the registry."""

    version: str = Field(description="jupyter_modelhub's version on the server")
    database: str = Field(description="the registry's database URL, its password hidden")
    root_dir: str = Field(description="the server's root folder (uploads, endpoints, operations, cache)")
    artifact_uri: str = Field(
        description="where versions' files are kept: a folder or s3://BUCKET/PREFIX (never credentials)"
    )
    python: str = Field(
        description="the server's Python version: code stored by value loads on this minor version only"
    )


class Error(BaseModel):
    message: str
    reason: str
