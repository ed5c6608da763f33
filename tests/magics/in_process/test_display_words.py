"""What the magics print reads right (issue 23, defect 12), in an in-process IPython shell on a
real Jupyter server: a status is said once ("queued", never "queued queued"), the elapsed time
of a progress bar never goes backwards, one thing is "1 file" (not "1 files"), and microseconds
are "µs"."""

from __future__ import annotations

import re


def test_a_progress_bar_says_its_status_once_and_its_time_goes_forward(shell):
    assert not shell.run("%register words clf --sample X[:5]")["error"]
    submitted = shell.run("op = %convert words:1 --no-wait\nop")
    assert not submitted["error"], submitted
    first_line = submitted["text"].splitlines()[0]
    assert first_line.count("queued") <= 1 and "running  queued" not in first_line, first_line

    out = shell.run("%convert words:1 --tolerance 1e-3")
    assert not out["error"], out
    bars = [line for line in out["text"].splitlines() if line.startswith("convert words:1 [")]
    assert bars and "succeeded" in bars[-1], out["text"]
    assert not any("queued queued" in bar or ": queued" in bar for bar in bars), bars
    times = [float(found.group(1)) for bar in bars if (found := re.search(r" (\d+\.\d) s$", bar))]
    assert times == sorted(times), f"the elapsed time went backwards: {bars}"
    assert not re.search(r"\d us\b", out["text"]) and re.search(r"\d (µs|ms)\b", out["text"]), out["text"]


def test_counts_of_one_are_singular(shell, tmp_path):
    assert not shell.run("%register single clf")["error"]
    model = shell.run("%model single")
    assert model["text"].startswith("single: 1 version\n"), model["text"]
    version = shell.run("%model single:1")["text"]
    assert "1 file," in version and "1 files" not in version, version
    downloaded = shell.run(f"%download single:1 --to {tmp_path / 'single'}")["text"]
    assert "Downloaded 1 file of single:1" in downloaded, downloaded
