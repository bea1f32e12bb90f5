"""The trigger's environment, read once per invocation into one small object.

The variable names are a contract with cdk/ingestion.py (which sets them on the
deployed function) and with the local twin (which sets them before invoking the
handler); tests/infrastructure/test_ingestion.py holds the stack to these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from object_ledger import DEFAULT_LEASE_SECONDS

STATE_MACHINE_ARN = "STATE_MACHINE_ARN"
LAKE_BUCKET = "LAKE_BUCKET"
RAW_BUCKET = "RAW_BUCKET"
OBJECT_LEDGER_TABLE = "OBJECT_LEDGER_TABLE"
LEDGER_CLAIM_LEASE_SECONDS = "LEDGER_CLAIM_LEASE_SECONDS"

REQUIRED = (STATE_MACHINE_ARN, LAKE_BUCKET, OBJECT_LEDGER_TABLE)
OPTIONAL = (RAW_BUCKET, LEDGER_CLAIM_LEASE_SECONDS)


class SettingsError(RuntimeError):
    """A variable the trigger needs is missing or malformed; the message says which."""


@dataclass(frozen=True)
class TriggerSettings:
    state_machine_arn: str
    lake_bucket: str
    ledger_table: str
    raw_bucket: str | None  # events from other buckets are ignored; None accepts any
    lease_seconds: float

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> TriggerSettings:
        missing = [name for name in REQUIRED if not environ.get(name)]
        if missing:
            raise SettingsError(
                f"environment variable(s) {', '.join(missing)} not set: the trigger needs them "
                "(cdk/ingestion.py sets them on the function; the local twin before each call)"
            )
        lease = environ.get(LEDGER_CLAIM_LEASE_SECONDS) or str(DEFAULT_LEASE_SECONDS)
        try:
            lease_seconds = float(lease)
        except ValueError:
            raise SettingsError(
                f"{LEDGER_CLAIM_LEASE_SECONDS}={lease!r} is not a number of seconds"
            ) from None
        return cls(
            state_machine_arn=environ[STATE_MACHINE_ARN],
            lake_bucket=environ[LAKE_BUCKET],
            ledger_table=environ[OBJECT_LEDGER_TABLE],
            raw_bucket=environ.get(RAW_BUCKET) or None,
            lease_seconds=lease_seconds,
        )
