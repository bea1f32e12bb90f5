"""S3 keys with `#`, `?`, `%`, `+` and spaces reach the job as the same objects.

The trigger writes `s3://bucket/key` with the key as is; the job splits it with
`uris.split_s3` (everything after the bucket's slash, nothing decoded) and Spark reads
it through Hadoop, whose path strings are literal too. In the twin the same URI becomes
`file://<workspace>/s3/<bucket>/<key>`. One batch run loads a file under every key.
"""

from __future__ import annotations

import json

import pytest
from sales_lake import silver_run, uris
from sales_lake.batch import loader as batch_loader
from sales_lake.stream import loader as stream_loader

from local_twin.engines import localise_glue_arguments
from local_twin.lambda_runtime import load_handler_module
from local_twin.workspace import LAKE_BUCKET, RAW_BUCKET, Workspace
from tests.glue_jobs.csv_fixtures import row, write_csv
from tests.lambdas.trigger_events import AWKWARD_KEYS, encoded, eventbridge_body

# The awkward keys, plus the literal text of escapes and characters Hadoop globs on.
ROUND_TRIP_KEYS = (
    *AWKWARD_KEYS,
    "landing/sales/a%2B.csv",
    "landing/sales/b%25.csv",
    "landing/sales/%%2525.csv",
    "landing/sales/#?%+ &=;,[x]{y}*.csv",
    "landing/sales/Ünïcödé.csv",
)


def test_s3_uri_and_split_s3_round_trip_every_key_exactly():
    for key in ROUND_TRIP_KEYS:
        uri = uris.s3_uri(RAW_BUCKET, key)
        assert uri == f"s3://{RAW_BUCKET}/{key}"
        assert uris.split_s3(uri) == (RAW_BUCKET, key)
        assert uris.split_s3(uri.replace("s3://", "s3a://", 1)) == (RAW_BUCKET, key)
        assert uris.normalize(uri) == uri
    # An escape's text and the character it stands for stay two objects.
    plus, escaped = (uris.normalize(uris.s3_uri("b", k)) for k in ("a+b.csv", "a%2Bb.csv"))
    assert plus != escaped
    for bad in ("s3://", "s3:///key", "https://b/k", "b/k"):
        with pytest.raises(ValueError, match="s3://<bucket>/<key>"):
            uris.split_s3(bad)


def test_local_object_uris_name_the_exact_files(tmp_path):
    workspace = Workspace.at(tmp_path / "ws")
    for key in ROUND_TRIP_KEYS:
        uri = uris.object_uri(workspace.lake_uri(), RAW_BUCKET, key)
        assert uri == workspace.local_uri(uris.s3_uri(RAW_BUCKET, key))
        assert uris.local_path(uri) == workspace.object_path(RAW_BUCKET, key)
        assert uris.spark_uri(uri) == uri and uris.normalize(uri) == uri
    # A key no file can stand for is refused, not silently mapped to another file.
    for key in ("landing//a.csv", "/landing/a.csv", "landing/../a.csv", "landing/"):
        with pytest.raises(ValueError, match="rename the object"):
            workspace.object_path(RAW_BUCKET, key)


@pytest.mark.spark
def test_hadoop_reads_each_uri_as_its_literal_key(spark):
    """What S3A does with a path (`pathToKey`: the URI's decoded path) and what Spark
    reports back (`Path.toString()`): the key, and the URI we passed, unchanged."""
    hadoop_path = spark._jvm.org.apache.hadoop.fs.Path
    for key in ROUND_TRIP_KEYS:
        uri = uris.s3_uri("bucket", key)
        path = hadoop_path(uri)
        assert path.toUri().getPath()[1:] == key
        assert uris.normalize(path.toString()) == uri


