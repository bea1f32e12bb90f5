"""The trigger's copy of `s3_uri` is the job's (glue_jobs/sales_lake/uris.py), unchanged.

The trigger Lambda ships alone (its asset is lambdas/trigger/), so it cannot import
the job's library and keeps a copy of the one function both sides must agree on: how
an object becomes a URI, which the job splits back with `uris.split_s3`.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap

from sales_lake import uris

from local_twin.paths import LAMBDAS_DIR
from tests.lambdas.trigger_events import AWKWARD_KEYS

sys.path.insert(0, str(LAMBDAS_DIR / "trigger"))
import pipeline_objects  # noqa: E402

KEYS = (
    *AWKWARD_KEYS,
    "landing/sales/a%2B.csv",  # the literal text of an escape, not a '+'
    "landing/sales/b%25.csv",
    "landing/sales/%%.csv",
    "landing/sales/#?%+ &=;:,.csv",
    "topics/t/year=2026/t+0+0000000042.json",
    "landing/sales/Ünïcödé.csv",
    "landing/sales/back\\slash[1]{2}*.csv",
)


def _body(function) -> str:
    """The function's code without its docstring (the copy says where it comes from)."""
    node = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    if ast.get_docstring(node) is not None:
        node.body = node.body[1:]
    return ast.dump(node)


def test_the_trigger_copy_has_the_owner_code():
    assert _body(pipeline_objects.s3_uri) == _body(uris.s3_uri), (
        "lambdas/trigger/pipeline_objects.py s3_uri drifted from "
        "glue_jobs/sales_lake/uris.py s3_uri: copy the owner's code"
    )


def test_the_trigger_uri_splits_back_to_the_key_in_the_job():
    for key in KEYS:
        uri = pipeline_objects.S3ObjectRef("raw-bucket", key).uri
        assert uri == uris.s3_uri("raw-bucket", key)
        assert uris.split_s3(uri) == ("raw-bucket", key)
