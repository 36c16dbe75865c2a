"""The tenant registry (租户): districts (区) and townships (镇/街道), and looking them up.

The table belongs to the `tenants` Piccolo app (its migrations are in tenants/); it is defined
here, in the data layer, because every tenant-owned table points a foreign key at it."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.prepared import Prepared
from core.tenant_context import TenantContext


class Tenant(Table, tablename="tenant"):
    """A district or township using the platform. Not tenant-owned: it is the registry itself."""

    id: Serial  # added by Piccolo; declared for the type checker
    slug = Varchar(length=63, unique=True, index=True)
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200)
    kind = Varchar(length=20)  # "district" | "township"
    parent: ForeignKey[Tenant] = ForeignKey(references="self", null=True)
    plugins = Text(default="[]")  # JSON list of enabled plugin names
    settings = Text(default="{}")  # JSON object of tenant settings
    hosts = Text(default="[]")  # JSON list of extra host names resolving to this tenant
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


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
