"""Cadres and special evaluations (专项考察): the cadre list, campaigns with their cadres in scope
and evaluators, evidence sheets from the case record, scores, ratings, outcomes and totals.

Every change goes through :func:`step`, which checks the permission (403), the campaign's state
(409) and the input (400 naming the field); the request's transaction makes it all-or-nothing."""

from __future__ import annotations

import json
from datetime import date

from core.sdk import (
    Department,
    Membership,
    UserError,
    append_event,
    child_tenants,
    in_tenant_scope,
    now,
    scoped,
    tenant_setting,
)
from plugins.cadre import evidence
from plugins.cadre.access import require
from plugins.cadre.labels import CAMPAIGN_STEPS, OUTCOMES, RATINGS, SCORE_CRITERIA, suggested_rating
from plugins.cadre.tables import Cadre, Campaign, Evaluator, Score, Sheet

EVALUATOR_ROLES = ("cadre_evaluator", "cadre_org")


def invalid(field: str) -> UserError:
    return UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=field)


def as_int(data: dict, field: str, required: bool = True) -> int | None:
    value = data.get(field)
    if value in (None, "") and not required:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(field) from None


def as_text(data: dict, field: str, limit: int = 2000, required: bool = True) -> str:
    value = str(data.get(field) or "").strip()
    if (required and not value) or len(value) > limit:
        raise invalid(field)
    return value


def as_date(data: dict, field: str) -> date:
    try:
        return date.fromisoformat(str(data.get(field) or ""))
    except ValueError:
        raise invalid(field) from None


def criteria_setting() -> list[str]:
    raw = tenant_setting("cadre_score_criteria") or ",".join(SCORE_CRITERIA)
    return [c.strip() for c in str(raw).replace("，", ",").split(",") if c.strip()][:12]


# -- cadres ---------------------------------------------------------------------------------------

async def save_cadre(user, data: dict) -> Cadre:
    """Add a staff user of this tenant as a cadre, or update their post, rank and department."""
    require(user, "cadre.manage")
    user_id = as_int(data, "user")
    staff = await _staff_roles(user_id)
    township = ""
    if not staff:  # a district's organization department also appoints its townships' cadres
        township = await township_staff_of(user_id)
        if not township:
            raise UserError(400, "Choose a staff member of this tenant or of one of its townships.",
                            code="not_staff")
    department = None
    if not township:  # a township's departments are the township's own: none is linked from here
        department = as_int(data, "department", required=False) or next(
            (m["department"] for m in staff if m["department"]), None)
        if department and not await scoped(Department).exists().where(Department.id == department):
            raise invalid("department")
    post, rank = as_text(data, "post", 100, False), as_text(data, "rank", 50, False)
    row = await scoped(Cadre).objects().where(Cadre.user == user_id).first()
    if row is None:
        return await scoped(Cadre).add(user=user_id, department=department, post=post, rank=rank, active=True,
                                       township=township)
    row.department, row.post, row.rank = department, post or row.post, rank or row.rank
    row.township = township
    await row.save([Cadre.department, Cadre.post, Cadre.rank, Cadre.township])
    return row


async def _staff_roles(user_id: int | None) -> list[dict]:
    """The staff memberships (not a company's) of `user_id` in the tenant in scope."""
    rows = await scoped(Membership).select(Membership.role, Membership.department).where(Membership.user == user_id)
    return [m for m in rows if m["role"] != "company"]


async def township_staff_of(user_id: int | None) -> str:
    """The slug of the first township below this tenant where `user_id` is staff ("" if none), each
    township read in its own scope."""
    for child in await child_tenants():
        async with in_tenant_scope(child, write=False):
            if await _staff_roles(user_id):
                return child.slug
    return ""


async def township_staff() -> list[dict]:
    """Staff of the townships below this tenant, as (user id, township slug and name)."""
    out = []
    for child in await child_tenants():
        async with in_tenant_scope(child, write=False):
            members = await scoped(Membership).select(Membership.user, Membership.role)
        for uid in sorted({m["user"] for m in members if m["role"] != "company"}):
            out.append({"user": uid, "township": child.slug, "township_name": child.name("zh-CN"),
                        "township_name_en": child.name("en")})
    return out


