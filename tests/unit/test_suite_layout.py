"""The test suite keeps the layout tests/helpers/__init__.py describes, read from the source with
``ast``: tests sit in area folders, share code through ``helpers`` and fixtures through conftest.py
files, and never import ``conftest`` or another test file (which would run that file's tests twice,
or make ruff see a fixture import as unused and its use as a redefinition)."""

from __future__ import annotations

import ast
from collections import Counter

from helpers.paths import TESTS

TEST_FILES = sorted(TESTS.rglob("test_*.py"))
PYTHON_FILES = sorted(p for p in TESTS.rglob("*.py") if "artifacts" not in p.parts)


def imported_modules(path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_no_file_imports_conftest_or_a_test_file():
    offenders = {
        str(p.relative_to(TESTS)): sorted(m for m in imported_modules(p) if m == "conftest" or m.startswith("test_"))
        for p in PYTHON_FILES
    }
    assert {p: m for p, m in offenders.items() if m} == {}, "move what is shared to helpers/ or a conftest.py"


def test_every_test_file_is_in_an_area_folder_under_a_unique_name():
    assert TEST_FILES, f"no test files under {TESTS}"
    assert [p.name for p in TEST_FILES if p.parent == TESTS] == [], "put it in the folder of its area"
    assert [p for p in TEST_FILES if p.parent.name == "helpers"] == [], "helpers/ holds no tests"
    # pytest's default (prepend) import mode imports test files by basename: two alike would clash
    assert [name for name, count in Counter(p.name for p in TEST_FILES).items() if count > 1] == []
