"""Calls the Jupyter server makes to an endpoint on behalf of a browser: a request ("try it") and a
read of its metrics, summed per deployment.

A browser cannot reach an endpoint itself: it listens on the server's loopback, and a page from
the Jupyter server may not call another origin. So the panel asks the server, which calls the
endpoint with its key, as ``%invoke`` does from a kernel, and answers with what came back, how
long it took and which deployment served it.

Not here: what an endpoint does with a request (``deploy.host``), its metrics' names
(``serving.metrics``), parsing them (``deploy.series.counters``, which the charts over time share).
"""

from __future__ import annotations

import json
import time

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from .. import timestamps
from ..deploy import series
from ..errors import InvalidInput, Unavailable

INVOKE_TIMEOUT = 60.0
METRICS_TIMEOUT = 5.0
PATHS = ("/score", "/invocations")


def _headers(keys: dict) -> dict:
    headers = {"Content-Type": "application/json"}
    if keys.get("auth") == "key":
        headers["Authorization"] = f"Bearer {keys['primary']}"
    return headers


def _base(endpoint: dict) -> str:
    return f"http://127.0.0.1:{endpoint['port']}"


async def invoke(endpoint: dict, keys: dict, body: object, path: str = "/score", deployment: str | None = None) -> dict:
    """Send ``body`` (JSON) to the endpoint (to ``deployment`` when given, as Azure's header picks one);
    its answer, status, latency and serving deployment."""
    if path not in PATHS:
        raise InvalidInput(f"Invalid path {path!r}: expected one of {', '.join(PATHS)}.")
    started = time.perf_counter()
    try:
        response = await AsyncHTTPClient().fetch(
            _base(endpoint) + path,
            method="POST",
            body=json.dumps(body),
            headers={**_headers(keys), **({"azureml-model-deployment": deployment} if deployment else {})},
            request_timeout=INVOKE_TIMEOUT,
            raise_error=False,
        )
    except (OSError, HTTPClientError) as exc:
        raise Unavailable(
            f"Endpoint {endpoint['name']!r} did not answer ({exc}); is it running? %endpoints shows its state."
        ) from None
    latency = (time.perf_counter() - started) * 1000
    if response.code == 599:
        raise Unavailable(
            f"Endpoint {endpoint['name']!r} did not answer within {INVOKE_TIMEOUT:.0f} s ({response.error})."
        )
    text = response.body.decode(errors="replace") if response.body else ""
    try:
        answer = json.loads(text) if text else None
    except ValueError:
        answer = text
    return {
        "endpoint": endpoint["name"],
        "status": response.code,
        "answer": answer,
        "latency_ms": round(latency, 3),
        "deployment": response.headers.get("x-modelhub-deployment"),
    }


async def metrics(endpoint: dict, keys: dict) -> dict:
    """The endpoint's counters now, per deployment: scoring requests, errors and the latency
    histogram (cumulative, as Prometheus counts them; a client compares two reads for a rate)."""
    try:
        response = await AsyncHTTPClient().fetch(
            _base(endpoint) + "/metrics", headers=_headers(keys), request_timeout=METRICS_TIMEOUT, raise_error=False
        )
    except (OSError, HTTPClientError) as exc:
        raise Unavailable(f"Endpoint {endpoint['name']!r} did not answer ({exc}); is it running?") from None
    if response.code != 200:
        raise Unavailable(f"Endpoint {endpoint['name']!r} answered {response.code} for its metrics; is it running?")
    deployments = series.counters(response.body.decode(errors="replace"), [d["name"] for d in endpoint["deployments"]])
    return {"endpoint": endpoint["name"], "time": timestamps.now(), "deployments": deployments}
