"""The read side shared by the pages, the API and the export: lists, a project with its stages,
next steps and applications, an application with its materials and shortfalls, bundles."""

from __future__ import annotations

import json

from core.sdk import User, scoped, today, yuan
from plugins.approvals.tables import (
    Action,
    Bundle,
    BundleFiling,
    Event,
    Filing,
    Item,
    Material,
    Project,
    Shortfall,
    Stage,
)

PROJECT_COLUMNS = (Project.id, Project.name, Project.site, Project.amount_fen, Project.industry, Project.company,
                   Project.contact_name, Project.contact_phone, Project.helper, Project.stage, Project.created_at,
                   Project.version, Project.company.name.as_alias("company_name"),
                   Project.helper.display_name.as_alias("helper_name"))
FILING_COLUMNS = (Filing.id, Filing.item, Filing.company, Filing.project, Filing.bundle_filing, Filing.department,
                  Filing.status, Filing.submitted_on, Filing.accepted_on, Filing.decided_on, Filing.due_on,
                  Filing.materials_asked, Filing.waived, Filing.commitment, Filing.commitment_due, Filing.reason,
                  Filing.case, Filing.version, Filing.item.name_zh.as_alias("item_zh"),
                  Filing.item.name_en.as_alias("item_en"), Filing.company.name.as_alias("company_name"),
                  Filing.project.name.as_alias("project_name"), Filing.department.name_zh.as_alias("department_zh"),
                  Filing.department.name_en.as_alias("department_en"), Filing.case.number.as_alias("case_number"))
ACTION_COLUMNS = (Action.id, Action.project, Action.filing, Action.kind, Action.text, Action.owner, Action.due_on,
                  Action.done_on, Action.reminded_on, Action.escalated_on, Action.department,
                  Action.department.name_zh.as_alias("department_zh"),
                  Action.department.name_en.as_alias("department_en"))


def _where(model, companies: list[int] | None):
    return None if companies is None else model.company.is_in(companies or [0])


async def projects(companies: list[int] | None) -> list[dict]:
    query = scoped(Project).select(*PROJECT_COLUMNS).order_by(Project.id, ascending=False)
    clause = _where(Project, companies)
    rows = await (query.where(clause) if clause is not None else query)
    nexts = await _next_actions([r["id"] for r in rows])
    for row in rows:
        row["amount"] = yuan(row["amount_fen"])
        row["next"] = nexts.get(row["id"])
    return rows


async def _next_actions(project_ids: list[int]) -> dict[int, dict]:
    if not project_ids:
        return {}
    rows = await scoped(Action).select(*ACTION_COLUMNS).where(
        Action.project.is_in(project_ids) & Action.done_on.is_null()).order_by(Action.due_on)
    out: dict[int, dict] = {}
    for row in rows:
        out.setdefault(row["project"], _mark(row))
    return out


def _mark(action: dict) -> dict:
    action["overdue"] = action["done_on"] is None and action["due_on"] < today()
    return action


async def filings(companies: list[int] | None, status: str = "", project: int | None = None,
                  bundle_filing: int | None = None) -> list[dict]:
    query = scoped(Filing).select(*FILING_COLUMNS).order_by(Filing.id, ascending=False)
    clause = _where(Filing, companies)
    if clause is not None:
        query = query.where(clause)
    if status:
        query = query.where(Filing.status == status)
    if project is not None:
        query = query.where(Filing.project == project)
    if bundle_filing is not None:
        query = query.where(Filing.bundle_filing == bundle_filing)
    rows = await query
    for row in rows:
        row["overdue"] = row["status"] in ("submitted", "accepted") and row["due_on"] is not None \
            and row["due_on"] < today()
    return rows


async def _events(**where) -> list[dict]:
    (key, value), = where.items()
    rows = await scoped(Event).select(Event.id, Event.action, Event.data, Event.created_at,
                                      Event.actor.display_name.as_alias("actor_name")).where(
        getattr(Event, key) == value).order_by(Event.id)
    for row in rows:
        row["data"] = json.loads(row["data"] or "{}")
    return rows


