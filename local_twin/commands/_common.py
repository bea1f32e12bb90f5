"""Options and helpers shared by the twin's pipeline commands."""

from __future__ import annotations

from pathlib import Path

from sales_lake.load_options import DATE_ORDERS, HEADER_POLICIES
from sales_lake.rules import RULES

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
        default=str(RULES.max_quarantine_ratio),
        help="quality gate, per object: highest tolerated share of quarantined rows (default "
        f"{RULES.max_quarantine_ratio}, from the job's rules.toml)",
    )
    parser.add_argument(
        "--on-quality-breach",
        choices=("stop", "continue"),
        default="stop",
        help="an object over the threshold: stop (hold it out of silver and fail the "
        "execution after gold) or continue (load it, notify)",
    )
    parser.add_argument(
        "--header-policy",
        choices=HEADER_POLICIES,
        default="rescue",
        help="CSV headers: strict, by_name, or rescue (unknown columns kept; default)",
    )
    parser.add_argument(
        "--date-order",
        choices=DATE_ORDERS,
        default="auto",
        help="order of ambiguous dates when a file does not tell (default auto)",
    )


def twin_settings(args) -> dict:
    return {
        "quarantine_ratio_threshold": str(args.quarantine_threshold),
        "on_quality_breach": args.on_quality_breach,
        "header_policy": args.header_policy,
        "date_order": args.date_order,
    }
