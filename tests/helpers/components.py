"""A real component (PostgreSQL, a Docker engine, Chromium...) missing on a developer's machine
skips its tests with the reason; in CI (``CI`` set, where .ci/run provides everything) the same
absence fails them."""

from __future__ import annotations

import os

import pytest

IN_CI = bool(os.environ.get("CI"))


def require(condition: bool, reason: str) -> None:
    """Skip when a real component is missing; fail instead in CI."""
    if not condition:
        if IN_CI:
            pytest.fail(f"missing in CI: {reason}")
        pytest.skip(reason)
