"""Writers for exports: CSV and JSON streamed chunk by chunk, Excel via a temporary file.

Rows come in as tuples matching a list of ``Column``s; each column has a kind
(text, int, float, time, money, bool) so every format can type its cells: CSV
writes plain text, JSON writes numbers as numbers and times as ISO 8601, Excel
writes numbers, real date-times and money in a currency number format.
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Iterator

import xlsxwriter

# OWASP's CSV injection list: a cell starting with one of these is run as a formula...
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# ...and spreadsheets skip leading blanks and line breaks, and read the fullwidth and small
# forms (＝ ＋ － ＠ ﹦ ...) as the ASCII ones, so these are looked for after any such lead-in.
FORMULA_STARTS = frozenset("=+-@")
# ISO 4217 minor-unit exponents that are not 2 (the usual case).
MINOR_UNITS = {"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
               "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
               "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3}
CHUNK_ROWS = 500
EXCEL_MAX_ROWS = 1_048_576


@dataclass(frozen=True)
class Column:
    """One exported column. ``money`` cells hold minor units; ``currency_col`` names its currency."""

    name: str
    kind: str = "text"
    currency_col: str | None = None


def escape_formula(value: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula (``=cmd|...``).

    Following OWASP's CSV injection guidance: a cell is neutralised when it starts with
    ``= + - @``, a tab or a carriage return, or when its first character after leading
    whitespace, line breaks and invisible format characters is ``= + - @`` in any width
    (compared after NFKC normalisation, which maps ``＝`` to ``=``). The quote makes the
    spreadsheet show the text as text; the data itself is unchanged otherwise.
    """
    if not value or (value[0].isascii() and value[0].isalnum()):
        return value  # the common case, decided by one character
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    for char in value:
        if char.isspace() or unicodedata.category(char) == "Cf":
            continue
        if unicodedata.normalize("NFKC", char)[:1] in FORMULA_STARTS or char == "\u2212":
            return "'" + value
        break
    return value


def major_units(cents: int, currency: str | None) -> Decimal:
    """Minor units as an exact decimal in major units (1234 USD → 12.34, 1234 JPY → 1234)."""
    exponent = MINOR_UNITS.get((currency or "").upper(), 2)
    return Decimal(int(cents)).scaleb(-exponent)


def _iso(value: datetime) -> str:
    # Columns already hold aware UTC; convert only what is not.
    return (value if value.tzinfo is timezone.utc else value.astimezone(timezone.utc)).isoformat()


def _currency_index(columns: list[Column]) -> dict[int, int]:
    names = [c.name for c in columns]
    return {i: names.index(c.currency_col) for i, c in enumerate(columns)
            if c.kind == "money" and c.currency_col in names}


def _text_converters(columns: list[Column], *, escape: bool, empty: Any) -> list:
    """One ``f(value, row)`` per column, chosen once, so the row loop does no dispatch."""
    money = _currency_index(columns)
    out = []
    for i, col in enumerate(columns):
        if col.kind == "time":
            out.append(lambda v, _r: empty if v is None else _iso(v))
        elif col.kind == "money":
            at = money.get(i)
            # A string keeps money exact; the *_cents column beside it is the integer.
            out.append(lambda v, r, at=at: empty if v is None else
                       str(major_units(v, r[at] if at is not None else None)))
        elif col.kind in ("int", "float", "bool"):
            out.append(lambda v, _r: empty if v is None else v)
        elif escape:
            out.append(lambda v, _r: empty if v is None else escape_formula(str(v)))
        else:
            out.append(lambda v, _r: v)
    return out


# -- CSV ----------------------------------------------------------------------------------

