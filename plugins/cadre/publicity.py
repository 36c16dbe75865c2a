"""Publicity (公示) of a decided exemption or cadre outcome, and objections (异议) to it.

A decided exemption (容错免责: exempted or liability reduced) — and a campaign outcome the setting
`cadre_publicize_outcomes` names — is shown on the tenant's public page for
`cadre_publicity_days` working days after the decision day (the Chinese working-day calendar).
Only a snapshot is shown: the cadre's name, post and unit, what was decided, the period and the
summary the organization department wrote for the public — never the mistake, its circumstances,
the checks, the reasons, the case or the inspection.

Anyone may lodge an objection with a contact while the period runs; the organization department
answers each (upheld / not upheld, with a reason).  An upheld objection stops the publicity (the
exemption does not take effect).  When the period has ended, every objection is answered and none
was upheld, :func:`settle` makes the decision effective — for an exemption the linked inspection is
then marked exempted.  The plugin's per-tenant scheduled job runs it for every ended publicity.

Concurrency: every change first bumps the publicity's version (a row lock on PostgreSQL; SQLite
writes are serialised), so answers, new objections and the period's end queue one behind the
other; answers and settling are updates conditioned on the state read, so nothing happens twice.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from core.sdk import UserError, append_event, exempt_inspection, load_calendar, now, scoped, tenant_setting, today
from plugins.cadre.access import require
from plugins.cadre.campaigns import as_int, as_text, invalid, regenerate_for
from plugins.cadre.labels import OUTCOMES
from plugins.cadre.tables import Application, Objection, Publicity, Sheet

VERDICTS = ("upheld", "not_upheld")
THROTTLE_PER_PUBLICITY = 3  # objections one address may lodge against one publicity per hour
THROTTLE_PER_TENANT = 30  # … and against all of a tenant's publicity per hour
PUBLIC_COLUMNS = (Publicity.id, Publicity.kind, Publicity.person, Publicity.post, Publicity.unit, Publicity.unit_en,
                  Publicity.subject, Publicity.summary, Publicity.starts_on, Publicity.ends_on, Publicity.status)


async def period() -> tuple[date, date]:
    """(first day, last day) of a period starting today: `cadre_publicity_days` working days after it."""
    days = max(1, int(tenant_setting("cadre_publicity_days") or 5))
    start = today()
    return start, (await load_calendar()).add_working_days(start, days).date


def published_outcomes() -> set[str]:
    raw = str(tenant_setting("cadre_publicize_outcomes") or "")
    return {k.strip() for k in raw.replace("，", ",").split(",") if k.strip() in OUTCOMES}


async def _snapshot(cadre_id: int) -> dict:
    """What may be shown of a cadre: name, post and unit (department, or their township)."""
    from plugins.cadre.campaigns import get_cadre

    c = await get_cadre(cadre_id)
    unit, unit_en = c.get("department_name") or "", c.get("department_name_en") or ""
    if c.get("township"):
        from plugins.cadre.evidence import township_of

        township = await township_of(c["township"])
        unit, unit_en = township.name("zh-CN"), township.name("en")
    return {"person": c["name"] or "", "post": c["post"] or "", "unit": unit, "unit_en": unit_en}


async def publish_application(row: Application, summary: str) -> Publicity:
    starts, ends = await period()
    row.publicity_until = ends
    return await scoped(Publicity).add(kind="exemption", application=row.id, subject=row.decision, summary=summary,
                                       starts_on=starts, ends_on=ends, status="open", version=0,
                                       **await _snapshot(row.cadre))


async def after_step(campaign_id: int, step: str, data: dict) -> None:
    """After a campaign step (same transaction): an outcome just decided is published if the tenant
    publishes that outcome (called by the pages and the API after :func:`campaigns.step`)."""
    if step != "outcome":
        return
    sheet = await scoped(Sheet).objects().where(
        (Sheet.campaign == campaign_id) & (Sheet.cadre == as_int(data, "cadre"))).first()
    if sheet is not None:
        await publish_outcome(sheet, as_text(data, "summary", 500, False))


async def publish_outcome(sheet: Sheet, summary: str = "") -> Publicity | None:
    """Publish a sheet's outcome if the tenant publishes that outcome; a republished outcome restarts
    its period, unless an objection was lodged against the first one (then 409)."""
    existing = await scoped(Publicity).objects().where(Publicity.sheet == sheet.id).first()
    if existing is not None and (
            existing.status != "open" or await scoped(Objection).exists().where(Objection.publicity == existing.id)):
        raise UserError(409, "This outcome has been published and objected to; it can no longer be changed.",
                        code="published")
    if sheet.outcome not in published_outcomes():
        if existing is not None:  # changed to an outcome that is not published: withdraw the first one
            await scoped(Publicity).delete().where(Publicity.id == existing.id)
        return None
    starts, ends = await period()
    if existing is not None:
        existing.subject, existing.starts_on, existing.ends_on = sheet.outcome, starts, ends
        existing.version = (existing.version or 0) + 1
        await existing.save([Publicity.subject, Publicity.starts_on, Publicity.ends_on, Publicity.version])
        return existing
    return await scoped(Publicity).add(kind="outcome", sheet=sheet.id, subject=sheet.outcome, summary=summary,
                                       starts_on=starts, ends_on=ends, status="open", version=0,
                                       **await _snapshot(sheet.cadre))


async def _lock(publicity_id: int, *conditions) -> bool:
    """Bump the publicity's version (its row lock on PostgreSQL) if it matches `conditions`."""
    where = Publicity.id == publicity_id
    for condition in conditions:
        where = where & condition
    done = await scoped(Publicity).update({Publicity.version: Publicity.version + 1}).where(where).returning(
        Publicity.id)
    return bool(done)


