"""Deadline jobs (期限管理): a reminder one working day before the due date, the overdue flag, and
automatic escalation (提级办理) once a case is overdue by the tenant's number of working days.
Run by the scheduler every hour; each effect is recorded once (flags on the case), so reruns and
overlapping runs change nothing."""

from __future__ import annotations

from core.cases import notices, states as S
from core.cases.audit import append_event
from core.cases.lifecycle import escalate
from core.cases.tables import Case
from core.clock import today
from core.oversight import tally
from core.workdays import load_calendar
from tenants.registry import all_tenants
from tenants.scope import scoped, tenant_scope, tenant_setting

OPEN_WITH_DEADLINE = list(S.WITH_DEADLINE)


async def sweep_tenant(on: "date | None" = None) -> dict:  # noqa: F821
    """One pass over the current tenant's open cases with a deadline."""
    on = on or today()
    calendar = await load_calendar()
    threshold = int(tenant_setting("escalate_after_overdue_days", 2))
    counts = {"reminded": 0, "overdue": 0, "escalated": 0}
    due_soon = calendar.add_working_days(on, 1).date
    rows = await scoped(Case).objects().where(
        Case.status.is_in(OPEN_WITH_DEADLINE) & Case.due_date.is_not_null() & (Case.due_date <= due_soon))
    flagged = []
    for case in rows:
        changed = []
        if case.due_date == due_soon and case.reminded_for != case.due_date and case.handler:
            case.reminded_for = case.due_date
            changed.append(Case.reminded_for)
            await notices.to_users([case.handler], case, "Case %(number)s is due tomorrow.")
            counts["reminded"] += 1
        if case.due_date < on and not case.overdue:
            case.overdue = True
            changed.append(Case.overdue)
            await append_event(case=case.id, actor=None, actor_role="system", action="overdue",
                               before=case.status, after=case.status, data={"due": str(case.due_date)})
            await notices.to_users([case.handler] if case.handler else [], case, "Case %(number)s is overdue.")
            await notices.to_role("dispatcher", None, case, "Case %(number)s is overdue.")
            counts["overdue"] += 1
        late = calendar.working_days_between(case.due_date, on) if case.due_date < on else 0
        if case.overdue and not case.escalated and late >= threshold:
            await escalate(case, "")
            changed += [Case.escalated, Case.escalated_to]
            await append_event(case=case.id, actor=None, actor_role="system", action="escalate",
                               before=case.status, after=case.status,
                               data={"automatic": True, "late_days": late})
            counts["escalated"] += 1
        if changed:
            await case.save(changed)
            if Case.overdue in changed or Case.escalated in changed:
                flagged.append(case.id)
    await tally.refresh(flagged)
    return counts


async def sweep_all() -> None:
    for tenant in await all_tenants():
        if tenant.active:
            async with tenant_scope(tenant):
                await sweep_tenant()