CADRE_COLUMNS = (Cadre.id, Cadre.user, Cadre.post, Cadre.rank, Cadre.department, Cadre.township,
                 Cadre.user.display_name.as_alias("name"), Cadre.department.name_zh.as_alias("department_name"),
                 Cadre.department.name_en.as_alias("department_name_en"))


async def list_cadres() -> list[dict]:
    rows = await scoped(Cadre).select(*CADRE_COLUMNS).order_by(Cadre.id)
    if any(r["township"] for r in rows):  # a township's cadre shows the township in place of a department
        names = {t.slug: t for t in await child_tenants()}
        for r in rows:
            if r["township"] in names:
                r["township_name"], r["township_name_en"] = (names[r["township"]].name("zh-CN"),
                                                              names[r["township"]].name("en"))
    return rows


async def get_cadre(cadre_id: int) -> dict:
    row = await scoped(Cadre).select(*CADRE_COLUMNS).where(Cadre.id == cadre_id).first()
    if row is None:
        raise UserError(404, "Not found.")
    return row


# -- campaigns ------------------------------------------------------------------------------------

async def get_campaign(campaign_id: int) -> Campaign:
    row = await scoped(Campaign).objects().where(Campaign.id == campaign_id).first()
    if row is None:
        raise UserError(404, "Not found.")
    return row


async def create_campaign(user, data: dict) -> Campaign:
    require(user, "cadre.manage")
    title, theme = as_text(data, "title", 200), as_text(data, "theme", 200, False)
    start, end = as_date(data, "period_start"), as_date(data, "period_end")
    if end < start:
        raise invalid("period_end")
    campaign = await scoped(Campaign).add(title=title, theme=theme, period_start=start, period_end=end,
                                          criteria=json.dumps(criteria_setting(), ensure_ascii=False),
                                          status="open", created_by=user.id, version=0)
    for cadre_id in _ids(data.get("cadres")):
        await _add_cadre(campaign, cadre_id)
    for user_id in _ids(data.get("evaluators")):
        await _add_evaluator(campaign, user_id)
    return campaign


def _ids(value) -> list[int]:
    if value in (None, ""):
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).replace("，", ",").split(",")
    try:
        return list(dict.fromkeys(int(v) for v in items if str(v).strip()))
    except ValueError:
        raise invalid("ids") from None


async def _add_cadre(campaign: Campaign, cadre_id: int) -> Sheet:
    cadre = await scoped(Cadre).objects().where(Cadre.id == cadre_id).first()
    if cadre is None:
        raise UserError(400, "Choose a cadre of this tenant.", code="unknown_cadre")
    sheet = await scoped(Sheet).objects().where((Sheet.campaign == campaign.id) & (Sheet.cadre == cadre_id)).first()
    if sheet is None:
        sheet = await scoped(Sheet).add(campaign=campaign.id, cadre=cadre_id)
    await _generate(campaign, sheet, cadre)
    return sheet


async def _generate(campaign: Campaign, sheet: Sheet, cadre: Cadre) -> None:
    """Count the sheet's evidence: from this tenant's record, or a township cadre's from theirs."""
    sheet.evidence = json.dumps(await evidence.sheet_of(cadre.user, cadre.township or "", campaign.period_start,
                                                        campaign.period_end))
    sheet.generated_at = now()
    await sheet.save([Sheet.evidence, Sheet.generated_at])


async def _add_evaluator(campaign: Campaign, user_id: int) -> None:
    roles = {m["role"] for m in await scoped(Membership).select(Membership.role).where(Membership.user == user_id)}
    if not roles.intersection(EVALUATOR_ROLES):
        raise UserError(400, "Choose an evaluator of this tenant.", code="not_evaluator")
    if not await scoped(Evaluator).exists().where((Evaluator.campaign == campaign.id) & (Evaluator.user == user_id)):
        await scoped(Evaluator).add(campaign=campaign.id, user=user_id)


async def regenerate_for(cadre_id: int) -> None:
    """Refresh the evidence of every open campaign's sheet of this cadre (after an exemption)."""
    cadre = await scoped(Cadre).objects().where(Cadre.id == cadre_id).first()
    for sheet in await scoped(Sheet).objects().where(Sheet.cadre == cadre_id):
        campaign = await get_campaign(sheet.campaign)
        if campaign.status == "open":
            await _generate(campaign, sheet, cadre)


