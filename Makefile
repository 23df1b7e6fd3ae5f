# The two commands that set up everything on a fresh machine with Python 3.11:
#   make demo   — venv, install, run the whole pipeline on the platform sandbox (embedded defaults)
#   make test   — venv, install, run the test suite
# Both install the versions CI tested: every package pinned by constraints.txt.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# -ra (in pyproject.toml) lists every skipped test with its reason at the end.
PYTEST_ARGS ?= -q

.PHONY: demo test install lint format serve pipeline clean benchmark constraints

$(STAMP): pyproject.toml constraints.txt
	@echo "==> creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> upgrading pip"
	$(BIN)/pip install --upgrade pip
	@echo "==> installing analisa and its pinned dependencies (about two minutes on a fresh machine)"
	$(BIN)/pip install -c constraints.txt -e '.[dev]'
	touch $(STAMP)
	@echo "==> installed into $(VENV)"

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/analisa demo

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

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

# Re-resolve the newest versions pyproject.toml allows, in a throwaway venv, and pin them.
# Run it after changing a dependency, then `make test` and commit constraints.txt with the change.
constraints:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "==> resolving pyproject.toml's dependencies in a throwaway venv"; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/pip" install --upgrade pip; \
	"$$tmp/venv/bin/pip" install -e '.[dev]'; \
	{ sed -n '/^#/p' constraints.txt; "$$tmp/venv/bin/pip" freeze --exclude-editable; } \
		> "$$tmp/constraints.txt"; \
	mv "$$tmp/constraints.txt" constraints.txt; \
	echo "==> constraints.txt rewritten; run make test before committing it"

clean:
	rm -rf .analisa dbt_project/target dbt_project/logs
