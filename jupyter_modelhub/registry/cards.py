"""Model cards: a version described in the Hugging Face card layout (YAML front matter, then
Model details, Uses, Bias risks and limitations, How to get started, Training details,
Evaluation, Environmental impact, Technical specifications, Authors), made from what the
registry knows, in Markdown and HTML.

Facts come from the version's row and properties only: its flavor, files and hash, who
registered it and when, source notebook, lineage (``derived_from``), signature and input
example, metrics (the ``metrics`` property, and any numeric property), reports (conversion
``equivalence`` and ``speed``, ``parity``, ``evaluation``), the monitoring ``reference`` profile
(summarised), the environment of the newest image built for it (its lock), the ``pickle_scan``.
A fact the registry does not hold is written "unknown", never guessed.

Some sections are people's to write (``EDITABLE``: intended use, out-of-scope use, limitations,
recommendations). ``save`` takes the card back as Markdown, edited, keeps those sections (a row
of ``model_cards``), and every regeneration puts them back. A version with none of its own shows
the newest earlier version's, saying so, since what a model is for seldom changes per version.

Not here: permissions (the REST handlers check read to see, write to save).
"""

from __future__ import annotations

import json
import re
from typing import Optional

import yaml
from markdown_it import MarkdownIt
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidInput
from ..refs import ModelRef
from ..store.orm import Image, ModelVersion, utcnow
from ..store.orm import ModelCard as CardRow
from ..timestamps import iso
from ..views import View
from . import views

CARD_LIMIT = 256 * 1024  # characters of Markdown a card may be sent back with
SECTION_LIMIT = 32 * 1024
UNKNOWN = "unknown"
# heading -> key; the headings are the Hugging Face template's
EDITABLE = {
    "Intended use": "intended_use",
    "Out-of-scope use": "out_of_scope_use",
    "Limitations": "limitations",
    "Recommendations": "recommendations",
}
PROMPT = "unknown (edit this section and save the card: %card NAME:VERSION --edit FILE)"
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_RENDERER = MarkdownIt("commonmark", {"html": False}).enable("table")  # raw HTML in a card is shown, never run


class ModelCard(View):
    ref: str
    markdown: str
    html: str = Field(description="the Markdown rendered (its raw HTML escaped)")
    sections: dict[str, str] = Field(description="the written sections kept across regenerations, by key")
    inherited_from: Optional[str] = Field(description="the version whose written sections are shown, if not this one")
    unknown: list[str] = Field(description="the facts the registry does not hold, written 'unknown'")
    updated_by: Optional[str]
    updated_time: Optional[str]


class ModelCards:
    """Cards of the versions of one registry (``registry.ModelRegistry``)."""

    def __init__(self, registry):
        self.registry = registry

    def card(self, ref: str | ModelRef) -> ModelCard:
        with self.registry.db.read() as session:
            row = self.registry.resolve(session, ref)
            version = views.versions(session, views.version_rows(session, [row.id]))[0]
            written, source = _written(session, row)
            image = session.scalar(select(Image).where(Image.version_id == row.id).order_by(Image.id.desc()).limit(1))
            environment = _environment(image)
        sections = dict(written.sections) if written else {}
        inherited = source if source != version.ref else None
        markdown, unknown = render(version, sections, inherited, environment)
        return ModelCard(
            ref=version.ref,
            markdown=markdown,
            html=to_html(markdown),
            sections=sections,
            inherited_from=inherited,
            unknown=unknown,
            updated_by=written.updated_by if written else None,
            updated_time=iso(written.updated_time) if written else None,
        )

    def save(self, ref: str | ModelRef, markdown: str, user: str = "") -> ModelCard:
        """Keep the written sections of ``markdown`` (a card as ``card`` made it, edited)."""
        sections = editable_sections(markdown)
        if not sections:
            raise InvalidInput(
                "The card has none of the sections people write ("
                + ", ".join(f"'### {h}'" for h in EDITABLE)
                + ") with text of their own: edit the Markdown that %card gives and send it back whole."
            )

        def write(session: Session) -> str:
            row = self.registry.resolve(session, ref)
            card = session.get(CardRow, row.id)
            if card is None:
                session.add(CardRow(version_id=row.id, sections=sections, updated_by=user))
            else:
                card.sections, card.updated_by, card.updated_time = sections, user, utcnow()
            return f"{row.model.name}:{row.version}"

        return self.card(self.registry.db.write(write))


