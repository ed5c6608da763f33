"""An endpoint's contract: the inputs and outputs its clients rely on, whichever deployment answers.

A version's contract is its signature as the Open Inference Protocol shows it: each input and
output with its name, datatype (FP64, INT64, BYTES...) and shape, in order. An endpoint's is the
contract of its primary deployment, the one with the most traffic (``host.primary``). A deploy
that would put a version with another contract behind the endpoint is refused with the
differences (a 409), unless the caller says the change is meant (``allow_contract_change``):
that is what keeps a canary from breaking clients at random.

What a signature does not declare (a version registered without a sample has no outputs) cannot
be compared, and is not. Not here: mapping a model's outputs to its contract when it serves
(``serving.outputs``).
"""

from __future__ import annotations

from ..serving.signature import Signature


def of(signature: dict | None) -> dict[str, list[tuple[str, str, list[int] | None]]]:
    """``{"inputs": [(name, datatype, shape)], "outputs": [...]}``; an empty list where undeclared
    (``"?"`` for a datatype, None for a shape, where a signature leaves them open)."""
    signature = signature or {}

    def described(entries: list | None) -> list[tuple[str, str, list[int] | None]]:
        if not entries:
            return []
        specs = Signature.from_json({"inputs": entries}).inputs  # normalised as the runtime reads them
        return [
            (s.name, s.datatype if s.dtype is not None else "?", list(s.shape) if s.shape is not None else None)
            for s in specs
        ]

    return {"inputs": described(signature.get("inputs")), "outputs": described(signature.get("outputs"))}


def differences(live: dict | None, new: dict | None) -> list[str]:
    """What a client of ``live`` would find changed with ``new``, one sentence per difference."""
    was, now, found = of(live), of(new), []
    for part, word in (("inputs", "input"), ("outputs", "output")):
        before, after = was[part], now[part]
        if not before or not after:
            continue
        old, new_ = {n: (d, s) for n, d, s in before}, {n: (d, s) for n, d, s in after}
        found += [f"{word} {n!r} ({_tensor(*old[n])}) is gone" for n in old if n not in new_]
        found += [f"{word} {n!r} ({_tensor(*new_[n])}) is new" for n in new_ if n not in old]
        found += [
            f"{word} {n!r} changes from {_tensor(*old[n])} to {_tensor(*new_[n])}"
            for n in old
            if n in new_ and not _same(old[n], new_[n])
        ]
        common_before = [n for n, _, _ in before if n in new_]
        common_after = [n for n, _, _ in after if n in old]
        if common_before != common_after:
            found.append(f"{part} are reordered from {common_before} to {common_after}")
    return found


def refusal(
    endpoint: str,
    deployment: str,
    new_ref: str,
    new_signature: dict | None,
    primary: str,
    live_ref: str,
    live_signature: dict | None,
) -> str | None:
    """The 409 message for deploying ``new_ref`` as ``endpoint/deployment``, or None if it fits."""
    found = differences(live_signature, new_signature)
    if not found:
        return None
    return (
        f"Deploying {new_ref} as {endpoint}/{deployment} would change what {endpoint} answers: its clients "
        f"get the contract of {live_ref} (deployment {primary}), and {new_ref} differs: "
        + "; ".join(found)
        + ". Deploy it to another endpoint, or allow the change with --allow-contract-change "
        '(REST: "allow_contract_change": true).'
    )


def _same(a: tuple[str, list[int] | None], b: tuple[str, list[int] | None]) -> bool:
    (dtype_a, shape_a), (dtype_b, shape_b) = a, b
    dtypes = "?" in (dtype_a, dtype_b) or dtype_a == dtype_b
    shapes = shape_a is None or shape_b is None or shape_a == shape_b
    return dtypes and shapes


def _tensor(datatype: str, shape: list[int] | None) -> str:
    return f"{datatype if datatype != '?' else 'any type'} {shape if shape is not None else 'any shape'}"
