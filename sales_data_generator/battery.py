"""A battery of malformed CSV files, each with the outcome the silver job must give it.

Why it exists: generated data (`writer.write_dataset`) is cleaner than real exports.
Users upload whatever their tools write: an Excel workbook renamed `.csv`, a PDF of a
report, UTF-16 from "Unicode text", a half-uploaded gzip, Windows-1252, old Mac line
endings, a stray quote, a semicolon export from a European locale, Excel's `,,,,`
padding rows. The principle under test is "nothing fatal from one bad file": every
file of the battery is loaded in one run, no file fails the run, a file that cannot
be read at all is rejected with one reason, a file that can is loaded with its bad
rows quarantined (each with a reason code), and the good files load completely.

`battery_files()` returns the files (name, bytes) with their expected outcome, so a
test (tests/glue_jobs/test_malformed_battery.py) or a person can drop them into a
landing folder and compare. The expectations were checked against the parser; they
are written out here, not computed by it, so a change of behaviour shows up as a
failing kind. Pure Python, no Spark and no dependency on the job's code.
"""

from __future__ import annotations

import gzip
import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from sales_data_generator.formatting import HEADERS, quote

HEADER_COLUMNS: tuple[str, ...] = HEADERS["global"]  # the 24 Global Superstore columns
HEADER = ",".join(HEADER_COLUMNS)
ROWS_PER_FILE = 3
# A 5 MB text field (a pasted document in Product Name): must load, not break the reader.
HUGE_FIELD_CHARS = 5 * 1024 * 1024

LOADED = "loaded"
EMPTY = "empty"  # no header, no data: nothing to load, not an error
HEADER_ONLY = "header_only"  # a header and no data rows: nothing to load, not an error
REJECTED = "rejected:"  # + the file's reason code, e.g. "rejected:not_csv"


@dataclass(frozen=True)
class BatteryFile:
    """One file of the battery and what the silver job must make of it.

    `expect`: "loaded" (its rows are read; bad ones quarantined), "empty",
    "header_only", or "rejected:<reason>" (the whole file is rejected with that reason;
    rows it has are quarantined with that reason too). The counts are the file summary's:
    `records` rows read (blank rows excluded), `quarantined` of them with a reason code
    (`reasons`: every code those rows carry), `blank` padding rows, `rescued_rows` rows
    with a value in an unknown column. `loaded_ids`: the Row IDs that must reach
    silver/sales. `encoding` / `date_format`: the detected ones, when they matter.
    """

    name: str
    content: bytes
    expect: str
    why: str
    records: int = 0
    quarantined: int = 0
    reasons: frozenset[str] = frozenset()
    blank: int = 0
    rescued_rows: int = 0
    loaded_ids: tuple[int, ...] = ()
    encoding: str | None = None
    date_format: str | None = None
    good: bool = False  # a control file: everything in it must load

    @property
    def reject_reason(self) -> str | None:
        return self.expect[len(REJECTED) :] if self.expect.startswith(REJECTED) else None


def _snake(column: str) -> str:
    return column.lower().replace(" ", "_").replace("-", "_")


FIELDS: tuple[str, ...] = tuple(_snake(c) for c in HEADER_COLUMNS)


def fields(number: int, **overrides: str) -> list[str]:
    """The 24 values of one valid row (as CSV text, quoted where needed), Row ID
    `number`; keyword overrides (snake_case names) replace values verbatim."""
    values = {
        "row_id": str(number),
        "order_id": f"ES-2012-{number:06d}",
        "order_date": "2012-07-31",
        "ship_date": "2012-08-02",
        "ship_mode": "Second Class",
        "customer_id": "MH-10116",
        "customer_name": "María Juárez",
        "segment": "Consumer",
        "city": "Paysandú",
        "state": "Paysandú",
        "country": "Uruguay",
        "postal_code": "",
        "market": "LATAM",
        "region": "South",
        "product_id": "TEC-PH-10004093",
        "category": "Technology",
        "sub_category": "Phones",
        "product_name": quote("Samsung Galaxy, Full Size"),
        "sales": "221.98",
        "quantity": "2",
        "discount": "0.1",
        "profit": "62.1544",
        "shipping_cost": "40.77",
        "order_priority": "High",
    }
    unknown = set(overrides) - set(values)
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)}: use {', '.join(FIELDS)}")
    values.update(overrides)
    return [values[name] for name in FIELDS]


def row(number: int, **overrides: str) -> str:
    return ",".join(fields(number, **overrides))


def _text(lines: list[str], header: str = HEADER, newline: str = "\n") -> str:
    return newline.join([header, *lines]) + newline


