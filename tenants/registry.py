"""Looking tenants up in the registry."""

from __future__ import annotations

from core.prepared import Prepared
from tenants.scope import TenantContext
from tenants.tables import Tenant

_BY_SLUG = Prepared(lambda slug: Tenant.select().where(Tenant.slug == slug), first=True)


async def load_tenant(slug: str) -> TenantContext | None:
    row = await _BY_SLUG.first(slug)
    return TenantContext.from_row(row) if row else None


async def load_tenant_by_id(tenant_id: int) -> TenantContext | None:
    row = await Tenant.select().where(Tenant.id == tenant_id).first()
    return TenantContext.from_row(row) if row else None


async def all_tenants() -> list[TenantContext]:
    rows = await Tenant.select().order_by(Tenant.id)
    return [TenantContext.from_row(r) for r in rows]
