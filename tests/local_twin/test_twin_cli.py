"""The twin's commands where they do not need an engine: listing, errors that say the fix."""

from __future__ import annotations

import json

import pytest

from local_twin.cli import main as twin
from local_twin.workspace import Workspace


def record(name: str, status: str, **extra) -> dict:
    return {
        "name": name,
        "status": status,
        "started_at": "2026-11-26T08:00:00+00:00",
        "duration_seconds": 12.345,
        "metrics": {"counts": {"read": 10, "quarantined": 2}},
        "notifications": [],
        "input": json.dumps({"run_id": name, "kind": "batch", "source_uris": "s3://r/k.csv"}),
        **extra,
    }


def test_executions_lists_the_saved_records(tmp_path, capsys):
    workspace = Workspace.at(tmp_path / "ws")
    workspace.save_execution(record("batch-a-1", "SUCCEEDED"))
    notice = {"what_failed": "data-quality gate"}
    workspace.save_execution(record("batch-b-2", "FAILED", notifications=[notice]))
    assert twin(["executions", "--workspace", str(workspace.root)]) == 0
    out = capsys.readouterr().out
    assert "SUCCEEDED" in out and "batch-a-1" in out and "12.3" in out
    assert "FAILED" in out and "-> data-quality gate" in out


def test_rerun_of_an_unknown_execution_says_how_to_list_them(tmp_path):
    workspace = Workspace.at(tmp_path / "ws")
    workspace.save_execution(record("batch-a-1", "SUCCEEDED"))
    with pytest.raises(SystemExit, match=r"no execution named 'nope'.*batch-a-1.*twin executions"):
        twin(["rerun", "nope", "--workspace", str(workspace.root)])


@pytest.mark.parametrize(("name", "fix"), [("notes.txt", "export it as CSV"), ("gone.csv", "")])
def test_drop_refuses_what_the_pipeline_would_ignore(tmp_path, name, fix):
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text("a,b\n")
    with pytest.raises(SystemExit, match=name) as raised:
        twin(["drop", str(path), "--workspace", str(tmp_path / "ws")])
    assert fix in str(raised.value)
    assert not (tmp_path / "ws").exists()  # refused before anything was started


def test_fresh_workspace_refuses_to_wipe_an_unrelated_folder(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(SystemExit, match="refusing to wipe"):
        Workspace.at(tmp_path, fresh=True)
    assert (tmp_path / "precious.txt").exists()


def test_an_execution_is_found_by_a_unique_prefix_or_as_the_latest(tmp_path):
    workspace = Workspace.at(tmp_path / "ws")
    workspace.save_execution(record("batch-a-1", "SUCCEEDED"))
    workspace.save_execution(record("batch-a-2", "FAILED", started_at="2026-11-26T09:00:00+00:00"))
    assert workspace.execution("batch-a-1")["name"] == "batch-a-1"
    assert workspace.execution(None)["name"] == "batch-a-2"  # --last
    with pytest.raises(SystemExit, match=r"2 executions .* start with 'batch-a'"):
        workspace.execution("batch-a")
    workspace.save_execution(record("stream-b-3", "SUCCEEDED"))
    assert workspace.execution("stream")["name"] == "stream-b-3"
    assert twin(["rerun", "--workspace", str(workspace.root)]) == 2  # neither NAME nor --last


def test_rerun_can_release_held_objects_and_passes_the_ingest_options(tmp_path, monkeypatch):
    from local_twin.commands import rerun

    seen = {}

    class FakeTwin:
        def __init__(self, workspace, **settings):
            seen["settings"] = settings

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def rerun(self, original, accept_quality_breach=None):
            seen["rerun"] = (original["name"], accept_quality_breach)
            return record(f"{original['name']}-rerun1", "SUCCEEDED")

    monkeypatch.setattr(rerun, "Twin", FakeTwin)
    workspace = Workspace.at(tmp_path / "ws")
    workspace.save_execution(record("batch-a-1", "FAILED"))
    argv = ["rerun", "batch-a-1", "--accept-quality-breach", "alice", "--date-order", "dmy"]
    assert twin([*argv, "--workspace", str(workspace.root)]) == 0
    assert seen["rerun"] == ("batch-a-1", "alice")
    assert seen["settings"]["date_order"] == "dmy"
    assert seen["settings"]["header_policy"] == "rescue"
