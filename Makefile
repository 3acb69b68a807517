# Both `make demo` and `make test` set everything up on a fresh machine by themselves.
PYTHON ?= python3
VENV ?= .venv
# A CPU build of torch is enough for everything here; override for CUDA, e.g. TORCH_SPEC="torch".
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin

.PHONY: install tiny test lint format demo bench

$(BIN)/.hicra-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

install: $(BIN)/.hicra-installed

# Builds (once, cached under $$HICRA_CACHE) the tiny policy the tests and the demo use, outside pytest's per-test
# timeout: a few minutes on 2 cores the first time, instant after.
tiny: install
	$(BIN)/python -m hicra.agents.tiny

test: tiny
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

demo: install
	$(BIN)/hicra compare

bench: install
	$(BIN)/hicra bench
