"""Onboarding (入驻): applying a manifest creates or updates a tenant, idempotently, in one
transaction.  Departments, sections, categories and users are matched by code or username and
updated in place; nothing is deleted (cases may refer to it)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

from core.cases.staffing import Shortfall, shortfalls
from core.db import write_transaction
from core.i18n import N_
from core.plugins import get_plugin_manager
from core.tables import Category, Department, Membership, Section, User
from core.tenant_links import declare, end
from tenants.manifest import Manifest, ManifestError, Problem, UserSpec, check_manifest, read_manifest, under
from tenants.scope import TenantContext, scoped, tenant_scope
from tenants.tables import Tenant


@dataclass
class ApplyResult:
    tenant: TenantContext
    created: bool
    new_passwords: dict[str, str] = field(default_factory=dict)
    warnings: list[Shortfall] = field(default_factory=list)  # departments that cannot staff their chain


async def validate(text: str) -> Manifest:
    """Parse and check a manifest against the registry; raises ManifestError listing every problem,
    of shape and of meaning at once (a meaning problem of a misshapen field is its shape problem)."""
    manifest, problems, broken = read_manifest(text)
    manager = get_plugin_manager()
    districts = {r["slug"] for r in await Tenant.select(Tenant.slug).where(Tenant.kind == "district")}
    problems += [p for p in check_manifest(manifest, set(manager.optional_names()), set(manager.roles), districts,
                                           {key: role.kinds for key, role in manager.roles.items()},
                                           await registered_companies(manifest)) if not under(p.field, broken)]
    if problems:
        raise ManifestError(problems)
    return manifest


async def registered_companies(m: Manifest) -> set[str]:
    """The credit codes of the companies the manifest's users name that the tenant already has."""
    from core.cases.tables import Company
    from core.tenant_registry import load_tenant
    from core.uscc import normalize

    codes = {normalize(u.company) for u in m.users if u.company}
    tenant = await load_tenant(m.slug) if codes and m.slug else None
    if tenant is None:
        return set()
    async with tenant_scope(tenant, write=False):
        rows = await scoped(Company).select(Company.credit_code).where(Company.credit_code.is_in(list(codes)))
    return {r["credit_code"] for r in rows}


async def apply_manifest(text: str, default_password: str | None = None) -> ApplyResult:
    manifest = await validate(text)
    async with write_transaction():
        return await _apply(manifest, default_password)


async def _apply(m: Manifest, default_password: str | None) -> ApplyResult:
    tenant, created = await register_tenant(m)
    result = ApplyResult(tenant=tenant, created=created)
    async with tenant_scope(tenant):
        departments, sections = await apply_departments(m)
        await apply_categories(m, departments)
        await apply_companies(m)
        await apply_users(m.users, departments, sections, default_password, result.new_passwords)
        result.warnings = await shortfalls()
    return result


async def register_tenant(m: Manifest, active_if_new: bool = True) -> tuple[TenantContext, bool]:
    """Create or update the registry entry of a manifest's tenant; returns (tenant, created).

    A tenant created inactive (`active_if_new=False`) stays invisible until `set_active` — the
    console's background onboarding turns it on when its last step is done."""
    parent_id = None
    if m.parent:
        parent_id = (await Tenant.select(Tenant.id).where(Tenant.slug == m.parent).first())["id"]
    values = {
        Tenant.name_zh: m.name_zh, Tenant.name_en: m.name_en, Tenant.kind: m.kind, Tenant.parent: parent_id,
        Tenant.plugins: json.dumps(sorted(set(m.plugins))), Tenant.settings: json.dumps(m.settings, ensure_ascii=False),
        Tenant.hosts: json.dumps(m.hosts),
    }
    row = await Tenant.select(Tenant.id).where(Tenant.slug == m.slug).first()
    created = row is None
    if created:
        await Tenant.insert(Tenant(slug=m.slug, active=active_if_new, **{c._meta.name: v for c, v in values.items()}))
    else:
        await Tenant.update(values).where(Tenant.slug == m.slug)
    tenant = TenantContext.from_row(await Tenant.select().where(Tenant.slug == m.slug).first())
    # This side's declarations (courts, a city and its districts); the other side declares its own.
    for partner in (*m.courts, *m.serves, *m.districts, *([m.city] if m.city else [])):
        await declare(tenant.id, partner)
    return tenant, created


