"""Opening and handling discipline inspections (纪检核查), and the tenant's settings of the
must-investigate rules (七必查: on or off, and their numbers).

Opening is idempotent twice over: known dedupe keys are skipped, and the insert runs in a savepoint
so that a concurrent opening of the same key (the unique index on tenant and key) is skipped too
instead of failing the caller.  Each opening goes on the tamper-evident record (`action`
"inspection", actor "system") — on the case's record if it concerns a case, except for a company's
misconduct report, which stays off the case page so the person reported is not tipped off (举报人保护)
— and tells the inspectors.  Inspectors move an inspection open → investigating → concluded.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from core.cases import notices
from core.cases.access import members_with_role
from core.cases.audit import append_event
from core.cases.inputs import parse
from core.cases.tables import Case
from core.clock import now
from core.db import current_engine
from core.errors import UserError
from core.i18n import N_
from core.inspections import rules
from core.inspections.tables import CONCLUSION_LABELS, STATUS_LABELS, STEP_LABELS, Inspection, RuleSetting
from core.jobs import actor
from core.notifications import notify
from core.scope import scoped

log = logging.getLogger("qinqing.inspections")
EVENT_ACTION = "inspection"
EVENT_LABEL = N_("inspection")  # how the case timeline names the event
CONFIDENTIAL = {"misconduct_report"}
OPENED_ON_CASE = N_("A must-investigate inspection was opened on case %(number)s.")
OPENED = N_("A must-investigate inspection was opened.")
STEPS = {"investigate": {"open"}, "conclude": {"investigating"}}
Notes = Annotated[str, msgspec.Meta(max_length=5000)]


# -- opening --------------------------------------------------------------------------------------

def _is_duplicate(exc: Exception) -> bool:
    return exc.__class__.__name__ in ("IntegrityError", "UniqueViolationError")


async def _insert(f: rules.Finding) -> Inspection | None:
    """Insert in a savepoint; a concurrent opening of the same key leaves this one out."""
    tx = current_engine().current_transaction.get()
    savepoint = await tx.savepoint() if tx is not None else None
    try:
        row = await scoped(Inspection).add(
            rule=f.rule, dedupe_key=f.key, case=f.case, subject=f.subject, department=f.department,
            company=f.company, status="open", conclusion="", summary=f.summary,
            params=json.dumps(f.params, ensure_ascii=False), evidence=json.dumps(f.evidence, ensure_ascii=False),
            opened_at=now(), version=0)
    except Exception as exc:
        if savepoint is None or not _is_duplicate(exc):
            raise
        await savepoint.rollback_to()
        return None
    if savepoint is not None:
        await savepoint.release()
    return row


async def open_findings(found: list[rules.Finding]) -> list[Inspection]:
    """Open an inspection for each finding not opened before; returns the new ones.  A finding
    already open (not concluded) has its summary's figures and evidence brought up to date (a
    repeated refusal refused a third time says "3 times", not "2")."""
    if not found:
        return []
    known = {r["dedupe_key"]: r for r in await scoped(Inspection).select(
        Inspection.id, Inspection.dedupe_key, Inspection.status, Inspection.params, Inspection.evidence).where(
        Inspection.rule.is_in(sorted({f.rule for f in found})))}
    opened = []
    for f in found:
        if f.key in known:
            await _refresh(known[f.key], f)
            continue
        known[f.key] = {"status": "new"}
        row = await _insert(f)
        if row is None:
            continue
        opened.append(row)
        case = await scoped(Case).objects().where(Case.id == f.case).first() if f.case else None
        on_case = case if case is not None and f.rule not in CONFIDENTIAL else None
        await append_event(case=on_case.id if on_case else None, actor=None, actor_role="system",
                           action=EVENT_ACTION, before=on_case.status if on_case else "",
                           after=on_case.status if on_case else "", data={"inspection": row.id, "rule": f.rule})
        if case is not None:
            await notices.to_role("inspector", None, case, OPENED_ON_CASE)
        else:
            for user_id in await members_with_role("inspector"):
                await notify(user_id, "inspection", OPENED, link=f"inspections/{row.id}")
    return opened


def _loaded(value):
    return json.loads(value) if isinstance(value, str) else value


async def _refresh(row: dict, f: rules.Finding) -> None:
    """Bring an open inspection's figures and evidence up to what its rule finds now."""
    if row["status"] not in ("open", "investigating") or (
            _loaded(row["params"]) == f.params and _loaded(row["evidence"]) == f.evidence):
        return
    await scoped(Inspection).update({
        Inspection.params: json.dumps(f.params, ensure_ascii=False),
        Inspection.evidence: json.dumps(f.evidence, ensure_ascii=False),
    }).where(Inspection.id == row["id"])


