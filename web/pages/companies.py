"""The company registry pages (市场主体名录): list and search, and import from CSV/XLSX with a
progress display and a per-row error report."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, MultipartBody
from litestar.response import Redirect

from core.cases.company_jobs import KIND, MAX_BYTES, start_import
from core.cases.import_jobs import job_view
from core.cases.search import contains
from core.cases.tables import Company, ImportJob
from core.errors import UserError
from core.http import upload_limit, uploaded_file
from core.paging import window
from tenants.scope import scoped
from web.rendering import current_user, page, requires


class CompanyPages(Controller):
    path = "/t/{tenant:str}/companies"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [requires("company.manage")]

    @get("/", name="companies")
    async def index(self, request: Request, q: FromQuery[str] = "", page_no: FromQuery[int] = 1) -> object:
        query = scoped(Company).select(Company.id, Company.name, Company.credit_code, Company.industry,
                                       Company.township, Company.contact_name, Company.liaison_name)
        count = scoped(Company).count()
        if q:
            clause = contains(Company.name, q[:50]) | (Company.credit_code == q.strip().upper()[:18])
            query, count = query.where(clause), count.where(clause)
        page_no, _ = window(page_no, 50)
        rows = await query.order_by(Company.id).limit(50).offset((page_no - 1) * 50)
        jobs = await scoped(ImportJob).select().where(ImportJob.kind == KIND).order_by(
            ImportJob.id, ascending=False).limit(5)
        return page(request, "companies/index.html", rows=rows, total=await count, q=q, page_no=page_no, jobs=jobs)

    @post("/import", name="companies_import", **upload_limit(MAX_BYTES))
    async def upload(self, request: Request,
                     data: MultipartBody[dict[str, Any]]) -> Redirect:
        """Store the file and queue its import; the job's page shows progress (nothing parsed here)."""
        upload = uploaded_file(data)
        job = await start_import(current_user(request).id, upload.filename, upload.file)
        return Redirect(path=f"{request.scope['state']['tenant_root']}companies/imports/{job.id}", status_code=303)

    @get("/imports/{job_id:int}", name="companies_import_job")
    async def job(self, request: Request, job_id: FromPath[int]) -> object:
        job = await scoped(ImportJob).select().where((ImportJob.id == job_id) & (ImportJob.kind == KIND)).first()
        if job is None:
            raise UserError(404, "Not found.")
        job = job_view(job)
        return page(request, "companies/job.html", fragment="companies/_job.html", job=job)
