"""The tenant admin's catalogue (办理目录): departments with their sections, and case categories
with lead department, co-handling departments and deadline in working days; a notice names the
departments that cannot staff their chain (缺员) and whom to add."""

from __future__ import annotations

import re
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect

from core.cases.inputs import parse
from core.cases.staffing import shortfalls
from core.catalogue import read_catalogue, save_category, save_department, save_section
from web.rendering import page, requires

Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,50}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class DepartmentForm(msgspec.Struct):
    code: Code
    name_zh: Name
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""


class SectionForm(DepartmentForm):
    department: Code = ""


class CategoryForm(msgspec.Struct):
    code: Code
    name_zh: Name
    lead: Code
    deadline_days: Annotated[int, msgspec.Meta(ge=1, le=365)]
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    co: Annotated[str, msgspec.Meta(max_length=500)] = ""
    active: str = "1"


class CataloguePages(Controller):
    path = "/t/{tenant:str}/admin/catalogue"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [requires("tenant.admin")]

    @get("/", name="catalogue")
    async def index(self, request: Request) -> object:
        return page(request, "admin/catalogue.html", **await read_catalogue(),
                    shortfalls=[s.as_dict() for s in await shortfalls()])

    def _back(self, request: Request) -> Redirect:
        return Redirect(path=f"{request.scope['state']['tenant_root']}admin/catalogue/", status_code=303)

    @post("/departments", name="catalogue_department")
    async def department(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        form = parse(DepartmentForm, data)
        await save_department(form.code, form.name_zh, form.name_en)
        return self._back(request)

    @post("/sections", name="catalogue_section")
    async def section(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        form = parse(SectionForm, data)
        await save_section(form.department, form.code, form.name_zh, form.name_en)
        return self._back(request)

    @post("/categories", name="catalogue_category")
    async def category(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        form = parse(CategoryForm, data)
        co = [c for c in re.split(r"[,，\s]+", form.co) if c]
        await save_category(form.code, form.name_zh, form.name_en, form.lead, co, form.deadline_days,
                            form.active == "1")
        return self._back(request)
