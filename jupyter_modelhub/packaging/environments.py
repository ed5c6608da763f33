"""Environments: the software a model is served with, as a versioned resource.

An environment is pip requirements (from a requirements file or a conda-style YAML's pip
section) plus the Python version and the base image of the image it goes into. It is locked
with uv for that image's platform and Python, and identified by the hash of the lock, the
Python version and the base image: the same content is the same version, and the model never
enters the hash (so a model-only change reuses the environment's image layer).

Without an explicit environment, one is derived from the model: the scoring runtime's packages
plus what the flavor needs, pinned to the versions this server runs, so the image reproduces
what the notebook did.

Not here: downloading wheels (``wheelhouse``), building images (``images``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import InvalidInput, NotFound
from ..refs import RefError, check_name
from ..store.database import Database
from ..store.orm import Environment
from ..timestamps import iso
from . import views

PLATFORM = "x86_64-manylinux_2_28"
PYTHON_VERSION = re.compile(r"^3\.(1[0-9]|[89])$")
# bounds of a requirements text, checked before anything parses it (every step is linear, and
# these keep one request's work small): characters, requirement lines, characters per line
MAX_REQUIREMENTS_CHARS = 1_000_000
MAX_CONDA_CHARS = 100_000
MAX_REQUIREMENT_LINES = 2_000
MAX_REQUIREMENT_LINE_CHARS = 1_000
# the one option an environment may carry: the package index it comes from (a private mirror)
INDEX_OPTIONS = ("--index-url", "--extra-index-url")
# pip's variable and uv's (newest name first) for the same setting; read at build time
INDEX_VARIABLES = (
    ("PIP_INDEX_URL", ("UV_DEFAULT_INDEX", "UV_INDEX_URL")),
    ("PIP_EXTRA_INDEX_URL", ("UV_EXTRA_INDEX_URL",)),
)
URL_CHARACTERS = re.compile(r"[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+")  # one character class: linear
IMAGE_NAME = re.compile(
    r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$"
)
# what the scoring runtime needs, per flavor (pinned to this server's versions when derived)
RUNTIME = {
    "common": ["httptools", "uvloop", "numpy", "orjson"],
    "onnx": ["onnxruntime"],
    "sklearn": ["scikit-learn", "joblib", "scipy", "cloudpickle"],
    "mlflow": ["mlflow"],
    "custom": [],
}
SERVER_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def pinned(names: list[str]) -> list[str]:
    """``name==version`` as installed here, or the bare name when it is not installed."""
    out = []
    for name in names:
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(name)
    return out


def index_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a lock (uv), a wheel download (pip) or a venv install (uv): the
    server's own, which is where index credentials belong (never a stored requirement), with
    pip's and uv's index variables filled from each other, so that one setting serves all three."""
    env = dict(os.environ)
    for pip_name, uv_names in INDEX_VARIABLES:
        uv_value = next((env[name] for name in uv_names if env.get(name)), "")
        if env.get(pip_name) and not uv_value:
            env[uv_names[-1]] = env[pip_name]
        elif uv_value and not env.get(pip_name):
            env[pip_name] = uv_value
    return {**env, **(extra or {})}


def uv_executable(configured: str = "") -> str:
    """uv as configured, on PATH, or beside this Python."""
    return configured or shutil.which("uv") or str(Path(sys.executable).with_name("uv"))


def check_image_name(name: str, what: str = "image") -> str:
    """A Docker image reference such as ``modelhub/churn:2`` or ``localhost:5000/x:1``."""
    candidate = (
        name.split("/", 1)[1] if "/" in name and (":" in name.split("/")[0] or "." in name.split("/")[0]) else name
    )
    if not isinstance(name, str) or len(name) > 256 or not IMAGE_NAME.match(candidate):
        raise InvalidInput(
            f"Invalid {what} {name!r}: use lowercase letters, digits, '.', '_', '-' and '/', "
            "optionally ':TAG', e.g. modelhub/churn:2."
        )
    return name


