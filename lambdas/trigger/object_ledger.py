"""The object ledger: which S3 object versions already belong to a pipeline execution.

Why: execution names de-duplicate only a redelivery of the same coalesced SET of
objects. S3/EventBridge/SQS deliver at least once, so one object can come back in a
LATER batch with other objects, which would name (and start) a second execution.
The ledger (DynamoDB, key = bucket/key@version-or-etag) records each object with a
conditional put before its execution starts; an object already recorded is a
duplicate and is skipped. A rewritten key (new version or ETag) is a new object.

Failure order, item = (object, execution name, claimed_at):
1. claim: conditional put of every object of a request, with the request's name;
2. StartExecution(name);
3. if StartExecution fails: delete the claims again (conditional on the name) and
   report the messages as failed, so SQS redelivers them.
If the function dies between 1 and 2 (timeout, crash) or the delete fails, the items
name an execution that does not exist. Such an item is retryable once its claim is
older than the lease (longer than the function can run, so its claimant is surely
gone): the object is claimed again (conditional on the old name) and started. An
item whose execution does not exist and whose claim is still fresh belongs to an
invocation in flight: its messages are reported failed and come back later. So an
object is never lost (no claim without an execution survives the lease) and never
started twice (an existing execution always wins).

The TTL (30 days) outlives every redelivery path (EventBridge retries 24 h, the
queue keeps 4 days, the DLQ 14 days) and stays below the 90 days Step Functions
keeps closed executions, so "execution does not exist" never means "purged".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

KEY_ATTRIBUTE = "object_id"
EXECUTION_ATTRIBUTE = "execution_name"
CLAIMED_AT_ATTRIBUTE = "claimed_at"
TTL_ATTRIBUTE = "expires_at"
TTL_DAYS = 30
# Default lease: Lambda's longest possible run (15 min); CDK passes timeout + margin.
DEFAULT_LEASE_SECONDS = 900
_BATCH_GET_LIMIT = 100

NEW, DUPLICATE, RETRY, IN_FLIGHT = "new", "duplicate", "retry", "in_flight"


@dataclass(frozen=True)
class LedgerEntry:
    object_id: str
    execution_name: str
    claimed_at: float


def verdict(
    entry: LedgerEntry | None,
    execution_exists: Callable[[str], bool],
    *,
    now: float,
    lease_seconds: float,
) -> str:
    """What to do with one object, given its ledger entry (pure; the rule above)."""
    if entry is None:
        return NEW
    if execution_exists(entry.execution_name):
        return DUPLICATE
    if now - entry.claimed_at >= lease_seconds:
        return RETRY
    return IN_FLIGHT


class ClaimConflict(RuntimeError):
    """Another invocation claimed one of the objects between lookup and claim."""


class ObjectLedger:
    """DynamoDB access for the rule above (low-level client, one table)."""

    def __init__(
        self,
        table_name: str,
        client,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.lease_seconds = lease_seconds
        self.clock = clock

    def lookup(self, object_ids: Iterable[str]) -> dict[str, LedgerEntry]:
        """The entries that exist for `object_ids` (strongly consistent reads)."""
        ids = sorted(set(object_ids))
        found: dict[str, LedgerEntry] = {}
        for start in range(0, len(ids), _BATCH_GET_LIMIT):
            keys = [{KEY_ATTRIBUTE: {"S": i}} for i in ids[start : start + _BATCH_GET_LIMIT]]
            request = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    entry = _entry(item)
                    found[entry.object_id] = entry
                request = response.get("UnprocessedKeys") or None
        return found

    def claim(self, claims: dict[str, str | None], execution_name: str) -> None:
        """Record `execution_name` for each object id; `claims` maps an id to the
        execution name its stale entry holds (None: the id must be absent).

        All or nothing: on a conflict the claims made here are released and
        ClaimConflict is raised.
        """
        now = self.clock()
        made: list[str] = []
        for object_id, previous in sorted(claims.items()):
            item = {
                KEY_ATTRIBUTE: {"S": object_id},
                EXECUTION_ATTRIBUTE: {"S": execution_name},
                CLAIMED_AT_ATTRIBUTE: {"N": str(int(now))},
                TTL_ATTRIBUTE: {"N": str(int(now + TTL_DAYS * 86_400))},
            }
            if previous is None:
                condition = {"ConditionExpression": "attribute_not_exists(#k)",
                             "ExpressionAttributeNames": {"#k": KEY_ATTRIBUTE}}  # fmt: skip
            else:
                condition = {
                    "ConditionExpression": "#e = :previous",
                    "ExpressionAttributeNames": {"#e": EXECUTION_ATTRIBUTE},
                    "ExpressionAttributeValues": {":previous": {"S": previous}},
                }
            try:
                self.client.put_item(TableName=self.table_name, Item=item, **condition)
            except self.client.exceptions.ConditionalCheckFailedException:
                self.release(made, execution_name)
                raise ClaimConflict(
                    f"{object_id} was claimed by another invocation meanwhile; "
                    "its messages are retried"
                ) from None
            made.append(object_id)

    def release(self, object_ids: Iterable[str], execution_name: str) -> list[str]:
        """Delete the claims of `execution_name` (only those still naming it).

        Best effort: returns the ids it could not delete; they become retryable
        after the lease anyway.
        """
        left: list[str] = []
        for object_id in object_ids:
            try:
                self.client.delete_item(
                    TableName=self.table_name,
                    Key={KEY_ATTRIBUTE: {"S": object_id}},
                    ConditionExpression="#e = :name",
                    ExpressionAttributeNames={"#e": EXECUTION_ATTRIBUTE},
                    ExpressionAttributeValues={":name": {"S": execution_name}},
                )
            except self.client.exceptions.ConditionalCheckFailedException:
                continue  # no longer ours: nothing to release
            except Exception:  # noqa: BLE001 - the lease covers whatever stays behind
                left.append(object_id)
        return left


def _entry(item: dict) -> LedgerEntry:
    return LedgerEntry(
        object_id=item[KEY_ATTRIBUTE]["S"],
        execution_name=item.get(EXECUTION_ATTRIBUTE, {}).get("S", ""),
        claimed_at=float(item.get(CLAIMED_AT_ATTRIBUTE, {}).get("N", "0")),
    )


def execution_arn(state_machine_arn: str, name: str) -> str:
    """arn:…:stateMachine:<machine> -> arn:…:execution:<machine>:<name>."""
    prefix, machine = state_machine_arn.rsplit(":stateMachine:", 1)
    return f"{prefix}:execution:{machine}:{name}"
