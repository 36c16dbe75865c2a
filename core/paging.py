"""Paging (分页): page numbers and sizes kept within what every database can offset by."""

from __future__ import annotations

MAX_PAGE = 100_000  # beyond the last page of any list: an empty page, never an overflowing OFFSET


def window(page: int, per_page: int, most: int = 200) -> tuple[int, int]:
    """`(page, per_page)` clamped to 1…MAX_PAGE and 1…`most`."""
    return min(MAX_PAGE, max(1, page)), min(most, max(1, per_page))
