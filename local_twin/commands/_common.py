"""Options and helpers shared by the twin's pipeline commands."""

from __future__ import annotations

from pathlib import Path

from local_twin.paths import DEFAULT_WORKSPACE


def add_workspace_option(parser) -> None:
    parser.add_argument(
        "--workspace",
        type=Path,
        default=DEFAULT_WORKSPACE,
        help=f"workspace folder, kept between commands (default: {DEFAULT_WORKSPACE})",
    )


def add_policy_options(parser) -> None:
    parser.add_argument(
        "--quarantine-threshold",
        default="0.05",
        help="data-quality gate: highest tolerated quarantined/read ratio (default 0.05)",
    )
    parser.add_argument(
        "--on-quality-breach",
        choices=("stop", "continue"),
        default="stop",
        help="after the breach notification: stop before gold, or refresh gold anyway",
    )


def twin_settings(args) -> dict:
    return {
        "quarantine_ratio_threshold": str(args.quarantine_threshold),
        "on_quality_breach": args.on_quality_breach,
    }
