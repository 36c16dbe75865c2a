"""The read side: a campaign with its sheets, scores and totals; a cadre's file (档案); the
fault-tolerance docket; the widget's figures.  Pages, the API and the export share these."""

from __future__ import annotations

import json
from collections import Counter

from core.sdk import User, scoped
from plugins.cadre.access import is_org, own_cadre_id
from plugins.cadre.campaigns import averages, get_cadre, get_campaign
from plugins.cadre.labels import DECISIONS, OUTCOMES, RATINGS, suggested_rating
from plugins.cadre.tables import Application, Campaign, Evaluator, Score, Sheet

SHEET_COLUMNS = (Sheet.id, Sheet.campaign, Sheet.cadre, Sheet.evidence, Sheet.generated_at, Sheet.rating,
                 Sheet.outcome, Sheet.outcome_reason, Sheet.decided_at,
                 Sheet.cadre.user.display_name.as_alias("name"), Sheet.cadre.post.as_alias("post"),
                 Sheet.cadre.rank.as_alias("rank"), Sheet.cadre.department.name_zh.as_alias("department_name"),
                 Sheet.cadre.department.name_en.as_alias("department_name_en"))
APP_COLUMNS = (Application.id, Application.cadre, Application.by_department, Application.case,
               Application.inspection, Application.mistake, Application.circumstances, Application.checks,
               Application.status, Application.decision, Application.decision_reason, Application.decided_at,
               Application.publicity_until, Application.created_at, Application.version,
               Application.case.number.as_alias("case_number"),
               Application.inspection.conclusion.as_alias("inspection_conclusion"),
               Application.cadre.user.display_name.as_alias("name"),
               Application.filed_by.display_name.as_alias("filed_by_name"))


def totals(sheets: list[dict]) -> dict:
    """Outcome totals of a campaign, and outcomes by rating (e.g. of those rated average)."""
    outcomes = Counter(s["outcome"] for s in sheets if s["outcome"])
    by_rating = {r: dict(Counter(s["outcome"] for s in sheets if s["rating"] == r and s["outcome"]))
                 for r in RATINGS}
    return {"cadres": len(sheets), "rated": sum(1 for s in sheets if s["rating"]),
            "ratings": dict(Counter(s["rating"] for s in sheets if s["rating"])),
            "outcomes": {k: outcomes.get(k, 0) for k in OUTCOMES}, "by_rating": by_rating}


async def campaign_detail(campaign_id: int) -> dict:
    campaign = await get_campaign(campaign_id)
    sheets = await scoped(Sheet).select(*SHEET_COLUMNS).where(Sheet.campaign == campaign_id).order_by(Sheet.id)
    ids = [s["id"] for s in sheets]
    avg = await averages(ids)
    scores = await scoped(Score).select(Score.sheet, Score.criterion, Score.score, Score.comment,
                                        Score.evaluator.display_name.as_alias("evaluator_name")).where(
        Score.sheet.is_in(ids)).order_by(Score.id) if ids else []
    for s in sheets:
        s["evidence"] = json.loads(s["evidence"] or "{}")
        s["average"] = avg.get(s["id"])
        s["suggested"] = suggested_rating(s["average"])
        s["scores"] = [dict(r) for r in scores if r["sheet"] == s["id"]]
    evaluators = await scoped(Evaluator).select(Evaluator.user, Evaluator.user.display_name.as_alias("name")).where(
        Evaluator.campaign == campaign_id)
    return {"campaign": campaign.to_dict(), "criteria": json.loads(campaign.criteria or "[]"), "sheets": sheets,
            "evaluators": evaluators, "totals": totals(sheets)}


async def list_campaigns() -> list[dict]:
    rows = await scoped(Campaign).select(Campaign.id, Campaign.title, Campaign.theme, Campaign.period_start,
                                         Campaign.period_end, Campaign.status).order_by(Campaign.id, ascending=False)
    sheets = await scoped(Sheet).select(Sheet.campaign, Sheet.rating, Sheet.outcome)
    for r in rows:
        r["totals"] = totals([s for s in sheets if s["campaign"] == r["id"]])
    return rows


def _decode(app: dict) -> dict:
    app["checks"] = json.loads(app["checks"] or "{}")
    return app


async def list_applications(cadre_id: int | None = None) -> list[dict]:
    query = scoped(Application).select(*APP_COLUMNS)
    if cadre_id is not None:
        query = query.where(Application.cadre == cadre_id)
    return [_decode(a) for a in await query.order_by(Application.id, ascending=False)]


async def application_detail(application_id: int) -> dict:
    row = await scoped(Application).select(*APP_COLUMNS).where(Application.id == application_id).first()
    if row is None:
        from core.sdk import UserError

        raise UserError(404, "Not found.")
    return _decode(row)


async def cadre_file(cadre_id: int) -> dict:
    """The file (档案): evaluations with their ratings and outcomes, and fault-tolerance decisions."""
    cadre = await get_cadre(cadre_id)
    sheets = await scoped(Sheet).select(*SHEET_COLUMNS, Sheet.campaign.title.as_alias("campaign_title"),
                                        Sheet.campaign.period_start.as_alias("period_start"),
                                        Sheet.campaign.period_end.as_alias("period_end")).where(
        Sheet.cadre == cadre_id).order_by(Sheet.id, ascending=False)
    avg = await averages([s["id"] for s in sheets])
    for s in sheets:
        s["evidence"] = json.loads(s["evidence"] or "{}")
        s["average"] = avg.get(s["id"])
    username = await User.select(User.username).where(User.id == cadre["user"]).first()
    return {"cadre": {**cadre, "username": username["username"] if username else ""}, "evaluations": sheets,
            "applications": await list_applications(cadre_id)}


async def widget_figures() -> dict:
    campaigns = await scoped(Campaign).select(Campaign.status)
    sheets = await scoped(Sheet).select(Sheet.rating, Sheet.outcome)
    apps = await scoped(Application).select(Application.status, Application.decision)
    return {"campaigns": len(campaigns), "open": sum(1 for c in campaigns if c["status"] == "open"),
            "totals": totals(sheets), "applications": len(apps),
            "pending": sum(1 for a in apps if a["status"] in ("applied", "verified")),
            "decisions": dict(Counter(a["decision"] for a in apps if a["decision"])),
            "outcome_labels": OUTCOMES, "decision_labels": DECISIONS}


async def applications_for(user) -> list[dict]:
    """The applications `user` may read: all for the organization department, else the cadre's own."""
    if is_org(user):
        return await list_applications()
    own = await own_cadre_id(user)
    return await list_applications(own) if own is not None else []
