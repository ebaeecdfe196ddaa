# paperlens: `make run` to try it, `make test` to check it.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DB ?= var/sample.db
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test test-fast install lint bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --progress-bar on --upgrade pip
	# torch first, from the pinned CPU build, so nothing can pull a CUDA build in
	$(PIP) install --progress-bar on -c constraints.txt torch
	$(PIP) install --progress-bar on -c constraints.txt -e '.[test]'
	touch $@

# Bytecode for our own sources as a non-editable install has it: this environment sets
# PYTHONDONTWRITEBYTECODE=1, and without caches every `paperlens` command compiles the modules it imports
# (a third of a keyword search's process; bench/limits.py cli-search). Incremental: ~0.1 s when up to date.
install: $(VENV)/.installed
	$(PY) -m compileall -q -j 0 src/paperlens

run: install
	mkdir -p var
	$(VENV)/bin/paperlens --db $(DB) ingest --as-of 2026-11-23 src/paperlens/sample/*.txt
	$(VENV)/bin/paperlens --db $(DB) enrich
	$(VENV)/bin/paperlens --db $(DB) stats
	$(VENV)/bin/paperlens --db $(DB) serve --host $(HOST) --port $(PORT)

# pytest-timeout bounds each test and the session (pyproject.toml); `timeout` bounds what those cannot
# reach (xdist's own start and teardown), so a stuck run still ends, and prints, inside CI's 90 minutes.
# A test that crashes its worker is run again on each replacement worker: twice is enough to tell.
PYTEST := timeout -k 60 3000 $(VENV)/bin/python -m pytest --max-worker-restart 2

test: lint
	$(PYTEST) -q -n 2 --dist loadfile

# the suite less the slow and browser tests, for the edit-test loop (CI runs `make test`)
test-fast: lint
	$(PYTEST) -q -n 2 --dist loadfile -m "not slow and not browser"

# ruff, the layer contract ([tool.importlinter] in pyproject.toml; see docs/architecture.md), then the
# type checker on core/ and store/ ([tool.mypy])
lint: install
	$(VENV)/bin/ruff check src tests bench scripts
	PYTHONPATH=src $(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) var build *.egg-info
