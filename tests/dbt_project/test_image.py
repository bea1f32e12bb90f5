"""The gold ECS image (dbt/Dockerfile) against what the tests run. No Docker engine
here, so the Dockerfile is read and held to it:
  - the task as the image runs it: the Dockerfile's user (an unprivileged one here),
    its environment and WORKDIR, on a read-only copy of what its COPY lines bring in,
    through a real local build on a tiny silver; dbt must write only where that
    environment says, under the temp directory (prod: the target path the entry point
    chooses), never into the project or the home directory;
  - its Python packages: requirements.txt, which the Dockerfile installs by hash, is
    uv.lock's dependency tree of dbt-core, dbt-snowflake and boto3, with a Linux x86_64
    wheel for every package (the ECS task's platform);
  - its base image: pinned by digest to a Python 3.11 patch release.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from unittest import mock

import pytest
from packaging.markers import Marker
from packaging.tags import compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from tests.dbt_project.silver_feed import GlueSilverFeed

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTEXT = REPO_ROOT / "dbt"  # the image's build context
DOCKERFILE = CONTEXT / "Dockerfile"
REQUIREMENTS = CONTEXT / "requirements.txt"
IMAGE_GROUP = "dbt-image"
UNPRIVILEGED = 65534  # nobody / nogroup
# glibc of the base image's Debian release: which manylinux wheels it runs
GLIBC_MINOR = {"bookworm": 36, "trixie": 41}
ECS_PLATFORM = {
    "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
    "platform_machine": "x86_64", "implementation_name": "cpython",
    "platform_python_implementation": "CPython", "python_version": "3.11",
}  # fmt: skip


# ---------------------------------------------------------------- the Dockerfile


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#") or not (current or line.strip()):
            continue  # a comment, also inside a continued instruction, or a blank line
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        logical.append(current.strip())
        current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def image_env(steps: list[tuple[str, str]]) -> dict[str, str]:
    env = {}
    for name, arguments in steps:
        if name == "ENV":
            for token in shlex.split(arguments):
                key, _, value = token.partition("=")
                env[key] = value
    return env


def last(steps: list[tuple[str, str]], name: str) -> str | None:
    values = [arguments for step, arguments in steps if step == name]
    return values[-1] if values else None


def dockerignored(relative: Path, patterns: list[str]) -> bool:
    """The .dockerignore patterns used here: '**/' prefixes and trailing '/'."""
    for pattern in patterns:
        pattern = pattern.rstrip("/").removeprefix("**/")
        for index in range(len(relative.parts)):
            if fnmatch(relative.parts[index], pattern) or fnmatch(
                "/".join(relative.parts[index:]), pattern
            ):
                return True
    return False


def copy_like_the_image(destination: Path, steps: list[tuple[str, str]]) -> None:
    """What the COPY lines put into the project folder (WORKDIR), .dockerignore applied;
    COPY lines to elsewhere (requirements.txt to /tmp) are not part of the project."""
    ignore_file = CONTEXT / ".dockerignore"
    lines = ignore_file.read_text().splitlines() if ignore_file.exists() else []
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    workdir = Path(last(steps, "WORKDIR"))
    for name, arguments in steps:
        if name != "COPY":
            continue
        *sources, target = [token for token in shlex.split(arguments) if not token.startswith("--")]
        target_path = Path(target) if target.startswith("/") else workdir / target
        if not target_path.is_relative_to(workdir):
            continue
        folder = destination / target_path.relative_to(workdir)
        into_folder = target.endswith("/") or target in (".", "./") or len(sources) > 1
        for source in sources:
            origin = CONTEXT / source
            if origin.is_dir():
                for path in sorted(origin.rglob("*")):
                    if path.is_file() and not dockerignored(path.relative_to(CONTEXT), patterns):
                        copied = folder / path.relative_to(origin)
                        copied.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(path, copied)
            else:
                copied = folder / origin.name if into_folder else folder
                copied.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, copied)


def rerooted(env: dict[str, str], tmp: Path) -> dict[str, str]:
    """The image's /tmp paths moved into this test's own temp folder."""
    return {
        key: str(tmp / value.removeprefix("/tmp/")) if value.startswith("/tmp/") else value
        for key, value in env.items()
    }


def snapshot(folder: Path) -> dict[str, tuple[int, float]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime)
        for path in folder.rglob("*")
    }


def test_the_image_runs_as_an_unprivileged_user_from_a_pinned_base():
    steps = instructions()
    user = last(steps, "USER")
    assert user and user.split(":")[0] not in ("root", "0"), (
        f"{DOCKERFILE}: the last USER must be a non-root user (add `USER <name>`)"
    )
    base = last(steps, "FROM")
    match = re.fullmatch(r"python:3\.11\.(\d+)-slim-(\w+)@sha256:[0-9a-f]{64}", base.split()[0])
    assert match, (
        f"{DOCKERFILE}: FROM {base!r} must be python:3.11.<patch>-slim-<debian>@sha256:<digest>"
    )
    assert match[2] in GLIBC_MINOR, f"{DOCKERFILE}: add {match[2]}'s glibc to GLIBC_MINOR here"
    command = json.loads(last(steps, "ENTRYPOINT"))
    assert command[0] == "python" and command[1].endswith(".py"), (
        f'{DOCKERFILE}: ENTRYPOINT must be the exec form ["python", "<script>.py"]'
    )


# --------------------------------------------------------- the task as the image runs it


def unprivileged(env: dict[str, str]) -> list[str]:
    """The command prefix that runs as an unprivileged user when the tests run as root
    (as in CI); empty otherwise. Where the interpreter lives in a folder that user cannot
    search (a root-only pyenv), the user also gets CAP_DAC_READ_SEARCH: it may read what
    it could not (the image's user can read all the image's files), never write: writing
    is what these tests are about."""
    if os.geteuid() != 0:
        return []
    plain = ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups"]
    reading = [*plain, "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    # dbt starts multiprocessing's resource tracker: the interpreter must start itself
    probe = "import subprocess, sys; sys.exit(subprocess.call([sys.executable, '-c', "
    probe += "'import dbt.cli.main, duckdb']))"
    errors = []
    for prefix in (plain, reading):
        result = subprocess.run([*prefix, sys.executable, "-c", probe], env=env,
                                capture_output=True, text=True, check=False)  # fmt: skip
        if result.returncode == 0:
            return prefix
        errors.append(result.stderr.strip()[-300:])
    raise AssertionError(
        f"user {UNPRIVILEGED} cannot run {sys.executable} with dbt: make the virtualenv and "
        f"its interpreter readable (chmod -R o+rX), or run the tests as a non-root user: {errors}"
    )


def hand_over(path: Path) -> Path:
    """A folder the unprivileged user may write (it owns it)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(path, UNPRIVILEGED, UNPRIVILEGED)
    return path


