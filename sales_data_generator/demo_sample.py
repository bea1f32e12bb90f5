"""The recipes of the committed demo sample (data/sample/), one `twin generate` each.

data/sample/README.md shows the same commands; a test regenerates every recipe and
compares it byte for byte with the committed files, so the two never drift apart.
"""

from __future__ import annotations

from sales_data_generator.faults import FAULT_KINDS

# ~0.5% mixed faults: a clean-looking demo with a handful of realistic problems.
DEMO_FAULTS = {kind: 0.0005 for kind in FAULT_KINDS} | {"malformed": 0.001, "duplicate": 0.001}
BAD_ROW_FAULTS = dict.fromkeys(FAULT_KINDS, 0.04)


def _faults(rates: dict[str, float]) -> str:
    return ",".join(f"{kind}={rate:g}" for kind, rate in rates.items())


# (folder under data/sample, twin generate arguments). The bad files are standalone demo
# inputs: no attribute changes, Row IDs far above the main sample's.
RECIPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (".", ("--rows", "3000", "--files", "3", "--faults", _faults(DEMO_FAULTS))),
    ("bad", ("--rows", "20", "--name", "sample_superstore_21_columns.csv",
             "--header", "sample-superstore", "--first-row-id", "800001",
             "--start-date", "2015-12-01", "--days", "30", "--no-changes")),
    ("bad", ("--rows", "100", "--name", "sales_with_bad_rows.csv", "--seed", "1",
             "--faults", _faults(BAD_ROW_FAULTS), "--first-row-id", "900001",
             "--start-date", "2015-12-01", "--days", "30", "--no-changes")),
)  # fmt: skip


def command_lines() -> list[str]:
    """The shell commands, run from the repository root."""
    out = {".": "data/sample", "bad": "data/sample/bad"}
    return [
        f".venv/bin/twin generate {' '.join(args)} --out {out[folder]}" for folder, args in RECIPES
    ]


if __name__ == "__main__":
    print("\n".join(command_lines()))
