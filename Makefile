# One command per job; each installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall only when these change: the stamps below are newer than them after an install.
DEPS := pyproject.toml constraints.txt

.PHONY: run test chaos lint demo bench bench-chains bench-workspace bench-guided

run: $(VENV)/.installed-dev
	$(BIN)/python -m devstack run

# Against a running `make run`: reps, contacts and leads, then activity that moves them.
demo: $(VENV)/.installed-dev
	$(BIN)/python -m devstack.demo

# Against a running `make run`: ingestion end to end and its raw Temporal ceiling.
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.ingest

# Against a running `make run`: stage chains end to end and their raw Temporal ceiling.
bench-chains: $(VENV)/.installed-dev
	$(BIN)/python -m bench.chains

# No stack needed: seeds a database of its own (a few minutes; `--reuse` keeps it), then times
# every workspace endpoint in-process. ARGS="--reuse --plans" passes options.
bench-workspace: $(VENV)/.installed-dev
	$(BIN)/python -m bench.workspace $(ARGS)

# No stack needed: its own database, Temporal dev server and worker. 100k pending guided
# actions by default; ARGS="--count 20000" for fewer.
bench-guided: $(VENV)/.installed-dev
	$(BIN)/python -m bench.guided $(ARGS)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

# Opt-in: minutes of killed workers and APIs, Temporal and PostgreSQL restarts under load.
chaos: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -s -m chaos tests/chaos

lint: $(VENV)/.installed-test
	@# Strict for domain/ and workflows/ (pyproject.toml); typed, not strict, elsewhere.
	$(BIN)/mypy .
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-dev: $(DEPS) | $(BIN)/python
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

# The test extra includes the dev one, so it also satisfies `make run`.
$(VENV)/.installed-test: $(DEPS) | $(BIN)/python
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $@ $(VENV)/.installed-dev