# -- the public side -------------------------------------------------------------------------------

async def on_show(publicity_id: int | None = None) -> list[dict]:
    """Publicities shown on the public page: open and begun (one of them, when `publicity_id` is given)."""
    query = scoped(Publicity).select(*PUBLIC_COLUMNS).where(
        (Publicity.status == "open") & (Publicity.starts_on <= today())).order_by(Publicity.ends_on)
    if publicity_id is not None:
        query = query.where(Publicity.id == publicity_id)
    rows = await query
    for r in rows:
        r["open_for_objections"] = _as_date(r["ends_on"]) >= today()
    return rows


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def client_key(address: str | None) -> str:
    return hashlib.sha256(f"cadre-objection\x00{address or ''}".encode()).hexdigest()


async def lodge(publicity_id: int, data: dict, address: str | None) -> Objection:
    """Anyone lodges an objection with a contact while the period runs (no login)."""
    if not await scoped(Publicity).exists().where((Publicity.id == publicity_id) & (Publicity.status == "open")):
        raise UserError(404, "Not found.")
    name = as_text(data, "name", 100, False)
    contact, text = as_text(data, "contact", 100), as_text(data, "text", 2000)
    client = client_key(address)
    recent = await scoped(Objection).select(Objection.publicity).where(
        (Objection.client == client) & (Objection.created_at >= now() - timedelta(hours=1)))
    if len(recent) >= THROTTLE_PER_TENANT or sum(
            1 for r in recent if r["publicity"] == publicity_id) >= THROTTLE_PER_PUBLICITY:
        raise UserError(429, "Too many objections from your address. Please try again in an hour.",
                        code="throttled")
    if not await _lock(publicity_id, Publicity.status == "open", Publicity.ends_on >= today()):
        raise UserError(409, "The publicity period has ended; objections are no longer accepted.", code="ended")
    row = await scoped(Objection).add(publicity=publicity_id, name=name, contact=contact, text=text, client=client,
                                      status="pending", created_at=now())
    await append_event(case=None, actor=None, actor_role="public", action="cadre",
                       data={"publicity": publicity_id, "objection": row.id, "step": "objection"})
    return row


# -- the organization department's side ----------------------------------------------------------

async def get_objection(objection_id: int) -> Objection:
    row = await scoped(Objection).objects().where(Objection.id == objection_id).first()
    if row is None:
        raise UserError(404, "Not found.")
    return row


async def answer(user, objection_id: int, data: dict) -> Objection:
    """Answer an objection once: upheld stops the publicity; not upheld leaves it running."""
    row = await get_objection(objection_id)  # 404 first
    require(user, "cadre.manage")
    verdict = str(data.get("verdict") or "")
    if verdict not in VERDICTS:
        raise invalid("verdict")
    reason = as_text(data, "reason")
    await _lock(row.publicity)  # queue behind any other change of this publicity
    done = await scoped(Objection).update({
        Objection.status: verdict, Objection.answer: reason, Objection.answered_by: user.id,
        Objection.answered_at: now()}).where((Objection.id == objection_id) & (Objection.status == "pending")).returning(
        Objection.id)
    if not done:
        raise UserError(409, "This objection has already been answered.", code="answered")
    await append_event(case=None, actor=user.id, actor_role="cadre_org", action="cadre",
                       data={"publicity": row.publicity, "objection": row.id, "verdict": verdict})
    if verdict == "upheld":
        await _stop(user, row.publicity)
    return await get_objection(objection_id)


