"""Monitoring's fixtures: the REST API of an in-process server (``api``), and an IPython shell
with the extension loaded on the module's server process (``shell``), as a notebook has it."""

from __future__ import annotations

import json

import pytest

from helpers.kernels import TRAIN
from helpers.shell import Shell


@pytest.fixture
def api(jp_fetch):
    """Call the REST API of the in-process server; returns (status, JSON body) without raising on 4xx."""

    async def call(method: str, path: str, body=None, raw: bytes | None = None, headers=None, **params):
        kwargs = {"method": method, "raise_error": False, "headers": headers or {}}
        if raw is not None:
            kwargs["body"] = raw
        elif body is not None:
            kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        elif method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = b""
        response = await jp_fetch("modelhub", "api", *path.split("/"), params=params, **kwargs)
        text = response.body.decode() if response.body else ""
        return response.code, (json.loads(text) if text else None)

    return call


@pytest.fixture(scope="module")
def shell(hub_server):
    s = Shell(hub_server)
    started = s.run("%load_ext jupyter_modelhub\n" + TRAIN)
    assert not started["error"], started
    yield s
    s.close()