def _written(session: Session, row: ModelVersion) -> tuple[CardRow | None, str | None]:
    """The written sections of ``row``, else of the newest earlier version of its model that has some."""
    found = session.execute(
        select(CardRow, ModelVersion.version)
        .join(ModelVersion, ModelVersion.id == CardRow.version_id)
        .where(ModelVersion.model_id == row.model_id, ModelVersion.version <= row.version)
        .order_by(ModelVersion.version.desc())
        .limit(1)
    ).first()
    if found is None:
        return None, None
    return found[0], f"{row.model.name}:{found[1]}"


def _environment(image: Image | None) -> dict | None:
    if image is None:
        return None
    env = image.environment
    pins = dict(
        line.split("==", 1) for line in env.lock.splitlines() if "==" in line and not line.lstrip().startswith("#")
    )
    pins = {k.strip(): v.split(";")[0].split(" ")[0].strip() for k, v in pins.items()}
    return {
        "name": f"{env.name}:{env.version}",
        "python": env.python,
        "base_image": env.base_image,
        "hash": env.content_hash,
        "packages": len(pins),
        "pins": pins,
        "image": image.tag,
    }


def editable_sections(markdown: str) -> dict[str, str]:
    """The text under each ``EDITABLE`` heading, up to the next heading of the same or a higher
    level (headings inside code fences do not count); unchanged prompts are left out."""
    if len(markdown) > CARD_LIMIT:
        raise InvalidInput(f"The card is {len(markdown)} characters; the limit is {CARD_LIMIT}.")
    found: dict[str, list[str]] = {}
    current, level, fenced = None, 0, False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if match:
            depth, title = len(match[1]), match[2].strip()
            if current is not None and depth <= level:
                current = None
            if title in EDITABLE:
                current, level = EDITABLE[title], depth
                found[current] = []
                continue
        if current is not None:
            found[current].append(line)
    sections = {}
    for key, lines in found.items():
        text = "\n".join(lines).strip()
        if text and text != PROMPT:
            if len(text) > SECTION_LIMIT:
                raise InvalidInput(f"The section {key!r} is {len(text)} characters; the limit is {SECTION_LIMIT}.")
            sections[key] = text
    return sections


def to_html(markdown: str) -> str:
    body = markdown
    if body.startswith("---\n"):
        end = body.find("\n---\n", 4)
        if end != -1:
            front, body = body[4:end], body[end + 5 :]
            body = "```yaml\n" + front + "\n```\n" + body
    return _RENDERER.render(body)


# -- the card ---------------------------------------------------------------------------------


