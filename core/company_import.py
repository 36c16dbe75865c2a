"""Reading an uploaded company list (企业名单导入) from CSV or Excel (.xlsx).

The format comes from the content, never the file name: a zip with ``xl/workbook.xml`` is a
workbook (openpyxl, read-only, cached values); anything else must be CSV text in UTF-8 (BOM or
not) or GBK/GB18030, delimited by comma, tab or semicolon.  Row 1 is the header (表头); columns
are found by Chinese or English name (:data:`FIELDS`: 企业名称/name and 统一社会信用代码/credit_code
required, 行业, 所属镇街, 地址, 联系人, 联系电话, 邮箱, 企业联络员 optional), others are ignored and
blank rows skipped.  A row's problems are :class:`RowError` objects (English ``N_`` msgid plus params, for
the UI to translate) and keep it out of :attr:`ImportReport.rows`; problems with the whole file
raise :class:`ImportFileError`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterator

import openpyxl

from core.i18n import N_
from core.uscc import InvalidCreditCode, validate_uscc

__all__ = ["CompanyRow", "ImportFileError", "ImportReport", "RowError", "count_data_rows",
           "iter_company_file", "parse_company_file"]

#: field → (accepted header names, longest value); the first name is the one shown to users.
FIELDS: dict[str, tuple[tuple[str, ...], int]] = {
    "name": (("企业名称", "name", "company_name"), 200),
    "credit_code": (("统一社会信用代码", "credit_code"), 18),
    "industry": (("行业", "industry", "所属行业"), 100),
    "township": (("所属镇街", "township", "镇街"), 100),
    "address": (("地址", "address", "企业地址"), 300),
    "contact_name": (("联系人", "contact_name", "contact"), 50),
    "contact_phone": (("联系电话", "contact_phone", "phone"), 30),
    "email": (("邮箱", "email", "电子邮箱", "e_mail"), 254),
    "liaison": (("企业联络员", "liaison"), 50),
}
REQUIRED = ("name", "credit_code")

PHONE_RE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")

MSG_REQUIRED = N_("This value is required.")
MSG_TOO_LONG = N_("At most %(max)s characters are allowed.")
MSG_PHONE = N_("%(value)s is not a mobile number or a landline number such as 0576-82345678.")
MSG_EMAIL = N_("%(value)s is not a valid e-mail address.")
MSG_DUPLICATE = N_("The credit code %(code)s already appears in row %(row)s.")
MSG_EMPTY = N_("The file is empty.")
MSG_NO_ROWS = N_("The file has a header but no company rows.")
MSG_FORMAT = N_("The file is neither a CSV file (UTF-8 or GBK) nor an Excel workbook (.xlsx).")
MSG_XLS = N_("Old Excel files (.xls) cannot be read; save the file as .xlsx or CSV.")
MSG_BAD_XLSX = N_("The Excel workbook could not be read.")
MSG_MISSING = N_("Required columns are missing: %(columns)s.")
MSG_TWICE = N_("The column %(column)s appears more than once.")
MSG_TOO_MANY = N_("The file has more than %(max)s company rows.")


class ImportFileError(ValueError):
    """A problem with the whole file: ``message`` is an English msgid, ``params`` fill it."""

    def __init__(self, message: str, params: dict | None = None) -> None:
        super().__init__(message, params or {})
        self.message = message
        self.params = dict(params or {})


@dataclass(frozen=True)
class CompanyRow:
    """A valid row; ``row_number`` as the spreadsheet shows it (the header is row 1)."""

    row_number: int
    name: str
    credit_code: str
    industry: str = ""
    township: str = ""
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    email: str = ""
    liaison: str = ""


@dataclass(frozen=True)
class RowError:
    """One problem in one row: ``field`` is a key of :data:`FIELDS`, ``message`` an N_ msgid."""

    row_number: int
    field: str
    message: str
    params: dict = field(default_factory=dict)


@dataclass
class ImportReport:
    rows: list[CompanyRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number typed into Excel comes back as 13812345678.0
    return "" if value is None else str(value).strip()


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _csv_text(data: bytes) -> str:
    """The text of a CSV file: UTF-8 with a BOM, else UTF-8, else GB18030 (a superset of GBK)."""
    if data.startswith(codecs.BOM_UTF8):
        data, encodings = data[len(codecs.BOM_UTF8):], ("utf-8",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        with contextlib.suppress(UnicodeDecodeError):
            text = data.decode(encoding)
            if not _CONTROL.search(text, 0, 8192):  # binary that happens to decode is not text
                return text
    raise ImportFileError(MSG_FORMAT)


def read_table(data: bytes) -> Iterator[list[str]]:
    """Every row of the file, header first, as stripped strings (the format decided by content)."""
    if not data.strip():
        raise ImportFileError(MSG_EMPTY)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ImportFileError(MSG_XLS)
    if data.startswith(b"PK\x03\x04"):
        yield from _xlsx_rows(data)
        return
    if b"\x00" in data[:8192]:
        raise ImportFileError(MSG_FORMAT)
    text = _csv_text(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield [_cell(v) for v in row]
    except csv.Error as exc:
        raise ImportFileError(MSG_FORMAT) from exc


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise zipfile.BadZipFile("not a workbook")
    except zipfile.BadZipFile as exc:
        raise ImportFileError(MSG_FORMAT) from exc
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged package
        raise ImportFileError(MSG_BAD_XLSX) from exc
    try:
        for row in book.worksheets[0].iter_rows(values_only=True):
            yield [_cell(v) for v in row]
    except Exception as exc:
        raise ImportFileError(MSG_BAD_XLSX) from exc
    finally:
        book.close()


def header_key(text: str) -> str:
    key = unicodedata.normalize("NFKC", text).strip().strip("*").strip()
    key = re.sub(r"\s*\(.*\)$", "", key)  # "联系电话（选填）" → "联系电话"
    return re.sub(r"[\s\-]+", "_", key.lower())


_ALIASES = {header_key(n): f for f, (names, _) in FIELDS.items() for n in names}


def _columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, text in enumerate(header):
        if (name := _ALIASES.get(header_key(text))) in columns:
            raise ImportFileError(MSG_TWICE, {"column": text})
        if name is not None:
            columns[name] = index
    missing = [f"{FIELDS[f][0][0]} ({f})" for f in REQUIRED if f not in columns]
    if missing:
        raise ImportFileError(MSG_MISSING, {"columns": ", ".join(missing)})
    return columns


def _data_rows(data: bytes) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]]]:
    table = read_table(data)
    header = next(table, None)
    if header is None or not any(header):
        raise ImportFileError(MSG_EMPTY)
    columns = _columns(header)
    rows = ((n, r) for n, r in enumerate(table, start=2) if any(r))
    return columns, rows


def _check_row(number: int, values: dict[str, str]) -> list[RowError]:
    """The errors of one row; ``values`` is updated in place with the normalized credit code."""
    errors = []
    for name, (_, longest) in FIELDS.items():
        value = values[name]
        if not value and name in REQUIRED:
            errors.append(RowError(number, name, MSG_REQUIRED, {}))
        elif len(value) > longest and name != "credit_code":
            errors.append(RowError(number, name, MSG_TOO_LONG, {"max": longest}))
    if values["credit_code"]:
        try:
            values["credit_code"] = validate_uscc(values["credit_code"])
        except InvalidCreditCode as exc:
            errors.append(RowError(number, "credit_code", exc.message, exc.params))
    for name, pattern, message in (("contact_phone", PHONE_RE, MSG_PHONE), ("email", EMAIL_RE, MSG_EMAIL)):
        if values[name] and not pattern.fullmatch(values[name]):
            errors.append(RowError(number, name, message, {"value": values[name]}))
    return errors


def count_data_rows(filename: str, data: bytes) -> int:
    """How many non-blank rows follow the header (for a progress bar); checks the header too."""
    _, rows = _data_rows(data)
    return sum(1 for _ in rows)


def iter_company_file(
    filename: str, data: bytes, max_rows: int = 20000
) -> Iterator[tuple[int, CompanyRow | None, list[RowError]]]:
    """Yield ``(row_number, row or None, errors)`` for each non-blank data row, in order.

    Every whole-file problem (format, header, no rows, more than ``max_rows`` rows) is raised as
    :class:`ImportFileError` before the first row is yielded.  ``filename`` is not used to decide
    the format.
    """
    columns, rows = _data_rows(data)
    count = sum(1 for _ in itertools.islice(rows, max_rows + 1))  # a first pass, stopping early
    if count > max_rows:
        raise ImportFileError(MSG_TOO_MANY, {"max": max_rows})
    if not count:
        raise ImportFileError(MSG_NO_ROWS)
    first_seen: dict[str, int] = {}  # credit code → the row it first appeared in
    for number, cells in _data_rows(data)[1]:
        cells += [""] * (max(columns.values()) + 1 - len(cells))
        values = {f: cells[columns[f]] if f in columns else "" for f in FIELDS}
        for name in ("contact_phone", "email"):  # full-width (全角) digits and stray spaces
            values[name] = re.sub(r"\s+", "", unicodedata.normalize("NFKC", values[name]))
        errors = _check_row(number, values)
        code = values["credit_code"]
        if all(e.field != "credit_code" for e in errors):  # a valid code: is it new?
            if code in first_seen:
                errors.append(RowError(number, "credit_code", MSG_DUPLICATE, {"code": code, "row": first_seen[code]}))
            first_seen.setdefault(code, number)
        yield number, (None if errors else CompanyRow(row_number=number, **values)), errors


def parse_company_file(filename: str, data: bytes, max_rows: int = 20000) -> ImportReport:
    """Read the whole file: the valid rows and every row error (see :func:`iter_company_file`)."""
    report = ImportReport()
    for _, row, errors in iter_company_file(filename, data, max_rows):
        if row is not None:
            report.rows.append(row)
        report.errors.extend(errors)
    return report
