"""What `pip install .` gives: an enabled server extension and the prebuilt panel, and a schema
that its migrations create exactly."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest
from alembic import command

from helpers.paths import LABEXTENSION_BUILT, REPO
from jupyter_modelhub.store.database import Database, alembic_config


def run_jupyter(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, timeout=120)
    return result.stdout + result.stderr


def test_server_extension_is_enabled_and_valid():
    output = run_jupyter("server", "extension", "list")
    assert "jupyter_modelhub enabled" in output.replace("\x1b[32m", "").replace("\x1b[0m", "")
    assert "jupyter_modelhub 0.1.0 OK" in output.replace("\x1b[32m", "").replace("\x1b[0m", "")


def test_labextension_is_installed_and_enabled():
    output = run_jupyter("labextension", "list").replace("\x1b[32m", "").replace("\x1b[0m", "")
    line = next((l for l in output.splitlines() if "jupyter-modelhub" in l), "")
    assert "enabled" in line and "OK" in line, output


@pytest.mark.slow  # builds the wheel and installs it in a fresh venv
def test_wheel_ships_the_prebuilt_labextension_and_enables_the_server_extension(tmp_path):
    if not (LABEXTENSION_BUILT / "package.json").exists():
        pytest.fail("the labextension is not built: run `make install`")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("jupyter_modelhub-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    data = "jupyter_modelhub-0.1.0.data/data/"
    assert data + "etc/jupyter/jupyter_server_config.d/jupyter_modelhub.json" in names
    assert data + "share/jupyter/labextensions/jupyter-modelhub/package.json" in names
    assert any(n.startswith(data + "share/jupyter/labextensions/jupyter-modelhub/static/") for n in names)
    assert "jupyter_modelhub/store/migrations/versions/0001_initial_registry_schema.py" in names


def test_migrations_create_exactly_the_orm_schema(db_url):
    database = Database(db_url)  # upgrades to head
    config = alembic_config(database.engine)
    with database.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.check(config)  # raises if the ORM and the migrated schema differ
    database.dispose()


# -- one install gives every feature -------------------------------------------------------------

EVERY_FEATURE = [
    "jupyterlab",
    "ipywidgets",
    "ipykernel",
    "scikit-learn",
    "skl2onnx",
    "onnxruntime",
    "papermill",
    "dask",
    "pyarrow",
    "pandas",
]


def test_one_install_gives_every_feature():
    """`pip install jupyter_modelhub` brings the panel, widgets, conversion and batch: none of them
    hides behind an extra (a %batch job once failed inside its kernel: no module named 'papermill')."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    plain = {
        Requirement(line).name.lower()
        for line in requires("jupyter_modelhub")
        if "extra ==" not in str(Requirement(line).marker or "")
    }
    assert not [name for name in EVERY_FEATURE if name not in plain], sorted(plain)


def test_a_postgresql_url_without_its_driver_names_the_extra_to_install(monkeypatch):
    from jupyter_modelhub.errors import InvalidInput
    from jupyter_modelhub.store.database import make_engine

    with pytest.raises(InvalidInput) as refused:  # a driver that is not ours: say which URL works
        make_engine("postgresql+psycopg2://hub:secret@127.0.0.1:1/modelhub")
    assert "postgresql+psycopg://" in refused.value.message
    assert "pip install 'jupyter_modelhub[postgres]'" in refused.value.message
    assert "secret" not in refused.value.message

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as on an install without the extra
    with pytest.raises(InvalidInput) as refused:
        make_engine("postgresql+psycopg://hub@127.0.0.1:1/modelhub")
    assert "needs the psycopg package" in refused.value.message
    assert "pip install 'jupyter_modelhub[postgres]'" in refused.value.message


def test_applying_manifests_without_the_kubernetes_client_names_the_extra(monkeypatch):
    from jupyter_modelhub.deploy.targets import kubernetes
    from jupyter_modelhub.errors import InvalidInput

    monkeypatch.setitem(sys.modules, "kubernetes", None)  # as on an install without the extra
    with pytest.raises(InvalidInput) as refused:
        kubernetes.apply([], "prod")
    assert "pip install 'jupyter_modelhub[kubernetes]'" in refused.value.message


def test_a_kubernetes_deploy_to_a_cluster_without_the_client_is_refused_before_anything_starts(monkeypatch):
    """--kube-context without the kubernetes client: a 400 from the deploy's check, before the
    image build that the apply would otherwise come after."""
    from jupyter_modelhub.deploy.targets.kubernetes import KubernetesTarget
    from jupyter_modelhub.errors import InvalidInput

    monkeypatch.setitem(sys.modules, "kubernetes", None)
    target = KubernetesTarget(deployments=None)
    assert target.check("kube-ep", {"model": "kube:1"}, {})["kube_context"] is None  # writing manifests needs nothing
    with pytest.raises(InvalidInput) as refused:
        target.check("kube-ep", {"model": "kube:1"}, {"kube_context": "prod"})
    assert "pip install 'jupyter_modelhub[kubernetes]'" in refused.value.message
