# Expediter: `make demo` runs the hub with a simulated restaurant; `make test` runs every test.
# Both install what they need: a .venv with the Python packages, and (as root, with apt-get) the
# Debian packages the tests drive: chromium for the kitchen screens, strace to see each fsync come
# before its acknowledgement, vsftpd as a second real FTP server, wrk for benchmarks.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEBIAN_PACKAGES := chromium wrk strace vsftpd postgresql
PYTEST_ARGS ?=
# The suites that read the hub's clock; `make test` runs them again with the clock on other dates
# (not the message bus's: NATS servers and relays read no business date).
CLOCK_SUITES ?= tests/operations/kitchen tests/operations/labor tests/operations/accounting tests/connectors/escpos tests/connectors/online \
  tests/web/test_kds_sse.py tests/web/test_dashboard.py tests/engine tests/e2e tests/monitor \
  tests/catalog/test_flows_command.py tests/model tests/ledger tests/commands tests/test_runtime.py \
  tests/web/test_dashboard_alerts.py tests/web/test_dashboard_lanes.py tests/web/test_bad_input.py \
  tests/web/test_idempotency.py tests/connectors/square/test_refusals.py tests/web/test_people.py \
  tests/web/test_flow_page.py \
  tests/web/test_reconcile_pages.py

.PHONY: demo test lint format bench system-deps docs constraints lowest clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,nats]'
	@touch $(STAMP)

# The newest versions pyproject.toml allows, installed into a scratch venv, written to
# constraints.txt; run `make test lint` after it before committing the new file.
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install --quiet --upgrade pip
	.venv-constraints/bin/python -m pip install --quiet -e '.[dev,nats]'
	{ grep '^#' constraints.txt; .venv-constraints/bin/python -m pip freeze --exclude-editable; } \
	  > constraints.new && mv constraints.new constraints.txt
	rm -rf .venv-constraints

# The lowest versions pyproject.toml declares (each range's lower bound, exactly), installed into a
# scratch venv with the test runner, then a smoke subset of the suite: a declared minimum that does
# not work fails here. Deprecation warnings of old libraries are not failures here.
LOWEST_VENV := .venv-lowest
LOWEST_SUITES ?= tests/test_cli.py tests/test_logs.py tests/test_readme.py tests/catalog tests/ledger \
  tests/model tests/web/test_api.py tests/web/test_logs.py tests/web/test_kds.py tests/web/test_labor_api.py \
  tests/connectors/sftp tests/connectors/folder
TEST_RUNNER := pytest pytest-timeout hypothesis iniconfig pluggy packaging sortedcontainers attrs
lowest: $(STAMP)
	rm -rf $(LOWEST_VENV)
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST_VENV)/bin/python -m pip install --quiet $$($(BIN)/python -m tests.lowest_versions)
	$(LOWEST_VENV)/bin/python -m pip install --quiet --no-deps -e .
	grep -iE "^($$(echo $(TEST_RUNNER) | tr ' ' '|'))==" constraints.txt > $(LOWEST_VENV)/runner.txt
	$(LOWEST_VENV)/bin/python -m pip install --quiet -r $(LOWEST_VENV)/runner.txt
	$(LOWEST_VENV)/bin/python -m pip freeze --exclude-editable
	$(LOWEST_VENV)/bin/python -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning \
	  -W ignore::cryptography.utils.CryptographyDeprecationWarning $(LOWEST_SUITES)

system-deps:
	@missing=""; \
	for pkg in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages:$$missing (run as root, or: sudo apt-get install$$missing)"; \
	  fi; \
	fi

demo: $(STAMP)
	$(BIN)/expediter demo

test: $(STAMP) system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/python -m tests.other_dates -q -p no:cacheprovider --backend sqlite --ignore=tests/engine/bus $(CLOCK_SUITES)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: $(STAMP) system-deps
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ingest.py --workers 2
	$(BIN)/python bench/kitchen.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/close.py

docs: $(STAMP)
	$(BIN)/expediter docs cli -o docs/cli.md

clean:
	rm -rf $(VENV) $(LOWEST_VENV) .pytest_cache .mypy_cache .ruff_cache demo-data