async def project_detail(project_id: int) -> dict:
    row = await scoped(Project).select(*PROJECT_COLUMNS).where(Project.id == project_id).first()
    row["amount"] = yuan(row["amount_fen"])
    row["stages"] = await scoped(Stage).select(Stage.key, Stage.position, Stage.target_on, Stage.reached_on).where(
        Stage.project == project_id).order_by(Stage.position)
    for stage in row["stages"]:
        stage["late"] = stage["reached_on"] is None and stage["target_on"] < today()
    filing_ids = [f["id"] for f in await scoped(Filing).select(Filing.id).where(Filing.project == project_id)]
    clause = Action.project == project_id
    if filing_ids:
        clause = clause | Action.filing.is_in(filing_ids)
    row["actions"] = [_mark(a) for a in await scoped(Action).select(*ACTION_COLUMNS).where(
        clause & Action.done_on.is_null()).order_by(Action.due_on)]
    row["filings"] = await filings(None, project=project_id)
    row["events"] = await _events(project=project_id)
    helpers = {e["data"].get(k) for e in row["events"] for k in ("previous", "helper")} - {None}
    names = {u["id"]: u["display_name"] for u in await User.select(User.id, User.display_name).where(
        User.id.is_in(sorted(helpers)))} if helpers else {}
    for event in row["events"]:
        for key in ("previous", "helper"):
            if key in event["data"]:
                event["data"][f"{key}_name"] = names.get(event["data"][key], "")
    return row


async def filing_detail(filing_id: int) -> dict:
    row = await scoped(Filing).select(*FILING_COLUMNS).where(Filing.id == filing_id).first()
    row["overdue"] = row["status"] in ("submitted", "accepted") and row["due_on"] is not None \
        and row["due_on"] < today()
    item = await scoped(Item).select(Item.statutory_days, Item.committed_days, Item.materials_before,
                                     Item.code).where(Item.id == row["item"]).first()
    row.update(item)
    row["materials"] = await scoped(Material).select(Material.id, Material.name_zh, Material.name_en,
                                                     Material.key).where(Material.item == row["item"]).order_by(
        Material.position)
    row["shortfalls"] = await scoped(Shortfall).select(
        Shortfall.id, Shortfall.material, Shortfall.due_on, Shortfall.received_on, Shortfall.chases,
        Shortfall.chased_on, Shortfall.flagged_on, Shortfall.material.name_zh.as_alias("material_zh"),
        Shortfall.material.name_en.as_alias("material_en")).where(Shortfall.filing == filing_id).order_by(Shortfall.id)
    row["actions"] = [_mark(a) for a in await scoped(Action).select(*ACTION_COLUMNS).where(
        (Action.filing == filing_id) & Action.done_on.is_null()).order_by(Action.due_on)]
    row["events"] = await _events(filing=filing_id)
    return row


async def bundles() -> list[dict]:
    rows = await scoped(Bundle).select().order_by(Bundle.id)
    names = {i["id"]: i for i in await scoped(Item).select(Item.id, Item.name_zh, Item.name_en,
                                                          Item.department.name_zh.as_alias("department_zh"),
                                                          Item.department.name_en.as_alias("department_en"))}
    for row in rows:
        row["items"] = [names[i] for i in json.loads(row["items"] or "[]") if i in names]
    return rows


async def bundle_filings(companies: list[int] | None, only: int | None = None) -> list[dict]:
    query = scoped(BundleFiling).select(
        BundleFiling.id, BundleFiling.bundle, BundleFiling.company, BundleFiling.status, BundleFiling.submitted_on,
        BundleFiling.completed_on, BundleFiling.bundle.name_zh.as_alias("bundle_zh"),
        BundleFiling.bundle.name_en.as_alias("bundle_en"), BundleFiling.company.name.as_alias("company_name"),
    ).order_by(BundleFiling.id, ascending=False)
    clause = _where(BundleFiling, companies)
    if clause is not None:
        query = query.where(clause)
    if only is not None:
        query = query.where(BundleFiling.id == only)
    rows = await query
    counts = await scoped(Filing).select(Filing.bundle_filing, Filing.status).where(
        Filing.bundle_filing.is_in([r["id"] for r in rows] or [0]))
    for row in rows:
        mine = [c for c in counts if c["bundle_filing"] == row["id"]]
        row["total"], row["granted"] = len(mine), sum(1 for c in mine if c["status"] == "granted")
    return rows


async def bundle_filing_detail(bundle_filing_id: int) -> dict:
    row = (await bundle_filings(None, only=bundle_filing_id))[0]
    row["filings"] = await filings(None, bundle_filing=bundle_filing_id)
    return row