def make_read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def prod_target_path(entrypoint: Path, env: dict[str, str], tmp: Path) -> Path:
    """Where the copied entry point puts dbt's target folder on the prod target."""
    spec = importlib.util.spec_from_file_location("image_dbt_entrypoint", entrypoint)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        with mock.patch.object(tempfile, "tempdir", str(tmp)):
            return Path(module.target_path_for("prod", env))
    finally:
        del sys.modules[spec.name]


@pytest.fixture(scope="module")
def image_run(spark):
    """A tiny silver from the real batch job, then the image's command on it (the
    staging model: see below)."""
    root = Path(tempfile.mkdtemp(prefix="gold-image-"))
    root.chmod(0o755)  # mkdtemp makes it private; the task's user must get in
    try:
        lake = hand_over(root / "lake")
        feed = GlueSilverFeed(spark, lake, root / "inputs", rows=400, seed=5)
        feed.load_batch([0, 1, 2], "image-r1")
        hand_over(lake / "runs")  # the task ships its artifacts there (S3 on ECS)
        steps = instructions()
        app = root / "app"
        copy_like_the_image(app, steps)
        make_read_only(app)
        tmp = hand_over(root / "tmp")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root / "home"),  # not created: nothing may be written there
            "TMPDIR": str(tmp),
            **rerooted(image_env(steps), tmp),
            "DBT_TARGET": "local",
            "RUN_ID": "image-g1",
            "LAKE_URI": lake.as_uri(),
            "DUCKDB_PATH": str(hand_over(root / "data") / "gold.duckdb"),
        }
        # The local target would keep its artifacts next to the DuckDB file; the image
        # runs prod, so the run writes where prod would.
        script = app / json.loads(last(steps, "ENTRYPOINT"))[1]
        env["DBT_TARGET_PATH"] = str(prod_target_path(script, env, tmp))
        prefix = unprivileged(env)
        before = snapshot(app)
        # Staging only: it reads silver through DuckDB's delta extension and writes the
        # target, the logs, the DuckDB file and the shipped artifacts, everything a build
        # writes; the other models add SQL, not places (test_gold_build builds them all).
        result = subprocess.run(
            [*prefix, sys.executable, script.name, "--select", "stg_silver__sales",
             "--indirect-selection", "cautious"],
            cwd=app, env=env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        yield {"result": result, "env": env, "app": app, "root": root, "lake": lake,
               "tmp": tmp, "before": before}  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.spark
def test_the_task_builds_as_the_image_user_on_a_read_only_project(image_run):
    result, env = image_run["result"], image_run["env"]
    assert result.returncode == 0, (
        f"the dbt task failed as the image runs it:\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-3000:]}"
    )
    target = Path(env["DBT_TARGET_PATH"])
    assert (target / "run_results.json").exists()
    assert (target / "partial_parse.msgpack").exists()
    if "DBT_LOG_PATH" in env:
        assert (Path(env["DBT_LOG_PATH"]) / "dbt.log").exists()
    shipped = image_run["lake"] / "runs" / env["RUN_ID"] / "dbt" / "manifest.json"
    assert shipped.exists(), "artifacts shipped to the lake"


@pytest.mark.spark
def test_the_task_writes_only_under_the_temp_directory(image_run):
    env = image_run["env"]
    assert snapshot(image_run["app"]) == image_run["before"], "the project copy changed"
    assert not Path(env["HOME"]).exists(), "something was written to HOME"
    for name in ("DBT_TARGET_PATH", "DBT_LOG_PATH"):
        if name in env:
            assert Path(env[name]).is_relative_to(image_run["tmp"]), (
                f"{DOCKERFILE}: {name} must lie under /tmp, the image's writable place"
            )


# ------------------------------------------------------------ the image's packages


def requirements(path: Path = REQUIREMENTS) -> dict[str, dict]:
    """name -> {version, marker, hashes} of a hash-pinned requirements file."""
    entries, current = {}, ""
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        current += line.rstrip().removesuffix("\\") + " "
        if line.rstrip().endswith("\\"):
            continue
        spec, *options = current.split(" --hash=")
        requirement, _, marker = spec.partition(";")
        name, _, version = requirement.strip().partition("==")
        entries[canonicalize_name(name)] = {
            "version": version.strip(),
            "marker": marker.strip() or None,
            "hashes": {option.strip() for option in options},
        }
        current = ""
    return entries


def locked_tree(roots: list[str]) -> dict[str, dict]:
    """uv.lock's packages reachable from the roots, extras included: name -> package."""
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    packages = {package["name"]: package for package in lock["package"]}
    tree, seen = {}, set()
    pending = [(canonicalize_name(root), ()) for root in roots]
    while pending:
        name, extras = pending.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        package = packages[name]
        for dependency in package.get("dependencies", []) + [
            dependency
            for extra in extras
            for dependency in package.get("optional-dependencies", {}).get(extra, [])
        ]:
            pending.append((dependency["name"], tuple(dependency.get("extra", ()))))
        tree[name] = package
    return tree


def image_group() -> list[str]:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    group = pyproject["dependency-groups"][IMAGE_GROUP]
    return [re.split(r"[=<>!~\[ ;]", requirement)[0] for requirement in group]


def linux_x86_64_tags(glibc_minor: int) -> set:
    platforms = [f"manylinux_2_{minor}_x86_64" for minor in range(glibc_minor, 4, -1)]
    platforms += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    return set(cpython_tags((3, 11), abis=["cp311"], platforms=platforms)) | set(
        compatible_tags((3, 11), interpreter="cp311", platforms=platforms)
    )


def test_the_image_group_pins_the_projects_versions():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    pinned = {canonicalize_name(r.split("==")[0]): r for r in pyproject["project"]["dependencies"]}
    for requirement in pyproject["dependency-groups"][IMAGE_GROUP]:
        assert pinned.get(canonicalize_name(requirement.split("==")[0])) == requirement, (
            f"pyproject.toml: {requirement} in group {IMAGE_GROUP} must equal the dependency"
        )


def test_the_requirements_are_the_locked_tree_of_the_image_group():
    installed = requirements()
    tree = locked_tree(image_group())
    assert {name: entry["version"] for name, entry in installed.items()} == {
        name: package["version"] for name, package in tree.items()
    }, f"{REQUIREMENTS} differs from uv.lock: re-export it (command in {DOCKERFILE.name})"
    for name, entry in installed.items():
        assert entry["hashes"], f"{REQUIREMENTS}: {name} has no --hash"


def test_every_requirement_has_a_hash_pinned_linux_x86_64_wheel():
    """pip --only-binary in the image needs a wheel for the ECS task's platform."""
    base = last(instructions(), "FROM").split()[0]
    debian = re.search(r"-slim-(\w+)@", base)
    assert debian and debian[1] in GLIBC_MINOR, f"{DOCKERFILE}: FROM {base}: which glibc?"
    debian = debian[1]
    supported = linux_x86_64_tags(GLIBC_MINOR[debian])
    tree = locked_tree(image_group())
    for name, entry in requirements().items():
        if entry["marker"] and not Marker(entry["marker"]).evaluate(ECS_PLATFORM):
            continue
        wheels = [
            wheel for wheel in tree[name].get("wheels", [])
            if parse_wheel_filename(wheel["url"].rsplit("/", 1)[1])[3] & supported
        ]  # fmt: skip
        assert any(wheel["hash"] in entry["hashes"] for wheel in wheels), (
            f"{REQUIREMENTS}: no hash-pinned wheel of {name} {entry['version']} for "
            f"CPython 3.11 on manylinux x86_64 (glibc 2.{GLIBC_MINOR[debian]})"
        )


def uv_binary() -> str | None:
    local = REPO_ROOT / ".tools" / "bin" / "uv"
    return str(local) if local.exists() else shutil.which("uv")


def test_the_requirements_equal_a_fresh_export_of_the_lock():
    uv = uv_binary()
    if uv is None:
        pytest.skip("uv not found; the package set is compared by the test above")
    command = [uv, "export", "--frozen", "--offline", "--only-group", IMAGE_GROUP,
               "--no-emit-project", "--no-header"]  # fmt: skip
    exported = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    if exported.returncode != 0:
        pytest.skip(f"uv export does not run offline here: {exported.stderr.strip()[:200]}")
    committed = REQUIREMENTS.read_text().splitlines()
    while committed and committed[0].startswith("#"):
        committed.pop(0)  # the header naming the command
    assert exported.stdout.splitlines() == committed, (
        f"{REQUIREMENTS} is not uv.lock's export: run the command in {DOCKERFILE.name}"
    )


def test_the_dockerfile_installs_the_requirements_by_hash_only():
    steps = instructions()
    installs = [
        arguments for step, arguments in steps if step == "RUN" and "pip install" in arguments
    ]
    assert len(installs) == 1, f"{DOCKERFILE}: one pip install, from requirements.txt"
    options = shlex.split(installs[0].split("&&")[0])
    for option in ("--no-deps", "--require-hashes", "--only-binary=:all:", "-r"):
        assert option in options, f"{DOCKERFILE}: pip install needs {option}"
    copied = [shlex.split(arguments) for step, arguments in steps if step == "COPY"]
    assert any(parts[0] == REQUIREMENTS.name for parts in copied), "requirements.txt is copied"
