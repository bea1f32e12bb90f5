"""Package versions pinned in uv.lock, read at synthesis time.

uv.lock is the one owner of a dependency's version: the tests run with what it
pins, so whatever the stack deploys from a registry (e.g. the Powertools layer of
the trigger Lambda) is asked for by the same version instead of a second copy of
the number that could drift.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

LOCK_FILE = Path("uv.lock")


class LockedVersionError(LookupError):
    """uv.lock is unreadable or does not pin the package; the message says how to fix it."""


def locked_version(project_root: Path, package: str) -> str:
    """The version of `package` that uv.lock pins (names compare as PyPI normalizes them)."""
    path = project_root / LOCK_FILE
    try:
        lock = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LockedVersionError(
            f"{path}: not found; run `uv lock` (make setup) in the project root"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise LockedVersionError(
            f"{path}: not valid TOML ({error}); restore it with `git checkout uv.lock`"
        ) from None
    wanted = _normalized(package)
    versions = {
        entry["version"]
        for entry in lock.get("package", [])
        if _normalized(entry.get("name", "")) == wanted and "version" in entry
    }
    if len(versions) != 1:
        found = "no version" if not versions else f"several versions {sorted(versions)}"
        raise LockedVersionError(
            f"{path}: {found} of {package!r}; pin exactly one in pyproject.toml and run `uv lock`"
        )
    return versions.pop()


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")
