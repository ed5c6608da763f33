"""A model's outputs as its signature names them: the output contract every flavor answers with.

The signature's outputs are the contract clients see, on every protocol and every deployment of
an endpoint. A model's own outputs may be named and typed otherwise: an ONNX conversion of a
scikit-learn classifier answers ``label`` and float32 ``probabilities`` where the original's
signature says ``predictions`` and float64 ``probabilities``. :class:`OutputMap` maps them once,
at load time, by name when the signature uses the model's names, else by position (the
conversion keeps the original's order), and casts each to the signature's dtype and rank.

Not here: encoding the outputs (``protocols.py``).
"""

from __future__ import annotations

import numpy as np

from .signature import TensorSpec


class OutputMap:
    """Turns the model's outputs, a list in its own order, into a dict by the contract's names."""

    def __init__(self, own: list[TensorSpec], contract: list[TensorSpec], model: str):
        own_names = [spec.name for spec in own]
        if not contract:
            self.plan = [(i, name, None, None) for i, name in enumerate(own_names)]
            self.specs = list(own)
            self._set_identity(own)
            return
        if all(spec.name in own_names for spec in contract):
            indexes = [own_names.index(spec.name) for spec in contract]
        elif len(contract) <= len(own):
            indexes = list(range(len(contract)))
        else:
            raise ValueError(
                f"The signature names outputs {[s.name for s in contract]}, but {model} has only "
                f"{own_names}: register it with a signature whose outputs it has."
            )
        self.plan = [
            (index, spec.name, spec.dtype, len(spec.shape) if spec.shape is not None else None)
            for index, spec in zip(indexes, contract)
        ]
        self.specs = list(contract)
        self._set_identity(own)

    def _set_identity(self, own: list[TensorSpec]) -> None:
        """Whether the plan changes nothing: every output of the model, in its order, tensors (so
        arrays) of the dtype and rank the contract says. Then a call only names them."""
        self.names = [name for _, name, _, _ in self.plan]
        self.identity = len(self.plan) == len(own) and all(
            index == position
            and spec.dtype is not None
            and (dtype is None or dtype == spec.dtype)
            and (rank is None or (spec.shape is not None and len(spec.shape) == rank))
            for position, ((index, _, dtype, rank), spec) in enumerate(zip(self.plan, own))
        )

    def uses(self, index: int) -> bool:
        return any(i == index for i, _, _, _ in self.plan)

    def __call__(self, values: list) -> dict[str, np.ndarray]:
        if self.identity:
            return dict(zip(self.names, values))
        outputs = {}
        for index, name, dtype, rank in self.plan:
            array = values[index]
            if not isinstance(array, np.ndarray):
                array = np.asarray(array)
            if dtype is not None and array.dtype != dtype and not (dtype.kind == "O" and array.dtype.kind in "OUS"):
                array = array.astype(dtype)
            if rank is not None and array.ndim == rank + 1 and array.shape[-1] == 1:
                array = array.reshape(array.shape[:-1])  # a regressor's [n, 1] where the contract says [n]
            outputs[name] = array
        return outputs
