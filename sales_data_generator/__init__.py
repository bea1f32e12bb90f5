"""Sample-data generator: Global Superstore-style sales CSVs, realistic, faulty on request.

    from sales_data_generator import write_dataset
    report = write_dataset(tmp_path, rows=3_000, files=3, faults={"malformed": 0.01})
    report.files, report.rows_written, report.faults, report.faults_path

Why it exists: every other part (silver job, dbt, orchestration, benchmarks) needs input
that looks like the real exports, including their problems, with the answer key next to
it (`faults.jsonl`: which physical line holds which fault; `changes.jsonl`: which customer
changed segment and which product was renamed, from which date, and the undated shapes:
shared product IDs, cities under two labels, lines without geography). By default the data
has a real export's shapes (customers ship to many places, product IDs shared by several
names, a few cities labelled twice, a few lines without geography); `simple=True` gives
the earlier, simpler data (one address per customer, which may move once). The contract
is in docs/contracts.md ("Sample data"); the committed demo sample is data/sample/.

Modules: `reference` (places, catalog), `entities` (customer/product pools and their
changes over time), `orders` (the clean row stream), `formatting` (dates, headers, CSV),
`faults` (fault injection), `writer` (files, encodings, sidecars), `reading` (read a file
back by physical line), `demo_sample` (the recipes of data/sample).
"""

from sales_data_generator.faults import FAULT_KINDS
from sales_data_generator.formatting import DATE_FORMATS, HEADERS, SAMPLE_SUPERSTORE_HEADER
from sales_data_generator.writer import (
    CHANGES_SIDECAR,
    ENCODINGS,
    FAULTS_SIDECAR,
    GenerationReport,
    write_dataset,
)

__all__ = [
    "CHANGES_SIDECAR",
    "DATE_FORMATS",
    "ENCODINGS",
    "FAULTS_SIDECAR",
    "FAULT_KINDS",
    "HEADERS",
    "SAMPLE_SUPERSTORE_HEADER",
    "GenerationReport",
    "write_dataset",
]
