"""Cells of an export that no spreadsheet evaluates (CSV/formula injection, OWASP).

Text a user typed — a case title, a creditor's name — that starts with `=`, `+`, `-`, `@`, a tab
or a carriage return would run as a formula when the export is opened.  CSV gets OWASP's leading
apostrophe; XLSX writes such text as a string cell with Excel's quote prefix, never a formula.
Numbers, dates and empty cells pass unchanged: a negative number is a number, not text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeGuard

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: object) -> TypeGuard[str]:
    """Text that a spreadsheet would read as a formula (or a DDE command)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_value(value: object) -> object:
    """A CSV cell's value: formula-like text behind an apostrophe, anything else as it is."""
    return "'" + value if formula_like(value) else value


def xlsx_row(sheet, values: Iterable[object]) -> list:
    """A row for `sheet.append` (write-only or not): formula-like text as a string cell, and
    characters XML cannot hold dropped from text (openpyxl would refuse the whole export)."""
    return [_xlsx_cell(sheet, v) for v in values]


def _xlsx_cell(sheet, value: object) -> object:
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not formula_like(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl made it a formula ("f") on assignment
    cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    return cell
