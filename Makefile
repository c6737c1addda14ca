# dxreport: the monthly report on the use of digital platforms.
#   make report [MONTH=2026-11] [UNIT=all]   set up if needed, run the month (default: the latest sample month), print where the reports are
#   make test                                 lint, then the whole test suite (unit tests, notebook runs, nbval smoke test)
#   make test-fast                            lint, then the tests not marked slow (no notebook runs, kernels or runner)
#   make lint                                 ruff (lint and format) and the import layers
#   make test-busy                            the runner's tests with every core kept busy
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The latest month of the embedded sample (params/settings.yaml, sample.last_month).
MONTH ?= $(shell sed -n 's/^ *last_month: *"\([0-9-]*\)".*/\1/p' params/settings.yaml)
UNIT ?= all
SYSTEM_PACKAGES := chromium poppler-utils fonts-liberation2 dovecot-imapd openssl

.PHONY: setup system-deps report lint test test-fast test-busy notebooks-smoke index clean
setup: $(VENV)/.installed system-deps

# System packages: Debian's chromium prints the PDF, poppler checks it, Liberation Serif is the
# report's font; dovecot (IMAP) and openssl give the mail tests a real mailbox over TLS.
# Installed only when missing; needs root (or sudo) and apt.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,dask]'
	if git rev-parse --git-dir >/dev/null 2>&1; then \
	  $(BIN)/nbstripout --install --attributes .gitattributes && \
	  git config filter.nbstripout.clean '"$(CURDIR)/$(BIN)/python" -m nbstripout --keep-id'; fi
	touch $@

report: setup
	$(BIN)/dxreport run --month $(MONTH) --unit $(UNIT)

lint: setup
	$(BIN)/ruff check lib tests benchmarks
	$(BIN)/ruff format --check lib tests benchmarks
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest -q tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider

# Without the tests marked slow (pytest.mark.slow): notebook runs, kernels, the runner end to end.
test-fast: lint
	$(BIN)/python -m pytest -q tests -m "not slow" -p no:cacheprovider

# The runner's tests again with every core kept busy (4 spinning processes per core), as on a
# shared office server: kernels must start and every report must succeed there too.
test-busy: setup
	DXREPORT_TEST_BUSY=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_runner.py tests/test_kernels.py

index: setup
	$(BIN)/dxreport index

clean:
	rm -rf outputs/[0-9]* outputs/index.html outputs/warehouse.duckdb data/sample data/raw
