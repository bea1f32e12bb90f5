"""Sample-data generator: Global Superstore-style sales CSVs, realistic, faulty on request.

    from local_twin.sample_data import write_dataset
    report = write_dataset(tmp_path, rows=3_000, files=3, faults={"malformed": 0.01})
    report.files, report.rows_written, report.faults, report.faults_path

Modules: `reference` (places, catalog), `entities` (customer/product pools and their
changes over time), `orders` (the clean row stream), `formatting` (dates, headers, CSV),
`faults` (fault injection), `writer` (files, encodings, sidecars).
"""

from local_twin.sample_data.faults import FAULT_KINDS
from local_twin.sample_data.formatting import DATE_FORMATS, HEADERS, SAMPLE_SUPERSTORE_HEADER
from local_twin.sample_data.writer import (
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
