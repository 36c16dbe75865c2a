"""Reading an uploaded table (CSV or Excel .xlsx) lazily and within bounds.

The format comes from the content, never the file name: a zip with ``xl/workbook.xml`` is a
workbook (openpyxl in read-only mode, cached values, its declared dimension ignored); anything else
must be CSV text in UTF-8 (BOM or not) or GBK/GB18030, delimited by comma, tab or semicolon.
Rows are produced one at a time from the file on disk (or bytes), so a caller that stops early
has read no further: :func:`data_rows` applies the row cap while reading.  Every bound is checked
before the work it protects (:data:`MAX_COLUMNS` cells a row, :data:`MAX_LINE` characters a CSV
line, :data:`MAX_PART_BYTES` for a workbook's shared strings and styles).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import os
import re
import unicodedata
import zipfile
from typing import IO, Any, Iterator, Union

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from core.i18n import N_

__all__ = ["ImportFileError", "Source", "data_rows", "header_key", "read_table", "sniff"]

Source = Union[bytes, str, os.PathLike]

MAX_COLUMNS = 64  # cells read from each row; columns further right are ignored
MAX_LINE = 65536  # characters in one CSV line
MAX_PART_BYTES = 32 * 1024 * 1024  # uncompressed size of a workbook part read whole (strings, styles)
BLANK_RUN_ENDS = 1000  # this many blank rows in a row end the table (a sheet formatted to its last row)
HEAD = 8192

MSG_EMPTY = N_("The file is empty.")
MSG_FORMAT = N_("The file is neither a CSV file (UTF-8 or GBK) nor an Excel workbook (.xlsx).")
MSG_XLS = N_("Old Excel files (.xls) cannot be read; save the file as .xlsx or CSV.")
MSG_BAD_XLSX = N_("The Excel workbook could not be read.")
MSG_LINE = N_("A line of the file is longer than %(max)s characters.")
MSG_ROWS = N_("The file has more than %(max)s rows.")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class ImportFileError(ValueError):
    """A problem with the whole file: ``message`` is an English msgid, ``params`` fill it."""

    def __init__(self, message: str, params: dict | None = None) -> None:
        super().__init__(message, params or {})
        self.message = message
        self.params = dict(params or {})


def sniff(head: bytes) -> str:
    """``"xlsx"`` or ``"csv"`` from the first bytes of a file; refuses what is neither at once."""
    if not head.strip():
        raise ImportFileError(MSG_EMPTY)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ImportFileError(MSG_XLS)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if b"\x00" in head[:HEAD]:
        raise ImportFileError(MSG_FORMAT)
    return "csv"


@contextlib.contextmanager
def _opened(source: Source) -> Iterator[IO[bytes]]:
    if isinstance(source, (bytes, bytearray)):
        yield io.BytesIO(source)
    else:
        with open(source, "rb") as stream:
            yield stream


def read_table(source: Source) -> Iterator[list[str]]:
    """Every row of the file, header first, as stripped strings, read one row at a time."""
    with _opened(source) as stream:
        head = stream.read(HEAD)
        stream.seek(0)
        if sniff(head) == "xlsx":
            yield from _xlsx_rows(stream)
        else:
            yield from _csv_rows(stream, head)


def data_rows(table: Iterator[list[str]], max_rows: int, too_many: str = MSG_ROWS) -> Iterator[tuple[int, list[str]]]:
    """``(row_number, cells)`` of each non-blank row after the header (row 1), in order.

    Raises :class:`ImportFileError` (:data:`MSG_ROWS`) on reading row ``max_rows + 1`` — nothing
    past it is read — or when blank rows among the data outnumber ``max_rows``;
    :data:`BLANK_RUN_ENDS` blank rows in a row end the table.
    """
    seen = blank = run = 0
    for number, cells in enumerate(table, start=2):
        if not any(cells):
            blank, run = blank + 1, run + 1
            if run >= BLANK_RUN_ENDS:
                return
            if blank > max_rows:
                raise ImportFileError(too_many, {"max": max_rows})
            continue
        seen, run = seen + 1, 0
        if seen > max_rows:
            raise ImportFileError(too_many, {"max": max_rows})
        yield number, cells


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number typed into Excel comes back as 13812345678.0
    return "" if value is None else str(value).strip()


# -- CSV ----------------------------------------------------------------------------------------

def _encoding(stream: IO[bytes], head: bytes) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as such, else GB18030 (a superset of
    GBK); checked in chunks, never holding the file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(1 << 16):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"
    finally:
        stream.seek(0)


def _lines(text: IO[str]) -> Iterator[str]:
    while line := text.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE:
            raise ImportFileError(MSG_LINE, {"max": MAX_LINE})
        yield line


def _csv_rows(stream: IO[bytes], head: bytes) -> Iterator[list[str]]:
    encoding = _encoding(stream, head)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")
    try:
        lines = _text_only(_lines(text))
        first = next(lines, "")
        delimiter = max((",", "\t", ";"), key=first.count)
        for row in csv.reader(itertools.chain([first], lines), delimiter=delimiter):
            yield [_cell(v) for v in row[:MAX_COLUMNS]]
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ImportFileError(MSG_FORMAT) from exc
    finally:
        text.detach()


def _text_only(lines: Iterator[str]) -> Iterator[str]:
    """The lines, refused if control characters show in the first :data:`HEAD` characters (binary
    that happens to decode is not text)."""
    checked = 0
    for line in lines:
        if checked < HEAD:
            if _CONTROL.search(line, 0, HEAD - checked):
                raise ImportFileError(MSG_FORMAT)
            checked += len(line)
        yield line


# -- XLSX ---------------------------------------------------------------------------------------

def _check_package(stream: IO[bytes]) -> None:
    """A workbook package whose parts openpyxl reads whole (all but the sheets) are of sane size."""
    try:
        with zipfile.ZipFile(stream) as archive:
            names = {info.filename: info.file_size for info in archive.infolist()}
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ImportFileError(MSG_FORMAT) from exc
    finally:
        stream.seek(0)
    if "xl/workbook.xml" not in names:
        raise ImportFileError(MSG_FORMAT)
    for name, size in names.items():
        if not name.startswith("xl/worksheets/") and size > MAX_PART_BYTES:
            raise ImportFileError(MSG_BAD_XLSX)


class _Sheet(ReadOnlyWorksheet):
    """A read-only sheet that never looks for its declared <dimension>: openpyxl's search for one
    ends only on </sheetData>, so a sheet without it was parsed whole, into memory, when the
    workbook opened (3 million rows: 34 s and hundreds of MB); and a declared one may lie."""

    def _get_size(self) -> None:
        pass


def _first_sheet(stream: IO[bytes]) -> tuple[ExcelReader, _Sheet]:
    """The workbook's first worksheet, opened as `load_workbook(read_only=True, data_only=True)`
    would but without looking at any sheet's contents (openpyxl 3.1's reader, step by step)."""
    reader = ExcelReader(stream, read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)  # number formats: which numbers are dates
    for sheet, rel in reader.parser.find_sheets():
        if "chartsheet" not in rel.Type and rel.target in reader.valid_files:
            return reader, _Sheet(reader.wb, sheet.name, rel.target, reader.shared_strings)
    raise ImportFileError(MSG_BAD_XLSX)


def _xlsx_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    _check_package(stream)
    try:
        reader, sheet = _first_sheet(stream)
    except ImportFileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a damaged package
        raise ImportFileError(MSG_BAD_XLSX) from exc
    try:
        for row in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            end = len(row)
            while end and row[end - 1] is None:  # every row comes padded to MAX_COLUMNS
                end -= 1
            yield [_cell(v) for v in row[:end]]
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(MSG_BAD_XLSX) from exc
    finally:
        reader.archive.close()


def header_key(text: str) -> str:
    """A column header as a key: normalised, lower case, without a trailing note in brackets."""
    key = unicodedata.normalize("NFKC", text).strip().strip("*").strip()
    key = re.sub(r"\s*\(.*\)$", "", key)  # "联系电话（选填）" → "联系电话"
    return re.sub(r"[\s\-]+", "_", key.lower())
