"""One Prometheus exposition for an endpoint, from the ones its deployments' runtimes give.

The endpoint host scrapes each deployment's ``/metrics`` and answers its own ``/metrics`` with
all of them, every sample labelled with its ``deployment``, each metric family declared once
(the text format wants a family's samples together, after its HELP and TYPE lines).

Standard library only: the host process imports this.
"""

from __future__ import annotations


def merge(expositions: dict[str, str], label: str = "deployment") -> str:
    """``{deployment: text}`` -> one text whose samples carry ``label="deployment"``."""
    families: dict[str, dict] = {}
    for value, text in expositions.items():
        family = None
        for line in text.splitlines():
            if line.startswith(("# HELP ", "# TYPE ")):
                name = line.split(" ", 3)[2]
                family = families.setdefault(name, {"# HELP": None, "# TYPE": None, "samples": []})
                family[line[:6]] = family[line[:6]] or line
            elif line and not line.startswith("#"):
                if family is None:  # a sample before any declaration: its own family
                    family = families.setdefault(_metric(line), {"# HELP": None, "# TYPE": None, "samples": []})
                family["samples"].append(labelled(line, label, value))
    out = []
    for family in families.values():
        out += [line for line in (family["# HELP"], family["# TYPE"]) if line]
        out += family["samples"]
    return "\n".join(out) + "\n"


def labelled(sample: str, label: str, value: str) -> str:
    """``name{a="b"} 1`` -> ``name{label="value",a="b"} 1``; ``name 1`` -> ``name{label="value"} 1``."""
    pair = f'{label}="{_escape(value)}"'
    name, brace, rest = sample.partition("{")
    if brace:
        return f"{name}{{{pair}{'' if rest.startswith('}') else ','}{rest}"
    name, _, rest = sample.partition(" ")
    return f"{name}{{{pair}}} {rest}"


def _metric(sample: str) -> str:
    return sample.partition("{")[0].partition(" ")[0]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
