"""Locating the runtime artifacts the stack deploys (written by the other parts).

Missing artifacts stop synthesis with a message naming the file and its owner,
rather than a bare ENOENT from inside the CDK's JavaScript runtime.
"""

from __future__ import annotations

from pathlib import Path


class MissingArtifactError(FileNotFoundError):
    """A file the stack deploys does not exist in the project tree."""


def require(project_root: Path, relative: Path, *, produced_by: str) -> Path:
    """Absolute path of `relative` under `project_root`, which must exist."""
    path = project_root / relative
    if not path.exists():
        raise MissingArtifactError(
            f"{path}: required by the CDK stack but missing; it is produced by {produced_by}. "
            "Restore it (git status / git log) before running `cdk synth`."
        )
    return path
