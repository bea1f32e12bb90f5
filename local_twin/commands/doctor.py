"""`twin doctor`: check the local prerequisites and say how to fix what is missing."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys

from sales_lake.local_spark import SparkSetupError, delta_jars

from local_twin.paths import DEFAULT_WORKSPACE, REPO_ROOT, SAMPLE_DATA_DIR


def _java() -> tuple[bool, str]:
    if not shutil.which("java"):
        return False, "java not found: install a Java 17 runtime (Spark needs it)"
    out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    first = out.splitlines()[0] if out else "unknown version"
    ok = any(f'"{v}' in first for v in ("17", "11", "21"))
    return ok, first if ok else f"{first}: Spark 3.5 needs Java 11, 17 or 21 (use 17)"


def _jars() -> tuple[bool, str]:
    try:
        return True, ", ".join(j.name for j in delta_jars())
    except SparkSetupError as exc:
        return False, str(exc)


def _venv() -> tuple[bool, str]:
    inside = sys.prefix.startswith(str(REPO_ROOT / ".venv"))
    return inside, sys.prefix if inside else f"running from {sys.prefix}: run `make setup`"


def _disk() -> tuple[bool, str]:
    target = DEFAULT_WORKSPACE if DEFAULT_WORKSPACE.exists() else REPO_ROOT
    free_gb = shutil.disk_usage(target).free / 2**30
    return free_gb > 2, f"{free_gb:.1f} GiB free at {target}" + (
        "" if free_gb > 2 else ": free some space (the twin needs about 2 GiB)"
    )


def _loopback() -> tuple[bool, str]:
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return True, f"can bind 127.0.0.1 (e.g. port {port}) for the Spark driver"
    except OSError as exc:
        return False, f"cannot bind a loopback port ({exc}): Spark's driver needs one"


def _moto() -> tuple[bool, str]:
    from importlib.metadata import version

    from local_twin.aws_hooks import MOTO_VERSION

    found = version("moto")
    ok = found == MOTO_VERSION
    return ok, f"moto {found}" if ok else (
        f"moto {found}, the twin's hooks need {MOTO_VERSION}: run `make setup` (uv.lock pins it)"
    )


def _sample() -> tuple[bool, str]:
    files = sorted(SAMPLE_DATA_DIR.glob("*.csv*"))
    if files:
        return True, f"{len(files)} file(s) in {SAMPLE_DATA_DIR}"
    return False, f"no CSV in {SAMPLE_DATA_DIR}: restore it from git (`twin demo` drops it)"


CHECKS = {
    "java": _java,
    "delta jars": _jars,
    "virtualenv": _venv,
    "disk": _disk,
    "loopback ports": _loopback,
    "moto (pinned)": _moto,
    "demo sample": _sample,
}


def run(_args) -> int:
    failures = 0
    for name, check in CHECKS.items():
        ok, detail = check()
        failures += not ok
        print(f"{'ok ' if ok else 'FIX'}  {name:<15} {detail}")
    print("all good" if not failures else f"{failures} problem(s) above")
    return 1 if failures else 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="check prerequisites and say how to fix them")
    parser.set_defaults(func=run)
