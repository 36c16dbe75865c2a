"""The big screen of any tenant, whatever its level (层级): a city's reads its districts
(`core.oversight.city`), a district's or a township's its own record and its townships'
(`core.oversight.screen`).  The pages and the figures API ask here."""

from __future__ import annotations

from core.oversight import city, screen
from core.scope import TenantContext


async def payload(tenant: TenantContext, scope: str) -> dict:
    """Everything the screen and the figures API show for `scope`, JSON-ready."""
    if tenant.kind == "city":
        return await city.city_payload(tenant, scope)
    return await screen.payload(tenant, scope)


async def scopes_of(tenant: TenantContext) -> list[TenantContext]:
    """The scopes a screen offers besides the tenant's own: a city's districts, a district's townships."""
    if tenant.kind == "city":
        return await city.districts_of(tenant)
    return await screen.children_of(tenant)


async def change_marker(tenant: TenantContext, scope: str) -> str:
    """Something that changes whenever a figure of the scope may change (`screen.change_marker`);
    for a city, the heads of the record of every district and township it reads."""
    if tenant.kind != "city":
        return await screen.change_marker(tenant, scope)
    from core.cases.tables import AuditHead
    from core.scope import scoped, tenant_scope

    marks = []
    for t in await city.city_tenants(tenant, scope):
        async with tenant_scope(t, write=False):
            head = await scoped(AuditHead).select(AuditHead.last_seq).first()
        marks.append(f"{t.slug}:{head['last_seq'] if head else 0}")
    return ",".join(marks)