def requirement_lines(requirements: str | None = None, conda: str | None = None) -> list[str]:
    """The requirement lines of a requirements file and/or a conda-style YAML's pip section,
    each checked: package specifiers only (no paths or direct URLs, so nothing can reach a shell
    or read the server's files), and at most the package index to take them from
    (``--index-url URL``, ``--extra-index-url URL``, without credentials).

    Bounded and linear: the texts' sizes are checked first, requirements are parsed by the
    ``packaging`` library (a tokenizer, no backtracking), and option lines by plain string checks.
    """
    _check_size(requirements, MAX_REQUIREMENTS_CHARS, "requirements")
    _check_size(conda, MAX_CONDA_CHARS, "conda environment file")
    lines = []
    for raw in (requirements or "").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    if conda:
        lines += _conda_pip_section(conda)
    if len(lines) > MAX_REQUIREMENT_LINES:
        raise InvalidInput(
            f"Too many requirement lines ({len(lines)}): an environment takes at most "
            f"{MAX_REQUIREMENT_LINES}; list the packages the model needs, and let the lock add "
            "their dependencies."
        )
    return [_checked_line(line) for line in lines]


def is_index_option(line: str) -> bool:
    """True for a checked ``--index-url URL`` / ``--extra-index-url URL`` line."""
    return line.startswith("-")


def _check_size(text: str | None, limit: int, what: str) -> None:
    if text is not None and len(text) > limit:
        raise InvalidInput(
            f"The {what} text has {len(text):,} characters; at most {limit:,} are accepted. "
            "List only the packages the model needs."
        )


def _checked_line(line: str) -> str:
    """One requirement line, or an InvalidInput that says what is wrong with it."""
    shown = line if len(line) <= 80 else line[:77] + "..."
    if len(line) > MAX_REQUIREMENT_LINE_CHARS:
        raise InvalidInput(
            f"Unsupported requirement {shown!r}: a requirement line has at most "
            f"{MAX_REQUIREMENT_LINE_CHARS} characters."
        )
    if line.startswith("-"):
        return _index_option(line, shown)
    try:
        requirement = Requirement(line)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0].rstrip(".")
        raise InvalidInput(
            f"Unsupported requirement {shown!r}: {reason}. List packages as NAME or NAME==VERSION "
            "(optionally NAME[extras] and a '; marker'), one per line; options go on lines of their "
            "own (only --index-url URL and --extra-index-url URL are accepted)."
        ) from None
    if requirement.url:
        raise InvalidInput(
            f"Unsupported requirement {shown!r}: a direct URL (NAME @ URL) is not accepted, so the "
            "server fetches nothing but packages from an index; give NAME==VERSION, with "
            "--index-url URL if it comes from another index."
        )
    return line


def _index_option(line: str, shown: str) -> str:
    """``--index-url URL`` or ``--extra-index-url URL`` (or with '='), the URL http(s) without
    credentials: the line is stored in the environment's lock, which everyone sharing the
    registry can read."""
    first, _, rest = line.replace("\t", " ").partition(" ")
    option, _, url = first.partition("=")
    url = (url + " " + rest).strip()
    if option not in INDEX_OPTIONS:
        raise InvalidInput(
            f"Unsupported requirement {shown!r}: the only options accepted are --index-url URL and "
            "--extra-index-url URL (no other options, paths or URLs)."
        )
    try:
        parts = urlsplit(url) if URL_CHARACTERS.fullmatch(url) else None
        port = parts.port if parts else None
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"Unsupported requirement {shown!r}: {option} takes an http(s) URL, e.g. "
            f"{option} https://pypi.example.com/simple."
        )
    if "@" in parts.netloc:
        raise InvalidInput(
            f"The {option} URL for {parts.hostname} carries credentials, and requirements are stored in the "
            "environment's lock, which everyone sharing the registry can read: nothing was stored. Put the URL "
            "with its credentials in the server's environment (PIP_INDEX_URL or UV_INDEX_URL: either serves both "
            "the lock, made by uv, and the wheel downloads, made by pip) or the credentials in ~/.netrc, "
            f"and list the index here without them ({option} {parts.scheme}://{parts.hostname}"
            f"{':' + str(port) if port else ''}{parts.path}) or not at all."
        )
    return f"{option} {url}"


