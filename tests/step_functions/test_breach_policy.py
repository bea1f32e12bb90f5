"""OnQualityBreach=continue: the breach is notified and gold is still refreshed."""

from __future__ import annotations

from tests.step_functions.test_pipeline_paths import ScenarioTwin


def test_continue_policy_notifies_and_refreshes_gold(tmp_path_factory):
    harness = ScenarioTwin(tmp_path_factory, on_quality_breach="continue")
    with harness.twin:
        record = harness.run(quarantine_ratio=0.5)
    assert record["status"] == "SUCCEEDED"
    assert "PublishQualityNotice" in record["path"] and "RunDbt" in record["path"]
    assert [n["outcome"] for n in record["notifications"]] == ["DATA_QUALITY_BREACH"]
