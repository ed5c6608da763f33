"""The conversion magic: ``%convert``. A conversion is an operation: the magic shows its
progress and then the proof (equivalence and speed), or returns at once with ``--no-wait``."""

from __future__ import annotations

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..display import Conversion
from .base import ModelHubMagics


@magics_class
class ConvertMagics(ModelHubMagics):
    """Convert registered models to ONNX, with proof."""

    @magic_arguments()
    @argument("ref", help="the scikit-learn version to convert: NAME:VERSION, NAME@ALIAS or NAME")
    @argument("--to", default="onnx", choices=["onnx"], help="target format")
    @argument("--sample", help="expression giving more rows to check equivalence on (e.g. X_test[:500])")
    @argument("--opset", type=int, help="ONNX opset (default: the newest skl2onnx has tested)")
    @argument("--dtype", choices=["float32", "float64"], help="float type of the ONNX inputs (default float32)")
    @argument("--tolerance", type=float, help="allowed difference (default 1e-4 for float32, 1e-6 for float64)")
    @argument("--force", action="store_true", help="register even if not equivalent (tagged equivalence=failed)")
    @argument("--no-wait", action="store_true", help="return the operation at once instead of waiting for it")
    @line_magic
    def convert(self, line: str):
        """Convert to ONNX with proof: ``%convert churn:1 --to onnx --sample X_test[:500]``.

        The ONNX model is checked against the original (labels, probabilities, predictions) and
        timed; it is registered as a new version derived from the original only if equivalent.
        The work runs on the server as an operation; a progress bar shows it (interrupting stops
        waiting, not the conversion).
        """
        args = self._parse(self.convert, line)
        sample = self._eval(args.sample, "--sample") if args.sample else None
        ref = str(self._ref(args.ref))
        operation = self._call(
            self.hub.convert,
            ref,
            to=args.to,
            sample=sample,
            opset=args.opset,
            dtype=args.dtype,
            tolerance=args.tolerance,
            force=args.force,
            wait=False,
        )
        if args.no_wait:
            return operation
        result = self._wait(operation, f"convert {ref}")
        return Conversion(result) if result is not operation else operation