def _ids(base: int, n: int = ROWS_PER_FILE) -> tuple[int, ...]:
    return tuple(range(base + 1, base + 1 + n))


def _good_text(base: int, newline: str = "\n") -> str:
    return _text([row(i) for i in _ids(base)], newline=newline)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def _xlsx() -> bytes:
    """The parts of a minimal Excel workbook (enough for anything that sniffs it)."""
    return _zip(
        {
            "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns='
            b'"http://schemas.openxmlformats.org/package/2006/content-types"/>',
            "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships/>',
            "xl/workbook.xml": b'<?xml version="1.0" encoding="UTF-8"?><workbook/>',
            "xl/worksheets/sheet1.xml": b'<?xml version="1.0"?><worksheet><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>Row ID</t></is></c></row>'
            b"</sheetData></worksheet>",
        }
    )


def _png() -> bytes:
    ihdr = (
        b"\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    )
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _parquet() -> bytes:
    body = random.Random(4).randbytes(200)
    return b"PAR1" + body + (200).to_bytes(4, "little") + b"PAR1"


def _random_binary() -> bytes:
    """Random bytes with CR/LF sprinkled in, so it has "lines"; never a known magic."""
    rng = random.Random(7)
    chunks = [rng.randbytes(rng.randint(20, 120)) for _ in range(60)]
    return b"x" + b"\r\n".join(chunks)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _corrupt_crc(data: bytes) -> bytes:
    packed = bytearray(_gzip(data))
    packed[-8] ^= 0xFF  # first byte of the CRC-32 trailer
    return bytes(packed)


_Builder = Callable[[int], BatteryFile]


def _loaded(name: str, why: str, content: bytes, base: int, **kw) -> BatteryFile:
    """A file whose ROWS_PER_FILE rows (ids base+1..) all load."""
    ids = _ids(base)
    return BatteryFile(name, content, LOADED, why, records=len(ids), loaded_ids=ids, **kw)


def _one_bad(name: str, why: str, base: int, bad: str, reasons: set[str], **kw) -> BatteryFile:
    """Good row base+1, the bad line `bad` (quarantined), then good rows base+2 and base+3:
    the rows after a bad line must still load."""
    ids = _ids(base)
    lines = [row(ids[0]), bad, row(ids[1]), row(ids[2])]
    return BatteryFile(
        name, _text(lines).encode(), LOADED, why, records=len(lines), quarantined=1,
        reasons=frozenset(reasons), loaded_ids=ids, **kw,
    )  # fmt: skip


def _header_rejected(name: str, why: str, reason: str, text: str, rows: int) -> BatteryFile:
    return BatteryFile(
        name, text.encode(), REJECTED + reason, why, records=rows, quarantined=rows,
        reasons=frozenset({reason}),
    )  # fmt: skip


def _not_csv(name: str, why: str, content: bytes) -> BatteryFile:
    return BatteryFile(name, content, REJECTED + "not_csv", why)


def _kinds() -> list[_Builder]:
    ids = _ids
    return [
        # ------------------------------------------------ not text at all
        lambda b: _not_csv(
            "xlsx_named_csv.csv", "an Excel workbook saved with a .csv name", _xlsx()
        ),
        lambda b: _not_csv(
            "plain_zip.csv",
            "a zip of a CSV, not the CSV",
            _zip({"sales.csv": _good_text(b).encode()}),
        ),
        lambda b: _not_csv(
            "report_pdf.csv",
            "a PDF report",
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
        ),
        lambda b: _not_csv("screenshot_png.csv", "a PNG screenshot", _png()),
        lambda b: _not_csv("parquet_file.csv", "a Parquet file from another pipeline", _parquet()),
        lambda b: _not_csv(
            "random_binary.csv",
            "random bytes with CR/LF (a damaged or unknown format)",
            _random_binary(),
        ),
        lambda b: _not_csv(
            "gzip_of_pdf.csv.gz", "a gzip whose content is a PDF", _gzip(b"%PDF-1.7\n%%EOF\n")
        ),
        # ------------------------------------------------ nothing to load
        lambda b: BatteryFile("empty.csv", b"", EMPTY, "a zero-byte upload"),
        lambda b: BatteryFile(
            "header_only.csv", (HEADER + "\n").encode(), HEADER_ONLY, "a header and no rows"
        ),
        lambda b: BatteryFile(
            "blank_lines_only.csv", b"\n\r\n  \n\n", EMPTY, "only blank lines, no header"
        ),
        # ------------------------------------------------ compression
        lambda b: BatteryFile(
            "truncated.csv.gz",
            _gzip(_good_text(b).encode())[:60],
            REJECTED + "corrupt_gzip",
            "a gzip cut short by an interrupted upload",
        ),
        lambda b: BatteryFile(
            "corrupt_crc.csv.gz",
            _corrupt_crc(_good_text(b).encode()),
            REJECTED + "corrupt_gzip",
            "a gzip whose CRC does not match its content",
        ),
        lambda b: _loaded(
            "good_gzipped.csv.gz", "a good CSV, gzipped", _gzip(_good_text(b).encode()), b
        ),
        # ------------------------------------------------ encodings
        lambda b: _loaded(
            "utf8_bom.csv",
            "UTF-8 with a BOM (Excel's 'CSV UTF-8')",
            b"\xef\xbb\xbf" + _good_text(b).encode(),
            b,
            encoding="utf-8-sig",
        ),
        lambda b: _loaded(
            "utf16_le_bom.csv",
            "UTF-16 LE with a BOM (Excel's 'Unicode text')",
            _good_text(b, "\r\n").encode("utf-16"),
            b,
            encoding="utf-16-le",
        ),
        lambda b: _loaded(
            "utf16_be_bom.csv",
            "UTF-16 BE with a BOM",
            b"\xfe\xff" + _good_text(b).encode("utf-16-be"),
            b,
            encoding="utf-16-be",
        ),
        lambda b: _loaded(
            "utf16_no_bom.csv",
            "UTF-16 LE without a BOM",
            _good_text(b).encode("utf-16-le"),
            b,
            encoding="utf-16-le",
        ),
        lambda b: _loaded(
            "utf32.csv",
            "UTF-32 with a BOM",
            _good_text(b).encode("utf-32"),
            b,
            encoding="utf-32-le",
        ),
        lambda b: _loaded(
            "windows_1252.csv",
            "Windows-1252 bytes: café and a curly apostrophe",
            _text([row(i, customer_name="Café O’Neil", city="Zürich") for i in ids(b)]).encode(
                "cp1252"
            ),
            b,
            encoding="windows-1252",
        ),
        # ------------------------------------------------ line endings, sizes, bytes
        lambda b: _loaded(
            "cr_only.csv", "old Mac line endings (CR only)", _good_text(b, "\r").encode(), b
        ),
        lambda b: _loaded(
            "mixed_newlines.csv",
            "CR, CRLF and LF mixed in one file",
            (
                HEADER + "\r" + row(b + 1) + "\r\n" + row(b + 2) + "\n" + row(b + 3) + "\r\n"
            ).encode(),
            b,
        ),
        lambda b: _loaded(
            "huge_field.csv",
            "a 5 MB text field (a document pasted into Product Name)",
            _text(
                [row(b + 1), row(b + 2, product_name="x" * HUGE_FIELD_CHARS), row(b + 3)]
            ).encode(),
            b,
        ),
        lambda b: _one_bad(
            "nul_bytes.csv",
            "NUL bytes inside a row",
            b,
            row(b + 50, customer_name="Mar\x00\x00ía"),
            {"bad_characters"},
        ),
        # ------------------------------------------------ quoting
        lambda b: BatteryFile(
            "unclosed_quote_at_end.csv",
            _text(
                [*(row(i) for i in ids(b)), row(b + 50, product_name='"Samsung Galaxy')]
            ).encode(),
            LOADED,
            "the last row opens a quote it never closes",
            records=4,
            quarantined=1,
            reasons=frozenset({"malformed_record"}),
            loaded_ids=ids(b),
        ),
        lambda b: _one_bad(
            "quote_mid_field_newline.csv",
            "a quote opens mid-field, then a line break",
            b,
            row(b + 50, product_name='Binder "Heavy\nDuty"'),
            {"malformed_record"},
        ),
        # ------------------------------------------------ headers
        lambda b: BatteryFile(
            "extra_unknown_column.csv",
            _text([row(i) + ",note " + str(i) for i in ids(b)], HEADER + ",Internal Note").encode(),
            LOADED,
            "an unknown column a tool added (kept in rescued_data)",
            records=3,
            rescued_rows=3,
            loaded_ids=ids(b),
        ),
        lambda b: _loaded(
            "reordered_columns.csv",
            "the 24 columns in another order",
            _text(
                [",".join(reversed(fields(i))) for i in ids(b)],
                ",".join(reversed(HEADER_COLUMNS)),
            ).encode(),
            b,
        ),
        lambda b: _header_rejected(
            "missing_required_column.csv",
            "Order ID is missing from the header and rows",
            "missing_columns",
            _text(
                [",".join(fields(i)[:1] + fields(i)[2:]) for i in ids(b)],
                ",".join(HEADER_COLUMNS[:1] + HEADER_COLUMNS[2:]),
            ),
            3,
        ),
        lambda b: _header_rejected(
            "wrong_header.csv",
            "a CSV of something else entirely",
            "header_mismatch",
            _text(["2024-01-01,12.50,ACME", "2024-01-02,7.00,Initech"], "date,amount,vendor"),
            2,
        ),
        lambda b: _header_rejected(
            "semicolon_delimited.csv",
            "a European-locale export with ';' separators",
            "header_mismatch",
            _text([";".join(fields(i)) for i in ids(b)], ";".join(HEADER_COLUMNS)),
            3,
        ),
        lambda b: _header_rejected(
            "duplicate_column.csv",
            "Sales appears twice in the header",
            "header_mismatch",
            _text([row(i) + ",1.00" for i in ids(b)], HEADER + ",SALES"),
            3,
        ),
        lambda b: _loaded(
            "padded_header.csv",
            "header names padded with spaces and in other case",
            _text(
                [row(i) for i in ids(b)],
                ",".join(f"  {c.upper()} " for c in HEADER_COLUMNS),
            ).encode(),
            b,
        ),
        # ------------------------------------------------ rows
        lambda b: BatteryFile(
            "trailing_comma_rows.csv",
            _text([*(row(i) for i in ids(b)), *["," * 23] * 4]).encode(),
            LOADED,
            "Excel's padding rows of commas after the data",
            records=3,
            blank=4,
            loaded_ids=ids(b),
        ),
        lambda b: _one_bad(
            "too_few_fields.csv",
            "a row with fields missing",
            b,
            ",".join(fields(b + 50)[:20]),
            {"malformed_record"},
        ),
        lambda b: _one_bad(
            "too_many_fields.csv",
            "a row with an unquoted comma (an extra field)",
            b,
            row(b + 50, city="Paysandú, Uruguay"),
            {"malformed_record"},
        ),
        # ------------------------------------------------ values
        lambda b: _one_bad(
            "money_12_decimals.csv",
            "Sales with 12 decimals (silver never rounds)",
            b,
            row(b + 50, sales="221.123456789012"),
            {"too_precise_sales"},
        ),
        lambda b: _one_bad(
            "money_too_large.csv",
            "Sales larger than silver's decimal holds",
            b,
            row(b + 50, sales="123456789012.50"),
            {"too_large_sales"},
        ),
        lambda b: _loaded(
            "percent_discount.csv",
            "discount written as a percent (15%)",
            _text([row(i, discount="15%") for i in ids(b)]).encode(),
            b,
        ),
        lambda b: _loaded(
            "day_first_dates.csv",
            "day-first dates (31/07/2012)",
            _text(
                [row(i, order_date="31/07/2012", ship_date="02/08/2012") for i in ids(b)]
            ).encode(),
            b,
            date_format="dd/MM/yyyy",
        ),
        lambda b: BatteryFile(
            "ambiguous_dates.csv",
            _text(
                [row(i, order_date="05/07/2012", ship_date="06/07/2012") for i in ids(b)]
            ).encode(),
            LOADED,
            "dates that could be day- or month-first, nothing tells",
            records=3,
            quarantined=3,
            reasons=frozenset({"ambiguous_order_date", "ambiguous_ship_date"}),
        ),
    ]


def _good_files(first_base: int) -> list[BatteryFile]:
    plain = first_base
    quoted = first_base + 1000
    return [
        _loaded(
            "good_plain.csv",
            "a clean export (control)",
            _good_text(plain).encode(),
            plain,
            good=True,
        ),
        BatteryFile(
            "good_quoted.csv",
            _text(
                [
                    row(quoted + 1),
                    row(quoted + 2, product_name=quote('Binder, "Heavy"\nDuty')),
                    row(quoted + 3, customer_name=quote("O'Neil, Café")),
                ]
            ).encode(),
            LOADED,
            "a clean export with quoted commas, quotes and line breaks",
            records=3,
            loaded_ids=_ids(quoted),
            good=True,
        ),
    ]


def battery_files() -> list[BatteryFile]:
    """Every malformed kind, then the good control files; Row IDs never repeat across
    files (each file has its own block of 1000), so nothing is a duplicate."""
    kinds = [build(1000 * (i + 1)) for i, build in enumerate(_kinds())]
    return kinds + _good_files(1000 * (len(kinds) + 1))
