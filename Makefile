# famassist: two commands on a fresh machine — `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-national clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -c "import temporalio, fastapi, sqlmodel" 
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/famassist up

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy .

bench: $(STAMP)
	$(BIN)/python -m bench.case_projection
	$(BIN)/python -m bench.list_reads
	$(BIN)/python -m bench.ministry_reads
	$(BIN)/python -m bench.pilot_round --only first
	$(BIN)/python -m bench.api_load
	$(BIN)/python -m bench.research_export

# The national round (43 municipalities, 250 assistants, 2,000 cases): about an hour on 2 cores.
bench-national: $(STAMP)
	$(BIN)/python -m bench.pilot_round --only national

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
