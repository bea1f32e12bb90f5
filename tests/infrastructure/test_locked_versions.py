"""uv.lock read at synthesis: the one source of versions the stack deploys from registries."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from cdk.locked_versions import LockedVersionError, locked_version
from cdk.stack import PROJECT_ROOT

LOCK = """
version = 1

[[package]]
name = "aws-lambda-powertools"
version = "3.37.0"

[[package]]
name = "twice"
version = "1.0"

[[package]]
name = "twice"
version = "2.0"
"""


def test_the_lock_pins_what_the_tests_run_with():
    assert locked_version(PROJECT_ROOT, "aws-lambda-powertools") == version("aws-lambda-powertools")


def test_names_compare_as_pypi_normalizes_them(tmp_path):
    (tmp_path / "uv.lock").write_text(LOCK)
    assert locked_version(tmp_path, "AWS_Lambda.Powertools") == "3.37.0"


@pytest.mark.parametrize(
    ("package", "message"),
    [("absent", "no version of 'absent'"), ("twice", r"several versions \['1.0', '2.0'\]")],
)
def test_a_package_must_be_pinned_exactly_once(tmp_path, package, message):
    (tmp_path / "uv.lock").write_text(LOCK)
    with pytest.raises(LockedVersionError, match=message) as raised:
        locked_version(tmp_path, package)
    assert "uv.lock" in str(raised.value) and "uv lock" in str(raised.value)


def test_a_missing_lock_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(LockedVersionError, match=r"uv\.lock: not found; run `uv lock`"):
        locked_version(tmp_path, "aws-lambda-powertools")
