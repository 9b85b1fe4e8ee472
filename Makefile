# The commands the README names. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
PYTEST := $(UV) run --locked pytest -p no:cacheprovider

.PHONY: run test lint bench contracts setup infra tools migrate test-fast demo

setup:  ## install uv if missing and the locked dependencies
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet --user uv
	$(UV) sync --locked

infra:  ## PostgreSQL, RabbitMQ and Redis answering (started where installed)
	@scripts/infra.sh

tools:  ## what the tests need from Debian (promtool)
	@scripts/tools.sh

migrate: setup infra
	$(UV) run --locked frontdesk migrate

run: migrate  ## every service (API + worker) through honcho
	@$(UV) run --locked frontdesk info
	$(UV) run --locked honcho start -f Procfile

# Unit and integration tests run on two workers (each with its own databases
# and bus names); end-to-end and fault-injection tests run on their own,
# because they start processes and restart the shared broker.
test: setup infra tools
	$(PYTEST) -q -n 2 -m "not e2e and not reliability"
	$(PYTEST) -q -m e2e || [ $$? -eq 5 ]
	$(PYTEST) -q -m reliability || [ $$? -eq 5 ]

test-fast: setup infra
	$(PYTEST) -q -n 2 -m "not e2e and not reliability"

lint: setup
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check libs services tests bench scripts
	$(UV) run --locked mypy libs/contracts/src libs/kit/src services/*/src

bench: setup infra
	@for script in $$(ls bench/*.py | grep -v benchkit); do echo "== $$script"; $(UV) run --locked python $$script || exit 1; done

demo: setup  ## demo data for the demo tenant on the running stack (after make run)
	$(UV) run --locked python scripts/demo_data.py

contracts: setup  ## AsyncAPI document and snapshots for new contracts
	$(UV) run --locked python -m frontdesk.contracts.asyncapi libs/contracts/asyncapi.json