async def catalogue_ids() -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """The current tenant's department ids by code and section ids by (department, section) code."""
    departments = {r["code"]: r["id"] for r in await scoped(Department).select(Department.id, Department.code)}
    codes = {v: k for k, v in departments.items()}
    sections = {(codes[r["department"]], r["code"]): r["id"]
                for r in await scoped(Section).select(Section.id, Section.code, Section.department)}
    return departments, sections


async def _upsert(table, match, values: dict):
    existing = await scoped(table).objects().where(match).first()
    if existing is None:
        row = scoped(table).new(**values)
        await row.save()
        return row
    for key, value in values.items():
        setattr(existing, key, value)
    await existing.save()
    return existing


async def apply_departments(m: Manifest):
    departments, sections = {}, {}
    for d in m.departments:
        dept = await _upsert(Department, Department.code == d.code,
                             {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en})
        departments[d.code] = dept.id
        for s in d.sections:
            sec = await _upsert(Section, (Section.department == dept.id) & (Section.code == s.code),
                                {"department": dept.id, "code": s.code, "name_zh": s.name_zh, "name_en": s.name_en})
            sections[(d.code, s.code)] = sec.id
    return departments, sections


async def apply_categories(m: Manifest, departments: dict[str, int]) -> None:
    for c in m.categories:
        await _upsert(Category, Category.code == c.code, {
            "code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "lead_department": departments[c.lead],
            "co_departments": json.dumps(c.co), "deadline_days": c.deadline_days,
        })


async def apply_companies(m: Manifest) -> None:
    """Register (or update) the manifest's companies by their credit codes."""
    from core.cases.companies import register_company

    for c in m.companies:
        await register_company(c.credit_code, c.name, industry=c.industry, township=c.township, address=c.address,
                               contact_name=c.contact_name, contact_phone=c.contact_phone, email=c.email)


async def ensure_user(username: str, display_name: str, password: str, email: str = "",
                      hashed: dict[str, str] | None = None) -> tuple[int, bool]:
    """The user's id and whether it was created; `hashed` caches one hash per password (for a
    password several new users share, such as a manifest's default one)."""
    from core.users import hash_password

    row = await User.select(User.id).where(User.username == username).first()
    if row:
        return row["id"], False
    if hashed is None:
        password_hash = hash_password(password)
    else:
        password_hash = hashed.get(password) or hashed.setdefault(password, hash_password(password))
    user = User(username=username, display_name=display_name, email=email, password_hash=password_hash)
    await user.save()
    return user.id, True


async def ensure_membership(user_id: int, role: str, department_id: int | None, section_id: int | None) -> None:
    existing = await scoped(Membership).objects().where((Membership.user == user_id) & (Membership.role == role)).first()
    if existing is None:
        await scoped(Membership).add(user=user_id, role=role, department=department_id, section=section_id)
    elif (existing.department, existing.section) != (department_id, section_id):
        existing.department, existing.section = department_id, section_id
        await existing.save([Membership.department, Membership.section])


async def apply_users(users: list[UserSpec], departments, sections, default_password: str | None,
                      new_passwords: dict[str, str]) -> None:
    """Create or update `users` and their memberships; generated passwords go into `new_passwords`.
    Users given the default password share one hash of it (argon2 is slow; they share it anyway)."""
    shared: dict[str, str] = {}
    for u in users:
        password = u.password or default_password or secrets.token_urlsafe(12)
        user_id, created = await ensure_user(u.username, u.display_name, password, u.email,
                                             hashed=shared if not u.password and default_password else None)
        if created and not (u.password or default_password):
            new_passwords[u.username] = password
        dept = departments.get(u.department) if u.department else None
        section = sections.get((u.department, u.section)) if u.section else None
        for role in u.roles:
            await ensure_membership(user_id, role, dept, section)
        if u.company:  # linked by its credit code: declared in the manifest or registered before
            await link_company(user_id, u.company, u.liaison)


