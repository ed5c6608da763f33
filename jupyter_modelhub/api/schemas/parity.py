"""Parity: what an endpoint or image answers for a version's input example, and with which Python
and packages, to compare with the notebook it was registered from.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field

from .common import MAX_NAME, Strict, text


class ParityRequest(Strict):
    """target: an endpoint name, or an image's number or tag"""

    target: text(MAX_NAME)


class ParityProbe(BaseModel):
    target: str
    kind: str = Field(description="endpoint or image")
    ref: str
    flavor: str
    request: dict = Field(description="what was sent to /score: the version's input example")
    status: int
    answer: Any
    python: str
    packages: dict[str, str]
    entry_script: Optional[dict] = None
