"""The soak (``make soak``; not in ``make test``): mixed valid and malformed traffic at about 80%
of measured capacity against an endpoint and the REST API for ``MODELHUB_SOAK_SECONDS`` (600 by
default). It must see no 5xx, and the resident memory of the scoring process, the endpoint host
and the Jupyter server must grow less than 10% after the first minute. Figures are printed.

wrk is the load generator (Debian's package): a Lua script picks, per request, a valid body or one
of several malformed ones, counts 5xx answers, and paces each connection to the target rate.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.components import require
from helpers.servers import ServerProcess

SECONDS = int(os.environ.get("MODELHUB_SOAK_SECONDS", "600"))
pytestmark = [pytest.mark.soak, pytest.mark.timeout(SECONDS + 300)]
CONNECTIONS = 4
X, y = make_classification(200, 20, random_state=0)

SCRIPT = """
local bodies = { %(bodies)s }
local paths = { %(paths)s }
local threads = {}
local pause = %(pause)s
function setup(thread) table.insert(threads, thread) end
function init(args) fivexx = 0; math.randomseed(os.time()) end
function request()
  return wrk.format(%(method)s, paths[math.random(#paths)], nil, bodies[math.random(#bodies)])
end
function response(status, headers, body) if status >= 500 then fivexx = fivexx + 1 end end
function delay() return pause end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("fivexx") end
  io.write(string.format("FIVEXX %%d\\n", total))
end
"""


def lua_strings(items: list[str]) -> str:
    return ", ".join(json.dumps(item) for item in items)


def wrk(
    url: str, seconds: int, bodies: list[str], paths: list[str], method: str, headers: dict, pause_ms: int, work: Path
) -> dict:
    script = work / f"soak-{abs(hash((url, method)))}.lua"
    script.write_text(
        SCRIPT
        % {"bodies": lua_strings(bodies), "paths": lua_strings(paths), "method": json.dumps(method), "pause": pause_ms}
    )
    args = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script)]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    run = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 60)
    out = run.stdout
    assert "FIVEXX" in out, f"wrk did not run the script: {run.stdout}{run.stderr}"
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "requests": total, "output": out}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def five_xx_from_log(server: ServerProcess) -> int:
    return len(re.findall(r"\] 5\d\d (GET|POST|PUT|PATCH|DELETE) /modelhub", Path(server.log.name).read_text()))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require(shutil.which("wrk") is not None, "wrk is needed for the soak (apt-get install wrk)")
    s = ServerProcess(tmp_path_factory.mktemp("soak"))
    s.client().register("soak", LogisticRegression().fit(X, y), sample=X[:2])
    yield s
    s.stop()


def test_soak_mixed_traffic_no_5xx_and_flat_memory(server, tmp_path):
    hub = server.client()
    endpoint = hub.deploy("soak-ep", "soak:1")
    status = json.loads((server.root / "endpoints" / "soak-ep" / "status.json").read_text())
    pids = {
        "scoring process": status["deployments"]["blue"]["pid"],
        "endpoint host": status["pid"],
        "Jupyter server": server.process.pid,
    }
    good = json.dumps({"data": X[:1].tolist()})
    score_bodies = [
        good,
        good,
        good,
        "{",
        '{"data": "nope"}',
        '{"data": [[1, 2]]}',
        "[]",
        '{"data": [[1e999]]}',
        '{"data": null}',
        '{"x":' * 80,
    ]  # ASCII only: wrk's Lua has no \u escapes
    score_paths = ["/score", "/score", "/invocations", "/v2/models/soak/infer", "/nope"]
    api_paths = [
        "/modelhub/api/models",
        "/modelhub/api/models/soak/versions/1",
        "/modelhub/api/models/soak/versions/x",
        "/modelhub/api/versions?page=0",
        "/modelhub/api/models?filter=a%3D",
        "/modelhub/api/events?after=-1",
        "/modelhub/api/operations/999999",
        "/modelhub/api/models/%00",
    ]
    key = {"Authorization": f"Bearer {endpoint.key}", "Content-Type": "application/json"}
    token = {"Authorization": f"token {server.token}"}

    capacity = wrk(endpoint["url"], 5, [good], ["/score"], "POST", key, 0, tmp_path)["rps"]
    # 80% of capacity: at capacity a request takes CONNECTIONS / capacity seconds (Little's law); a
    # pause of a quarter of that after each one makes CONNECTIONS connections send 0.8 x capacity
    pause = max(1, round(1000 * 0.25 * CONNECTIONS / capacity))
    samples: list[dict] = []
    stop = threading.Event()

    def sample_memory():
        while not stop.is_set():
            samples.append({"t": time.monotonic(), **{name: rss_mb(pid) for name, pid in pids.items()}})
            stop.wait(5)

    started = time.monotonic()
    watcher = threading.Thread(target=sample_memory, daemon=True)
    watcher.start()
    results = {}
    api_thread = threading.Thread(
        target=lambda: results.setdefault(
            "api", wrk(server.url.rstrip("/"), SECONDS, [""], api_paths, "GET", token, 20, tmp_path)
        ),
        daemon=True,
    )
    api_thread.start()
    results["endpoint"] = wrk(endpoint["url"], SECONDS, score_bodies, score_paths, "POST", key, pause, tmp_path)
    api_thread.join(SECONDS + 60)
    stop.set()
    watcher.join(10)
    hub.undeploy("soak-ep")

    after_minute = [s for s in samples if s["t"] - started >= min(60, SECONDS / 3)]
    first, last = after_minute[0], after_minute[-1]
    growth = {name: (last[name] - first[name]) / first[name] for name in pids}
    endpoint_5xx, api_5xx = (
        int(re.search(r"FIVEXX (\d+)", results[k]["output"]).group(1)) for k in ("endpoint", "api")
    )
    print(
        f"\nsoak {SECONDS} s: endpoint capacity {capacity:.0f} req/s, ran at {results['endpoint']['rps']:.0f} req/s "
        f"({results['endpoint']['requests']} requests, mixed valid/malformed), REST API "
        f"{results['api']['rps']:.0f} req/s ({results['api']['requests']} requests)"
    )
    for name in pids:
        print(
            f"  {name:<16} RSS {first[name]:6.1f} MB -> {last[name]:6.1f} MB after the first minute "
            f"({growth[name]:+.1%})"
        )
    print(f"  5xx: endpoint {endpoint_5xx}, REST API {api_5xx} (server log: {five_xx_from_log(server)})")
    assert endpoint_5xx == 0 and api_5xx == 0 and five_xx_from_log(server) == 0
    assert all(g < 0.10 for g in growth.values()), growth
