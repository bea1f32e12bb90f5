"""The committed demo sample is exactly what its documented commands produce."""

from __future__ import annotations

import json

import pytest
from sales_lake.schema import CANONICAL_HEADER

from local_twin.cli import main as twin
from local_twin.paths import SAMPLE_DATA_DIR
from sales_data_generator.demo_sample import RECIPES, command_lines
from sales_data_generator.reading import csv_fields, physical_lines


def test_readme_shows_every_recipe_command():
    readme = (SAMPLE_DATA_DIR / "README.md").read_text()
    for command in command_lines():
        assert command in readme


@pytest.mark.parametrize("folder, args", RECIPES, ids=["main", "superstore", "bad-rows"])
def test_committed_files_match_a_fresh_run(tmp_path, capsys, folder, args):
    assert twin(["generate", *args, "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    generated = sorted(p.name for p in tmp_path.iterdir())
    committed_dir = SAMPLE_DATA_DIR / folder
    for name in generated:
        assert (committed_dir / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_bad_files_are_what_the_demo_needs():
    bad = SAMPLE_DATA_DIR / "bad"
    header = csv_fields(physical_lines(bad / "sample_superstore_21_columns.csv")[0])
    assert len(header) == 21 and header != list(CANONICAL_HEADER)
    faults = (bad / "sales_with_bad_rows.faults.jsonl").read_text().splitlines()
    assert len({json.loads(line)["kind"] for line in faults}) == 11


def test_readme_counts_match_the_sidecar():
    kinds = [
        json.loads(line)["kind"]
        for line in (SAMPLE_DATA_DIR / "faults.jsonl").read_text().splitlines()
    ]
    duplicates = kinds.count("duplicate")
    quarantined = len(kinds) - duplicates
    expected = (
        f"read 3,000 = inserted {3000 - duplicates - quarantined:,} +\n"
        f"duplicates {duplicates} + quarantined {quarantined}."
    )
    assert expected in (SAMPLE_DATA_DIR / "README.md").read_text()
