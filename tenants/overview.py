"""A tenant at a glance for the system console (租户概况): its case and user counts, each tenant
read inside its own scope (never filtered by hand), so row-level security applies as anywhere."""

from __future__ import annotations

from dataclasses import dataclass

from core.cases.states import OPEN
from core.cases.tables import Case
from core.tables import Membership
from tenants.scope import TenantContext, scoped, tenant_scope


@dataclass(frozen=True)
class TenantFigures:
    cases: int
    open: int
    overdue: int  # open and past the deadline, as the big screen counts them
    users: int  # people holding at least one role in the tenant


async def tenant_figures(tenant: TenantContext) -> TenantFigures:
    async with tenant_scope(tenant, write=False):
        is_open = Case.status.is_in(sorted(OPEN))
        return TenantFigures(
            cases=await scoped(Case).count(),
            open=await scoped(Case).count().where(is_open),
            overdue=await scoped(Case).count().where(is_open & (Case.overdue == True)),  # noqa: E712
            users=len(await scoped(Membership).select(Membership.user).distinct()),
        )
