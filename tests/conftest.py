"""Fixtures shared by the whole suite: one Spark session per test process."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark():
    from sales_lake.local_spark import local_spark_session

    session = local_spark_session(app_name="sales-pipeline-tests")
    yield session
    session.stop()
