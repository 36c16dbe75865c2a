"""Tenant links (租户关联): a court serves the districts it links with.

Each side declares the link on its own: a district names the courts serving it, a court the
districts it serves — one `TenantLink` row per declaring tenant, naming the other by slug.  A link
is active only while both tenants exist, are active, and both declarations stand.  Ending a
declaration (`ended_at`) makes the link inactive and deletes nothing, so history stays on both
sides.  The table is the registry's, not tenant data: it holds no case, no person, only who
declared which partner, so neither side's row-level security covers it (see `core.grants`).

A slug, not a foreign key, names the partner: a declaration may name a tenant that is not
(yet) on this installation — a court onboarded after its districts, or a tenant imported
without its partner — and is inactive until the partner is there and declares it back.
"""

from __future__ import annotations

import time

from piccolo.columns import ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.clock import now
from core.tenant_context import TenantContext
from core.tenant_registry import Tenant


class TenantLink(Table, tablename="tenant_link"):
    """One side's declaration of a link: `tenant` names `partner` (a slug); unique per pair."""

    id: Serial  # added by Piccolo; declared for the type checker
    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade)
    partner = Varchar(length=63)
    declared_at = Timestamptz(default=TimestamptzNow())
    ended_at = Timestamptz(null=True, default=None)


# Whether a tenant has an active link of a kind, for showing a link on a page (never for allowing
# anything: a referral checks its link itself), remembered in this process for SHOWN_FOR seconds and
# forgotten at once when a declaration is made or ended here; a page asks it on every view.
SHOWN_FOR = 30.0
_shown: dict[tuple[int, str], tuple[float, bool]] = {}


async def declare(tenant_id: int, partner: str) -> bool:
    """Declare (or declare again, after an end) `tenant_id`'s link to `partner`; True if it changed.
    Runs inside the caller's transaction."""
    _shown.clear()
    row = await TenantLink.select(TenantLink.id, TenantLink.ended_at).where(
        (TenantLink.tenant == tenant_id) & (TenantLink.partner == partner)).first()
    if row is None:
        await TenantLink.insert(TenantLink(tenant=tenant_id, partner=partner))
        return True
    if row["ended_at"] is not None:
        await TenantLink.update({TenantLink.ended_at: None, TenantLink.declared_at: now()}).where(
            TenantLink.id == row["id"])
        return True
    return False


async def end(tenant_id: int, partner: str) -> bool:
    """End `tenant_id`'s declaration of its link to `partner`: no new referral crosses it; what
    crossed stays.  True if a standing declaration was ended."""
    _shown.clear()
    rows = await TenantLink.update({TenantLink.ended_at: now()}).where(
        (TenantLink.tenant == tenant_id) & (TenantLink.partner == partner) & TenantLink.ended_at.is_null()
    ).returning(TenantLink.id)
    return bool(rows)


async def links_of(tenant: TenantContext) -> list[dict]:
    """Every link `tenant` declared or was named in: partner slug and name, kind, whether each side
    declares it (and since when), whether the partner is here, and whether the link is active."""
    mine = {r["partner"]: r for r in await TenantLink.select().where(TenantLink.tenant == tenant.id)}
    theirs = {r["tenant.slug"]: r for r in await TenantLink.select(
        *TenantLink.all_columns(), TenantLink.tenant.slug).where(TenantLink.partner == tenant.slug)}
    partners = {r["slug"]: r for r in await Tenant.select(
        Tenant.id, Tenant.slug, Tenant.name_zh, Tenant.name_en, Tenant.kind, Tenant.active).where(
        Tenant.slug.is_in(sorted(set(mine) | set(theirs)) or ["-"]))}
    out = []
    for slug in sorted(set(mine) | set(theirs)):
        here, there, partner = mine.get(slug), theirs.get(slug), partners.get(slug)
        declared_here = bool(here and here["ended_at"] is None)
        declared_there = bool(there and there["ended_at"] is None)
        out.append({
            "partner": slug, "partner_id": partner["id"] if partner else None,
            "name_zh": partner["name_zh"] if partner else "", "name_en": partner["name_en"] if partner else "",
            "kind": partner["kind"] if partner else "", "present": partner is not None,
            "declared_here": declared_here, "declared_there": declared_there,
            "ended_at": (here or {}).get("ended_at") or (there or {}).get("ended_at"),
            "active": bool(declared_here and declared_there and partner and partner["active"] and tenant.active),
        })
    return out


async def active_partners(tenant: TenantContext, kind: str | None = None) -> list[TenantContext]:
    """The tenants `tenant` has an active link with (of `kind`, if given)."""
    slugs = [link["partner"] for link in await links_of(tenant)
             if link["active"] and (kind is None or link["kind"] == kind)]
    if not slugs:
        return []
    rows = await Tenant.select().where(Tenant.slug.is_in(slugs)).order_by(Tenant.id)
    return [TenantContext.from_row(r) for r in rows]


async def shows_partner(tenant: TenantContext, kind: str) -> bool:
    """Whether `tenant` has an active link with a tenant of `kind`, as of at most SHOWN_FOR seconds
    ago (this process's own declarations and ends are seen at once): for what a page shows only."""
    key, at = (tenant.id, kind), time.monotonic()
    hit = _shown.get(key)
    if hit is None or hit[0] <= at:
        hit = _shown[key] = (at + SHOWN_FOR, any(
            link["active"] and link["kind"] == kind for link in await links_of(tenant)))
    return hit[1]


async def is_active(tenant: TenantContext, partner: str) -> bool:
    """Whether the link between `tenant` and the tenant `partner` (a slug) is active now."""
    return any(link["partner"] == partner and link["active"] for link in await links_of(tenant))


async def declared_partners(tenant_id: int) -> list[dict]:
    """`tenant_id`'s own declarations (partner, declared_at, ended_at), for its export."""
    return await TenantLink.select(TenantLink.partner, TenantLink.declared_at, TenantLink.ended_at).where(
        TenantLink.tenant == tenant_id).order_by(TenantLink.id)
