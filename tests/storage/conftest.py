"""Fixtures of the bucket tests: a bucket per test on the session's S3 endpoint (``s3_endpoint``,
in tests/conftest.py), and a moto server a test may stop."""

from __future__ import annotations

import pytest

from helpers.components import require
from helpers.s3 import Bucket, MotoServer, configured_endpoint, s3_available


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
