"""The approval catalogue (事项清单): per tenant, each approval with its department, materials (key
or not), statutory and committed working days and the materials count before the reform."""

from __future__ import annotations

from core.sdk import Department, UserError, scoped
from plugins.approvals.access import invalid, require
from plugins.approvals.inputs import ItemIn
from plugins.approvals.tables import Item, Material


async def create_item(user, form: ItemIn) -> Item:
    require(user, "approvals.manage")
    if form.committed_days > form.statutory_days:
        raise UserError(400, "The committed time (field %(field)s) cannot be longer than the statutory time.",
                        code="committed_over_statutory", field="committed_days")
    if not form.materials:
        raise invalid("materials")
    if form.department is not None and not await scoped(Department).exists().where(Department.id == form.department):
        raise invalid("department")
    if await scoped(Item).exists().where(Item.code == form.code):
        raise UserError(409, "The code %(value)s is already in use.", code="duplicate_code", value=form.code)
    item = await scoped(Item).add(code=form.code, name_zh=form.name_zh.strip(), name_en=form.name_en.strip(),
                                  department=form.department, statutory_days=form.statutory_days,
                                  committed_days=form.committed_days, materials_before=form.materials_before)
    await scoped(Material).insert(*({"item": item.id, "name_zh": m.name_zh.strip(), "name_en": m.name_en.strip(),
                                     "key": m.key, "position": i} for i, m in enumerate(form.materials)))
    return item


async def items() -> list[dict]:
    """The catalogue with each approval's materials and its figures before and after the reform."""
    rows = await scoped(Item).select(
        Item.id, Item.code, Item.name_zh, Item.name_en, Item.department, Item.statutory_days, Item.committed_days,
        Item.materials_before, Item.department.name_zh.as_alias("department_zh"),
        Item.department.name_en.as_alias("department_en")).order_by(Item.id)
    materials = await scoped(Material).select(
        Material.id, Material.item, Material.name_zh, Material.name_en, Material.key).order_by(Material.position)
    for row in rows:
        row["materials"] = [m for m in materials if m["item"] == row["id"]]
        row["materials_now"] = len(row["materials"])
        row["key_materials"] = sum(1 for m in row["materials"] if m["key"])
    return rows
