"""Conversions of a version (to ONNX): the request, and the report a finished one carries.

Not here: the operation that runs it (``operations``).
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field

from ...convert.onnx import MAX_OPSET, MIN_OPSET
from .common import Int, JSONValue, Strict
from .registry import Version


class ConvertRequest(Strict):
    """the conversion: to (onnx), sample rows, opset, dtype, tolerance, force"""

    to: Literal["onnx"] = "onnx"
    sample: JSONValue = Field(None, description="extra rows to check equivalence on: a list of rows or {columns, data}")
    opset: Optional[Int] = Field(
        None, ge=MIN_OPSET, le=MAX_OPSET, description="default: the newest opset the server's skl2onnx has tested"
    )
    dtype: Optional[Literal["float32", "float64"]] = Field(None, description="float32 by default")
    tolerance: Optional[float] = Field(None, ge=0)
    force: bool = Field(False, description="register even if not equivalent (tagged equivalence=failed)")


class Conversion(BaseModel):
    version: Version
    equivalence: dict
    speed: dict
    conversion: dict
