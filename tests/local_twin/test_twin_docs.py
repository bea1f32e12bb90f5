"""`make docs` / `twin docs`: the gold data dictionary, wired without running dbt."""

from __future__ import annotations

import re
import sys

import pytest

from local_twin.cli import build_parser
from local_twin.cli import main as twin
from local_twin.commands import docs
from local_twin.paths import DBT_PROJECT_DIR, REPO_ROOT
from local_twin.workspace import Workspace


def test_make_docs_runs_twin_docs():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"^\.PHONY:.*\bdocs\b", makefile, re.M)
    assert re.search(r"^docs: setup(  ## .*)?\n\t@\$\(VENV\)/twin docs$", makefile, re.M)


def test_twin_docs_is_a_command():
    args = build_parser().parse_args(["docs", "--workspace", "ws"])
    assert args.func is docs.run and str(args.workspace) == "ws"


def test_the_command_generates_the_docs_of_the_local_target_into_the_workspace(tmp_path):
    workspace = Workspace.at(tmp_path / "ws")
    command = docs.dbt_docs_command(workspace, python="python")
    assert command[:3] == ["python", "-c", "from dbt.cli.main import cli; cli()"]
    assert command[3:5] == ["docs", "generate"]
    options = dict(zip(command[5::2], command[6::2], strict=True))
    assert options == {
        "--project-dir": str(DBT_PROJECT_DIR),
        "--profiles-dir": str(DBT_PROJECT_DIR),
        "--target-path": str(workspace.root / "dbt_docs"),
        "--log-path": str(workspace.root / "dbt_docs" / "logs"),
    }
    env = docs.dbt_docs_env(workspace, {"PATH": "/bin", "DBT_TARGET": "prod"})
    assert env["DBT_TARGET"] == "local" and env["PATH"] == "/bin"
    assert env["DUCKDB_PATH"] == str(workspace.duckdb_path)
    assert env["LAKE_URI"] == workspace.lake_uri()


def test_without_a_built_gold_it_says_what_to_run_first(tmp_path):
    with pytest.raises(SystemExit, match=r"gold\.duckdb does not exist.*twin demo"):
        twin(["docs", "--workspace", str(tmp_path / "ws")])


def test_it_prints_where_the_site_is(tmp_path, monkeypatch, capsys):
    workspace = Workspace.at(tmp_path / "ws")
    workspace.duckdb_path.touch()
    ran = []

    def fake_run(command, env, check):
        ran.append((command, env))
        return type("Completed", (), {"returncode": 0})()

    monkeypatch.setattr(docs.subprocess, "run", fake_run)
    assert twin(["docs", "--workspace", str(workspace.root)]) == 0
    assert ran[0][0] == docs.dbt_docs_command(workspace, python=sys.executable)
    out = capsys.readouterr().out
    assert f"data dictionary: {workspace.root / 'dbt_docs' / 'index.html'}" in out
    assert "dbt docs serve" in out
