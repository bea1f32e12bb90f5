# The two commands a newcomer needs are `make demo` and `make test`; both run
# `scripts/setup.sh` first, which installs everything idempotently.
.PHONY: help setup demo docs test test-unit lint synth bench-generator bench-silver bench-gold bench-pipeline bench-streaming bench-scale

VENV := .venv/bin
# The machines this targets ship Node 20; jsii (behind aws-cdk-lib) still works on it but
# prints a large end-of-life banner on every synthesis.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

help:  ## list the targets (the default)
	@grep -E '^[a-z][a-z -]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z -]+):.*## /\1\t/' | expand -t 18

setup:  ## install everything (uv lock, Delta jars with Maven, the CDK CLI, Chromium), idempotently
	@scripts/setup.sh

demo: setup  ## the pipeline end to end on the local twin with the sample data
	@$(VENV)/twin demo

# The gold data dictionary (dbt docs) of the workspace `make demo` built: prints where
# index.html is and how to serve it.
docs: setup  ## the gold data dictionary (dbt docs) of the demo workspace
	@$(VENV)/twin docs

test: setup  ## lint + the whole suite in two workers (what CI runs)
	@echo "[test] ruff"
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .
	@echo "[test] pytest (2 worker processes; one Spark session and one synthesis each at most)"
	@$(VENV)/pytest -n 2 --dist loadgroup

# The fast lane: pure tests only (no Spark, dbt build, synthesis or running state machine;
# kinds are assigned in tests/conftest.py), about a minute.
test-unit: setup  ## the fast lane: pure tests only
	@$(VENV)/pytest -m unit -q

lint: setup  ## ruff check + format check
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .

synth: setup  ## cdk synth of the stack
	@npx --no-install cdk synth --quiet

# Benchmarks print figures (they are not tests): one target per issue's benchmark.
bench-generator bench-silver bench-gold bench-pipeline bench-streaming bench-scale: bench-%: setup  ## benchmarks (figures, not tests)
	@$(VENV)/python -m benchmarks.$*
