# Myolens: `make run` starts the app on embedded defaults, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

# Real recordings live beside the project (never committed); override to move them.
export EMG_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: run test lint bench bench-load results results-clinical results-gesture models clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	bash scripts/run.sh

# The suite runs on the PostgreSQL and Redis servers on 127.0.0.1 (see README).
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
test: export TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
test: export SECRET_KEY ?= test-only-secret-key-not-for-production
test: $(STAMP)
	$(PY) -m pytest $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check emgcore clinic tests bench studies scripts

bench: $(STAMP)
	$(PY) bench/preprocess_bench.py
	$(PY) bench/model_bench.py

# N concurrent API uploads against gunicorn + 1, 2, 4 Celery workers on
# PostgreSQL/Redis (docs/SCALING.md). The Redis database is flushed: own one.
BENCH_N ?= 200
BENCH_WORKERS ?= 1,2,4
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/myolens_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
bench-load: $(STAMP)
	$(PY) bench/load_bench.py --n $(BENCH_N) --workers $(BENCH_WORKERS) \
	  --database-url $(BENCH_DATABASE_URL) --redis-url $(BENCH_REDIS_URL) $(BENCH_ARGS)

# Every disease number of the results notebook (docs/experiments/) and the shipped checkpoints (hours on 2 CPU
# cores; resumable: rerun to continue). See scripts/results.sh.
results: $(STAMP)
	bash scripts/results.sh

# The clinical disease study of docs/RESULTS.md (headline, cross-site, N2001; resumable).
results-clinical: $(STAMP)
	bash scripts/results_clinical.sh

# The gesture table of docs/RESULTS.md (docs/results/gesture_table.md) with
# person-bootstrap 95 % intervals, from the committed runs/gesture/refit units
# (seconds; nothing is trained).
results-gesture: $(STAMP)
	$(PY) -m studies.gesture_table

clean:
	rm -rf $(VENV) var .pytest_cache
