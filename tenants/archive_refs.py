"""Row ids written inside text and JSON columns, renumbered when a tenant archive is imported.

Foreign keys are found from the schema; ids inside text are not, so each such column says here
how to renumber them: ``remap(table, old_id)`` gives the new id (None when the row is not in the
archive).  A module with a new id-bearing text column registers it with :func:`refers`.

Not renumbered: the data of case events (``case_event.data``), which the hash chain covers — the
record is carried as it was written, so ids there are those of the installation that wrote it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

Remap = Callable[[str, Any], Any]
REFS: dict[tuple[str, str], Callable[[Any, Remap], Any]] = {}


def refers(table: str, column: str):
    def register(fn):
        REFS[(table, column)] = fn
        return fn

    return register


def renumber(table: str, row: dict, remap: Remap) -> None:
    for (name, column), fn in REFS.items():
        if name == table and row.get(column) not in (None, ""):
            row[column] = fn(row[column], remap)


def _json(fn):
    """Wrap a remapper of parsed JSON into one of JSON text (the columns hold text)."""

    def wrapper(value, remap):
        data = json.loads(value) if isinstance(value, str) else value
        return json.dumps(fn(data, remap), ensure_ascii=False)

    return wrapper


# -- notification links: "<page>/<id>…" ------------------------------------------------------------

LINK_TABLES = {"cases": "case_file", "inspections": "inspection", "mediation/disputes": "mediation_dispute",
               "liaison/companies": "company"}
LINK_RE = re.compile(r"^(?P<page>[a-z_/-]+?)/(?P<id>\d+)(?P<rest>[/?#].*)?$")


@refers("notification", "link")
def notification_link(link: str, remap: Remap) -> str:
    match = LINK_RE.match(link)
    if not match or match["page"] not in LINK_TABLES:
        return link
    new = remap(LINK_TABLES[match["page"]], int(match["id"]))
    return f"{match['page']}/{new}{match['rest'] or ''}" if new is not None else f"{match['page']}/"


# -- inspections (七必查): the finding's unique key and its evidence -----------------------------------

KEY_PARTS = {  # rule → the table of each ":"-separated part after the rule (None: not an id)
    "overturned_refusal": ("case_file", "review"), "long_overdue": ("case_file",),
    "repeated_refusal": ("company", "category"), "misconduct_report": ("conduct_report",),
    "fast_signoff": ("refusal",), "handler_overturned": ("app_user", None), "unsatisfied_conduct": ("case_file",),
}
EVIDENCE_TABLES = {"case": "case_file", "refusal": "refusal", "review": "review", "report": "conduct_report",
                   "event": "case_event"}


@refers("inspection", "dedupe_key")
def dedupe_key(key: str, remap: Remap) -> str:
    rule, *parts = key.split(":")
    tables = KEY_PARTS.get(rule)
    if tables is None or len(tables) != len(parts):
        return key
    out = [rule]
    for table, part in zip(tables, parts):
        new = remap(table, int(part)) if table and part.isdigit() else None
        out.append(str(new) if new is not None else part)
    return ":".join(out)


@refers("inspection", "evidence")
@_json
def evidence(items: list, remap: Remap) -> list:
    for item in items if isinstance(items, list) else []:
        table = EVIDENCE_TABLES.get(item.get("kind"))
        if table and isinstance(item.get("id"), int):
            item["id"] = remap(table, item["id"])
        if isinstance(item.get("case"), int):
            item["case"] = remap("case_file", item["case"])
    return items


# -- oversight: the case groups of a clustering run -----------------------------------------------------

@refers("cluster_run", "groups")
@_json
def groups(data: list, remap: Remap) -> list:
    for group in data if isinstance(data, list) else []:
        group["case_ids"] = [n for n in (remap("case_file", i) for i in group.get("case_ids", [])) if n is not None]
        for example in group.get("examples", []):
            example["id"] = remap("case_file", example.get("id"))
    return data


# -- mediation: a dispute's own record ------------------------------------------------------------------

MEDIATION_KEYS = {"dispute": "mediation_dispute", "party": "mediation_party", "measure": "mediation_measure",
                  "session": "mediation_session", "payment": "mediation_payment"}


@refers("mediation_event", "data")
@_json
def mediation_data(data: dict, remap: Remap) -> dict:
    for key, table in MEDIATION_KEYS.items():
        if isinstance(data, dict) and isinstance(data.get(key), int):
            data[key] = remap(table, data[key])
    return data