async def _sheet(campaign: Campaign, data: dict) -> Sheet:
    cadre_id = as_int(data, "cadre")
    sheet = await scoped(Sheet).objects().where((Sheet.campaign == campaign.id) & (Sheet.cadre == cadre_id)).first()
    if sheet is None:
        raise UserError(400, "This cadre is not in the campaign.", code="not_in_scope")
    return sheet


async def averages(sheet_ids: list[int]) -> dict[int, float]:
    if not sheet_ids:
        return {}
    sums: dict[int, list[int]] = {}
    for r in await scoped(Score).select(Score.sheet, Score.score).where(Score.sheet.is_in(sheet_ids)):
        sums.setdefault(r["sheet"], []).append(r["score"])
    return {k: round(sum(v) / len(v), 2) for k, v in sums.items()}


async def step(user, campaign_id: int, name: str, data: dict | None = None) -> Campaign:
    campaign = await get_campaign(campaign_id)  # 404 first
    require(user, "cadre.view")
    if name not in CAMPAIGN_STEPS:
        raise UserError(404, "Not found.")
    require(user, "cadre.evaluate" if name == "score" else "cadre.manage")
    if campaign.status != "open":
        raise UserError(409, "This campaign is closed.", code="closed")
    data = data or {}
    if name == "add-cadre":
        await _add_cadre(campaign, as_int(data, "cadre"))
    elif name == "add-evaluator":
        await _add_evaluator(campaign, as_int(data, "user"))
    elif name == "generate":
        cadres = {c.id: c for c in await scoped(Cadre).objects()}
        for sheet in await scoped(Sheet).objects().where(Sheet.campaign == campaign.id):
            await _generate(campaign, sheet, cadres[sheet.cadre])
    elif name == "score":
        await _score(user, campaign, data)
    elif name == "rate":
        sheet = await _sheet(campaign, data)
        rating = str(data.get("rating") or "") or suggested_rating((await averages([sheet.id])).get(sheet.id))
        if rating not in RATINGS:
            raise UserError(400, "Choose a rating, or have the evaluators score first.", code="rating")
        sheet.rating, sheet.rated_by = rating, user.id
        await sheet.save([Sheet.rating, Sheet.rated_by])
    elif name == "outcome":
        sheet = await _sheet(campaign, data)
        outcome = str(data.get("outcome") or "")
        if outcome not in OUTCOMES:
            raise invalid("outcome")
        if not sheet.rating:
            raise UserError(409, "Rate the cadre before deciding the outcome.", code="not_rated")
        sheet.outcome, sheet.outcome_reason = outcome, as_text(data, "reason")
        sheet.decided_by, sheet.decided_at = user.id, now()
        await sheet.save([Sheet.outcome, Sheet.outcome_reason, Sheet.decided_by, Sheet.decided_at])
        await append_event(case=None, actor=user.id, actor_role="cadre_org", action="cadre",
                           data={"campaign": campaign.id, "sheet": sheet.id, "outcome": outcome})
    elif name == "close":
        campaign.status = "closed"
    campaign.version = (campaign.version or 0) + 1
    await campaign.save([Campaign.status, Campaign.version])
    return campaign


async def _score(user, campaign: Campaign, data: dict) -> None:
    if not await scoped(Evaluator).exists().where((Evaluator.campaign == campaign.id) & (Evaluator.user == user.id)):
        raise UserError(403, "You are not an evaluator of this campaign.")
    sheet = await _sheet(campaign, data)
    criteria = json.loads(campaign.criteria or "[]")
    scores = data.get("scores") if isinstance(data.get("scores"), dict) else {
        c: data[f"score_{c}"] for c in criteria if data.get(f"score_{c}") not in (None, "")}
    if not scores or any(c not in criteria for c in scores):
        raise invalid("scores")
    comment = as_text(data, "comment", 2000, False)
    for criterion, value in scores.items():
        number = as_int({criterion: value}, criterion)
        if not 0 <= number <= 100:
            raise invalid(criterion)
        row = await scoped(Score).objects().where((Score.sheet == sheet.id) & (Score.evaluator == user.id) & (
            Score.criterion == criterion)).first()
        if row is None:
            await scoped(Score).add(sheet=sheet.id, evaluator=user.id, criterion=criterion, score=number,
                                    comment=comment, created_at=now())
        else:
            row.score, row.comment = number, comment or row.comment
            await row.save([Score.score, Score.comment])
