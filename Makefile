# ConsentLens: `make run` starts the dashboard on the synthetic demo, `make test` runs lint and
# every test but the browser tests (`make e2e`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
E2E_STAMP := $(VENV)/.installed-e2e
SPARK_STAMP := $(VENV)/.installed-spark
PORT ?= 8501
export CONSENTLENS_DB ?= $(CURDIR)/var/consentlens.duckdb

.PHONY: install run test parity lint java e2e browser bench load demo clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# With CONSENTLENS_SOURCE=DIR the dashboards serve that Parquet folder instead of the store.
run: $(STAMP)
	@test -n "$$CONSENTLENS_SOURCE" || test -f "$(CONSENTLENS_DB)" || $(BIN)/consentlens demo
	$(BIN)/python -m consentlens.dashboard --server.port $(PORT) --server.headless true

demo: $(STAMP)
	$(BIN)/consentlens demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# Every test but the browser tests, the Spark parity suite included (`make parity` alone),
# one worker per core (pytest-xdist), each test file on one worker (its fixtures built once).
test: lint $(SPARK_STAMP) java
	$(BIN)/python -m pytest -n auto --dist loadfile --ignore=tests/e2e

parity: $(SPARK_STAMP) java
	$(BIN)/python -m pytest --ignore=tests/e2e -m spark

$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(SPARK_STAMP)

# Spark runs on Java: Debian's openjdk-17-jre-headless, installed with apt when run as root.
java:
	@command -v java >/dev/null 2>&1 || [ -n "$$JAVA_HOME" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing openjdk-17-jre-headless with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	  else \
	    echo "the Spark tests need Java 17: run 'sudo apt-get install openjdk-17-jre-headless'"; exit 1; \
	  fi; }

$(E2E_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,e2e]'
	touch $(E2E_STAMP)

# Browser tests drive Debian's chromium (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make e2e needs Debian's chromium: run 'sudo apt-get install chromium'"; exit 1; \
	  fi; }

e2e: $(E2E_STAMP) browser
	$(BIN)/python -m pytest tests/e2e

# The start-up figure drives a browser like the browser tests (said as missing without one).
bench: $(E2E_STAMP) $(SPARK_STAMP) java
	$(BIN)/python benchmarks/run.py

# 20 browser sessions on one dashboard while the command line writes (minutes, not a test).
load: $(E2E_STAMP) browser
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