async def evaluate(case_id: int | None = None, report_id: int | None = None) -> list[Inspection]:
    """Run the enabled rules over one case or one report (both None: everything) of this tenant."""
    return await open_findings(await findings(rules.Target(case_id, report_id)))


@actor("inspections_evaluate")
async def inspections_evaluate(case_id: int | None = None, report_id: int | None = None) -> None:
    """After an event on a case (or a conduct report): open what the rules find there."""
    await evaluate(case_id=case_id, report_id=report_id)


# -- handling -------------------------------------------------------------------------------------

async def get(inspection_id: int) -> Inspection:
    row = await scoped(Inspection).objects().where(Inspection.id == inspection_id).first()
    if row is None:
        raise UserError(404, "Not found.")
    return row


class HandleForm(msgspec.Struct):
    notes: Notes = ""
    conclusion: str = ""


def _append_notes(notes: str, text: str) -> str:
    return f"{notes}\n\n{text}".strip() if text else notes


async def _record(row: Inspection, actor_id: int | None, role: str, step: str) -> None:
    await append_event(case=None, actor=actor_id, actor_role=role, action=EVENT_ACTION,
                       data={"inspection": row.id, "step": step, "status": row.status,
                             "conclusion": row.conclusion})


async def handle(user, inspection_id: int, step: str, data: dict | None = None,
                 version: int | None = None) -> Inspection:
    """An inspector's step: investigate (open → investigating) or conclude (→ concluded)."""
    row = await get(inspection_id)
    if not user.can("inspection.handle"):
        raise UserError(403, "Only a discipline inspector can handle an inspection.")
    if step not in STEPS:
        raise UserError(404, "Not found.")
    if version is not None and version != row.version:
        raise UserError(409, "This inspection changed since you opened it. Reload the page and try again.",
                        code="stale")
    if row.status not in STEPS[step]:
        raise UserError(409, "The step “%(step_label)s” is not possible while the inspection is “%(status_label)s”.",
                        step_label=STEP_LABELS[step], status_label=STATUS_LABELS[row.status])
    form = parse(HandleForm, data or {})
    if step == "conclude":
        conclusion = {"violation_found": "violation"}.get(form.conclusion, form.conclusion)
        if conclusion not in CONCLUSION_LABELS:
            raise UserError(400, "Choose a conclusion: no issue, violation found or exempted.", code="conclusion")
        if not form.notes:
            raise UserError(400, "Write down what the investigation found.", code="notes_required")
        row.conclusion, row.concluded_at = conclusion, now()
    row.status = "investigating" if step == "investigate" else "concluded"
    row.notes, row.handled_by = _append_notes(row.notes, form.notes), user.id
    row.version = (row.version or 0) + 1
    await row.save()
    await _record(row, user.id, "inspector", step)
    return row


