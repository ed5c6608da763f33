"""The tag filter grammar used by search, the ``%models`` magic and the sidebar's filter box.

A filter is a list of terms separated by spaces, all of which must hold (AND)::

    team=growth                 tag 'team' has value 'growth'
    stage!=dev                  tag 'stage' is missing or has another value
    owner                       tag 'owner' is present, whatever its value
    note="two words"            a value with spaces, in double quotes

Tag names are letters, digits, '.', '_' and '-'. Values without quotes run to the next space.
The same syntax as Azure ML studio's tag filter, extended with '!=' and bare names. A filter
has at most ``MAX_TERMS`` terms: each becomes a condition of one SQL query, and databases refuse
queries past a certain size (SQLite: "Expression tree is too large").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEY = re.compile(r"[A-Za-z0-9_.-]+")
# ASCII white space only: str.isspace() also takes characters such as U+001C that other regex
# dialects (the OpenAPI document's pattern, JavaScript in the panel) do not, and a filter must
# split the same way everywhere.
SPACES = " \t\n\r\f\v"
_BARE_VALUE = re.compile(r'[^ \t\n\r\f\v"=][^ \t\n\r\f\v"]*')
MAX_TERMS = 50


class FilterError(ValueError):
    """A malformed filter; the message gives the position and what was expected."""


@dataclass(frozen=True)
class TagTerm:
    key: str
    op: str  # "=", "!=" or "has"
    value: str | None = None


def parse_filter(text: str | None) -> list[TagTerm]:
    """Parse a filter string into terms; an empty or blank string means no condition."""
    terms: list[TagTerm] = []
    if not text:
        return terms
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in SPACES:
            pos += 1
        if pos >= end:
            return terms
        if len(terms) == MAX_TERMS:
            raise FilterError(
                f"The tag filter has more than {MAX_TERMS} terms (at character {pos + 1}); "
                f"use at most {MAX_TERMS}, e.g. by searching in steps."
            )
        key_match = _KEY.match(text, pos)
        if not key_match:
            raise _error(text, pos, "a tag name (letters, digits, '.', '_' or '-')")
        key, pos = key_match.group(), key_match.end()
        if text.startswith("!=", pos):
            op, pos = "!=", pos + 2
        elif text.startswith("=", pos):
            op, pos = "=", pos + 1
        elif pos >= end or text[pos] in SPACES:
            terms.append(TagTerm(key, "has"))
            continue
        else:
            raise _error(text, pos, f"'=', '!=' or a space after tag name {key!r}")
        value, pos = _parse_value(text, pos, key)
        terms.append(TagTerm(key, op, value))


def _parse_value(text: str, pos: int, key: str) -> tuple[str, int]:
    if text.startswith('"', pos):
        close = text.find('"', pos + 1)
        if close < 0:
            raise _error(text, pos, f"a closing '\"' for the value of {key!r}")
        after = close + 1
        if after < len(text) and text[after] not in SPACES:
            raise _error(text, after, "a space after the quoted value")
        return text[pos + 1 : close], after
    match = _BARE_VALUE.match(text, pos)
    if not match:
        raise _error(text, pos, f"a value for tag {key!r} (write {key}=VALUE, or {key} alone to require the tag)")
    return match.group(), match.end()


def _error(text: str, pos: int, expected: str) -> FilterError:
    found = repr(text[pos]) if pos < len(text) else "the end of the filter"
    return FilterError(
        f"Malformed tag filter {text!r} at character {pos + 1}: expected {expected}, found {found}. "
        "Syntax: terms separated by spaces, each NAME=VALUE, NAME!=VALUE or NAME alone."
    )
