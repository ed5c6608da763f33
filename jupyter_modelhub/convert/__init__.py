"""Model conversion: a registered scikit-learn model -> a verified, timed ONNX version.

``service.ModelConverter`` is the entry point; ``onnx`` converts, ``equivalence`` compares,
``speed`` times, ``inputs`` maps a version's signature and example rows to each runtime's inputs.
Importing this package is cheap: skl2onnx, onnxruntime and scikit-learn load on first use.
"""

from .errors import NotEquivalent, UnsupportedModel
from .service import ModelConverter

__all__ = ["ModelConverter", "NotEquivalent", "UnsupportedModel"]
