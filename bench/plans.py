"""Reading the plans `auto_explain` writes to PostgreSQL's log: one block per statement, the tables
each read by sequential scan, how long it took, and the slowest ones to show."""

from __future__ import annotations

import re
from pathlib import Path

SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
ANY_SCAN = re.compile(r"(?:Seq Scan|Index Scan(?: Backward)?(?: using \w+)?|Index Only Scan(?: Backward)?(?: using \w+)?|"
                      r"Bitmap Heap Scan) on (\w+)")
DURATION = re.compile(r"duration: ([\d.]+) ms")
# What PostgreSQL's own foreign-key triggers run for each referencing row written.
FOREIGN_KEY_CHECK = re.compile(r'Query Text: SELECT 1 FROM ONLY "\w+"\."\w+" x WHERE .* FOR KEY SHARE OF x')


def plan_blocks(path: Path, offset: int, database: str) -> list[str]:
    """The auto_explain entries of `database` written to the log after `offset`."""
    with open(path, "rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    blocks, current = [], None
    for line in text.splitlines():
        if re.match(r"^\d{4}-\d\d-\d\d ", line):
            if current:
                blocks.append("\n".join(current))
            current = [re.sub(r"^\S+ \S+ \S+ \[\d+\] ", "", line)] if f"@{database} LOG:  duration:" in line else None
        elif current is not None:
            current.append(line.replace("\t", "  "))
    if current:
        blocks.append("\n".join(current))
    return blocks


def seq_scans(blocks: list[str]) -> dict[str, int]:
    """table → how many sequential scans of it the plans show."""
    counts: dict[str, int] = {}
    for block in blocks:
        for table in SEQ_SCAN.findall(block):
            counts[table] = counts.get(table, 0) + 1
    return counts


def tables_read(blocks: list[str]) -> list[str]:
    """Every table the plans read, by any kind of scan, sorted."""
    return sorted({table for block in blocks for table in ANY_SCAN.findall(block)})


def is_foreign_key_check(block: str) -> bool:
    return bool(FOREIGN_KEY_CHECK.search(block))


def block_ms(block: str) -> float:
    return float(DURATION.search(block).group(1))


def query_text(block: str) -> str:
    """The statement's SQL: what follows "Query Text:" up to the first plan node."""
    text = block.split("Query Text:", 1)[-1]
    return re.split(r"\n\s*(?:->\s*)?\S[^\n]*\(cost=", text, maxsplit=1)[0].strip()


def slow_plans(blocks: list[str], over_ms: float, keep: int = 2) -> list[str]:
    """The `keep` slowest distinct statements over `over_ms`, their query text shortened."""
    distinct, seen = [], set()
    for block in sorted((b for b in blocks if block_ms(b) > over_ms), key=lambda b: -block_ms(b)):
        text = re.sub(r"\d+", "0", query_text(block))
        if text not in seen:
            seen.add(text)
            distinct.append(block)
    return [re.sub(r"(Query Text: .{240}).*", r"\1 …", b) for b in distinct[:keep]]
