"""Where the repository's parts live, so every command and test agrees."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
GLUE_JOBS_DIR = REPO_ROOT / "glue_jobs"
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
STEP_FUNCTIONS_DIR = REPO_ROOT / "step_functions"
LAMBDAS_DIR = REPO_ROOT / "lambdas"
SAMPLE_DATA_DIR = REPO_ROOT / "data" / "sample"
DEFAULT_WORKSPACE = Path(os.environ.get("SALES_PIPELINE_WORKSPACE", REPO_ROOT / "workspace"))
