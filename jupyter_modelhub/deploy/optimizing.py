"""``%deploy --optimize``: a scikit-learn version served through its ONNX form, only with a proof.

The ONNX form of a version is a version converted from it (``derived_from``, flavor ``onnx``)
whose equivalence report (its ``equivalence`` property, written by ``convert.service`` and
add-only, unlike the ``equivalence`` tag) passed. When one exists, a deploy with ``optimize``
serves it at once; when none does, the deploy becomes an operation that converts first (the
conversion unpickles the model, which only a worker process may do) and serves the conversion
only if its proof passes. Otherwise the original serves, and the deployment's record says why.

What a deployment records (its ``optimization`` setting, answered by ``GET endpoints/{name}``):
what serves, what it was optimized from, the version whose properties hold the proof, whether it
was converted by this deploy, the single-row speed-up the conversion measured, and the reason
when the original serves. A scikit-learn deployment made without ``optimize`` shows the proven
ONNX form it could use (``onnx_form``), so ``%deploy`` can say what it would gain.

Not here: converting (``convert.service``), deploying (``deploy.service``, ``deploy.manager``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidInput
from ..store.orm import Model, ModelVersion
from . import views


def passed(properties: dict | None) -> bool:
    report = (properties or {}).get("equivalence")
    return isinstance(report, dict) and report.get("passed") is True


def speedup(properties: dict | None) -> float | None:
    """The single-row speed-up of the ONNX model call the conversion measured, if it did."""
    value = ((properties or {}).get("speed") or {}).get("speedup", {}).get("latency")
    return round(float(value), 1) if isinstance(value, (int, float)) else None


def proof_url(ref: str) -> str:
    """The REST path (below the API's base) of the version whose ``properties.equivalence`` is the proof."""
    name, _, version = ref.rpartition(":")
    return f"models/{name}/versions/{version}"


def proven_forms(session: Session, refs: list[str]) -> dict[str, ModelVersion]:
    """ref -> the newest unarchived ONNX version converted from it whose proof passed (one query)."""
    if not refs:
        return {}
    rows = session.scalars(
        select(ModelVersion)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(
            ModelVersion.derived_from.in_(refs),
            ModelVersion.flavor == "onnx",
            ModelVersion.archived.is_(False),
        )
        .order_by(ModelVersion.id.desc())
    )
    found: dict[str, ModelVersion] = {}
    for row in rows:
        if row.derived_from not in found and passed(row.properties):
            found[row.derived_from] = row
    return found


def ref_of(row: ModelVersion) -> str:
    return f"{row.model.name}:{row.version}"


def check(version: dict, fields: dict) -> None:
    """Refuse (400, changing nothing) what cannot be optimized: flavors other than scikit-learn
    and ONNX, and deployments whose entry script loads the model itself."""
    if fields.get("entry_script") or fields.get("entry_script_path"):
        raise InvalidInput(
            "--optimize serves the model's ONNX form with the built-in scorer; an entry script loads the "
            "model itself. Deploy without --optimize, or without the entry script."
        )
    if version["flavor"] not in ("sklearn", "onnx"):
        raise InvalidInput(
            f"--optimize serves a scikit-learn version through its ONNX form; {version['ref']} is a "
            f"{version['flavor']!r} model. Deploy it without --optimize."
        )


def existing(registry, version: dict) -> dict | None:
    """The record of serving ``version`` optimized now (an ONNX version: as it is; a scikit-learn
    one: through its proven ONNX form), or None when a conversion must be made first."""
    if version["flavor"] == "onnx":
        origin = version["derived_from"]
        return record(
            version["ref"],
            origin,
            version["ref"] if passed(version["properties"]) else None,
            reason="already an ONNX model" + (f" (converted from {origin})" if origin else ""),
            speed=speedup(version["properties"]),
        )
    with registry.db.read() as session:
        form = proven_forms(session, [version["ref"]]).get(version["ref"])
        if form is None:
            return None
        ref = ref_of(form)
        return record(ref, version["ref"], ref, speed=speedup(form.properties))


def record(
    serves: str,
    optimized_from: str | None,
    proof: str | None,
    *,
    converted: bool = False,
    reason: str = "",
    speed: float | None = None,
) -> dict:
    """What a deployment stores of its optimization (``views.Optimization``'s fields)."""
    return {
        "serves": serves,
        "optimized_from": optimized_from,
        "proof": proof,
        "proof_url": proof_url(proof) if proof else None,
        "converted": converted,
        "reason": reason,
        "speedup": speed,
    }


def convert_then_choose(convert, ref: str, user: str, progress) -> dict:
    """In the deploy operation's worker: convert ``ref`` (registered only when its proof passes)
    and say what serves. A conversion that fails or does not match serves the original, with why."""
    from ..convert.errors import NotEquivalent, UnsupportedModel

    progress.step(f"converting {ref} to ONNX (--optimize)", 0, 4)
    try:
        result = convert(ref, user=user, progress=progress)
    except NotEquivalent as exc:
        return record(ref, None, None, reason=str(exc))
    except (UnsupportedModel, InvalidInput) as exc:
        return record(ref, None, None, reason=f"no ONNX form could be made: {exc}")
    version = result["version"]
    return record(version["ref"], ref, version["ref"], converted=True, speed=speedup(version["properties"]))


def hints(session: Session, deployments: list) -> dict[str, views.OnnxForm]:
    """deployment name -> the proven ONNX form its scikit-learn version could serve through
    (deployments not optimized, or whose optimization fell back), for ``%deploy`` to mention."""
    candidates = {
        d.name: f"{d.version.model.name}:{d.version.version}"
        for d in deployments
        if d.version.flavor == "sklearn" and not d.settings.get("entry_script")
    }
    forms = proven_forms(session, sorted(set(candidates.values())))
    return {
        name: views.OnnxForm(version=ref_of(forms[ref]), speedup=speedup(forms[ref].properties),
                             proof_url=proof_url(ref_of(forms[ref])))
        for name, ref in candidates.items()
        if ref in forms
    }  # fmt: skip
