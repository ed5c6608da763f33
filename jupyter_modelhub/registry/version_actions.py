"""What can be done with a model version now, and why not: the ``actions`` of its REST representation.

Clients (the JupyterLab panel above all) show an action disabled with the reason given here
instead of guessing the rules themselves, so the rules live in one place, next to the registry
that enforces them. The reasons repeat what the refusing route would answer (a version used by
an endpoint cannot be deleted; only scikit-learn versions convert to ONNX) and add what a click
in a panel cannot supply (a custom model needs an entry script, which a notebook gives).

Not here: the refusals themselves (``registry.service``, ``convert.service``, ``deploy.manager``).
"""

from __future__ import annotations

from ..flavors import BUILTIN_FLAVORS

ACTIONS = ("deploy", "convert", "package", "alias", "tag", "archive", "restore", "download", "delete")


def _allowed() -> dict:
    return {"allowed": True, "reason": ""}


def _refused(reason: str) -> dict:
    return {"allowed": False, "reason": reason}


def version_actions(version, used_by: list[str], derived: list[tuple[str, str]]) -> dict:
    """The actions of one version (a ``views.Version``), given what uses it and what derives from it."""
    ref, flavor = version.ref, version.flavor
    users = ", ".join(used_by)
    in_use = f"used by {users}; move or remove those first" if used_by else ""
    converted = [child for child, child_flavor in derived if child_flavor == "onnx"]
    converting = [who for who in used_by if who.startswith("operation ") and "(convert," in who]

    if flavor == "onnx":
        origin = f" (converted from {version.derived_from})" if version.derived_from else ""
        convert = _refused(f"already an ONNX model{origin}")
    elif flavor != "sklearn":
        convert = _refused(f"only scikit-learn models convert to ONNX; {ref} is {flavor!r}")
    elif converted:
        convert = _refused(f"already converted: {', '.join(converted)}")
    elif converting:
        convert = _refused(f"being converted by {converting[0]}")
    else:
        convert = _allowed()

    scorer = (
        _allowed()
        if flavor in BUILTIN_FLAVORS
        else _refused(
            f"a {flavor!r} model needs an entry script: from a notebook, %deploy NAME {ref} --entry-script score.py"
        )
    )
    package = (
        _allowed()
        if flavor in BUILTIN_FLAVORS
        else _refused(
            f"a {flavor!r} model needs an entry script: from a notebook, %package {ref} --entry-script score.py"
        )
    )
    archived = version.archived
    return {
        "deploy": scorer,
        "convert": convert,
        "package": package,
        "alias": _allowed(),
        "tag": _allowed(),
        "archive": _refused("already archived") if archived else (_refused(in_use) if used_by else _allowed()),
        "restore": _allowed() if archived else _refused("not archived"),
        "download": _allowed() if version.files else _refused("it has no files"),
        "delete": _refused(in_use) if used_by else _allowed(),
    }
