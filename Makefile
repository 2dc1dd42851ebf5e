# The README's two commands: `make run` (set up + run the whole graph) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

# The small profile used by CI: about 16 months of history at ~200 order lines a day, in its own
# file, so it never mixes with the default database.
SMALL_PROFILE := SALES_HISTORY_START=2024-07-01 SALES_HISTORY_END=2025-10-31 SALES_ORDERS_PER_DAY=200 \
	SALES_DUCKDB_PATH=data/small.duckdb DAGSTER_HOME=$(CURDIR)/.dagster_home_small

# The bundled example export (examples/README.md): the same job on the user's-own-files path.
EXAMPLE_PROFILE := SALES_SOURCE=file SALES_SOURCE_PATH=examples/orders \
	SALES_HISTORY_START=2024-01-01 SALES_HISTORY_END=2024-12-31 SALES_DUCKDB_PATH=data/example.duckdb \
	DAGSTER_HOME=$(CURDIR)/.dagster_home_example

.PHONY: install run run-small run-example test lint format dev dashboard bench browser clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.yaml
	mkdir -p $(@D)
	cp $< $@

run: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster job execute -m sales_platform.definitions -j sales_forecast_job \
		--tags "$$($(BIN)/python -m sales_platform.partitions)"
	$(BIN)/dagster job execute -m sales_platform.definitions -j product_forecast_job
	$(BIN)/python -m sales_platform.summary

run-small: install
	env $(SMALL_PROFILE) $(MAKE) --no-print-directory run

run-example: install
	$(BIN)/python examples/make_example_orders.py
	env $(EXAMPLE_PROFILE) $(MAKE) --no-print-directory run

# Debian's Chromium for the real-browser dashboard test (never `playwright install`).
browser:
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install browser lint
	$(BIN)/python -m pytest

dev: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml

dashboard: install
	$(BIN)/streamlit run dashboard/app.py

bench: run browser
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/pipeline_benchmark.py
	$(BIN)/python benchmarks/forecast_benchmark.py --dataset synthetic
	$(BIN)/python benchmarks/forecast_benchmark.py --dataset superstore
	$(BIN)/python benchmarks/candidate_study.py
	$(BIN)/python benchmarks/product_benchmark.py
	$(BIN)/python benchmarks/product_benchmark.py --dataset superstore
	$(BIN)/python benchmarks/product_benchmark.py --scale
	$(BIN)/python benchmarks/own_data_benchmark.py
	$(BIN)/python benchmarks/large_export_benchmark.py
	$(BIN)/python benchmarks/dashboard_render.py
	$(BIN)/python benchmarks/reader_soak.py

# The production topology without containers (deploy/prod.sh, README "Deploying"): PostgreSQL,
# the code location's gRPC server, webserver, daemon and dashboard, state in .prod/.
.PHONY: prod-up prod-down
prod-up: install
	deploy/prod.sh up

prod-down:
	deploy/prod.sh down

clean:
	rm -rf $(VENV) data .dagster_home .dagster_home_small .dagster_home_example artifacts
