"""The silver Glue job's script: one job, two loaders, one frame (docs/silver.md).

Why one job: Delta on S3 supports one writing driver per table, and both loaders
write silver/sales and silver/quarantine. Two Glue jobs (one per loader) could run
at the same time; one job with MaxConcurrentRuns=1 serializes every silver writer,
batch or stream (docs/orchestration.md).

Arguments: --source_kind batch|stream, --run_id, --lake_uri, and --manifest_uri or
--source_uris (docs/contracts.md). Everything else is the library shipped with
--extra-py-files (cdk/processing.py): the frame `sales_lake.silver_run` runs the
loader `sales_lake.batch.loader` or `sales_lake.stream.loader`. Locally (glue_jobs/ is
on sys.path when this file runs):

    .venv/bin/python glue_jobs/to_silver.py --source_kind stream --run_id r1 \
        --lake_uri file:///tmp/lake --manifest_uri file:///tmp/lake/manifests/r1.json
"""

from __future__ import annotations

import sys

from sales_lake.silver_run import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