def _trigger_source_uris() -> tuple[str, str]:
    """(execution name, source_uris) as the trigger builds them from S3's events."""
    trigger = load_handler_module("trigger")
    import pipeline_objects  # on sys.path once the handler module is loaded

    objects = [
        obj
        for n, key in enumerate(AWKWARD_KEYS)
        for obj in pipeline_objects.objects_in_message(
            eventbridge_body(encoded(key), bucket=RAW_BUCKET, version=f"v{n}")
        )
    ]
    [request] = pipeline_objects.group_into_executions(objects)
    payload = trigger.execution_input(request, None, LAKE_BUCKET)
    return payload["run_id"], payload["source_uris"]


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory):
    """One batch run over a file under each key (key n holds n + 1 rows), through the
    trigger's execution input and the twin's Glue argument mapping."""
    workspace = Workspace.at(tmp_path_factory.mktemp("s3_keys") / "ws")
    rows_by_key, next_id = {}, 1
    for n, key in enumerate(AWKWARD_KEYS):
        ids = list(range(next_id, next_id + n + 1))
        write_csv(workspace.object_path(RAW_BUCKET, key), [row(i) for i in ids])
        rows_by_key[key], next_id = ids, next_id + len(ids)
    # Files a mangled key would be read as instead: the fragment cut off, `?` as a glob,
    # `+` decoded again as a space. None is in the run, so none of their rows may load.
    for decoy in ("landing/sales/orders ", "landing/sales/qZx=1.csv", "landing/sales/a b.csv"):
        write_csv(workspace.object_path(RAW_BUCKET, decoy), [row(900)])
    run_id, source_uris = _trigger_source_uris()
    glue_arguments = {
        "--run_id": run_id,
        "--lake_uri": f"s3://{LAKE_BUCKET}",
        "--source_uris": source_uris,
    }
    args = localise_glue_arguments(glue_arguments, workspace)
    metrics = silver_run.run(spark, batch_loader, args)
    silver = spark.read.format("delta").load(f"{workspace.lake_uri()}/silver/sales")
    lineage: dict[str, set[int]] = {}
    for r in silver.select("source_uri", "row_id").collect():
        lineage.setdefault(r.source_uri, set()).add(r.row_id)
    return workspace, source_uris.split(","), rows_by_key, metrics, lineage


@pytest.mark.spark
def test_one_run_loads_every_awkward_key_with_its_trigger_uri_as_lineage(run):
    workspace, trigger_uris, rows_by_key, metrics, lineage = run
    assert sorted(uris.split_s3(u)[1] for u in trigger_uris) == sorted(AWKWARD_KEYS)
    local = {workspace.local_uri(u): uris.split_s3(u)[1] for u in trigger_uris}
    twin_root = uris.file_uri(workspace.s3_root) + "/"
    for uri in local:  # the twin only swaps the scheme and bucket for a folder
        assert "s3://" + uri.removeprefix(twin_root) in trigger_uris
    assert metrics["rejected_files"] == []
    assert {s["uri"]: s["rows_read"] for s in metrics["sources"]} == {
        uri: len(rows_by_key[key]) for uri, key in local.items()
    }
    assert lineage == {uri: set(rows_by_key[key]) for uri, key in local.items()}
    total = sum(len(ids) for ids in rows_by_key.values())
    assert metrics["counts"]["read"] == metrics["counts"]["inserted"] == total
    written = json.loads(workspace.run_metrics_path(metrics["run_id"]).read_text())
    assert written["sources"] == metrics["sources"]


def test_a_manifest_names_the_same_objects_as_the_inline_list(tmp_path):
    """The trigger lists more than 20 objects in a manifest: same URIs, same lineage."""
    workspace = Workspace.at(tmp_path / "ws")
    for key in AWKWARD_KEYS:
        write_csv(workspace.object_path(RAW_BUCKET, key), [row(1)])
    objects = [{"bucket": RAW_BUCKET, "key": key, "version_id": "v1"} for key in AWKWARD_KEYS]
    manifest = workspace.object_path(LAKE_BUCKET, "manifests/m.json")
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"run_id": "m", "kind": "batch", "objects": objects}))
    args = {"lake_uri": workspace.lake_uri(), "manifest_uri": uris.file_uri(manifest)}
    sources, missing = silver_run.sources_of(args, batch_loader)
    assert missing == []
    assert [s.uri for s in sources] == [
        workspace.local_uri(uris.s3_uri(RAW_BUCKET, key)) for key in AWKWARD_KEYS
    ]


def test_stream_files_under_awkward_keys_are_found(tmp_path):
    workspace = Workspace.at(tmp_path / "ws")
    keys = [key.replace("landing/sales/", "topics/t/") + ".json" for key in ROUND_TRIP_KEYS]
    for key in keys:
        path = workspace.object_path(RAW_BUCKET, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
    objects = [{"bucket": RAW_BUCKET, "key": key, "etag": "e"} for key in keys]
    manifest = workspace.object_path(LAKE_BUCKET, "manifests/s.json")
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"run_id": "s", "kind": "stream", "objects": objects}))
    args = {"lake_uri": workspace.lake_uri(), "manifest_uri": uris.file_uri(manifest)}
    present, missing = silver_run.sources_of(args, stream_loader)
    assert missing == []
    assert [s.uri for s in present] == [
        workspace.local_uri(uris.s3_uri(RAW_BUCKET, key)) for key in keys
    ]
