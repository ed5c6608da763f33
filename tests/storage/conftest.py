"""Fixtures of the bucket tests: an S3 endpoint for the session (moto's server, or the store
``MODELHUB_TEST_S3_URL`` names), a bucket per test, and a moto server a test may stop."""

from __future__ import annotations

import pytest

from helpers.components import require
from helpers.s3 import TEST_KEYS, Bucket, MotoServer, configured_endpoint, s3_available


@pytest.fixture(scope="session")
def s3_endpoint():
    available, reason = s3_available()
    require(available, reason)
    configured = configured_endpoint()
    if configured is not None:
        yield configured
        return
    server = MotoServer()
    server.start()
    try:
        yield server.url, dict(TEST_KEYS)
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint):
    url, keys = s3_endpoint
    created = Bucket(url, keys)
    yield created
    if configured_endpoint() is not None:  # a real store keeps what it holds: leave it as found
        created.empty()
        created.client().delete_bucket(Bucket=created.name)


@pytest.fixture
def own_moto():
    """A moto server of one test, which it may stop and start (an outage)."""
    available, reason = s3_available()
    require(available, reason)
    server = MotoServer()
    server.start()
    yield server
    server.stop()
