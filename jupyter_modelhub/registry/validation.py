"""The checks a registration or a change runs before anything is written: tags, properties,
signature, input example, description, and an alias's target version.

Each raises ``InvalidInput`` with a sentence that names the field and what it should be. The
REST layer has already checked the types of a request's body (``api.schemas``); these checks
are the ones the service keeps for every caller (the operation worker, scripts, tests).
"""

from __future__ import annotations

import math

import orjson

from ..errors import InvalidInput
from ..refs import ModelRef, check_tag_key, parse_ref

MAX_TAG_VALUE = 1024


def check_tags(tags: dict, allow_none: bool = False) -> dict:
    """Tag names to string values; with ``allow_none``, None removes a tag (a change)."""
    if not isinstance(tags, dict):
        raise InvalidInput("'tags' must be an object of tag names to string values.")
    for key, value in tags.items():
        check_tag_key(key)
        if value is None and allow_none:
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"Tag {key!r} must have a string value, not {type(value).__name__}.")
        if len(value) > MAX_TAG_VALUE:
            raise InvalidInput(f"Tag {key!r} is longer than {MAX_TAG_VALUE} characters.")
    return tags


def check_properties(properties: dict) -> dict:
    if not isinstance(properties, dict):
        raise InvalidInput("'properties' must be an object of names to JSON values.")
    for key, value in properties.items():
        check_tag_key(key)
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"Property {key!r} is {value}; only finite numbers can be stored.")
    return properties


def check_signature(signature: dict | None) -> None:
    if signature is None:
        return
    if not isinstance(signature, dict) or not isinstance(signature.get("inputs"), list):
        raise InvalidInput("'signature' must be an object with an 'inputs' list of {name, dtype, shape} entries.")
    for entry in signature["inputs"] + list(signature.get("outputs") or []):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("dtype"), str)
        ):
            raise InvalidInput(f"Invalid signature entry {entry!r}: expected {{name, dtype, shape}}.")


def check_example(example: object, limit: int) -> None:
    """An input example is stored with its version as JSON, of at most ``limit`` bytes."""
    if example is None:
        return
    try:
        size = len(orjson.dumps(example))
    except TypeError as exc:
        raise InvalidInput(f"The input example is not JSON-serialisable: {exc}.") from None
    if size > limit:
        raise InvalidInput(
            f"The input example is {size} bytes as JSON; the limit is {limit}. Pass a few rows (e.g. --sample X[:5])."
        )


def check_description(description: object) -> None:
    if not isinstance(description, str):
        raise InvalidInput("'description' must be a string.")


def target_ref(name: str, version: int | str) -> ModelRef:
    """The version an alias is to point at: ``name`` and a version number."""
    if isinstance(version, bool) or not isinstance(version, (int, str)):
        raise InvalidInput("'version' must be a version number such as 3.")
    return parse_ref(f"{name}:{version}")
