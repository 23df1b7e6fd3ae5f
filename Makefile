# The two commands that set up everything on a fresh machine with Python 3.11:
#   make demo   — venv, install, run the whole pipeline on the platform sandbox (embedded defaults)
#   make test   — venv, install, run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint format serve pipeline clean benchmark

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/analisa demo

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

serve: $(STAMP)
	$(BIN)/analisa serve

pipeline: $(STAMP)
	$(BIN)/analisa pipeline

benchmark: $(STAMP)
	$(BIN)/python benchmarks/bronze_load.py --quick

clean:
	rm -rf .analisa dbt_project/target dbt_project/logs
