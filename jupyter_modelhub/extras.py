"""The optional pieces of an install, and the one sentence that says which extra brings one.

Every feature's packages are dependencies of ``jupyter_modelhub``; only what few users need is
an extra: ``postgres`` (a shared registry's driver), ``kubernetes`` (applying manifests to a
cluster) and ``s3`` (versions in a bucket: ``c.ModelHubApp.artifact_uri = "s3://..."``). Where such a piece is missing, the request that needs it is refused before anything
starts, naming the extra to install, instead of failing after the fact with a bare
``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import InvalidInput

EXTRAS = {"postgres": "psycopg", "kubernetes": "kubernetes", "s3": "s3fs"}


def missing_extra(extra: str, what: str) -> str:
    """The sentence for ``what`` needing the optional package of ``extra``."""
    return (
        f"{what} needs the {EXTRAS[extra]} package, which is not installed here: "
        f"pip install 'jupyter_modelhub[{extra}]' (then restart the server)."
    )


def require_extra(extra: str, what: str) -> ModuleType:
    """Import the optional package of ``extra``, or refuse ``what`` (400) naming the extra."""
    try:
        return importlib.import_module(EXTRAS[extra])
    except ImportError:
        raise InvalidInput(missing_extra(extra, what)) from None
