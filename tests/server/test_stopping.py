"""What a client gets while the server stops: a 503 that says so, never a 500."""

from __future__ import annotations

import json


async def test_a_request_while_the_server_stops_is_a_503(jp_serverapp, jp_fetch):
    app = next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_modelhub"]))
    await app.stop_extension()  # what the server does first when it is asked to stop
    response = await jp_fetch("modelhub", "api", "models", raise_error=False)
    body = json.loads(response.body)
    assert response.code == 503, body
    assert body["reason"] == "unavailable" and "stopping" in body["message"]
