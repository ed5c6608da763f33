"""A log follower (``?follow=true``) whose client went away stops at once, instead of reading the
log and the database four times a second until its timeout (an hour by default)."""

from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
def jp_server_config(jp_server_config):
    # conversions stay queued (active, so a follower of their log keeps following): no worker runs
    return {**jp_server_config, "OperationRunner": {"max_parallel": {"convert": 0}}}


async def eventually(check, timeout: float, what: str):
    """Poll ``check`` without blocking the event loop the in-process server runs on."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


async def test_a_follower_whose_client_disconnected_stops(jp_serverapp, http_server_client, jp_http_port, jp_base_url):
    app = next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_modelhub"]))
    operation = app.operations.store.create("convert", "churn:1", {"ref": "churn:1"})
    followers = jp_serverapp.web_app.settings["modelhub_log_followers"]
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    writer.write(
        (
            f"GET {jp_base_url}modelhub/api/operations/{operation['id']}/log?follow=true&tail=0 HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{jp_http_port}\r\n"
            f"Authorization: token {jp_serverapp.identity_provider.token}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    assert head.startswith(b"HTTP/1.1 200"), head
    await eventually(lambda: len(followers) == 1, 10, "the server to follow the log")
    writer.close()  # the user pressed Ctrl-C, closed the panel or the notebook
    await writer.wait_closed()
    await eventually(lambda: not followers, 10, "the follower to stop after its client went away")
