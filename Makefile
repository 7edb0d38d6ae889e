# The two commands a newcomer needs: `make demo` and `make test`.
# Both create the virtual environment and install everything on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HTTP_AUDIT := tests/hub/api/http_audit
APQ_CLIENT := tests/hub/api/apq_client
ASYNCAPI_PARSER := tests/schema/asyncapi
SUBGRAPH_GATEWAY := tests/hub/api/subgraph

.PHONY: demo test lint browser promtool graphql-http apollo-client asyncapi-parser subgraph-gateway bench bench-quick wrk clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sp4n-hub demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sp4n-hub export-schema --check

# Lint, types, the SDL snapshot, then every test against a real PostgreSQL
# (embedded, or DATABASE_URL) and a real Kafka broker the suite starts itself.
test: lint browser promtool graphql-http apollo-client asyncapi-parser subgraph-gateway
	$(BIN)/pytest

# The GraphiQL test drives Debian's headless Chromium through its chromedriver
# (Debian packages), installed if missing; nothing downloads a browser of its own.
browser:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver)

# The deploy files' alert rules are checked and unit-tested by Prometheus's own promtool,
# from Debian's prometheus package, installed if missing.
promtool:
	@command -v promtool >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus)

# The GraphQL-over-HTTP audit runs npm's graphql-http (the spec's reference
# implementation) at the versions its package-lock.json pins, installed by npm ci
# when node_modules is missing or older than the lock file.
graphql-http: $(HTTP_AUDIT)/node_modules/.package-lock.json

$(HTTP_AUDIT)/node_modules/.package-lock.json: $(HTTP_AUDIT)/package-lock.json
	cd $(HTTP_AUDIT) && npm ci --no-audit --no-fund

# Automatic persisted queries are tested with Apollo Client itself (a third-party
# client), at the versions its package-lock.json pins.
apollo-client: $(APQ_CLIENT)/node_modules/.package-lock.json

$(APQ_CLIENT)/node_modules/.package-lock.json: $(APQ_CLIENT)/package-lock.json
	cd $(APQ_CLIENT) && npm ci --no-audit --no-fund

# The event stream's AsyncAPI document (schema/asyncapi.yaml) is checked by the
# reference parser, npm's @asyncapi/parser, at the versions its package-lock.json pins.
asyncapi-parser: $(ASYNCAPI_PARSER)/node_modules/.package-lock.json

$(ASYNCAPI_PARSER)/node_modules/.package-lock.json: $(ASYNCAPI_PARSER)/package-lock.json
	cd $(ASYNCAPI_PARSER) && npm ci --no-audit --no-fund

# The hub's Federation subgraph is composed with a second subgraph by The Guild's
# @theguild/federation-composition and queried through Hive Gateway (@graphql-hive/gateway),
# at the versions its package-lock.json pins.
subgraph-gateway: $(SUBGRAPH_GATEWAY)/node_modules/.package-lock.json

$(SUBGRAPH_GATEWAY)/node_modules/.package-lock.json: $(SUBGRAPH_GATEWAY)/package-lock.json
	cd $(SUBGRAPH_GATEWAY) && npm ci --no-audit --no-fund

# Benchmarks are not part of the tests; each writes its section of bench/RESULTS.md.
# The read benchmark drives HTTP with wrk (Debian package), installed if missing.
wrk:
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

bench: $(STAMP) wrk
	$(BIN)/python -m bench.reports_page
	$(BIN)/python -m bench.sync_throughput
	$(BIN)/python -m bench.initial_sync
	$(BIN)/python -m bench.ministry
	$(BIN)/python -m bench.dashboard
	$(BIN)/python -m bench.slow_node
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.write_profile
	$(BIN)/python -m bench.e2e_connectors

bench-quick: $(STAMP) wrk
	$(BIN)/python -m bench.reports_page --quick
	$(BIN)/python -m bench.sync_throughput --quick
	$(BIN)/python -m bench.initial_sync --quick
	$(BIN)/python -m bench.ministry --quick
	$(BIN)/python -m bench.dashboard --quick
	$(BIN)/python -m bench.slow_node --events 200 --rounds 1
	$(BIN)/python -m bench.fanout --quick
	$(BIN)/python -m bench.write_profile --quick
	$(BIN)/python -m bench.e2e_connectors --quick

clean:
	rm -rf $(VENV) .sp4n .mypy_cache .ruff_cache .pytest_cache $(HTTP_AUDIT)/node_modules \
		$(APQ_CLIENT)/node_modules $(ASYNCAPI_PARSER)/node_modules $(SUBGRAPH_GATEWAY)/node_modules