def render(
    version: views.Version, sections: dict[str, str], inherited: str | None, environment: dict | None
) -> tuple[str, list[str]]:
    """The card's Markdown and the facts written 'unknown'."""
    unknown: list[str] = []

    def fact(name: str, value) -> str:
        if value in (None, "", [], {}):
            unknown.append(name)
            return UNKNOWN
        return str(value)

    props = version.properties or {}
    front = {
        "model_name": version.name,
        "model_version": version.version,
        "library_name": {"sklearn": "sklearn", "onnx": "onnx", "mlflow": "mlflow"}.get(version.flavor, UNKNOWN),
        "tags": sorted({version.flavor, *(f"{k}={v}" for k, v in version.tags.items())}),
        "license": version.tags.get("license", UNKNOWN),
        "metrics": sorted(_metrics(props)) or UNKNOWN,
    }
    out = ["---", yaml.safe_dump(front, sort_keys=False).strip(), "---", ""]
    out += [f"# Model card for {version.ref}", "", fact("description", version.description), ""]

    out += ["## Model details", "", "### Model description", ""]
    out += [
        f"- **Model:** {version.name}, version {version.version}"
        + (f" (aliases: {', '.join(version.aliases)})" if version.aliases else ""),
        f"- **Flavor:** {version.flavor}",
        f"- **Files:** {', '.join(f.path for f in version.files[:20])}"
        + (f" and {len(version.files) - 20} more" if len(version.files) > 20 else "")
        + f" ({version.size} bytes)",
        f"- **Registered by:** {fact('registered by', version.created_by)}, {version.created_time}",
        f"- **Source notebook:** {fact('source notebook', version.source_notebook)}",
        f"- **Derived from:** {version.derived_from or 'nothing (not derived from another version)'}",
        f"- **Tags:** {', '.join(f'{k}={v}' for k, v in version.tags.items()) or 'none'}",
        "",
    ]
    written = "" if not inherited else f"*(written for {inherited})*\n\n"
    out += ["## Uses", ""]
    for title in ("Intended use", "Out-of-scope use"):
        out += [f"### {title}", "", written + sections.get(EDITABLE[title], PROMPT), ""]
    out += ["## Bias, risks, and limitations", ""]
    for title in ("Limitations", "Recommendations"):
        out += [f"### {title}", "", written + sections.get(EDITABLE[title], PROMPT), ""]

    out += ["## How to get started with the model", ""]
    out += [
        "```python",
        f"%deploy {version.name}-ep {version.ref}",
        f"%invoke {version.name}-ep X[:3]",
        "```",
        "",
        "### Signature",
        "",
    ]
    out += _signature(version.signature) or [fact("signature", None), ""]
    out += ["### Input example", ""]
    if version.input_example is not None:
        out += ["```json", _clip(json.dumps(version.input_example), 4000), "```", ""]
    else:
        out += [fact("input example", None), ""]

    out += ["## Training details", "", "### Training data", ""]
    out += _reference(props.get("reference")) or [fact("training data (reference profile)", None), ""]

    out += ["## Evaluation", "", "### Metrics", ""]
    metrics = _metrics(props)
    if metrics:
        out += ["| metric | value |", "| --- | --- |", *(f"| {k} | {v:g} |" for k, v in sorted(metrics.items())), ""]
    else:
        out += [fact("metrics", None), ""]
    out += ["### Reports", ""]
    out += _reports(props) or [fact("evaluation reports", None), ""]

    out += [
        "## Environmental impact",
        "",
        f"- **Training compute and emissions:** {fact('environmental impact', None)}",
        "",
    ]

    out += ["## Technical specifications", "", "### Software", ""]
    if environment is not None:
        pins = environment["pins"]
        key = [f"{p}=={pins[p]}" for p in ("scikit-learn", "numpy", "onnxruntime", "pandas") if p in pins]
        out += [
            f"- **Environment:** {environment['name']} (hash {environment['hash'][:12]}), Python "
            f"{environment['python']}, base image {environment['base_image']}, {environment['packages']} locked packages"
            + (f": {', '.join(key)}" if key else ""),
            f"- **Image:** {environment['image']}",
            "",
        ]
    else:
        out += [f"- **Environment lock:** {fact('environment lock', None)} (no image has been built for it)", ""]
    serialization = props.get("serialization")
    if isinstance(serialization, dict):
        out += [f"- **Serialised with:** {', '.join(f'{k} {v}' for k, v in serialization.items())}", ""]
    out += ["### Model files safety", ""]
    out += _scan(props.get("pickle_scan"), version.flavor)

    out += ["## Model card authors", "", f"{fact('registered by', version.created_by)} (registered the version)", ""]
    return "\n".join(out).rstrip() + "\n", list(dict.fromkeys(unknown))


def _signature(signature: dict | None) -> list[str]:
    if not signature:
        return []
    rows = ["| | name | dtype | shape |", "| --- | --- | --- | --- |"]
    for side in ("inputs", "outputs"):
        for spec in signature.get(side) or []:
            rows.append(f"| {side[:-1]} | {spec.get('name')} | {spec.get('dtype')} | {spec.get('shape')} |")
    if not signature.get("outputs"):
        rows.append(f"| output | {UNKNOWN} | | |")
    return rows + [""]