def _conda_pip_section(text: str) -> list[str]:
    """The ``- pip:`` list of a conda environment file (its conda packages are not pip's)."""
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"The conda environment file is not valid YAML: {exc}.") from None
    for entry in data.get("dependencies", []) if isinstance(data, dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("pip"), list):
            # strings only: str() of nested YAML aliases can grow exponentially
            if not all(isinstance(item, (str, int, float)) for item in entry["pip"]):
                raise InvalidInput(
                    "The conda environment file's pip section lists something other than "
                    "requirement strings; list one requirement per item, e.g. - numpy==1.26.4."
                )
            return [str(item).strip() for item in entry["pip"]]
    raise InvalidInput(
        "The conda environment file has no pip section (dependencies: - pip: [...]); "
        "list the pip packages the model needs there."
    )


def derived_requirements(flavor: str) -> list[str]:
    """What serving a model of ``flavor`` needs, pinned to this server's versions."""
    return pinned(RUNTIME["common"] + RUNTIME.get(flavor, []))


class EnvironmentStore:
    """Creates (locks), lists and finds environments."""

    def __init__(self, database: Database, root: Path, uv: str = ""):
        self.db = database
        self.uv = uv
        self.scratch = Path(root) / "staging"
        self.scratch.mkdir(parents=True, exist_ok=True)

    def create(
        self,
        name: str,
        *,
        requirements: str | None = None,
        conda: str | None = None,
        python: str = "3.11",
        base_image: str,
        flavor: str | None = None,
        reuse: bool = False,
        user: str = "",
    ) -> dict:
        """Lock and record an environment; identical content returns the existing version.

        ``reuse``: if this name already has a version made of exactly these requirements, Python
        and base image, return it without locking again (what a rebuild of a model wants: no
        network, the same environment image).
        """
        wanted = self._wanted(name, requirements, conda, python, base_image, flavor)
        if reuse:
            known = self._known(name, wanted, python, base_image)
            if known is not None:
                return known
        lock = self.lock(wanted, python)
        digest = hashlib.sha256("\n".join([lock, python, base_image]).encode()).hexdigest()

        def write(session: Session) -> int:
            existing = session.scalar(
                select(Environment).where(Environment.name == name, Environment.content_hash == digest)
            )
            if existing is not None:
                return existing.id
            number = (session.scalar(select(func.max(Environment.version)).where(Environment.name == name)) or 0) + 1
            row = Environment(
                name=name,
                version=number,
                content_hash=digest,
                requirements="\n".join(wanted),
                lock=lock,
                python=python,
                base_image=base_image,
                created_by=user,
            )
            session.add(row)
            session.flush()
            return row.id

        with self.db.read() as session:
            return self._describe(session.get(Environment, self.db.write(write))).as_dict()

    def find(
        self,
        name: str,
        *,
        requirements: str | None = None,
        conda: str | None = None,
        python: str,
        base_image: str,
        flavor: str | None = None,
    ) -> dict | None:
        """The newest version of ``name`` made of exactly these requirements, Python and base
        image, without locking (no network): what ``create(..., reuse=True)`` would return."""
        return self._known(
            name, self._wanted(name, requirements, conda, python, base_image, flavor), python, base_image
        )

    def _known(self, name: str, wanted: list[str], python: str, base_image: str) -> dict | None:
        with self.db.read() as session:
            known = session.scalars(
                select(Environment)
                .where(
                    Environment.name == name,
                    Environment.requirements == "\n".join(wanted),
                    Environment.python == python,
                    Environment.base_image == base_image,
                )
                .order_by(Environment.version.desc())
                .limit(1)
            ).first()
            return self._describe(known).as_dict() if known is not None else None

    @staticmethod
    def _wanted(name, requirements, conda, python, base_image, flavor) -> list[str]:
        """The checked requirement lines of an environment, with the runtime's pins added."""
        _check_env_name(name)
        if not isinstance(python, str) or not PYTHON_VERSION.match(python):
            raise InvalidInput(f"Invalid Python version {python!r}: expected 3.X, e.g. 3.11.")
        check_image_name(base_image, "base image")
        lines = requirement_lines(requirements, conda)
        if all(is_index_option(line) for line in lines) and flavor is None:
            raise InvalidInput(
                "An environment needs requirements: give a requirements file or a conda file's pip section."
            )
        return _merge(lines, derived_requirements(flavor or "custom"))

    def lock(self, requirements: list[str], python: str) -> str:
        """``uv pip compile`` for the image's platform and Python: exact pins of everything, and
        the index lines the requirements named (so installs and downloads use that index too)."""
        uv = uv_executable(self.uv)
        result = subprocess.run(
            [
                uv,
                "pip",
                "compile",
                "-",
                "--python-platform",
                PLATFORM,
                "--python-version",
                python,
                "--no-header",
                "--no-annotate",
            ],
            input="\n".join(requirements) + "\n",
            capture_output=True,
            text=True,
            timeout=600,
            env=index_environment(),
        )
        if result.returncode != 0:
            detail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-6:])
            raise InvalidInput(
                f"These requirements cannot be installed together on Python {python} ({PLATFORM}):\n{detail}"
            )
        pins = [line.strip() for line in result.stdout.splitlines() if line.strip() and not line.startswith("#")]
        return "\n".join(sorted(pins + [line for line in requirements if is_index_option(line)])) + "\n"

    def environment(self, name: str, version: int | None = None) -> views.Environment:
        """Version ``version`` of environment ``name``, or its newest."""
        with self.db.read() as session:
            return self._describe(self._row(session, name, version))

    def get(self, name: str, version: int | None = None) -> dict:
        return self.environment(name, version).as_dict()

    def get_ref(self, ref: str) -> dict:
        """An environment by ``NAME`` (its newest version) or ``NAME:VERSION``."""
        name, _, number = ref.partition(":")
        if number and not number.isdigit():
            raise InvalidInput(f"Invalid environment {ref!r}: expected NAME or NAME:VERSION, e.g. churn-env:2.")
        return self.get(name, int(number) if number else None)

    def row_id(self, name: str, version: int | None = None) -> int:
        with self.db.read() as session:
            return self._row(session, name, version).id

    def by_id(self, environment_id: int) -> dict:
        with self.db.read() as session:
            return self._describe(session.get(Environment, environment_id)).as_dict()

    def environments(self, name: str | None = None) -> views.EnvironmentList:
        """Environments (the versions of ``name``), by name and newest version first (the first 500)."""
        with self.db.read() as session:
            stmt = select(Environment).order_by(Environment.name, Environment.version.desc())
            if name:
                stmt = stmt.where(Environment.name == name)
            return views.EnvironmentList(environments=[self._describe(row) for row in session.scalars(stmt.limit(500))])

    def list(self, name: str | None = None) -> dict:
        return self.environments(name).as_dict()

    def _row(self, session: Session, name: str, version: int | None) -> Environment:
        _check_env_name(name)
        stmt = select(Environment).where(Environment.name == name)
        stmt = (
            stmt.where(Environment.version == version)
            if version is not None
            else stmt.order_by(Environment.version.desc())
        )
        row = session.scalars(stmt.limit(1)).first()
        if row is None:
            known = session.scalars(select(Environment.name).distinct().order_by(Environment.name)).all()
            what = f"{name}:{version}" if version is not None else name
            raise NotFound(
                f"No environment {what!r}"
                + (
                    f" (environments: {', '.join(known)})."
                    if known
                    else "; create one with %env create NAME --requirements FILE."
                )
            )
        return row

    @staticmethod
    def _describe(row: Environment) -> views.Environment:
        return views.Environment(
            name=row.name,
            version=row.version,
            ref=f"{row.name}:{row.version}",
            hash=row.content_hash,
            python=row.python,
            base_image=row.base_image,
            requirements=row.requirements.splitlines(),
            lock=row.lock.splitlines(),
            created_time=iso(row.created_time),
            created_by=row.created_by,
        )


def _check_env_name(name: str) -> None:
    try:
        check_name(name)
    except RefError:
        raise InvalidInput(f"Invalid environment name {name!r}: use 1-128 letters, digits, '.', '_', '-'.") from None


def _merge(asked: list[str], runtime: list[str]) -> list[str]:
    """The user's requirements, plus the runtime's pins for packages the user did not name."""
    named = {canonicalize_name(Requirement(line).name) for line in asked if not is_index_option(line)}
    return asked + [line for line in runtime if canonicalize_name(Requirement(line).name) not in named]
