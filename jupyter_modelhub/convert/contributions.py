"""What conversion adds to the whole (``jupyter_modelhub.contributions``): the ``convert`` kind."""

from __future__ import annotations

from ..contributions import Contribution, OperationKind
from ..progress import Progress


def run_convert(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    """A registered scikit-learn version to a verified ONNX version."""
    options = dict(inputs)
    ref, user = options.pop("ref"), options.pop("user", "")
    result = services.converter.convert(ref, user=user, progress=progress, **options)
    version = result["version"]
    return result, {"type": "version", "model": version["name"], "version": version["version"], "ref": version["ref"]}


CONVERT = OperationKind("convert", run=run_convert)
CONTRIBUTION = Contribution(kinds=(CONVERT,))
