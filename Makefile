# The README's two commands: `make report` (the main job) and `make test`.
# Both create .venv and install the kit into it on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_PROGRESS_BAR := off
# two test processes (pytest-xdist), a test file's tests in one process, so that the
# expensive notebook runs a file shares stay shared; `make test PYTEST_PARALLEL=` runs serially
PYTEST_PARALLEL ?= -n 2 --dist loadfile

.PHONY: setup report test lint lab sample test-oldest clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the kit with its test tools

report: $(STAMP)  ## render every notebook on the bundled sample into reports/<timestamp>/
	$(BIN)/kam report

test: $(STAMP)  ## lint, unit tests, every notebook executed (nbval) and papermill runs
	$(BIN)/ruff check kamlib tests benchmarks conftest.py notebooks
	$(BIN)/ruff format --check kamlib tests benchmarks conftest.py
	$(BIN)/pytest $(PYTEST_PARALLEL) --nbval-lax --nbval-current-env tests notebooks

lab: $(STAMP)  ## open JupyterLab on the notebooks
	$(BIN)/kam lab

sample: $(STAMP)  ## regenerate the bundled sample company
	$(BIN)/kam sample --out data/samples/klebwerk --replace

# The same suite with the oldest dependency versions we support (.ci/constraints-oldest.txt).
test-oldest:
	$(PYTHON) -m venv .venv-oldest
	.venv-oldest/bin/python -m pip install --quiet -c .ci/constraints-oldest.txt -e ".[test]"
	.venv-oldest/bin/pytest $(PYTEST_PARALLEL) --nbval-lax --nbval-current-env -p no:cacheprovider tests notebooks

clean:
	rm -rf $(VENV) .venv-oldest .pytest_cache .ruff_cache .hypothesis exports
