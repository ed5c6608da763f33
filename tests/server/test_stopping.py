"""What a client gets while the server stops: a 503 that says so, never a 500."""

from __future__ import annotations

import asyncio
import json
import threading


async def test_a_request_while_the_server_stops_is_a_503(jp_serverapp, jp_fetch):
    app = next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_modelhub"]))
    await app.stop_extension()  # what the server does first when it is asked to stop
    response = await jp_fetch("modelhub", "api", "models", raise_error=False)
    body = json.loads(response.body)
    assert response.code == 503, body
    assert body["reason"] == "unavailable" and "stopping" in body["message"]


async def test_a_request_waiting_for_a_pool_thread_when_the_server_stops_is_a_503(jp_serverapp, jp_fetch):
    app = next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_modelhub"]))
    busy, release = [], threading.Event()
    for _ in range(app.worker_threads):  # every pool thread busy: the next request's work waits in the queue
        busy.append(app.executor.submit(release.wait, 30))
    waiting = asyncio.ensure_future(jp_fetch("modelhub", "api", "models", raise_error=False))
    while app.executor._work_queue.qsize() == 0:  # the request's work is queued behind them
        await asyncio.sleep(0.01)
    app.executor.shutdown(wait=False, cancel_futures=True)  # what stop_extension does last
    release.set()
    response = await asyncio.wait_for(waiting, 30)
    body = json.loads(response.body)
    assert response.code == 503, body
    assert body["reason"] == "unavailable" and "stopping" in body["message"]
