"""Common problems → new policies (高频共性问题 → 新政): a background job groups the tenant's case
texts; an analyst turns a group into a policy that links the cases it answers."""

from __future__ import annotations

import json
from collections import Counter

from core.cases.tables import Case
from core.clock import now
from core.errors import UserError
from core.i18n import N_
from core.jobs import actor
from core.outbox import enqueue
from core.oversight.tables import ClusterRun, Policy, PolicyCase
from core.scope import scoped
from core.tables import Department

MAX_TEXTS = 20_000
POLICY_STATUSES = {"drafting": N_("Drafting"), "adopted": N_("Adopted"), "withdrawn": N_("Withdrawn")}


async def start_clustering() -> ClusterRun:
    run = await scoped(ClusterRun).add(status="queued")
    await enqueue("cluster_cases", run_id=run.id)
    return run


@actor("cluster_cases")
async def cluster_cases(run_id: int) -> None:
    from core.oversight_clustering import cluster_texts

    run = await scoped(ClusterRun).objects().where(ClusterRun.id == run_id).first()
    if run is None or run.status == "done":
        return
    rows = await scoped(Case).select(Case.id, Case.number, Case.title, Case.description,
                                     Case.department.name_zh.as_alias("department")).order_by(
        Case.id, ascending=False).limit(MAX_TEXTS)
    clusters = cluster_texts([f"{r['title']} {r['description']}" for r in rows])
    groups = []
    for c in clusters:
        members = [rows[i] for i in c.members]
        departments = Counter(m["department"] or "—" for m in members).most_common(3)
        groups.append({"label": c.label, "size": c.size, "keywords": c.keywords,
                       "case_ids": [m["id"] for m in members][:2000],
                       "departments": [{"name": n, "count": k} for n, k in departments],
                       "examples": [{"id": m["id"], "number": m["number"], "title": m["title"]} for m in members[:3]]})
    run.status, run.progress, run.cases, run.finished_at = "done", 1.0, len(rows), now()
    run.groups = json.dumps(groups, ensure_ascii=False)
    await run.save()


async def create_policy(run_id: int, label: int, title: str, department: str, status: str, summary: str,
                        user_id: int) -> Policy:
    run = await scoped(ClusterRun).select().where((ClusterRun.id == run_id) & (ClusterRun.status == "done")).first()
    group = next((g for g in json.loads(run["groups"]) if g["label"] == label), None) if run else None
    if group is None:
        raise UserError(404, "Not found.")
    title = title.strip()
    if not title or len(title) > 200:
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="title")
    if status not in POLICY_STATUSES:
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="status")
    dept = None
    if department:
        row = await scoped(Department).select(Department.id).where(Department.code == department).first()
        if row is None:
            raise UserError(400, "Unknown department: %(department)s.", code="unknown_department", department=department)
        dept = row["id"]
    policy = await scoped(Policy).add(title=title, department=dept, status=status, summary=summary[:5000],
                                      created_by=user_id, adopted_at=now() if status == "adopted" else None)
    existing = {r["id"] for r in await scoped(Case).select(Case.id).where(Case.id.is_in(group["case_ids"]))}
    if existing:
        await PolicyCase.insert(*[scoped(PolicyCase).new(policy=policy.id, case=case_id) for case_id in sorted(existing)])
    return policy


async def latest_run() -> dict | None:
    """The clustering run (高频共性问题) started last, whatever its status (None before the first)."""
    return await scoped(ClusterRun).select().order_by(ClusterRun.id, ascending=False).first()


async def policies() -> list[dict]:
    rows = await scoped(Policy).select(Policy.all_columns(), Policy.department.name_zh.as_alias("department_name"),
                                       Policy.department.name_en.as_alias("department_name_en")
                                       ).order_by(Policy.id, ascending=False)
    for row in rows:
        row["cases"] = await scoped(PolicyCase).count().where(PolicyCase.policy == row["id"])
    return rows


ACTORS = [cluster_cases]


async def adopted_policies() -> list[dict]:
    """Titles and dates of adopted policies (public: no names)."""
    return await scoped(Policy).select(Policy.title, Policy.adopted_at).where(Policy.status == "adopted").order_by(
        Policy.adopted_at, ascending=False)
