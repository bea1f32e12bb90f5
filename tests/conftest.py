"""Fixtures shared by the whole suite (one Spark session per test process), and the kind
of every test, so `make test-unit` can run the fast lane alone.

Kinds (the cookbook's split, marked here from where a test lives and what it uses, so a
new test is classified without anyone remembering to):
- `e2e`: tests/e2e, the whole pipeline through the twin with the real engines;
- `infrastructure`: tests/infrastructure, the CDK synthesis and what is checked on it;
- `integration`: a real engine or a running state machine: the Spark session, dbt
  builds (tests/dbt_project), the twin executing the ASL on moto (tests/step_functions,
  the folders and modules in INTEGRATION_PLACES), a Kafka mock cluster;
- `unit`: everything else: pure functions, handlers against moto's APIs, file formats.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).parent
KINDS = ("unit", "integration", "e2e", "infrastructure")
FOLDER_KINDS = {"e2e": "e2e", "infrastructure": "infrastructure"}
INTEGRATION_PLACES = (
    "dbt_project/",
    "step_functions/",
    "local_twin/test_smoke.py",
    "local_twin/test_twin_hooks.py",
    "local_twin/test_twin_engines.py",
    "local_twin/test_lambda_service.py",
    "local_twin/test_uploads.py",
    "streaming/test_kafka_sink.py",
    "streaming/test_producer.py",
    "streaming/test_stream_twin.py",
    "streaming/test_storm_coalescing.py",
)
INTEGRATION_FIXTURES = {"spark"}


def kind_of(item: pytest.Item) -> str:
    place = Path(str(item.fspath)).relative_to(TESTS).as_posix()
    folder = place.split("/", 1)[0]
    if folder in FOLDER_KINDS:
        return FOLDER_KINDS[folder]
    if place.startswith(INTEGRATION_PLACES) or INTEGRATION_FIXTURES & set(item.fixturenames):
        return "integration"
    return "unit"


def pytest_configure(config: pytest.Config) -> None:
    for kind in KINDS:
        config.addinivalue_line("markers", f"{kind}: a test of kind {kind} (tests/conftest.py)")


def xdist_group_of(item: pytest.Item) -> str:
    """The unit `make test` hands to one of its two worker processes (`--dist loadgroup`):
    a module, so its module fixtures (the dbt story build, a twin) are built once, and
    the whole infrastructure folder, so the CDK app is synthesized once per run."""
    place = Path(str(item.fspath)).relative_to(TESTS).as_posix()
    return "infrastructure" if place.startswith("infrastructure/") else place


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(getattr(pytest.mark, kind_of(item)))
        item.add_marker(pytest.mark.xdist_group(xdist_group_of(item)))


@pytest.fixture(scope="session")
def spark():
    from sales_lake.local_spark import local_spark_session

    session = local_spark_session(app_name="sales-pipeline-tests")
    yield session
    session.stop()
