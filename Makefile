# Trygg: `make run` serves the app on SQLite, `make test` runs linters and the suite.
# Both bootstrap everything they need on a fresh machine with Python 3.11+.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PO     := $(wildcard trygg/translations/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)

.PHONY: run test lint typecheck pytest bootstrap assets bench crash fuzz translations-update clean help

help:
	@echo "make run     serve Trygg on http://127.0.0.1:$(PORT) (SQLite, demo organisation)"
	@echo "make test    ruff, mypy and the whole test suite"
	@echo "make bench   benchmarks (PostgreSQL, gunicorn); not part of make test"
	@echo "make crash   kill -9 mid-submission 100 times per engine, then check every report"
	@echo "make fuzz    fuzz every API operation as every role, $(FUZZ_EXAMPLES) examples each"
	@echo "make assets  refresh vendored CSS/JS from package.json (needs npm)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Trygg needs Python 3.11 or newer (set PYTHON=python3.x)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --config-settings editable_mode=compat -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics --use-fuzzy -i $< -o $@ 2>&1 | tail -n 1

bootstrap: $(STAMP) $(MO)
	$(BIN)/python -m trygg.devsetup
	$(BIN)/trygg db upgrade

run: bootstrap
	$(BIN)/trygg demo seed --if-empty
	@echo "Trygg is on http://127.0.0.1:$(PORT)"
	$(BIN)/trygg serve --host 127.0.0.1 --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The suite runs on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
pytest: bootstrap
	$(BIN)/python -m pytest -n 2
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		TRYGG_TEST_ENGINE=postgres $(BIN)/python -m pytest -n 2; \
	fi

test: lint typecheck pytest

bench: bootstrap
	$(BIN)/python -m bench.tick; tick=$$?; $(BIN)/python -m bench; intake=$$?; $(BIN)/python -m bench.trends; trends=$$?; $(BIN)/python -m bench.pages; pages=$$?; exit $$((tick | intake | trends | pages))

# 100 kills per engine (the suite runs 10); PostgreSQL from BENCH/TEST_DATABASE_URL.
crash: bootstrap
	$(BIN)/python -m bench.crash --kills 100 --engine both

# The API fuzzer at length (the suite runs 3 examples per operation and role), on SQLite,
# then on PostgreSQL when TEST_DATABASE_URL is set. FUZZ_EXAMPLES=1000 make fuzz for more.
FUZZ_EXAMPLES ?= 100
fuzz: bootstrap
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -n 2 tests/fuzz/test_api_fuzz.py
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) TRYGG_TEST_ENGINE=postgres $(BIN)/python -m pytest -n 2 tests/fuzz/test_api_fuzz.py; \
	fi

assets:
	bash tools/vendor_assets.sh

translations-update: $(STAMP)
	$(BIN)/pybabel extract --omit-header --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 -k N_ -o trygg/translations/messages.pot .
	$(BIN)/pybabel update -i trygg/translations/messages.pot -d trygg/translations

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
