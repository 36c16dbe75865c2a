"""The lists (清单) of a tenant: 首违不罚 (minor first violations not penalised), 从轻减轻
(violations penalised lightly or mitigated) and 不予强制 (measures not applied), each item with
its legal basis.  The tenant admin adds, edits and retires items, or imports a CSV/XLSX file:
the whole file is checked first, and a bad row refuses the file naming its row and field
(nothing stored); a known code updates its item."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from core.sdk import (
    Department,
    ImportFileError,
    UserError,
    data_rows,
    gettext,
    header_key,
    now,
    parse,
    read_table,
    scoped,
)
from plugins.enforcement.access import invalid, not_found, require_admin
from plugins.enforcement.tables import ListItem

MAX_ROWS = 2000
MAX_BYTES = 2 * 1024 * 1024
Kind = Literal["no_penalty", "mitigated", "no_coercion"]
# Column headers a file may use (Chinese or English), to the field they fill.
HEADERS = {"kind": "kind", "类别": "kind", "清单": "kind", "code": "code", "编号": "code",
           "title": "title", "违法行为": "title", "事项": "title", "conditions": "conditions", "适用条件": "conditions",
           "legal_basis": "legal_basis", "法律依据": "legal_basis", "依据": "legal_basis",
           "department": "department", "部门": "department", "实施部门": "department"}
KIND_WORDS = {"首违不罚": "no_penalty", "从轻减轻": "mitigated", "从轻减轻处罚": "mitigated", "不予强制": "no_coercion",
              "不予实施行政强制措施": "no_coercion"}
COLUMNS = (ListItem.id, ListItem.kind, ListItem.code, ListItem.title, ListItem.conditions, ListItem.legal_basis,
           ListItem.department, ListItem.active, ListItem.updated_at,
           ListItem.department.name_zh.as_alias("department_name"),
           ListItem.department.name_en.as_alias("department_name_en"))


class ListItemIn(msgspec.Struct):
    """A list item: kind, code, the violation or measure, conditions, legal basis, department."""

    kind: Kind
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    legal_basis: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    conditions: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    department: Annotated[str, msgspec.Meta(max_length=40)] = ""  # code
    active: bool = True


async def _department(code: str) -> int | None:
    if not code:
        return None
    row = await scoped(Department).select(Department.id).where(Department.code == code).first()
    if row is None:
        raise invalid("department")
    return row["id"]


async def save(user, data: dict, item_id: int | None = None) -> ListItem:
    """Add an item, or edit one (`item_id`); a code already used in the same list is refused (409)."""
    require_admin(user)
    data = dict(data or {})
    if "kind" in data and str(data["kind"]) in KIND_WORDS:
        data["kind"] = KIND_WORDS[str(data["kind"])]
    form = parse(ListItemIn, data)
    values = dict(kind=form.kind, code=form.code, title=form.title, legal_basis=form.legal_basis,
                  conditions=form.conditions, department=await _department(form.department), active=form.active,
                  updated_at=now())
    clash = scoped(ListItem).exists().where((ListItem.kind == form.kind) & (ListItem.code == form.code))
    if item_id is not None:
        clash = clash.where(ListItem.id != item_id)
    if await clash:
        raise UserError(409, "This code is already used in this list.", code="duplicate")
    if item_id is None:
        return await scoped(ListItem).add(**values)
    item = await get(item_id)
    await scoped(ListItem).update({getattr(ListItem, k): v for k, v in values.items()}).where(ListItem.id == item.id)
    return await get(item_id)


async def get(item_id: int) -> ListItem:
    row = await scoped(ListItem).objects().where(ListItem.id == item_id).first()
    if row is None:
        raise not_found()
    return row


async def items(active_only: bool = False) -> list[dict]:
    query = scoped(ListItem).select(*COLUMNS)
    if active_only:
        query = query.where(ListItem.active == True)  # noqa: E712
    return await query.order_by(ListItem.kind).order_by(ListItem.code)


def _rows(content: bytes) -> list[tuple[int, dict]]:
    try:
        table = read_table(content)
        header = next(table, None)
        if not header:
            raise ImportFileError("The file is empty.")
        fields = [HEADERS.get(header_key(h)) or HEADERS.get(h.strip()) for h in header]
        missing = [f for f in ("kind", "code", "title", "legal_basis") if f not in fields]
        if missing:
            raise UserError(400, "The file has no column %(field)s.", code="invalid", field=missing[0])
        out = []
        for number, cells in data_rows(table, MAX_ROWS):
            row = {f: cells[i] if i < len(cells) else "" for i, f in enumerate(fields) if f}
            out.append((number, row))
        return out
    except ImportFileError as exc:
        raise UserError(400, exc.message, code="bad_file", **exc.params) from None


async def import_file(user, content: bytes) -> dict:
    """Import items from a CSV/XLSX file: all rows or none.  Returns the counts."""
    require_admin(user)
    if len(content) > MAX_BYTES:
        raise UserError(413, "The request is too large.")
    rows = _rows(content)
    created = updated = 0
    seen: set[tuple[str, str]] = set()
    for number, row in rows:
        try:
            kind = KIND_WORDS.get(row.get("kind", ""), row.get("kind", ""))
            row["kind"] = kind
            if (kind, row.get("code", "")) in seen:
                raise invalid("code")
            seen.add((kind, row.get("code", "")))
            existing = await scoped(ListItem).select(ListItem.id).where(
                (ListItem.kind == kind) & (ListItem.code == row.get("code", ""))).first()
            await save(user, row, existing["id"] if existing else None)
            created, updated = (created, updated + 1) if existing else (created + 1, updated)
        except UserError as exc:
            raise UserError(400, "Row %(row)s: %(problem)s", code="invalid_row", row=number,
                            problem=gettext(exc.msgid, **exc.params)) from None
    return {"created": created, "updated": updated}
