"""Fixtures of the Lambda tests."""

from __future__ import annotations

import pytest

from local_twin.lambda_runtime import load_handler_module


@pytest.fixture(scope="session")
def trigger():
    """The trigger's handler module, loaded the way the Lambda runtime loads it."""
    return load_handler_module("trigger")
