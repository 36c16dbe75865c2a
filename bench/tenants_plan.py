"""The generated tenants (基准测试租户): their names and manifests (the Luqiao manifest under a new
slug, every tenth a district with nine townships), their accounts and API tokens, and the plan of
each tenant that a writer process follows.  Plans are made in the main process, deterministically."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).absolute().parent.parent
TEMPLATE = ROOT / "tenants" / "manifests" / "luqiao.toml"
PASSWORD = "bench-Pass-2026"
GROUP = 10  # a district, then nine townships under it
DEPARTMENT_ROLES = ("handler", "section_head", "leader", "dept_head")


# -- names ----------------------------------------------------------------------------------------

def slug_of(index: int) -> str:
    return f"bench{index:03d}"


def district_of(index: int) -> int:
    """The district (1-based tenant index) a tenant belongs to; a district is its own."""
    return (index - 1) // GROUP * GROUP + 1


def bench_token(seed: int | str, slug: str, username: str) -> str:
    """The API token the generator gives `username` on `slug` (derived from the seed)."""
    raw = hashlib.sha256(f"qinqing-bench-{seed}-{slug}-{username}".encode()).digest()
    return "qq_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


TOKEN_USERS = ("dispatcher", "company")


# -- plans made in the main process (deterministic) -------------------------------------------------

@dataclass
class UserRow:
    username: str
    display: str
    role: str
    department: int | None = None
    section: int | None = None


@dataclass
class TenantJob:
    """Everything a worker needs to write one tenant's data (picklable)."""

    index: int
    tenant_id: int
    slug: str
    kind: str
    plugins: tuple[str, ...]
    threshold: int
    cases: int
    companies: int
    departments: list[tuple[int, str, str]]  # (id, code, name_zh)
    sections: dict[int, int]  # department id → its first section id
    categories: list[tuple[int, str, int, int]]  # (id, code, lead department id, deadline days)
    users: list[UserRow]
    user_base: int = 0
    company_base: int = 0
    case_base: int = 0


def company_count(kind: str, cases: int) -> int:
    return max(60 if kind == "district" else 12, cases // 20)


def manifest_text(index: int, template: str) -> str:
    """The template manifest under the tenant's slug, names and kind, without its users."""
    slug, district = slug_of(index), district_of(index)
    kind = "district" if district == index else "township"
    label_zh = f"基准测试{'区' if kind == 'district' else '镇'}{index:03d}"
    label_en = f"Bench {'District' if kind == 'district' else 'Township'} {index:03d}"
    text = template.split("[[users]]", 1)[0]
    text = re.sub(r'(?m)^slug = .*$', f'slug = "{slug}"', text)
    text = re.sub(r'(?m)^name_zh = "台州市路桥区"$', f'name_zh = "{label_zh}"', text)
    text = re.sub(r'(?m)^name_en = "Luqiao District, Taizhou"$', f'name_en = "{label_en}"', text)
    text = re.sub(r'(?m)^kind = .*$', f'kind = "{kind}"' + (f'\nparent = "{slug_of(district)}"'
                                                            if kind == "township" else ""), text)
    text = re.sub(r'(?m)^(courts|city) = .*\n', "", text)  # bench tenants are linked to no court or city
    return text.replace("demo_cases = 2000\n", "")


def user_rows(slug: str, tenant_name: str, roles: list[tuple[str, str]], departments, sections, lead_dept: int,
              companies: int, liaison: bool) -> list[UserRow]:
    """Accounts of a tenant: one per role (as the demo), department staff, one per company."""
    names = {d[0]: d[2] for d in departments}
    rows = []
    for key, label in roles:
        in_dept = key in DEPARTMENT_ROLES
        dept = lead_dept if in_dept else None
        display = f"{names[lead_dept] if in_dept else tenant_name} · {label}"
        rows.append(UserRow(f"{key}@{slug}", display, key, dept, sections.get(lead_dept) if in_dept else None))
    labels = dict(roles)
    for dept_id, code, name in departments:
        if dept_id == lead_dept:
            continue
        for key in DEPARTMENT_ROLES:
            rows.append(UserRow(f"{key}.{code}@{slug}", f"{name} · {labels[key]}", key, dept_id, sections.get(dept_id)))
    for n in range(1, companies):
        rows.append(UserRow(f"company.{n:05d}@{slug}", f"企业用户 {n:05d}", "company"))
    if liaison:
        for k in range(1, companies // 100 + 1):
            rows.append(UserRow(f"liaison_assistant.{k}@{slug}", f"助企员 {k}", "liaison_assistant"))
    return rows


async def setup_tenants(url: str, count: int, cases: int) -> list[TenantJob]:
    """Apply the manifests (normal onboarding) and plan each tenant's users; reserve the ids of
    users, companies and cases in tenant order (so they do not depend on the number of jobs)."""
    from core.i18n import gettext
    from core.plugins import get_plugin_manager
    from core.tables import Category, Department, Section
    from tenants.onboarding import apply_manifest
    from tenants.scope import scoped, tenant_scope

    manager = get_plugin_manager()
    template = TEMPLATE.read_text(encoding="utf-8")
    jobs = []
    for index in range(1, count + 1):
        result = await apply_manifest(manifest_text(index, template))
        tenant = result.tenant
        async with tenant_scope(tenant):
            from core.cases.tables import Case

            if await scoped(Case).exists():
                raise SystemExit(f"error: tenant {tenant.slug} already has cases; generate into a fresh database")
            departments = [(r["id"], r["code"], r["name_zh"]) for r in await scoped(Department).select(
                Department.id, Department.code, Department.name_zh).order_by(Department.id)]
            sections: dict[int, int] = {}
            for r in await scoped(Section).select(Section.id, Section.department).order_by(Section.id):
                sections.setdefault(r["department"], r["id"])
            categories = [(r["id"], r["code"], r["lead_department"], r["deadline_days"]) for r in await scoped(
                Category).select(Category.id, Category.code, Category.lead_department, Category.deadline_days).where(
                Category.active == True).order_by(Category.id)]  # noqa: E712
        enabled = manager.enabled_for(tenant)
        roles = [(key, gettext(role.label)) for key, role in manager.roles.items()
                 if manager.role_plugin(key) in enabled]
        companies = company_count(tenant.kind, cases)
        users = user_rows(tenant.slug, tenant.name_zh, roles, departments, sections, categories[0][2], companies,
                          "liaison" in enabled)
        jobs.append(TenantJob(index, tenant.id, tenant.slug, tenant.kind, tuple(sorted(enabled)),
                              int(tenant.settings.get("escalate_after_overdue_days", 2)), cases, companies,
                              departments, sections, categories, users))
    return jobs
