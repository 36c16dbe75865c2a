"""What the big screen (大屏) shows for a scope: the tenant itself, one of a district's
townships, or the district's roll-up of all of them.  A district reads its townships only
through these figures (each township read in its own scope), never another district."""

from __future__ import annotations

from core.errors import UserError
from core.i18n import N_, current_locale, gettext
from core.names import localized
from core.oversight.figures import Figures, Tally, tenant_figures
from core.oversight.flags import red_flags
from core.oversight.window import refusal_window, since_launch
from core.scope import TenantContext, tenant_scope
from core.tenant_registry import Tenant

DEFINITIONS = {
    "response_rate": N_("Response rate: dispatched cases accepted within 1 working day of dispatch, of all dispatched."),
    "resolution_rate": N_("Resolution rate: cases resolved and not rated “unsatisfied”, of all cases with an outcome."),
    "satisfaction_rate": N_("Satisfaction rate: “satisfied” and “basically satisfied”, of all rated cases."),
    "avg_days": N_("Average working days from submission to closing."),
}


async def children_of(tenant: TenantContext) -> list[TenantContext]:
    rows = await Tenant.select().where((Tenant.parent == tenant.id) & (Tenant.active == True)).order_by(Tenant.id)  # noqa: E712
    return [TenantContext.from_row(r) for r in rows]


async def _figures_of(tenant: TenantContext) -> Figures:
    async with tenant_scope(tenant, write=False):
        return await tenant_figures()


async def scope_figures(tenant: TenantContext, scope: str) -> tuple[Figures, list[tuple[str, Tally]], str]:
    """(figures, the by-township list, the scope's name) for `scope`: "" (self), "all" or a township slug."""
    locale = current_locale.get()
    if not scope or scope == tenant.slug:
        own = await tenant_figures()
        return own, sorted(own.townships.items()), tenant.name(locale)
    children = await children_of(tenant)
    if scope == "all" and children:
        own = await tenant_figures()
        combined = Figures(Tally().add(own.total), {}, {k: Tally().add(v) for k, v in own.months.items()}, {}, {},
                           {}, {})
        combined.departments = {("", k): v for k, v in own.departments.items()}
        combined.department_names = {("", k): v for k, v in own.department_names.items()}
        townships = [(tenant.name(locale), own.total)]
        for child in children:
            fig = await _figures_of(child)
            combined.total.add(fig.total)
            for month, tally in fig.months.items():
                combined.months.setdefault(month, Tally()).add(tally)
            for dept, tally in fig.departments.items():
                combined.departments[(child.slug, dept)] = tally
                combined.department_names[(child.slug, dept)] = f"{child.name(locale)} · {localized(fig.department_names.get(dept))}"
            townships.append((child.name(locale), fig.total))
        combined.months = dict(sorted(combined.months.items()))
        return combined, townships, gettext(N_("%(name)s and all its townships"), name=tenant.name(locale))
    township = next((c for c in children if c.slug == scope), None)
    if township is None:
        raise UserError(404, "Not found.")
    fig = await _figures_of(township)
    return fig, sorted(fig.townships.items()), township.name(locale)


def ranking(figures: Figures) -> list[dict]:
    rows = []
    for key, tally in figures.departments.items():
        rows.append({"department": localized(figures.department_names.get(key, str(key))), **tally.as_dict()})
    rows.sort(key=lambda r: (-(r["resolution_rate"] or 0), -(r["satisfaction_rate"] or 0), r["avg_days"] or 999))
    return rows


async def payload(tenant: TenantContext, scope: str) -> dict:
    """Everything the screen and the figures API show, JSON-ready."""
    figures, townships, name = await scope_figures(tenant, scope)
    own_scope = not scope or scope == tenant.slug
    flags = red_flags(figures, await refusal_window()) if own_scope else []
    from core.cases.advances import outstanding
    from core.oversight.policies import adopted_policies

    own = not scope or scope == tenant.slug
    advances = await outstanding() if own else None  # 先垫资 awaiting settlement: the tenant's own
    return {
        "policies_adopted": len(await adopted_policies()) if not scope or scope == tenant.slug else None,
        "advances_outstanding": {"count": advances.count, "fen": advances.fen} if advances else None,
        "scope": scope or tenant.slug,
        "name": name,
        "totals": figures.total.as_dict(),
        "definitions": {k: gettext(v) for k, v in DEFINITIONS.items()},
        "ranking": ranking(figures),
        "months": [{"month": m, **t.as_dict()} for m, t in figures.months.items()],
        "townships": [{"name": n, **t.as_dict()} for n, t in townships],
        "since_launch": since_launch(figures.months) if scope != "all" else None,
        "flags": [{"kind": f.kind, "subject": localized(f.subject), "message": gettext(f.message, **f.params)} for f in flags],
    }


async def change_marker(tenant: TenantContext, scope: str) -> str:
    """Something that changes whenever a figure of the scope may change: the heads of the
    record's chains (every case step appends an event)."""
    from core.cases.tables import AuditHead
    from core.scope import scoped

    tenants = [tenant]
    if scope:
        children = await children_of(tenant)
        tenants = [tenant, *children] if scope == "all" else [c for c in children if c.slug == scope]
    marks = []
    for t in tenants:
        async with tenant_scope(t, write=False):
            head = await scoped(AuditHead).select(AuditHead.last_seq).first()
        marks.append(f"{t.slug}:{head['last_seq'] if head else 0}")
    return ",".join(marks)
