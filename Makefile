# The two commands a new machine needs: `make demo` and `make test`. Everything else is set up here.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install clean messages

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Run the panel on http://127.0.0.1:8000 with a worker and sandbox providers (Ctrl-C stops both).
demo: $(STAMP)
	SANDBOX_ENABLED=$${SANDBOX_ENABLED:-1} $(PY) manage.py demo

## Run the whole test suite (SQLite by default; PostgreSQL when DATABASE_URL points at one).
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

## Recompile locale/*/LC_MESSAGES/django.mo from the .po files (committed, so no gettext is needed).
messages: $(STAMP)
	$(PY) -m panel.i18n_compile

clean:
	rm -rf $(VENV) var/*.sqlite3*

## Benchmarks (not part of `make test`): figures as ratios to baselines measured in the same run, on throw-away
## bench_* PostgreSQL databases (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432). See BENCHMARKS.md.
## `make bench` runs the full suite (about 4-7 minutes on 2 cores); `make bench QUICK=1` is a smoke test (~1 minute);
## BENCH_ARGS picks benchmarks, e.g. `make bench BENCH_ARGS="sync refresh"`.
.PHONY: bench
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) -m bench $(if $(QUICK),--quick) $(BENCH_ARGS)
