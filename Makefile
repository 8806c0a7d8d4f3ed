# ConsentLens: `make run` starts the dashboard on the synthetic demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501
export CONSENTLENS_DB ?= $(CURDIR)/var/consentlens.duckdb

.PHONY: install run test lint bench demo clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@test -f "$(CONSENTLENS_DB)" || $(BIN)/consentlens demo
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true

demo: $(STAMP)
	$(BIN)/consentlens demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