async def exempt(inspection_id: int, reason: str, actor_id: int | None, *, actor_role: str = "") -> Inspection:
    """Mark an inspection exempted (容错免责), for the cadre module's fault-tolerance decision.

    Possible while open or investigating, and after a violation was found; not after "no issue"."""
    row = await get(inspection_id)
    reason = (reason or "").strip()
    if not reason or len(reason) > 2000:
        raise UserError(400, "Give the reason for the exemption (at most 2,000 characters).", code="reason")
    if row.status == "concluded" and row.conclusion != "violation":
        raise UserError(409, "Only an inspection still open or one that found a violation can be exempted.",
                        code="not_exemptable")
    row.status, row.conclusion, row.concluded_at, row.handled_by = "concluded", "exempted", now(), actor_id
    row.notes = _append_notes(row.notes, reason)
    row.version = (row.version or 0) + 1
    await row.save()
    await _record(row, actor_id, actor_role, "exempt")
    return row


# -- rule settings (a tenant's switch and numbers per rule) ---------------------------------------

@dataclass
class Setting:
    enabled: bool
    params: dict


def check_param(rule_key: str, param: rules.Param, value) -> Any:
    """A parameter's value, or 400 saying what is wrong with it."""
    if param.keywords:
        words = value if isinstance(value, (list, tuple)) else re.split(r"[,，、;；\s]+", str(value or ""))
        words = list(dict.fromkeys(w.strip() for w in words if isinstance(w, str) and w.strip()))
        if not param.low <= len(words) <= param.high or any(len(w) > 20 for w in words):
            raise UserError(400, "%(rule_label)s: give between %(low)s and %(high)s keywords of at most 20 "
                                 "characters each.", code="invalid_param", rule_label=rules.RULES[rule_key].title,
                            low=param.low, high=param.high)
        return words
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or not param.low <= number <= param.high:
        raise UserError(400, "%(rule_label)s: “%(param_label)s” must be a whole number from %(low)s to %(high)s.",
                        code="invalid_param", rule_label=rules.RULES[rule_key].title, param_label=param.label,
                        low=param.low, high=param.high)
    return number


async def load_settings() -> dict[str, Setting]:
    """Every rule's setting for the current tenant: the stored row, or the defaults."""
    stored = {r["rule"]: r for r in await scoped(RuleSetting).select()}
    settings = {}
    for key, spec in rules.RULES.items():
        row = stored.get(key)
        saved = rules.loads(row["params"], {}) if row else {}
        params = {}
        for p in spec.params:
            try:
                params[p.name] = check_param(key, p, saved[p.name]) if p.name in saved else p.default
            except UserError:
                params[p.name] = p.default
        settings[key] = Setting(enabled=bool(row["enabled"]) if row else True, params=params)
    return settings


async def findings(target: rules.Target | None = None) -> list[rules.Finding]:
    """What the enabled rules find for `target` (a report is looked at by the report rule only)."""
    target = target or rules.Target()
    settings = await load_settings()
    found: list[rules.Finding] = []
    for key, spec in rules.RULES.items():
        if not settings[key].enabled or (target.report_id is not None and key != "misconduct_report"):
            continue
        found += await spec.find(settings[key].params, target)
    return found


async def save_setting(rule_key: str, enabled: bool, values: dict) -> Setting:
    """Validate every number of one rule first (400 naming the bad one), then store the setting."""
    spec = rules.RULES.get(rule_key)
    if spec is None:
        raise UserError(400, "Unknown rule: %(rule)s.", code="unknown_rule", rule=rule_key)
    params = {p.name: check_param(rule_key, p, values.get(p.name, "")) for p in spec.params}
    existing = await scoped(RuleSetting).objects().where(RuleSetting.rule == rule_key).first()
    if existing is None:
        await scoped(RuleSetting).add(rule=rule_key, enabled=enabled, params=json.dumps(params, ensure_ascii=False))
    else:
        existing.enabled, existing.params = enabled, json.dumps(params, ensure_ascii=False)
        await existing.save([RuleSetting.enabled, RuleSetting.params])
    return Setting(enabled, params)
