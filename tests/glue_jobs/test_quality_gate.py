"""The per-object quality gate and its place in the run record (pure; the job applying
it to silver is tested end to end in tests/e2e, the state machine's verdict in
tests/step_functions)."""

from __future__ import annotations

import pytest
from sales_lake import quality_gate
from sales_lake.load_options import LoadOptions, OptionError
from sales_lake.run_metrics import ConservationError, RunMetrics, summary_of

SUMMARIES = {
    0: {"outcome": "ok", "records": 100, "rejected": 5},  # exactly the threshold: loads
    1: {"outcome": "ok", "records": 100, "rejected": 6},  # over it
    2: {"outcome": "rejected", "records": 20, "rejected": 20},  # a rejected file
    3: {"outcome": "empty", "records": 0, "rejected": 0, "blank": 4},
}


def _options(**args) -> LoadOptions:
    return LoadOptions.from_args(args)


def test_stop_holds_only_the_objects_over_the_threshold():
    found = quality_gate.breaches(SUMMARIES, _options())
    assert [(b.index, b.action, b.ratio) for b in found] == [(1, "held", 0.06)]
    assert quality_gate.held_sources(found) == {1}


def test_continue_loads_a_breaching_object_and_a_release_loads_it_under_stop():
    loaded = quality_gate.breaches(SUMMARIES, _options(quality_policy="continue"))
    released = quality_gate.breaches(SUMMARIES, _options(accept_quality_breach="alice"))
    assert [b.action for b in loaded] == ["loaded"]
    assert [b.action for b in released] == ["released"]
    assert quality_gate.held_sources(loaded) == quality_gate.held_sources(released) == set()


def test_the_threshold_is_an_option():
    assert [
        b.index for b in quality_gate.breaches(SUMMARIES, _options(max_quarantine_ratio="0"))
    ] == [0, 1]
    assert quality_gate.breaches(SUMMARIES, _options(max_quarantine_ratio="1")) == []


@pytest.mark.parametrize(
    ("given", "release"),
    [
        ("", None),
        ("none", None),  # what the state machine passes when the input releases nothing
        ('"alice"', {"by": "alice"}),  # States.JsonToString of a plain string
        (
            '{"by": "alice", "at": "2026-12-03T08:00:00Z"}',
            {"by": "alice", "at": "2026-12-03T08:00:00Z"},
        ),
        ("alice", {"by": "alice"}),
    ],
)
def test_a_release_is_read_from_json_or_plain_text(given, release):
    assert _options(accept_quality_breach=given).accept_quality_breach == release


@pytest.mark.parametrize(
    ("name", "value"),
    [("quality_policy", "ignore"), ("max_quarantine_ratio", "5%"), ("max_quarantine_ratio", "2")],
)
def test_a_bad_option_names_itself_and_the_choices(name, value):
    with pytest.raises(OptionError, match=f"--{name} is '{value}': use"):
        _options(**{name: value})


def _metrics(**counts) -> RunMetrics:
    metrics = RunMetrics(run_id="r", started_at="t")
    metrics.counts.update(counts)
    return metrics


def test_conservation_counts_blank_and_held_rows():
    metrics = _metrics(read=30, inserted=10, quarantined=2, blank=3, held=15)
    metrics.check_conservation()
    record = metrics.as_dict()
    assert record["quarantine_ratio"] == pytest.approx(2 / 12, abs=1e-6)  # of rows let in
    with pytest.raises(ConservationError, match="blank\\+held=27"):
        _metrics(read=30, inserted=10, quarantined=2, held=15).check_conservation()


def test_the_summary_names_at_most_ten_breaching_objects_and_counts_the_held():
    metrics = _metrics()
    entry = {"uri": "s3://raw/" + "k" * 400, "action": "held", "ratio": 0.5, "detail": "d" * 400}
    breached = [entry] * 11 + [{**entry, "action": "loaded"}]
    metrics.quality = {"policy": "stop", "max_quarantine_ratio": 0.05, "released": None,
                       "breached_files": breached}  # fmt: skip
    quality = summary_of(metrics.as_dict())["quality"]
    assert quality["breached_file_count"] == 12 and quality["held_file_count"] == 11
    assert len(quality["breached_files"]) == 10
    assert all(len(e["uri"]) <= 300 and len(e["detail"]) <= 300 for e in quality["breached_files"])
    assert quality["policy"] == "stop" and quality["released"] is None