def csv_chunks(columns: list[Column], rows: Iterable[tuple]) -> Iterator[bytes]:
    """The CSV file in chunks of CHUNK_ROWS rows (UTF-8 with a BOM so Excel reads accents)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    convert = _text_converters(columns, escape=True, empty="")
    writer.writerow([c.name for c in columns])
    yield ("\ufeff" + buf.getvalue()).encode()
    buf.seek(0)
    buf.truncate()
    count = 0
    for row in rows:
        writer.writerow([f(v, row) for f, v in zip(convert, row)])
        count += 1
        if count % CHUNK_ROWS == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode()


# -- JSON ---------------------------------------------------------------------------------

def json_chunks(columns: list[Column], rows: Iterable[tuple]) -> Iterator[bytes]:
    """A JSON array of objects, streamed; money as a decimal string in major units."""
    convert = _text_converters(columns, escape=False, empty=None)
    names = [c.name for c in columns]
    encode = json.JSONEncoder(ensure_ascii=False).encode
    yield b"["
    parts: list[str] = []
    sep = "\n"
    for row in rows:
        parts.append(sep + encode({n: f(v, row) for n, f, v in zip(names, convert, row)}))
        sep = ",\n"
        if len(parts) >= CHUNK_ROWS:
            yield "".join(parts).encode()
            parts.clear()
    parts.append("\n]\n")
    yield "".join(parts).encode()


# -- Excel --------------------------------------------------------------------------------

def xlsx_file(columns: list[Column], rows: Iterable[tuple], sheet: str = "export") -> str:
    """Write an .xlsx in constant memory to a temporary file and return its path (caller deletes)."""
    fd, path = tempfile.mkstemp(prefix="export-", suffix=".xlsx")
    os.close(fd)
    try:
        _write_xlsx(path, columns, rows, sheet)
    except BaseException:
        os.unlink(path)
        raise
    return path


def _write_xlsx(path: str, columns: list[Column], rows: Iterable[tuple], sheet: str) -> None:
    # constant_memory flushes each row to disk as soon as the next one starts.
    book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                      "strings_to_urls": False, "remove_timezone": True})
    ws = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True})
    time_fmt = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    money_fmts: dict[str, Any] = {}
    money = _currency_index(columns)
    for c, col in enumerate(columns):
        ws.write_string(0, c, col.name, bold)
        ws.set_column(c, c, 20 if col.kind == "time" else 14)
    money_fmt = _money_formats(book, money_fmts)
    writers = []
    for c, col in enumerate(columns):
        if col.kind == "time":
            writers.append(lambda r, c, v, _row: ws.write_datetime(
                r, c, v.astimezone(timezone.utc).replace(tzinfo=None), time_fmt))
        elif col.kind == "money":
            at = money.get(c)

            def write_money(r, c, v, row, at=at):
                code = row[at] if at is not None else ""
                ws.write_number(r, c, float(major_units(v, code)), money_fmt(code))
            writers.append(write_money)
        elif col.kind in ("int", "float"):
            writers.append(lambda r, c, v, _row: ws.write_number(r, c, v))
        elif col.kind == "bool":
            writers.append(lambda r, c, v, _row: ws.write_boolean(r, c, bool(v)))
        else:
            writers.append(lambda r, c, v, _row: ws.write_string(r, c, escape_formula(str(v))))
    r = 0
    for row in rows:
        r += 1
        if r >= EXCEL_MAX_ROWS:
            ws.write_string(r - 1, 0, "truncated: Excel holds at most 1,048,576 rows; use CSV or JSON")
            break
        for c, (write, value) in enumerate(zip(writers, row)):
            if value is not None:
                write(r, c, value, row)
    book.close()


def _money_formats(book, cache: dict[str, Any]):
    """A currency number format per currency code, e.g. ``#,##0.00 "USD"``, made once each."""
    def get(code: str | None):
        code = code or ""
        fmt = cache.get(code)
        if fmt is None:
            decimals = MINOR_UNITS.get(code.upper(), 2)
            pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
            fmt = cache[code] = book.add_format({"num_format": f'{pattern} "{code}"' if code else pattern})
        return fmt
    return get


def file_chunks(path: str, chunk_size: int = 64 * 1024) -> tuple[Iterator[bytes], int]:
    """Stream a file that is removed from the disk at once (it lives while open); and its size.

    Unlinking before streaming means no temporary file is left behind, even when the response
    is never read (a HEAD request) or the client goes away half way.
    """
    fh = open(path, "rb")
    size = os.fstat(fh.fileno()).st_size
    os.unlink(path)

    def chunks() -> Iterator[bytes]:
        with fh:
            while chunk := fh.read(chunk_size):
                yield chunk
    return chunks(), size
