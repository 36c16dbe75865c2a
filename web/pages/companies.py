"""The company registry pages (市场主体名录): list and search, and import from CSV/XLSX with a
progress display and a per-row error report."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, MultipartBody
from litestar.response import Redirect

from core.cases.companies import registry_page
from core.cases.company_jobs import MAX_BYTES, company_import, recent_imports, start_import
from core.cases.import_jobs import job_view
from core.errors import UserError
from core.http import upload_limit, uploaded_file
from core.paging import window
from web.rendering import current_user, page, requires


class CompanyPages(Controller):
    path = "/t/{tenant:str}/companies"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [requires("company.manage")]

    @get("/", name="companies")
    async def index(self, request: Request, q: FromQuery[str] = "", page_no: FromQuery[int] = 1) -> object:
        page_no, _ = window(page_no, 50)
        rows, total = await registry_page(q, page_no, 50)
        return page(request, "companies/index.html", rows=rows, total=total, q=q, page_no=page_no,
                    jobs=await recent_imports(5))

    @post("/import", name="companies_import", **upload_limit(MAX_BYTES))
    async def upload(self, request: Request,
                     data: MultipartBody[dict[str, Any]]) -> Redirect:
        """Store the file and queue its import; the job's page shows progress (nothing parsed here)."""
        upload = uploaded_file(data)
        job = await start_import(current_user(request).id, upload.filename, upload.file)
        return Redirect(path=f"{request.scope['state']['tenant_root']}companies/imports/{job.id}", status_code=303)

    @get("/imports/{job_id:int}", name="companies_import_job")
    async def job(self, request: Request, job_id: FromPath[int]) -> object:
        job = await company_import(job_id)
        if job is None:
            raise UserError(404, "Not found.")
        job = job_view(job)
        return page(request, "companies/job.html", fragment="companies/_job.html", job=job)
