"""Errors of the conversion service, subclasses of the registry's ``InvalidInput`` (HTTP 400).

They carry a ``reason`` of their own so a client can tell "this model cannot be converted" from
"the conversion was made but does not compute the same thing", and the second carries the
equivalence report so a notebook can show which rows and outputs differ.
"""

from __future__ import annotations

from ..errors import InvalidInput


class UnsupportedModel(InvalidInput):
    """The model (or one of its steps) has no ONNX converter, or its flavor cannot be converted."""

    reason = "unsupported"


class NotEquivalent(InvalidInput):
    """The ONNX model's outputs differ from the original's by more than the tolerance."""

    reason = "not_equivalent"

    def __init__(self, message: str, report: dict):
        super().__init__(message)
        self.report = report
