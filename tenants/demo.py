"""Demo tenants (演示租户): the three demo manifests, one account per role per tenant, and the
demo data each enabled module contributes."""

from __future__ import annotations

from core.cases.demo import person_name
from core.i18n import gettext
from core.plugins import get_plugin_manager
from core.tables import Category, Department, Section, User
from tenants.manifest import demo_manifest_paths, role_fits
from tenants.onboarding import apply_manifest, ensure_membership, ensure_user
from tenants.scope import scoped, tenant_scope

DEPARTMENT_ROLES = {"handler", "section_head", "leader", "dept_head"}


async def load_demo(password: str, manifests: list[str] | None = None) -> dict[str, list[str]]:
    """Apply the demo manifests (or the given manifest texts) and create `<role>@<slug>` accounts;
    returns usernames per tenant."""
    accounts: dict[str, list[str]] = {}
    manager = get_plugin_manager()
    for text in manifests or [path.read_text(encoding="utf-8") for path in demo_manifest_paths()]:
        result = await apply_manifest(text, default_password=password)
        tenant = result.tenant
        enabled = manager.enabled_for(tenant)
        async with tenant_scope(tenant):
            first = await scoped(Category).select(Category.lead_department).order_by(Category.id).first()
            dept_id = first["lead_department"] if first else None
            section = await scoped(Section).select(Section.id).where(Section.department == dept_id).order_by(
                Section.id).first() if dept_id else None
            dept_name = (await scoped(Department).select(Department.name_zh).where(
                Department.id == dept_id).first() or {}).get("name_zh", "") if dept_id else ""
            names, hashed = [], {}  # every demo account shares the demo password: hashed once
            for key, role in manager.roles.items():
                if manager.role_plugin(key) not in enabled or not role_fits(key, role.kinds, tenant.kind):
                    continue
                username = f"{key}@{tenant.slug}"
                in_dept = key in DEPARTMENT_ROLES
                if manager.role_plugin(key) == "mediation" or tenant.kind == "court":
                    display = f"{dept_name if in_dept else tenant.name_zh} · {gettext(role.label)}"
                else:  # a person's name, as a district's accounts carry (the role shows beside it)
                    display = person_name(len(names) * 3 + len(accounts) * 37)
                user_id, _ = await ensure_user(username, display, password, hashed=hashed)
                if key == "system_admin":  # the demo's system administrators may use the system console
                    await User.update({User.is_system_admin: True}).where(User.id == user_id)
                await ensure_membership(user_id, key, dept_id if key != "company" else None,
                                        section["id"] if (section and in_dept) else None)
                names.append(username)
            for _, loader in manager.demo_loaders(tenant):
                await loader()
        accounts[tenant.slug] = names
    return accounts
