"""Reading an uploaded company list (企业名单导入) from CSV or Excel (.xlsx).

The file is read lazily by :mod:`core.spreadsheets` (format by content, row cap applied while
reading, never past row ``max_rows + 1``).  Row 1 is the header (表头); columns
are found by Chinese or English name (:data:`FIELDS`: 企业名称/name and 统一社会信用代码/credit_code
required, 行业, 所属镇街, 地址, 联系人, 联系电话, 邮箱, 企业联络员 optional), others are ignored and
blank rows skipped.  A row's problems are :class:`RowError` objects (English ``N_`` msgid plus params, for
the UI to translate) and keep it out of :attr:`ImportReport.rows`; problems with the whole file
raise :class:`ImportFileError`.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterator

from core.i18n import N_
from core.spreadsheets import (  # noqa: F401
    MSG_BAD_XLSX,
    MSG_EMPTY,
    MSG_FORMAT,
    MSG_XLS,
    ImportFileError,
    Source,
    data_rows,
    header_key,
    read_table,
)
from core.uscc import InvalidCreditCode, validate_uscc

__all__ = ["CompanyRow", "ImportFileError", "ImportReport", "RowError", "company_rows", "count_data_rows",
           "iter_company_file", "parse_company_file"]

MAX_ROWS = 20000

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
MSG_NO_ROWS = N_("The file has a header but no company rows.")
MSG_MISSING = N_("Required columns are missing: %(columns)s.")
MSG_TWICE = N_("The column %(column)s appears more than once.")
MSG_TOO_MANY = N_("The file has more than %(max)s company rows.")


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
    params: dict = dataclasses.field(default_factory=dict)  # `field` is the column's name here


@dataclass
class ImportReport:
    rows: list[CompanyRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


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


def _data_rows(source: Source, max_rows: int) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]]]:
    table = read_table(source)
    header = next(table, None)
    if header is None or not any(header):
        raise ImportFileError(MSG_EMPTY)
    return _columns(header), data_rows(table, max_rows, MSG_TOO_MANY)


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


def count_data_rows(filename: str, source: Source, max_rows: int = MAX_ROWS) -> int:
    """How many non-blank rows follow the header; checks the header, and refuses (without reading
    further) a file with more than ``max_rows``."""
    _, rows = _data_rows(source, max_rows)
    return sum(1 for _ in rows)


def company_rows(source: Source, max_rows: int = MAX_ROWS) -> Iterator[tuple[int, CompanyRow | None, list[RowError]]]:
    """Yield ``(row_number, row or None, errors)`` for each non-blank data row, in one pass.

    Whole-file problems raise :class:`ImportFileError` as soon as they are read: the header first,
    too many rows on reading row ``max_rows + 1`` (after the rows before it were yielded), no rows
    at the end.
    """
    columns, rows = _data_rows(source, max_rows)
    first_seen: dict[str, int] = {}  # credit code → the row it first appeared in
    count = 0
    for number, cells in rows:
        count += 1
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
    if not count:
        raise ImportFileError(MSG_NO_ROWS)


def iter_company_file(
    filename: str, source: Source, max_rows: int = MAX_ROWS
) -> Iterator[tuple[int, CompanyRow | None, list[RowError]]]:
    """As :func:`company_rows`, but every whole-file problem is raised before the first row is
    yielded (a first pass counts, stopping at row ``max_rows + 1``).  ``filename`` is not used to
    decide the format.
    """
    if not count_data_rows(filename, source, max_rows):
        raise ImportFileError(MSG_NO_ROWS)
    yield from company_rows(source, max_rows)


def parse_company_file(filename: str, source: Source, max_rows: int = MAX_ROWS) -> ImportReport:
    """Read the whole file: the valid rows and every row error (see :func:`iter_company_file`)."""
    report = ImportReport()
    for _, row, errors in iter_company_file(filename, source, max_rows):
        if row is not None:
            report.rows.append(row)
        report.errors.extend(errors)
    return report
