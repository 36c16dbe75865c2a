"""The core's dashboard widget (我的待办): what is waiting for the user, with links."""

from __future__ import annotations

from core.cases import states as S
from core.cases.access import visibility
from core.cases.tables import Case
from core.contrib import Widget
from core.i18n import N_
from core.scope import scoped


async def _count(user, clause) -> int:
    query = scoped(Case).count().where(clause)
    visible = await visibility(user)
    return await (query.where(visible) if visible is not None else query)


async def load(tenant, user) -> dict:
    items = []
    if user.can("case.dispatch"):
        items.append((N_("Awaiting dispatch"), "cases/?status=submitted", await _count(user, Case.status == S.SUBMITTED)))
    if user.can("workbench.view"):
        mine = (Case.handler == user.id) | (Case.escalated_to == user.id)
        items.append((N_("My open cases"), "cases/?mine=1&status=open",
                      await _count(user, mine & Case.status.is_in(list(S.OPEN)))))
        items.append((N_("Waiting for acceptance by my department"), "cases/?status=dispatched",
                      await _count(user, Case.status == S.DISPATCHED)))
    if user.can("case.view_own") and not user.can("case.view_all"):
        items.append((N_("My open cases"), "cases/?status=open", await _count(user, Case.status.is_in(list(S.OPEN)))))
        items.append((N_("Waiting for my rating"), "cases/?status=resolved", await _count(user, Case.status == S.RESOLVED)))
    if user.can("case.view_dept") or user.can("case.view_all"):
        items.append((N_("Overdue"), "cases/?overdue=1&status=open",
                      await _count(user, Case.overdue.eq(True) & Case.status.is_in(list(S.OPEN)))))
    return {"items": items}


WIDGET = Widget("core_todo", N_("Waiting for me"), "core/widget.html", load, order=0)
