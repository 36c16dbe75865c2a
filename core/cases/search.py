"""Chinese full-text search that works on SQLite and PostgreSQL alike (中文检索).

Text is indexed as its Chinese character bigrams plus lower-cased Latin words and numbers, in one
space-separated column; a query matches when every one of its terms is present.  A two-character
query such as 排水 is one bigram, so it finds "厂区附近排水管淤积" on both engines.
"""

from __future__ import annotations

import re

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[A-Za-z0-9]+")
MAX_TERMS = 8


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
    """A Piccolo where-clause: every term of `query` appears in `column` (None for an empty query)."""
    clause = None
    for term in query_terms(query):
        like = column.like(f"% {term} %")
        clause = like if clause is None else clause & like
    return clause
