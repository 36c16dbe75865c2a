"""The cadre module's share of the work queue (我的待办): fault-tolerance applications to decide
open campaigns and objections to publicity (公示异议) for the organization department, sheets to score for an evaluator, and a
cadre's own applications in progress.  The lists the queues open show the same rows."""

from __future__ import annotations

from core.sdk import N_, WorkQueue, scoped
from plugins.cadre.access import own_cadre_id
from plugins.cadre.publicity import pending_count
from plugins.cadre.tables import Application, Campaign, Evaluator, Score, Sheet

UNDECIDED = ("applied", "verified", "publicity")  # an application not yet final


async def undecided_ids(cadre_id: int | None = None) -> list[int]:
    """Applications not yet final (of one cadre, when given)."""
    query = scoped(Application).select(Application.id).where(Application.status.is_in(list(UNDECIDED)))
    if cadre_id is not None:
        query = query.where(Application.cadre == cadre_id)
    return [r["id"] for r in await query]


async def to_score(user) -> list[dict]:
    """Sheets of open campaigns where `user` is an evaluator and has not scored yet, by campaign."""
    campaigns = [r["campaign"] for r in await scoped(Evaluator).select(Evaluator.campaign).where(
        (Evaluator.user == user.id) & (Evaluator.campaign.status == "open"))]
    if not campaigns:
        return []
    sheets = await scoped(Sheet).select(
        Sheet.id, Sheet.campaign, Sheet.campaign.title.as_alias("campaign_title"),
        Sheet.cadre.user.display_name.as_alias("name"), Sheet.cadre.post.as_alias("post")).where(
        Sheet.campaign.is_in(campaigns)).order_by(Sheet.campaign).order_by(Sheet.id)
    scored = {r["sheet"] for r in await scoped(Score).select(Score.sheet).where(Score.evaluator == user.id)}
    return [s for s in sheets if s["id"] not in scored]


async def open_campaigns() -> int:
    return await scoped(Campaign).count().where(Campaign.status == "open")


def queues(user) -> list[WorkQueue]:
    """The cadre queues of the roles `user` holds (the module is confidential: only these roles)."""
    out: list[WorkQueue] = []
    if user.can("cadre.manage"):
        async def undecided() -> int:
            return len(await undecided_ids())

        out += [WorkQueue("cadre.applications", N_("Fault-tolerance applications to decide"),
                          "cadre/applications?status=undecided", undecided, order=70,
                          hint=N_("A cadre's or a department's application for fault tolerance appears here.")),
                WorkQueue("cadre.campaigns", N_("Open evaluation campaigns"), "cadre/?status=open", open_campaigns,
                          mine=False, order=71),
                WorkQueue("cadre.objections", N_("Objections to publicity to answer"), "cadre/objections?status=pending",
                          pending_count, order=70,
                          hint=N_("An objection lodged on the public page against a publicity appears here."))]
    if user.can("cadre.evaluate"):
        async def sheets() -> int:
            return len(await to_score(user))

        out.append(WorkQueue("cadre.to_score", N_("Cadres to score"), "cadre/to-score", sheets, order=72,
                             hint=N_("When you are named an evaluator of a campaign, its cadres appear here.")))
    if user.can("cadre.self"):
        async def own() -> int:
            cadre = await own_cadre_id(user)
            return len(await undecided_ids(cadre)) if cadre is not None else 0

        out.append(WorkQueue("cadre.own_applications", N_("My applications in progress"),
                             "cadre/applications?status=undecided", own, mine=False, order=73))
    return out
