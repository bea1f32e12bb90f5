"""The trigger reads its environment once, into TriggerSettings, naming what is missing."""

from __future__ import annotations

import sys

import pytest

from local_twin.paths import LAMBDAS_DIR

sys.path.insert(0, str(LAMBDAS_DIR / "trigger"))
from trigger_settings import SettingsError, TriggerSettings  # noqa: E402

COMPLETE = {
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:sales-pipeline",
    "LAKE_BUCKET": "lake",
    "OBJECT_LEDGER_TABLE": "ledger",
}


def test_complete_environment_with_defaults():
    settings = TriggerSettings.from_environ(COMPLETE)
    assert (settings.state_machine_arn, settings.lake_bucket, settings.ledger_table) == (
        COMPLETE["STATE_MACHINE_ARN"],
        "lake",
        "ledger",
    )
    assert settings.raw_bucket is None and settings.lease_seconds == 900


def test_optional_values_are_read():
    environ = {**COMPLETE, "RAW_BUCKET": "raw", "LEDGER_CLAIM_LEASE_SECONDS": "120"}
    settings = TriggerSettings.from_environ(environ)
    assert (settings.raw_bucket, settings.lease_seconds) == ("raw", 120.0)


def test_every_missing_variable_is_named():
    with pytest.raises(SettingsError, match="LAKE_BUCKET, OBJECT_LEDGER_TABLE not set"):
        TriggerSettings.from_environ({"STATE_MACHINE_ARN": "arn"})


def test_a_lease_that_is_no_number_is_refused():
    with pytest.raises(SettingsError, match="LEDGER_CLAIM_LEASE_SECONDS='soon'"):
        TriggerSettings.from_environ({**COMPLETE, "LEDGER_CLAIM_LEASE_SECONDS": "soon"})
