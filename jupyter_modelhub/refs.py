"""Names and references: ``churn``, ``churn:3``, ``churn@production``.

Shared by the server (which enforces them) and the client (which parses what a user typed), so
both give the same error for the same mistake. Pure functions; the only import from the package
is ``errors`` (a leaf), so that a malformed name is an ``InvalidInput`` wherever it is checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidInput

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
ALIAS_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
TAG_KEY_RE = re.compile(r"[A-Za-z0-9_.-]{1,128}")
# ASCII digits only: str.isdigit() also accepts '²' and '١', which int() rejects or reads as 1.
VERSION_RE = re.compile(r"[0-9]{1,10}")
# Version numbers are 32-bit integer columns in the database.
MAX_VERSION = 2**31 - 1


class RefError(InvalidInput, ValueError):
    """A name or reference that does not follow the grammar; the message says what was expected.

    An ``InvalidInput``, so the REST layer answers it as a 400 with no translation of its own."""


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid model name, else raise RefError saying why."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise RefError(
            f"Invalid model name {name!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (no spaces, slashes or '..')."
        )
    return name


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not ALIAS_RE.fullmatch(alias):
        raise RefError(
            f"Invalid alias {alias!r}: use 1-64 letters, digits, '_' or '-', starting with a letter "
            "(e.g. 'production')."
        )
    return alias


def check_tag_key(key: str) -> str:
    if not isinstance(key, str) or not TAG_KEY_RE.fullmatch(key):
        raise RefError(f"Invalid tag name {key!r}: use letters, digits, '.', '_' or '-'.")
    return key


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference. Exactly one of ``version`` and ``alias`` is set, or neither (latest)."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}:{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name

    @property
    def url_version(self) -> str:
        """The version path segment of the REST API: ``3``, ``@production`` or ``latest``."""
        if self.version is not None:
            return str(self.version)
        if self.alias is not None:
            return f"@{self.alias}"
        return "latest"


def parse_ref(text: str) -> ModelRef:
    """Parse ``name``, ``name:version`` or ``name@alias``."""
    if not isinstance(text, str) or not text.strip():
        raise RefError("Empty model reference: expected NAME, NAME:VERSION or NAME@ALIAS.")
    text = text.strip()
    if "@" in text:
        name, _, alias = text.partition("@")
        return ModelRef(check_name(name), alias=check_alias(alias))
    if ":" in text:
        name, _, version = text.partition(":")
        return ModelRef(check_name(name), version=parse_version_number(version, text))
    return ModelRef(check_name(text))


def parse_version_number(text: str, ref: str | None = None) -> int:
    if not VERSION_RE.fullmatch(text) or not 1 <= int(text) <= MAX_VERSION:
        where = f" in {ref!r}" if ref else ""
        raise RefError(
            f"Invalid version {text!r}{where}: expected a whole number from 1 to {MAX_VERSION} (e.g. churn:3)."
        )
    return int(text)


def parse_url_version(name: str, segment: str) -> ModelRef:
    """Inverse of ``ModelRef.url_version``."""
    check_name(name)
    if segment == "latest":
        return ModelRef(name)
    if segment.startswith("@"):
        return ModelRef(name, alias=check_alias(segment[1:]))
    return ModelRef(name, version=parse_version_number(segment, f"{name}:{segment}"))
