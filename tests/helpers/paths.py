"""The checkout's folders the tests read or write, found from this file so that a test file's own
folder (tests/<area>/) does not matter."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
NOTEBOOKS = REPO / "notebooks"
BENCH = REPO / "bench"
LABEXTENSION_SOURCE = REPO / "labextension"
LABEXTENSION_BUILT = REPO / "jupyter_modelhub" / "labextension"
# the README shows these screenshots: the path is part of what the browser tests promise
SCREENSHOTS = TESTS / "artifacts" / "screenshots"