def _metrics(props: dict) -> dict[str, float]:
    """Numbers among the properties: the ``metrics`` mapping's, an evaluation's, and top-level ones."""
    found: dict[str, float] = {}
    for source in (props, props.get("metrics"), (props.get("evaluation") or {}).get("metrics")):
        if isinstance(source, dict):
            for key, value in source.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    found[str(key)] = float(value)
    return found


def _reports(props: dict) -> list[str]:
    lines = []
    equivalence = props.get("equivalence")
    if isinstance(equivalence, dict):
        outputs = equivalence.get("outputs") or []
        worst = max((o.get("max_abs_diff") or 0 for o in outputs if isinstance(o, dict)), default=None)
        verdict = "passed" if equivalence.get("passed") else "did not pass"
        lines.append(
            f"- **Equivalence with {version_source(props)}:** {equivalence.get('rows', UNKNOWN)} rows compared "
            f"(tolerance {equivalence.get('tolerance', UNKNOWN)}), {verdict}"
            + (f", largest difference {worst:g}" if isinstance(worst, (int, float)) else "")
        )
    speed = props.get("speed")
    if isinstance(speed, dict) and speed:
        lines.append("- **Speed:** " + _speed_words(speed))
    parity = props.get("parity")
    if isinstance(parity, dict) and parity:
        lines.append("- **Parity:** " + _clip(json.dumps(parity, sort_keys=True), 300))
    evaluation = props.get("evaluation")
    if isinstance(evaluation, dict) and evaluation:
        lines.append(
            "- **Evaluation:** "
            + ", ".join(
                f"{k}: {v}" for k, v in evaluation.items() if k != "metrics" and not isinstance(v, (dict, list))
            )
        )
    return lines + [""] if lines else []


def _speed_words(speed: dict) -> str:
    """The speed report as the notebook says it (``single row 0.14 ms -> 0.02 ms (6.1x)``), not its raw keys."""
    try:
        o, n, s = speed["original"], speed["onnx"], speed["speedup"]
        return (
            f"single row {o['latency']['median_ms']:.3g} ms -> {n['latency']['median_ms']:.3g} ms "
            f"({s['latency']:.1f}x); {o['batch']['rows']:,} rows {o['batch']['median_s'] * 1000:.3g} ms -> "
            f"{n['batch']['median_s'] * 1000:.3g} ms ({s['throughput']:.1f}x)"
        )
    except (KeyError, TypeError, ValueError):  # a speed property of another shape: its names only
        return ", ".join(str(k) for k in list(speed)[:6])


def version_source(props: dict) -> str:
    conversion = props.get("conversion")
    return str(conversion.get("from") or "the original") if isinstance(conversion, dict) else "the original"


def _reference(profile: dict | None) -> list[str]:
    if not isinstance(profile, dict) or not profile.get("features"):
        return []
    lines = [
        f"Reference profile: {profile.get('rows', UNKNOWN)} rows from {profile.get('source') or UNKNOWN} "
        f"({profile.get('created_time', UNKNOWN)}).",
        "",
        "| feature | kind | nulls | summary |",
        "| --- | --- | --- | --- |",
    ]
    for feature in profile["features"][:50]:
        if feature.get("kind") == "numeric":
            summary = ", ".join(
                f"{k} {feature[k]:.4g}" for k in ("mean", "std", "min", "max") if feature.get(k) is not None
            )
        else:
            summary = "top: " + ", ".join(map(str, (feature.get("categories") or [])[:5]))
        lines.append(
            f"| {feature.get('name')} | {feature.get('kind')} | {feature.get('null_rate', 0):.1%} | {summary} |"
        )
    if len(profile["features"]) > 50:
        lines.append(f"| ... {len(profile['features']) - 50} more | | | |")
    return lines + [""]


def _scan(scan: dict | None, flavor: str) -> list[str]:
    if not isinstance(scan, dict):
        return ["No pickle-based files were scanned at registration." if flavor != "sklearn" else UNKNOWN, ""]
    untrusted = scan.get("untrusted") or []
    lines = [f"- **Scanned files:** {', '.join(f.get('path', '?') for f in scan.get('files', []))}"]
    lines.append(
        "- **Imports outside the trusted modules:** "
        + (", ".join(f"`{u}`" for u in untrusted) if untrusted else "none")
    )
    return lines + [""]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."
