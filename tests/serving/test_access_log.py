"""The runtime's access line for each request, on a real runtime process: its format holds for
every kind of answer (``requestlog.py`` formats lines from parts it keeps between requests: the
time stamp, what repeats from one request to the next, durations under 20 ms from a table).

Format: ``TIME [wN] IP "METHOD URI" STATUS DURATION [batch=N]``.
"""

from __future__ import annotations

import re
import time

import pytest

from helpers.serving import ServingProcess

SCRIPT = (
    "import json, time\n\n"
    "def init():\n"
    "    pass\n\n"
    "def run(raw_data):\n"
    "    wait = json.loads(raw_data).get('wait', 0)\n"
    "    time.sleep(wait)\n"
    "    return {'waited': wait}\n"
)
LINE = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z 127\.0\.0\.1 "(\w+ \S+)" (\d{3}) (\d+\.\d\d)ms$')


@pytest.fixture
def runtime(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "score.py").write_text(SCRIPT)
    runtime = ServingProcess(folder, "--entry-script", str(folder / "score.py"))
    yield runtime
    runtime.stop()


def test_every_answer_has_its_own_line_with_its_status_and_duration(runtime):
    started = time.time()
    asked = [
        ("POST /score", runtime.post("/score", json={"wait": 0}).status_code),
        ("POST /score?slow=1", runtime.post("/score?slow=1", json={"wait": 0.05}).status_code),
        ("POST /score", runtime.post("/score", data=b"{not json").status_code),
        ("GET /nowhere", runtime.get("/nowhere").status_code),
        ("POST /score", runtime.post("/score", json={"wait": 0}).status_code),
        ("GET /score", runtime.get("/score").status_code),
    ]
    assert [status for _, status in asked] == [200, 200, 500, 404, 200, 405]  # 500: run() raised on bad JSON

    lines = runtime.wait_for(
        lambda: (
            [line for line in runtime.stdout if '"' in line][-len(asked) :]
            if sum('"' in line for line in runtime.stdout) >= len(asked)
            else None
        ),
        10,
        "an access line per request",
    )
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m.group(2), int(m.group(3))) for m in parsed] == asked
    durations = [float(m.group(4)) for m in parsed]
    assert durations[1] >= 50  # the slow one: beyond the table of short durations, still in ms
    assert max(durations[i] for i in (0, 2, 3, 4, 5)) < durations[1]
    stamps = [time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone for m in parsed]
    assert all(started - 2 <= stamp <= time.time() + 1 for stamp in stamps)  # UTC, when they were answered
