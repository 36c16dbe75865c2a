"""The catalogue (办理目录) a tenant admin keeps: departments with their sections, and case
categories with lead department, co-handling departments and deadline in working days."""

from __future__ import annotations

import json
from typing import Any

from piccolo.table import Table

from core.errors import UserError
from core.scope import scoped
from core.tables import Category, Department, Section


async def read_catalogue() -> dict[str, list[dict[str, Any]]]:
    """Departments, sections and categories in id order; a category with its lead department's
    code (``lead_code``) and its co-handling codes joined (``co_codes``)."""
    departments = await scoped(Department).select().order_by(Department.id)
    sections = await scoped(Section).select().order_by(Section.id)
    categories = await scoped(Category).select(
        Category.all_columns(), Category.lead_department.code.as_alias("lead_code")).order_by(Category.id)
    for c in categories:
        c["co_codes"] = ", ".join(json.loads(c["co_departments"] or "[]"))
    return {"departments": departments, "sections": sections, "categories": categories}


async def department_id(code: str) -> int:
    """The id of the department with `code` (400 naming the code when there is none)."""
    row = await scoped(Department).select(Department.id).where(Department.code == code).first()
    if row is None:
        raise UserError(400, "Unknown department: %(department)s.", code="unknown_department", department=code)
    return row["id"]


async def _upsert(table: type[Table], match: Any, values: dict[str, Any]) -> None:
    existing = await scoped(table).objects().where(match).first()
    if existing is None:
        await scoped(table).add(**values)
        return
    for key, value in values.items():
        setattr(existing, key, value)
    await existing.save()


async def save_department(code: str, name_zh: str, name_en: str = "") -> None:
    """Add the department, or rename the one with `code`."""
    await _upsert(Department, Department.code == code, {"code": code, "name_zh": name_zh, "name_en": name_en})


async def save_section(department_code: str, code: str, name_zh: str, name_en: str = "") -> None:
    """Add a section (科室) to a department, or rename the department's section with `code`."""
    dept = await department_id(department_code)
    await _upsert(Section, (Section.department == dept) & (Section.code == code),
                  {"department": dept, "code": code, "name_zh": name_zh, "name_en": name_en})


async def save_category(code: str, name_zh: str, name_en: str, lead_code: str, co_codes: list[str],
                        deadline_days: int, active: bool) -> None:
    """Add the category, or change the one with `code`; every department code must exist."""
    lead = await department_id(lead_code)
    for co in co_codes:
        await department_id(co)
    await _upsert(Category, Category.code == code, {
        "code": code, "name_zh": name_zh, "name_en": name_en, "lead_department": lead,
        "co_departments": json.dumps(co_codes), "deadline_days": deadline_days, "active": active})
