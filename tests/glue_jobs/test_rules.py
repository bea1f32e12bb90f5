"""The rules file (sales_lake/rules.toml): its checks, its copies, and a change without code."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from sales_lake import rules
from sales_lake.load_options import ARGUMENTS, LoadOptions

from tests.glue_jobs.csv_fixtures import row

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "glue_jobs" / "sales_lake"


def test_the_shipped_file_is_what_the_loaders_use():
    shipped = rules.parse(rules.rules_text())
    assert shipped == rules.RULES
    assert set(rules.ENUMERATIONS) == {"segment", "ship_mode", "order_priority", "market"}
    assert rules.RANGES["discount"] == rules.Bounds(min=0, max=1)
    assert LoadOptions().max_quarantine_ratio == shipped.max_quarantine_ratio
    assert float(ARGUMENTS["max_quarantine_ratio"][0]) == shipped.max_quarantine_ratio


def test_dbt_copy_of_the_enumerations_is_held_to_the_rules_file():
    project = yaml.safe_load((ROOT / "dbt" / "dbt_project.yml").read_text())
    copy = project["vars"]["enumerations"]
    assert {k: frozenset(v) for k, v in copy.items()} == rules.ENUMERATIONS
    for models in (ROOT / "dbt" / "models").rglob("*.yml"):
        text = models.read_text()
        for values in rules.ENUMERATIONS.values():
            listed = ", ".join(f'"{v}"' for v in sorted(values))
            assert listed not in text, f"{models}: a literal copy; use var('enumerations')"
    assert (
        "var('enumerations')['market']"
        in (ROOT / "dbt" / "models" / "staging" / "_stg_silver__models.yml").read_text()
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("[enumerations]\ncity = ['Paris', 'paris']", "lists a value twice"),
        ("[enumerations]\nsales = ['1']", "[enumerations] sales is not a text column"),
        ("[enumerations]\nmarket = []", "must list non-empty values"),
        ("[ranges]\nsales = { min = '0' }", "[ranges] sales has no range check"),
        ("[ranges]\nquantity = { min = '5', max = '2' }", "has min 5 above max 2"),
        ("[ranges]\nquantity = { min = 'one' }", "[ranges] quantity.min is 'one'"),
        ("[ranges]\nquantity = { low = '1' }", 'must be { min = "...", max = "..." }'),
    ],
)
def test_a_broken_rules_file_names_the_key_and_the_fix(change, message):
    text = "[quality_gate]\nmax_quarantine_ratio = 0.1\n" + change
    with pytest.raises(rules.RulesError) as error:
        rules.parse(text)
    assert message in str(error.value) and "sales_lake/rules.toml" in str(error.value)
    with pytest.raises(rules.RulesError, match="max_quarantine_ratio must be a number"):
        rules.parse("[quality_gate]\nmax_quarantine_ratio = 2\n")


def test_bounds_are_described_as_the_reason_shows_them():
    assert rules.Bounds(min=1).describe("integer") == "a positive integer"
    assert rules.Bounds(min=0, max=1).describe("number") == "a number between 0 and 1"
    assert rules.Bounds(min=5).describe("integer") == "an integer from 5"
    assert rules.Bounds(max=9).describe("rate") == "a rate up to 9"


_CONFORM = """
import sys
import zipfile
import pyarrow as pa
from sales_lake.batch import conform
from sales_lake.load_options import LoadOptions
out = conform.conform(pa.array(sys.argv[1:]), None)
ratio = LoadOptions().max_quarantine_ratio
print(out.reason_codes.to_pylist(), out.columns["market"].to_pylist(), ratio)
"""


def test_a_user_adds_a_market_and_narrows_a_range_without_a_code_change(tmp_path):
    """A copy of the shipped package with only rules.toml edited, loaded in a new process."""
    copy = tmp_path / "sales_lake"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    text = (copy / "rules.toml").read_text()
    text = text.replace('"LATAM", "US"]', '"LATAM", "US", "Oceania"]')
    text = text.replace('quantity = { min = "1" }', 'quantity = { min = "1", max = "50" }')
    text = text.replace("max_quarantine_ratio = 0.05", "max_quarantine_ratio = 0.2")
    (copy / "rules.toml").write_text(text)
    lines = [row(1, market="oceania"), row(2, quantity="51"), row(3, market="Mars")]
    result = subprocess.run(
        [sys.executable, "-c", _CONFORM, *lines],
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split("\n")[0] == (
        "[[], ['bad_quantity'], ['unknown_market']] ['Oceania', 'LATAM', None] 0.2"
    )


def test_the_rules_load_from_the_library_zip_as_glue_imports_it(tmp_path):
    """Glue puts the --extra-py-files zip on sys.path: rules.toml is read from inside it."""
    archive = tmp_path / "sales_lake.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in PACKAGE.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                zipped.write(path, path.relative_to(PACKAGE.parent))
    show = "import sales_lake.rules as r; print(r.__file__, sorted(r.ENUMERATIONS['market']))"
    result = subprocess.run(
        [sys.executable, "-c", show],
        env={"PYTHONPATH": str(archive), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    where, markets = result.stdout.split(" ", 1)
    assert where.startswith(str(archive)) and markets.strip() == str(
        sorted(rules.ENUMERATIONS["market"])
    )
