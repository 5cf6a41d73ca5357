# Two commands after cloning: `make demo` and `make test`. Each builds .venv from nothing the first time.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench lint up down clean

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet --constraint requirements.lock --editable '.[render,local,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/studiobot demo

test: $(STAMP) lint
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check backend blender_image bot local tests bench
	$(VENV)/bin/ruff format --check backend blender_image bot local tests bench
	$(VENV)/bin/mypy backend blender_image local bot bench

up: $(STAMP)
	$(VENV)/bin/studiobot up

down: $(STAMP)
	$(VENV)/bin/studiobot down

clean:
	rm -rf $(VENV) .studiobot renders bench/results .pytest_cache .mypy_cache .ruff_cache
