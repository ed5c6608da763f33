"""The package's import graph keeps the shape DESIGN.md gives it, read from the source with ``ast``:

- ``operations/`` imports no service package: each service declares its operation kinds and the
  composition root (``services.py``) collects them, so operations never wire services twice;
- ``serving/`` imports nothing of the package outside itself: it ships alone into images and
  processes;
- only ``api/`` and the server extension (``app.py``) import ``api/``: services never reach
  back into the REST layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupyter_modelhub

PACKAGE = Path(jupyter_modelhub.__file__).parent
SERVICE_PACKAGES = ("convert", "packaging", "deploy", "batch", "registry")


def imports() -> dict[str, set[str]]:
    """Module (dotted, relative to the package) -> the package's modules it imports."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        module = ".".join(parts)
        where = parts if path.name == "__init__.py" else parts[:-1]  # the package a relative import starts in
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = where[: len(where) - (node.level - 1)] if node.level > 1 else list(where)
                    target = ".".join(base + ([node.module] if node.module else []))
                elif (node.module or "").startswith("jupyter_modelhub"):
                    target = node.module.removeprefix("jupyter_modelhub").lstrip(".")
                else:
                    continue
                found.add(target)
                found.update(f"{target}.{alias.name}".lstrip(".") for alias in node.names)  # from . import api
            elif isinstance(node, ast.Import):
                found.update(
                    alias.name.removeprefix("jupyter_modelhub").lstrip(".")
                    for alias in node.names
                    if alias.name.startswith("jupyter_modelhub")
                )
        graph[module] = found
    return graph


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_graph_is_read():
    graph = imports()
    assert "progress" in graph["deploy.manager"], "the reader misses relative imports"
    assert "services" in graph["app"]


def test_operations_import_no_service_package():
    wrong = {
        module: sorted(t for t in targets if any(within(t, p) for p in SERVICE_PACKAGES))
        for module, targets in imports().items()
        if within(module, "operations")
    }
    assert not {m: t for m, t in wrong.items() if t}, "operations/ must not import a service package"


def test_serving_imports_nothing_outside_itself():
    wrong = {
        module: sorted(t for t in targets if t and not within(t, "serving"))
        for module, targets in imports().items()
        if within(module, "serving")
    }
    assert not {m: t for m, t in wrong.items() if t}, "serving/ ships alone: it imports only serving/"


def test_only_the_rest_layer_and_the_extension_import_it():
    wrong = {
        module: sorted(t for t in targets if within(t, "api"))
        for module, targets in imports().items()
        if not within(module, "api") and module != "app"
    }
    assert not {m: t for m, t in wrong.items() if t}, "only api/ and app.py import api/"
