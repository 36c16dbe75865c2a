"""Figures: the catalogue before and after the reform (materials, working days), the working days
actually taken per approval and per department against the statutory and committed times, the
materials asked against the catalogue, projects by their current stage, and projects from signing
to the start of construction."""

from __future__ import annotations

from collections import Counter
from statistics import mean

from core.sdk import load_calendar, scoped
from plugins.approvals.catalogue import items as catalogue_items
from plugins.approvals.labels import EVERY_STAGE, stage_label
from plugins.approvals.projects import stage_keys
from plugins.approvals.tables import BundleFiling, Filing, Project, Shortfall, Stage


def _avg(values: list[float]) -> float | None:
    return round(mean(values), 1) if values else None


def reform(items: list[dict]) -> dict | None:
    """The approval with the deepest cut in materials (the headline: e.g. 24 → 7 and 15 → 1)."""
    if not items:
        return None
    best = max(items, key=lambda i: (i["materials_before"] - i["materials_now"], -i["id"]))
    return {k: best[k] for k in ("id", "code", "name_zh", "name_en", "materials_before", "materials_now",
                                 "statutory_days", "committed_days")}


async def figures() -> dict:
    calendar = await load_calendar()
    items = await catalogue_items()
    filings = await scoped(Filing).select(
        Filing.id, Filing.item, Filing.department, Filing.status, Filing.submitted_on, Filing.decided_on,
        Filing.due_on, Filing.materials_asked, Filing.waived, Filing.case,
        Filing.department.name_zh.as_alias("department_zh"), Filing.department.name_en.as_alias("department_en"))
    per_item = []
    for item in items:
        mine = [f for f in filings if f["item"] == item["id"]]
        granted = [f for f in mine if f["status"] == "granted" and f["decided_on"]]
        taken = [calendar.working_days_between(f["submitted_on"], f["decided_on"]) for f in granted]
        per_item.append({
            "id": item["id"], "code": item["code"], "name_zh": item["name_zh"], "name_en": item["name_en"],
            "department_zh": item["department_zh"], "department_en": item["department_en"],
            "materials_before": item["materials_before"], "materials_now": item["materials_now"],
            "statutory_days": item["statutory_days"], "committed_days": item["committed_days"],
            "applications": len(mine), "granted": len(granted), "average_days": _avg(taken),
            "on_time": sum(1 for f in granted if f["decided_on"] <= f["due_on"]),
            "average_asked": _avg([f["materials_asked"] for f in mine]),
            "waived": sum(1 for f in mine if f["waived"]),
        })
    departments: dict = {}
    for f in filings:
        d = departments.setdefault(f["department"], {"department_zh": f["department_zh"] or "",
                                                     "department_en": f["department_en"] or "",
                                                     "applications": 0, "granted": 0, "taken": [], "on_time": 0})
        d["applications"] += 1
        if f["status"] == "granted" and f["decided_on"]:
            d["granted"] += 1
            d["taken"].append(calendar.working_days_between(f["submitted_on"], f["decided_on"]))
            d["on_time"] += int(f["decided_on"] <= f["due_on"])
    committed = {i["id"]: i for i in items}
    per_department = []
    for key, d in departments.items():
        mine = [i for i in items if i["department"] == key]
        per_department.append({**{k: v for k, v in d.items() if k != "taken"}, "average_days": _avg(d["taken"]),
                               "statutory_days": _avg([i["statutory_days"] for i in mine]),
                               "committed_days": _avg([i["committed_days"] for i in mine])})
    stages = await scoped(Stage).select(Stage.project, Stage.key, Stage.reached_on).where(Stage.reached_on.is_not_null())
    reached: dict[int, dict] = {}
    for s in stages:
        reached.setdefault(s["project"], {})[s["key"]] = s["reached_on"]
    to_start = [calendar.working_days_between(r["signing"], r["construction"])
                for r in reached.values() if "signing" in r and "construction" in r]
    at_stage = Counter(p["stage"] for p in await scoped(Project).select(Project.stage))
    by_stage = [{"key": key, "label": stage_label(key), "projects": at_stage.get(key, 0)} for key in stage_keys()]
    by_stage.append({"key": "", "label": EVERY_STAGE, "projects": at_stage.get("", 0)})
    before = sum(i["materials_before"] for i in items)
    now = sum(i["materials_now"] for i in items)
    return {
        "reform": reform(items), "items": per_item, "departments": per_department, "committed": len(committed),
        "catalogue": {"materials_before": before, "materials_now": now,
                      "statutory_days": sum(i["statutory_days"] for i in items),
                      "committed_days": sum(i["committed_days"] for i in items)},
        "projects": await scoped(Project).count(),
        "projects_started": len(to_start), "signing_to_start_days": _avg(to_start),
        "applications": len(filings), "open": sum(1 for f in filings if f["status"] in ("submitted", "accepted")),
        "granted": sum(1 for f in filings if f["status"] == "granted"),
        "on_time": sum(d["on_time"] for d in departments.values()),  # granted within the committed time
        "by_stage": by_stage,
        "waived": sum(1 for f in filings if f["waived"]),
        "shortfalls_open": await scoped(Shortfall).count().where(Shortfall.received_on.is_null()),
        "flagged": await scoped(Shortfall).count().where(Shortfall.flagged_on.is_not_null()),
        "cases": sum(1 for f in filings if f["case"]),
        "bundles_completed": await scoped(BundleFiling).count().where(BundleFiling.status == "completed"),
    }


async def widget() -> dict:
    data = await figures()
    return {k: data[k] for k in ("reform", "projects", "open", "granted", "waived", "flagged", "cases",
                                 "bundles_completed", "signing_to_start_days")}
