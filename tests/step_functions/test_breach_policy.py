"""OnQualityBreach=continue: the breach is notified and gold is still refreshed."""

from __future__ import annotations


def test_continue_policy_notifies_and_refreshes_gold(scenario_twin):
    harness = scenario_twin(on_quality_breach="continue")
    with harness.twin:
        record = harness.run(quarantine_ratio=0.5)
    assert record["status"] == "SUCCEEDED"
    assert "PublishQualityNotice" in record["path"] and "RunDbt" in record["path"]
    assert [n["outcome"] for n in record["notifications"]] == ["DATA_QUALITY_BREACH"]
