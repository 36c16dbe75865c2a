"""Fault tolerance (容错免责): application → verification against the three distinctions
(三个区分开来) and the tenant's criteria → decision (exempted / reduced / refused) → publicity
(公示, :mod:`plugins.cadre.publicity`, `cadre_publicity_days` working days on the public page) →
final; every decision goes into the cadre's file.

An exemption or a reduction takes effect only when its publicity ends with no objection upheld
(then an exemption marks the linked must-investigate inspection exempted through
:func:`core.sdk.exempt_inspection` and refreshes the cadre's open evaluation sheets); an upheld
objection stops it ("stopped").  A refusal has nothing to publish and is final at once."""

from __future__ import annotations

import json

from core.sdk import Case, Inspection, UserError, append_event, now, scoped, tenant_setting
from plugins.cadre import publicity
from plugins.cadre.access import is_org, own_cadre_id, require
from plugins.cadre.campaigns import as_int, as_text, invalid
from plugins.cadre.labels import APPLICATION_STEPS, DECISIONS, DISTINCTIONS, PUBLISHED_DECISIONS, TOLERANCE_CRITERIA
from plugins.cadre.tables import Application, Cadre


def required_criteria() -> list[str]:
    raw = str(tenant_setting("cadre_tolerance_criteria") or ",".join(TOLERANCE_CRITERIA))
    keys = [c.strip() for c in raw.replace("，", ",").split(",") if c.strip() in TOLERANCE_CRITERIA]
    return keys or list(TOLERANCE_CRITERIA)


async def get(application_id: int) -> Application:
    row = await scoped(Application).objects().where(Application.id == application_id).first()
    if row is None:
        raise UserError(404, "Not found.")
    return row


async def apply(user, data: dict) -> Application:
    """A cadre applies for themself; the organization department files for a cadre's department."""
    own = await own_cadre_id(user)
    if user is not None and user.can("cadre.manage"):
        cadre_id, by_department = as_int(data, "cadre"), True
    elif own is not None:
        cadre_id, by_department = own, False
        if data.get("cadre") not in (None, "") and as_int(data, "cadre") != own:
            raise UserError(403, "You are not allowed to do this.")
    else:
        raise UserError(403, "You are not allowed to do this.")
    cadre = await scoped(Cadre).objects().where(Cadre.id == cadre_id).first()
    if cadre is None:
        raise UserError(400, "Choose a cadre of this tenant.", code="unknown_cadre")
    case_id, inspection_id = as_int(data, "case", False), as_int(data, "inspection", False)
    if case_id is None and inspection_id is None:
        raise UserError(400, "Link the case or the inspection the mistake concerns.", code="no_link")
    if case_id is not None and not await scoped(Case).exists().where(Case.id == case_id):
        raise invalid("case")
    if inspection_id is not None:
        found = await scoped(Inspection).select(Inspection.subject, Inspection.case).where(
            Inspection.id == inspection_id).first()
        if found is None or found["subject"] != cadre.user:
            raise UserError(400, "Choose an inspection concerning this cadre.", code="unknown_inspection")
        case_id = case_id or found["case"]
    return await scoped(Application).add(
        cadre=cadre_id, filed_by=user.id, by_department=by_department, case=case_id, inspection=inspection_id,
        mistake=as_text(data, "mistake"), circumstances=as_text(data, "circumstances", 5000, False),
        checks="{}", status="applied", created_at=now(), version=0)


def _checks(data: dict) -> dict:
    """{key: {"met", "note"}} for each distinction and criterion, from JSON or from a form."""
    given = data.get("checks") if isinstance(data.get("checks"), dict) else {}
    checks = {}
    for key in (*DISTINCTIONS, *TOLERANCE_CRITERIA):
        item = given.get(key) if isinstance(given.get(key), dict) else {
            "met": data.get(f"met_{key}"), "note": data.get(f"note_{key}", "")}
        note = str(item.get("note") or "").strip()
        if len(note) > 1000:
            raise invalid(f"note_{key}")
        checks[key] = {"met": item.get("met") in (True, "1", "on", "true"), "note": note}
    return checks


async def step(user, application_id: int, name: str, data: dict | None = None) -> Application:
    row = await get(application_id)  # 404 first
    require(user, "cadre.view")
    if name not in APPLICATION_STEPS:
        raise UserError(404, "Not found.")
    require(user, "cadre.manage")
    data = data or {}
    version = data.get("version")
    if version not in (None, "") and as_int(data, "version") != row.version:
        raise UserError(409, "This application changed since you opened it. Reload the page and try again.",
                        code="stale")
    expected = {"verify": ("applied", "verified"), "decide": ("verified",), "finalize": ("publicity",)}[name]
    if row.status not in expected:
        raise UserError(409, "This step is not possible at this stage of the application.", code="state")
    if name == "finalize":  # what the scheduled job does at the period's end, asked for now
        published = await scoped(publicity.Publicity).select(publicity.Publicity.id).where(
            publicity.Publicity.application == row.id).first()
        if published is None or not await publicity.settle(published["id"]):
            raise UserError(409, "The publicity period has not ended yet, or an objection is still unanswered.",
                            code="publicity")
        return await get(application_id)
    if name == "verify":
        row.checks, row.status = json.dumps(_checks(data), ensure_ascii=False), "verified"
        row.verified_by, row.verified_at = user.id, now()
    elif name == "decide":
        await _decide(user, row, data)
    row.version = (row.version or 0) + 1
    await row.save()
    return row


async def _decide(user, row: Application, data: dict) -> None:
    decision = str(data.get("decision") or "")
    if decision not in DECISIONS:
        raise invalid("decision")
    reason = as_text(data, "reason")
    checks = json.loads(row.checks or "{}")
    if decision == "exempted":
        unmet = [k for k in (*DISTINCTIONS, *required_criteria()) if not checks.get(k, {}).get("met")]
        if unmet:
            raise UserError(409, "An exemption needs the three distinctions and every required criterion met.",
                            code="criteria_unmet")
        if row.inspection:
            found = await scoped(Inspection).select(Inspection.status, Inspection.conclusion).where(
                Inspection.id == row.inspection).first()
            if found and found["status"] == "concluded" and found["conclusion"] != "violation":
                raise UserError(409, "Only an inspection still open or one that found a violation can be exempted.",
                                code="not_exemptable")
    summary = as_text(data, "summary", 500, False)  # what the public page may show besides the decision
    row.decision, row.decision_reason, row.decided_by, row.decided_at = decision, reason, user.id, now()
    if decision in PUBLISHED_DECISIONS:
        row.status = "publicity"
        await publicity.publish_application(row, summary)  # sets publicity_until
    else:
        row.status = "final"
    await append_event(case=None, actor=user.id, actor_role="cadre_org", action="cadre",
                       data={"application": row.id, "decision": decision, "inspection": row.inspection})


async def require_application_reader(user, application_id: int) -> None:
    row = await get(application_id)
    if is_org(user):
        return
    if await own_cadre_id(user) is None or await own_cadre_id(user) != row.cadre:
        raise UserError(403, "You are not allowed to do this.")