async def link_company(user_id: int, credit_code: str, liaison: bool) -> None:
    from core.cases.companies import add_member
    from core.cases.tables import Company
    from core.uscc import normalize

    company = await scoped(Company).select(Company.id).where(Company.credit_code == normalize(credit_code)).first()
    await add_member(company["id"], user_id, liaison=liaison)


async def set_plugin(slug: str, plugin: str, enabled: bool) -> TenantContext:
    manager = get_plugin_manager()
    if plugin not in manager.optional_names():
        raise ManifestError([Problem("plugins", N_("unknown plugin %(value)s"), value=repr(plugin))])
    async with write_transaction():
        row = await Tenant.select().where(Tenant.slug == slug).first()
        if row is None:
            raise ManifestError([Problem("slug", N_("no tenant %(value)s"), value=repr(slug))])
        plugins = set(json.loads(row["plugins"] or "[]"))
        plugins = plugins | {plugin} if enabled else plugins - {plugin}
        await Tenant.update({Tenant.plugins: json.dumps(sorted(plugins))}).where(Tenant.slug == slug)
        return TenantContext.from_row(await Tenant.select().where(Tenant.slug == slug).first())


async def set_active(slug: str, active: bool) -> TenantContext:
    """Activate or deactivate a tenant: an inactive one answers 404 everywhere and sends nothing."""
    async with write_transaction():
        row = await Tenant.select(Tenant.id).where(Tenant.slug == slug).first()
        if row is None:
            raise ManifestError([Problem("slug", N_("no tenant %(value)s"), value=repr(slug))])
        await Tenant.update({Tenant.active: active}).where(Tenant.slug == slug)
        return TenantContext.from_row(await Tenant.select().where(Tenant.slug == slug).first())


async def update_settings(tenant_id: int, changes: dict) -> TenantContext:
    """Merge `changes` into a tenant's settings (used by its admin's settings forms)."""
    async with write_transaction():
        row = await Tenant.select(Tenant.settings).where(Tenant.id == tenant_id).first()
        settings = {**json.loads(row["settings"] or "{}"), **changes}
        await Tenant.update({Tenant.settings: json.dumps(settings, ensure_ascii=False)}).where(Tenant.id == tenant_id)
        return TenantContext.from_row(await Tenant.select().where(Tenant.id == tenant_id).first())


LINKED_KINDS = {"court": ("district",), "district": ("court",)}


async def set_link(slug: str, partner: str, declared: bool) -> TenantContext:
    """Declare (or end) `slug`'s side of its link with `partner`: a court with the districts it serves,
    a district with the courts serving it.  The link is active only while both sides declare it;
    ending it deletes nothing."""
    from tenants.manifest import SLUG_RE

    async with write_transaction():
        row = await Tenant.select().where(Tenant.slug == slug).first()
        if row is None:
            raise ManifestError([Problem("slug", N_("no tenant %(value)s"), value=repr(slug))])
        other = await Tenant.select(Tenant.kind).where(Tenant.slug == partner).first()
        allowed = LINKED_KINDS.get(row["kind"], ())
        if not SLUG_RE.match(partner) or partner == slug or not allowed or (other and other["kind"] not in allowed):
            raise ManifestError([Problem("partner", N_("%(value)s cannot be linked with this tenant (a court links "
                                                       "with districts, a district with courts)"), value=repr(partner))])
        if declared:
            await declare(row["id"], partner)
        else:
            await end(row["id"], partner)
        return TenantContext.from_row(row)
