"""Chinese full-text search that works on SQLite and PostgreSQL alike (中文检索).

Text is indexed as its Chinese character bigrams plus lower-cased Latin words and numbers, in one
space-separated column; a query matches when every one of its terms is present.  A two-character
query such as 排水 is one bigram, so it finds "厂区附近排水管淤积" on both engines.

No full-text index on PostgreSQL, on purpose: under row-level security the planner uses only
leak-proof operators in index conditions, and neither LIKE nor GIN's array and text-search
operators are, so such an index is never read (tried, with EXPLAIN).  A search reads one tenant's
cases through its (tenant, updated) index: its cost grows with that tenant's cases, not with the
installation's.
"""

from __future__ import annotations

import re

from piccolo.columns.combination import Where
from piccolo.columns.operators.comparison import ComparisonOperator

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[A-Za-z0-9]+")
MAX_TERMS = 8
# A case number (受理编号) is the tenant's letters, the year and the id: LU2026001993.  A query of
# letters then digits, at least NUMBER_MIN characters long, is also looked up as (the start of) one.
CASE_NUMBER = re.compile(r"[A-Za-z]{1,4}[0-9]+")
NUMBER_MIN = 6


def _terms(text: str) -> list[str]:
    terms: list[str] = []
    for run in HAN.findall(text or ""):
        if len(run) == 1:
            terms.append(run)
        terms.extend(run[i:i + 2] for i in range(len(run) - 1))
    terms.extend(w.lower() for w in WORD.findall(text or ""))
    return terms


def index_text(*parts: str) -> str:
    """The search column's value: unique terms, with single characters for one-character lookups."""
    seen: dict[str, None] = {}
    for part in parts:
        for run in HAN.findall(part or ""):
            for ch in run:
                seen.setdefault(ch, None)
        for term in _terms(part):
            seen.setdefault(term, None)
    return " " + " ".join(seen) + " "


def query_terms(query: str) -> list[str]:
    """The terms a query needs, at most MAX_TERMS (longer queries are cut, not refused)."""
    terms = list(dict.fromkeys(_terms(query.strip())))
    return terms[:MAX_TERMS]


def matches(column, query: str):
    """A Piccolo where-clause: every term of `query` appears in `column` (None for an empty query;
    a query of punctuation only, such as `%' --`, has no terms and matches nothing)."""
    terms = query_terms(query)
    if not terms:
        return None if not (query or "").strip() else column.is_null() & column.is_not_null()
    clause = None
    for term in terms:
        like = column.like(f"% {term} %")
        clause = like if clause is None else clause & like
    return clause


def number_prefix(query: str) -> str | None:
    """The case number, or start of one, that `query` is (upper-cased), or None."""
    text = (query or "").strip()
    if len(text) >= NUMBER_MIN and len(text) <= 30 and CASE_NUMBER.fullmatch(text):
        return text.upper()
    return None


def _successor(prefix: str) -> str | None:
    """The smallest letters-and-digits string of the same length after every string starting with
    `prefix` (LU202609 -> LU202610); None past ZZ99.  Letters and digits only, so the bound sorts
    the same under any collation, not just C."""
    chars = list(prefix)
    for i in range(len(chars) - 1, -1, -1):
        if chars[i] == "9":
            chars[i] = "0"
        elif chars[i] == "Z":
            chars[i] = "A"
        else:
            chars[i] = chr(ord(chars[i]) + 1)
            return "".join(chars)
    return None


def number_matches(column, query: str):
    """A Piccolo where-clause: `column` (an indexed case number) equals or starts with the number
    in `query`, as an index range; None when `query` does not look like a case number."""
    prefix = number_prefix(query)
    if prefix is None:
        return None
    clause = column >= prefix
    upper = _successor(prefix)
    return clause & (column < upper) if upper else clause


class _ContainsPostgres(ComparisonOperator):
    template = "{name} ILIKE {value} ESCAPE '\\'"


class _ContainsSQLite(ComparisonOperator):  # SQLite's LIKE ignores ASCII case already
    template = "{name} LIKE {value} ESCAPE '\\'"


def contains(column, text: str) -> Where:
    """A Piccolo where-clause: `column` contains `text` literally, ignoring case — a `%` or `_`
    typed into a search box is that character, not a wildcard matching everything."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    operator = _ContainsPostgres if column._meta.engine_type in ("postgres", "cockroach") else _ContainsSQLite
    return Where(column=column, value=f"%{escaped}%", operator=operator)
