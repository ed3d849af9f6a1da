# fupin — the two commands a newcomer needs are `make demo` and `make test`.
PY        ?= python3.11
VENV      := .venv
BIN       := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP     := $(VENV)/.installed-stamp
DB        ?= warehouse/demo.duckdb
DEMO_QUERIES := warehouse/queries/poor_households_by_region.sql \
	warehouse/queries/poverty_incidence_over_time.sql \
	warehouse/queries/quarantined_last_run.sql
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

BENCH_PAGES ?= 10000

.PHONY: setup demo test test-all test-fast lint lock bench bench-memory bench-scale clean-work

setup: $(STAMP)

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set, nothing else
# would cache it, and every run would compile Prefect, GE and pandas again (seconds).
$(STAMP): requirements.lock pyproject.toml
	@command -v $(PY) >/dev/null || { echo "fupin needs $(PY) on PATH (Python 3.11)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q fupin flows tasks >/dev/null
	@touch $(STAMP)

demo: setup
	rm -f $(DB) $(DB).wal
	$(BIN)/fupin run samples/pages --db $(DB)
	@for q in $(DEMO_QUERIES); do \
		echo; echo "-- $$q"; sed -n 's/^-- //p' $$q | head -1; \
		$(BIN)/fupin sql "$$(cat $$q)" --db $(DB) || exit 1; \
	done

# The slow integration tests (real Prefect servers, whole flows, a pip install) take
# about twelve more minutes on two cores: CI runs them (.ci/run sets FUPIN_SLOW_TESTS=1),
# and so does `make test-all`.
SLOW_FILTER := $(if $(FUPIN_SLOW_TESTS),,-m "not slow")

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q $(SLOW_FILTER)

test-all: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || true

# Regenerate the pinned dependency set after editing pyproject.toml.
lock: setup
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 \
		--no-header --no-annotate -o requirements.lock

# Full run vs a floor on as many processes (wall and CPU), re-run, start-up, peak RSS on
# a synthetic corpus; appends a row to bench/results.md. Run it on a quiet machine.
bench: setup
	$(BIN)/python bench/run_bench.py --pages $(BENCH_PAGES)

# Peak memory of one run over 50,000 pages (no floor, no re-run).
bench-memory: setup
	$(BIN)/python bench/run_bench.py --pages 50000 --run-only

# The whole bench at 100,000 pages: ~1.5 GB of corpus, about an hour on 2 cores.
bench-scale: setup
	$(BIN)/python bench/run_bench.py --pages 100000

clean-work:
	rm -rf .fupin warehouse/staging
