# The two commands of the README: `make demo` runs the main job, `make test` the tests.
# Both create the virtual environment first (scripts/bootstrap.sh).

VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test lint bench clean

setup:
	@scripts/bootstrap.sh

demo: setup
	$(VENV)/bin/reforge demo

test: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/pytest -q

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

bench: setup
	$(PY) bench/decompile.py
	$(PY) bench/runner.py

clean:
	rm -rf $(VENV) reforge-data
