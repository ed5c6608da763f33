# jupyter_modelhub: the commands a newcomer needs.
#   make lab    set everything up and start JupyterLab on notebooks/
#   make demo   run notebooks/01-quickstart.ipynb headless and print what it did
#   make test   set everything up and run every test (and ruff: lint and format)
#   make test-fast  the inner loop: every test but the Docker, browser, kernel, slow and soak ones
#   make bench  run the benchmarks in bench/
#   make soak   the 10-minute soak under mixed traffic (not part of make test)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.modelhub-installed
LABEXT := jupyter_modelhub/labextension/package.json
PYTEST_ARGS ?=
# Test files run in parallel workers, a file to a worker (its module-scoped servers stay shared);
# most of a test's time is spent waiting on servers, kernels and engines, so more workers than cores.
# Files start longest first (tests/durations.json, kept by `make durations`; see tests/conftest.py).
TEST_WORKERS ?= 4
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
# The venv's tools first: jlpm's build scripts call `jupyter` and `jupyter-builder` by name.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: lab demo test test-fast lint bench soak install labextension clean migration durations

# uv (a dependency: Binder's postBuild uses it too) installs the project in seconds where pip takes
# minutes; pip only installs uv itself. --compile-bytecode as pip does: where PYTHONDONTWRITEBYTECODE
# is set, nothing else would, and every process would compile what it imports (imports 2.7x slower).
$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv

# Editable install with every extra; hatch-jupyter-builder builds the labextension on the way.
$(STAMP): $(PY) pyproject.toml labextension/package.json labextension/yarn.lock
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e ".[test]"
	$(VENV)/bin/jupyter-builder develop --overwrite . >/dev/null
	touch $(STAMP)

# The project's own modules compiled ahead (only what changed): where PYTHONDONTWRITEBYTECODE is set,
# every server, worker, runtime and kernel would compile them again as it imports them.
install: $(STAMP) labextension
	@$(PY) -m compileall -q jupyter_modelhub tests/helpers >/dev/null

# Rebuild the panel whenever its sources are newer than the build.
labextension: $(STAMP)
	@if [ ! -f $(LABEXT) ] || [ -n "$$(find labextension/src labextension/style -newer $(LABEXT) -type f | head -n 1)" ]; then \
		cd labextension && ../$(VENV)/bin/jlpm install --immutable && ../$(VENV)/bin/jlpm build:prod; \
	fi

lab: install
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root)

demo: install
	$(PY) notebooks/run.py notebooks/01-quickstart.ipynb

LINTED := jupyter_modelhub tests bench notebooks/run.py

lint: install
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

test: install lint
	cd labextension && ../$(VENV)/bin/jlpm test
	$(PY) -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# Real servers and PostgreSQL stay; the magics run in an in-process shell, not kernels; the slow
# end-to-end checks (installs, fuzzing, several servers on one database) wait for make test.
# -m here replaces addopts' -m, so soak is named again.
test-fast: install lint
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not soak and not slow and not docker and not registry and not browser and not kernel" $(PYTEST_ARGS)

# Runs every test and keeps the seconds each file took in tests/durations.json: make test starts the
# longest files first. Run it after adding a long test file (a file it does not know counts as the median).
durations: install
	MODELHUB_RECORD_DURATIONS=tests/durations.json $(PY) -m pytest $(PYTEST_PARALLEL) -q $(PYTEST_ARGS)

# 10 minutes of mixed valid and malformed traffic (MODELHUB_SOAK_SECONDS to change it): no 5xx, flat memory.
soak: install
	$(PY) -m pytest tests/soak/test_soak.py -m soak -s -p no:cacheprovider

# The peer for bench/serving.py, in its own venv (mlflow pins packages the project's venv should not take).
MLFLOW_VENV := .venv-mlflow
$(MLFLOW_VENV)/bin/mlflow: $(PY)
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/python -m pip install --quiet mlflow "scikit-learn==$$($(PY) -c 'import sklearn; print(sklearn.__version__)')"

bench: install $(MLFLOW_VENV)/bin/mlflow
	$(PY) bench/registry.py
	$(PY) bench/onnx.py
	$(PY) bench/serving.py --mlflow-python $(MLFLOW_VENV)/bin/python
	$(PY) bench/endpoints.py
	$(PY) bench/operations.py
	$(PY) bench/batch.py
	$(PY) bench/storage.py
	$(PY) bench/images.py  # needs the Docker engine and base image: bash .ci/docker

# Generate an alembic migration after changing store/orm.py: make migration MESSAGE="add x"
migration: install
	$(PY) -m jupyter_modelhub.store.database revision "$(MESSAGE)"

clean:
	rm -rf $(VENV) $(MLFLOW_VENV) jupyter_modelhub/labextension labextension/lib labextension/node_modules
