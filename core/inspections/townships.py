"""A district's inspectors reading its townships' inspections (乡镇七必查), when the district grants it.

The grant is the district's tenant setting `inspections_townships` (off by default): district
discipline inspection (区纪委) supervises the townships' cadres, so a district may let its
inspectors (`inspection.view`) read the inspections of every township below it.  Each township is
read in its own scope, read-only (the district never writes into a township; handling stays with
the township's own inspectors), and only the list is shown: no evidence, notes or reports."""

from __future__ import annotations

from core.inspections.api import list_inspections
from core.scope import TenantContext, current_tenant, tenant_scope
from core.tenant_registry import Tenant
from core.tenant_settings import tenant_setting

SETTING = "inspections_townships"
PER_TOWNSHIP = 50


def granted() -> bool:
    return bool(tenant_setting(SETTING))


async def townships_of(tenant: TenantContext) -> list[TenantContext]:
    rows = await Tenant.select().where((Tenant.parent == tenant.id) & (Tenant.active == True)).order_by(Tenant.id)  # noqa: E712
    return [TenantContext.from_row(r) for r in rows]


async def township_inspections(status: str = "") -> list[tuple[TenantContext, list[dict], int]]:
    """(township, its newest inspections, their count) for each township below the tenant in scope;
    nothing unless the tenant granted it."""
    if not granted():
        return []
    out = []
    for township in await townships_of(current_tenant()):
        async with tenant_scope(township, write=False):
            rows, total = await list_inspections(status, "", 1, PER_TOWNSHIP)
        out.append((township, rows, total))
    return out
