"""Demo data of the cadre module: the demo department staff and the `cadre@<slug>` account as
cadres, and one special evaluation on the business environment with their evidence sheets
(idempotent: nothing is added when the campaign exists)."""

from __future__ import annotations

from datetime import date

from core.sdk import CurrentUser, Membership, User, current_tenant, scoped
from plugins.cadre import campaigns
from plugins.cadre.tables import Campaign

TITLE = "优化营商环境专项考察"
POSTS = {"handler": ("科员", "四级主任科员"), "section_head": ("科长", "一级主任科员"),
         "leader": ("副局长", "副处级"), "dept_head": ("局长", "正处级"), "cadre": ("副科长", "二级主任科员")}


async def load_demo() -> None:
    slug = current_tenant().slug
    if await scoped(Campaign).exists().where(Campaign.title == TITLE):
        return
    users = {r["username"].split("@")[0]: r["id"] for r in await User.select(User.id, User.username).where(
        User.username.is_in([f"{k}@{slug}" for k in (*POSTS, "cadre_org", "cadre_evaluator")]))}
    if "cadre_org" not in users:
        return
    org = CurrentUser(id=users["cadre_org"], username=f"cadre_org@{slug}", display_name="", locale="zh_CN",
                      roles={"cadre_org"}, permissions={"cadre.view", "cadre.manage"})
    cadre_ids = []
    for key, (post, rank) in POSTS.items():
        if key in users:
            dept = await scoped(Membership).select(Membership.department).where(
                (Membership.user == users[key]) & Membership.department.is_not_null()).first()
            row = await campaigns.save_cadre(org, {"user": users[key], "post": post, "rank": rank,
                                                   "department": dept["department"] if dept else None})
            cadre_ids.append(row.id)
    if not cadre_ids:
        return
    year = date.today().year
    evaluators = [users[k] for k in ("cadre_evaluator", "cadre_org") if k in users]
    await campaigns.create_campaign(org, {"title": TITLE, "theme": "营商环境", "period_start": f"{year - 1}-01-01",
                                          "period_end": f"{year}-12-31", "cadres": cadre_ids,
                                          "evaluators": evaluators})