async def _stop(user, publicity_id: int) -> None:
    stopped = await scoped(Publicity).update({Publicity.status: "stopped", Publicity.closed_at: now()}).where(
        (Publicity.id == publicity_id) & (Publicity.status == "open")).returning(Publicity.application)
    if not stopped:
        return  # already stopped by an earlier upheld objection
    application = stopped[0]["application"]
    if application:
        await scoped(Application).update({Application.status: "stopped",
                                          Application.version: Application.version + 1}).where(
            Application.id == application)
    await append_event(case=None, actor=user.id, actor_role="cadre_org", action="cadre",
                       data={"publicity": publicity_id, "application": application, "step": "stopped"})


async def settle(publicity_id: int) -> bool:
    """Make a publicity effective if its period has ended, every objection is answered and none was
    upheld; then an exemption marks the linked inspection exempted.  True if it took effect now."""
    if not await _lock(publicity_id, Publicity.status == "open", Publicity.ends_on < today()):
        return False
    if await scoped(Objection).exists().where((Objection.publicity == publicity_id) & (Objection.status != "not_upheld")):
        return False  # unanswered objections hold it (an upheld one would have stopped it)
    done = await scoped(Publicity).update({Publicity.status: "effective", Publicity.closed_at: now()}).where(
        (Publicity.id == publicity_id) & (Publicity.status == "open")).returning(Publicity.application, Publicity.sheet)
    if not done:
        return False
    application_id = done[0]["application"]
    data: dict = {"publicity": publicity_id, "step": "effective"}
    if application_id:
        application = await scoped(Application).objects().where(Application.id == application_id).first()
        data["application"] = application_id
        application.status, application.version = "final", (application.version or 0) + 1
        await application.save([Application.status, Application.version])
        if application.decision == "exempted" and application.inspection:
            try:
                await exempt_inspection(application.inspection, application.decision_reason, application.decided_by,
                                        actor_role="cadre_org")
                data["inspection"] = application.inspection
            except UserError:  # concluded "no issue" meanwhile: nothing left to exempt
                data["inspection_unchanged"] = application.inspection
            await regenerate_for(application.cadre)
    else:
        data["sheet"] = done[0]["sheet"]
    await append_event(case=None, actor=None, actor_role="cadre_org", action="cadre", data=data)
    return True


async def settle_due() -> int:
    """The per-tenant scheduled job: settle every open publicity whose period has ended."""
    due = await scoped(Publicity).select(Publicity.id).where(
        (Publicity.status == "open") & (Publicity.ends_on < today()))
    return sum([await settle(r["id"]) for r in due])


async def objections(status: str = "") -> list[dict]:
    query = scoped(Objection).select(
        Objection.id, Objection.publicity, Objection.name, Objection.contact, Objection.text, Objection.status,
        Objection.answer, Objection.created_at, Objection.answered_at,
        Objection.answered_by.display_name.as_alias("answered_by_name"),
        Objection.publicity.person.as_alias("person"), Objection.publicity.kind.as_alias("kind"),
        Objection.publicity.subject.as_alias("subject"), Objection.publicity.status.as_alias("publicity_status"),
        Objection.publicity.ends_on.as_alias("ends_on"), Objection.publicity.application.as_alias("application"),
    ).order_by(Objection.id, ascending=False)
    if status:
        query = query.where(Objection.status == status)
    return await query


async def pending_count() -> int:
    return await scoped(Objection).count().where(Objection.status == "pending")


async def of_application(application_id: int) -> dict | None:
    row = await scoped(Publicity).select(*PUBLIC_COLUMNS).where(Publicity.application == application_id).first()
    if row is not None:
        row["objections"] = await scoped(Objection).select(
            Objection.id, Objection.status, Objection.text, Objection.answer).where(
            Objection.publicity == row["id"]).order_by(Objection.id)
    return row

